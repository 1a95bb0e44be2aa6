// Which files the catalogers read, how large each may be, and which parser turns it into
// packages. Paths are image paths without the leading slash (`var/lib/dpkg/status`), as
// layer-reader normalises them. The one place that maps a path to a parser: the image walk
// and the filesystem walk both ask it, saying which kind of target they walk. As in Trivy,
// lock files and manifests of a source tree (requirements.txt, go.mod, yarn.lock, pom.xml …)
// are read only in `fs:` scans; an image is judged by what is installed in it (package
// databases, dist-info, node_modules, gemspecs, binaries, jars), plus the lock files Trivy also
// trusts in images (Cargo.lock, packages.lock.json, .deps.json). Pure.
import { APK_DB_PATH, parseApkInstalled } from "./apk.js";
import { parseDepsJson, parseNugetLock, wantsDepsJson, wantsNugetLock } from "./dotnet.js";
import { parseDpkgStatus, wantsDebianCopyright, wantsDpkg } from "./dpkg.js";
import type { Draft } from "./draft.js";
import { isElf } from "./elf.js";
import { GoBuildInfoScanner, goPackagesFromInfo, parseGoBinary } from "./go-binary.js";
import { goSibling, parseGoMod, parseGoSum, wantsGoMod, wantsGoSum } from "./go-mod.js";
import { parseJavaArchive, wantsJavaArchive } from "./java.js";
import { parsePom, wantsPom } from "./maven-pom.js";
import {
  parseNpmLockfile,
  parseNpmPackageJson,
  wantsNpmLockfile,
  wantsNpmPackageJson,
} from "./npm.js";
import { wantsOsFile } from "./os-release.js";
import {
  parseComposerInstalled,
  parseComposerLock,
  wantsComposerInstalled,
  wantsComposerLock,
} from "./php.js";
import { parsePnpmLock, wantsPnpmLock } from "./pnpm.js";
import { parsePythonMetadata, wantsPythonMetadata } from "./python.js";
import {
  parsePipfileLock,
  parsePoetryLock,
  parseRequirementsTxt,
  parseUvLock,
  wantsPipfileLock,
  wantsPoetryLock,
  wantsRequirementsTxt,
  wantsUvLock,
} from "./python-lock.js";
import { parseRpmDb, wantsRpmDb } from "./rpm/index.js";
import { parseGemspec, wantsGemspec } from "./ruby.js";
import { parseGemfileLock, wantsGemfileLock } from "./ruby-lock.js";
import { parseCargoAuditable, parseCargoLock, wantsCargoLock } from "./rust.js";
import { parseYarnLock, wantsYarnLock } from "./yarn.js";

const KiB = 1024;
const MiB = 1024 * KiB;

/** Parses a file fed chunk by chunk, for files too large to hold in memory. */
export interface StreamingParser {
  push(chunk: Buffer): void;
  finish(): Draft[];
}

/** What is being walked: an image's layers, or a directory (`fs:`, a source tree or rootfs). */
export type TargetKind = "image" | "filesystem";

export interface FileCataloger {
  readonly id: string;
  /** `source`: a source tree's lock file or manifest, read in `fs:` scans only (as Trivy). */
  readonly scope?: "source";
  /**
   * Another file beside this one the parser needs (go.mod reads go.sum); the walker hands in
   * its bytes, or nothing when it does not exist or is not part of the target (an `fs:` scan
   * of a single file reads that file alone). Only `source` catalogers have one.
   */
  readonly companion?: (path: string) => string;
  /** Largest file read whole; bigger ones are streamed if `streaming` is set, else skipped. */
  readonly maxBytes: number;
  readonly streaming?: (location: string) => StreamingParser;
  /** Executables are sniffed first: only ELF files are read whole. */
  readonly sniffElf?: boolean;
  wants(path: string, mode: number): boolean;
  parse(bytes: Buffer, location: string, companion?: Buffer): Draft[];
}

/**
 * Files kept as text and read once all layers are applied: OS identification, and Debian
 * copyright files (the licenses of dpkg packages).
 */
export const TEXT_FILE_MAX_BYTES = 256 * KiB;

const text =
  (parse: (text: string, location: string, companion?: string) => Draft[]) =>
  (bytes: Buffer, location: string, companion?: Buffer) =>
    parse(bytes.toString("utf8"), location, companion?.toString("utf8"));

/** A source tree's lock file: read in `fs:` scans only. */
const lockfile = (
  id: string,
  wants: (path: string) => boolean,
  parse: (text: string, location: string, companion?: string) => Draft[],
  companion?: (path: string) => string,
): FileCataloger => ({
  id,
  scope: "source",
  maxBytes: 64 * MiB,
  wants,
  parse: text(parse),
  companion,
});

const CATALOGERS: readonly FileCataloger[] = [
  { id: "dpkg", maxBytes: 128 * MiB, wants: wantsDpkg, parse: text(parseDpkgStatus) },
  {
    id: "apk",
    maxBytes: 128 * MiB,
    wants: (p) => p === APK_DB_PATH,
    parse: text(parseApkInstalled),
  },
  { id: "rpm", maxBytes: 256 * MiB, wants: wantsRpmDb, parse: parseRpmDb },
  { id: "npm", maxBytes: 4 * MiB, wants: wantsNpmPackageJson, parse: text(parseNpmPackageJson) },
  lockfile("npm-lock", wantsNpmLockfile, parseNpmLockfile),
  lockfile("yarn-lock", wantsYarnLock, parseYarnLock),
  lockfile("pnpm-lock", wantsPnpmLock, parsePnpmLock),
  lockfile("pip-requirements", wantsRequirementsTxt, parseRequirementsTxt),
  lockfile("pipenv-lock", wantsPipfileLock, parsePipfileLock),
  lockfile("poetry-lock", wantsPoetryLock, parsePoetryLock),
  lockfile("uv-lock", wantsUvLock, parseUvLock),
  lockfile("go-mod", wantsGoMod, parseGoMod, goSibling),
  lockfile("go-sum", wantsGoSum, parseGoSum, goSibling),
  lockfile("bundler-lock", wantsGemfileLock, parseGemfileLock),
  lockfile("composer-lock", wantsComposerLock, parseComposerLock),
  lockfile("maven-pom", wantsPom, parsePom),
  { id: "python", maxBytes: 8 * MiB, wants: wantsPythonMetadata, parse: text(parsePythonMetadata) },
  { id: "gem", maxBytes: 2 * MiB, wants: wantsGemspec, parse: text(parseGemspec) },
  {
    id: "composer",
    maxBytes: 64 * MiB,
    wants: wantsComposerInstalled,
    parse: text(parseComposerInstalled),
  },
  { id: "dotnet", maxBytes: 64 * MiB, wants: wantsDepsJson, parse: text(parseDepsJson) },
  { id: "nuget-lock", maxBytes: 64 * MiB, wants: wantsNugetLock, parse: text(parseNugetLock) },
  { id: "cargo-lock", maxBytes: 32 * MiB, wants: wantsCargoLock, parse: text(parseCargoLock) },
  { id: "java", maxBytes: 256 * MiB, wants: wantsJavaArchive, parse: parseJavaArchive },
  {
    id: "binary",
    maxBytes: 64 * MiB,
    sniffElf: true,
    streaming: (location) => {
      const scanner = new GoBuildInfoScanner();
      return {
        push: (chunk) => scanner.push(chunk),
        finish: () => goPackagesFromInfo(scanner.result(), location),
      };
    },
    wants: (_path, mode) => (mode & 0o111) !== 0,
    parse: (bytes, location) =>
      isElf(bytes)
        ? [...parseGoBinary(bytes, location), ...parseCargoAuditable(bytes, location)]
        : [],
  },
];

export type FileInterest =
  | { readonly kind: "text" }
  | { readonly kind: "cataloger"; readonly cataloger: FileCataloger };

/** What, if anything, wants the regular file at `path` when walking a `target`. */
export function interestIn(
  path: string,
  mode: number,
  target: TargetKind,
): FileInterest | undefined {
  if (wantsOsFile(path) || wantsDebianCopyright(path)) return { kind: "text" };
  const cataloger = CATALOGERS.find(
    (c) => (c.scope !== "source" || target === "filesystem") && c.wants(path, mode),
  );
  return cataloger ? { kind: "cataloger", cataloger } : undefined;
}

/** Parses a file, turning a parser's failure into a warning instead of a failed scan. */
export function runCataloger(
  cataloger: FileCataloger,
  bytes: Buffer,
  location: string,
  warn: (message: string) => void,
  companion?: Buffer,
): Draft[] {
  try {
    return cataloger.parse(bytes, location, companion);
  } catch (err) {
    warn(`${location}: ${cataloger.id} cataloger could not read it: ${messageOf(err)}`);
    return [];
  }
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
