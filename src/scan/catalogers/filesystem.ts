// Catalogs a directory (a project checkout or an unpacked root filesystem) or a single file:
// walks it without following symlinks or crossing into /proc, /sys and /dev, and hands the
// files the catalogers want to the same parsers the image walk uses — plus, as Trivy's `fs`
// scan does, the lock files of a source tree (requirements.txt, go.mod, yarn.lock …), which an
// image scan leaves alone. Reads; never writes.
import { createReadStream } from "node:fs";
import { lstat, open, readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { assembleCatalog, type CatalogResult } from "./assemble.js";
import { hasElfMagic } from "./elf.js";
import { ScanTargetError } from "./errors.js";
import { EvidenceSet } from "./evidence.js";
import { interestIn, runCataloger, TEXT_FILE_MAX_BYTES } from "./registry.js";

const SKIPPED_ROOT_DIRS = new Set(["proc", "sys", "dev"]);
/** A plain directory has no layers; its packages carry no layer origin. */
const NO_LAYER = -1;

/** Catalogs a directory tree, or a single file (a jar, a lock file, a binary) on its own. */
export async function catalogFilesystem(target: string): Promise<CatalogResult> {
  const root = await stat(target).catch(() => undefined);
  if (!root) throw new ScanTargetError(`${target} does not exist or cannot be read`);
  const evidence = new EvidenceSet();
  const warnings: string[] = [];
  if (root.isDirectory()) await walk(target, "", evidence, warnings);
  else if (root.isFile()) {
    // Only the named file is the target: files beside it (go.sum for go.mod) are not read.
    await visitFile(dirname(target), basename(target), evidence, warnings, false);
  } else throw new ScanTargetError(`${target} is neither a directory nor a regular file`);
  return assembleCatalog(evidence, [], warnings);
}

async function walk(root: string, rel: string, evidence: EvidenceSet, warnings: string[]) {
  const entries = await readdir(join(root, rel), { withFileTypes: true }).catch(() => {
    warnings.push(`/${rel}: directory could not be read, skipped`);
    return [];
  });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) {
      if (rel === "" && SKIPPED_ROOT_DIRS.has(entry.name)) continue;
      await walk(root, path, evidence, warnings);
    } else if (entry.isFile()) {
      await visitFile(root, path, evidence, warnings);
    }
  }
}

async function visitFile(
  root: string,
  path: string,
  evidence: EvidenceSet,
  warnings: string[],
  withCompanions = true,
) {
  const full = join(root, path);
  const stats = await lstat(full);
  const interest = interestIn(path, stats.mode, "filesystem");
  if (!interest) return;
  const location = `/${path}`;
  if (interest.kind === "text") {
    if (stats.size <= TEXT_FILE_MAX_BYTES) evidence.putText(path, NO_LAYER, await readFile(full));
    return;
  }
  const { cataloger } = interest;
  if (stats.size > cataloger.maxBytes && cataloger.streaming) {
    if (cataloger.sniffElf && !(await startsWithElf(full))) return;
    const parser = cataloger.streaming(location);
    for await (const chunk of createReadStream(full)) parser.push(chunk as Buffer);
    evidence.putPackages(path, NO_LAYER, parser.finish());
    return;
  }
  if (stats.size > cataloger.maxBytes) {
    warnings.push(`${location}: skipped, ${stats.size} bytes is over the ${cataloger.id} limit`);
    return;
  }
  if (cataloger.sniffElf && !(await startsWithElf(full))) return;
  const bytes = await readFile(full).catch(() => undefined);
  if (!bytes) {
    warnings.push(`${location}: could not be read`);
    return;
  }
  const companion =
    cataloger.companion && withCompanions
      ? await readCompanion(join(root, cataloger.companion(path)), cataloger.maxBytes)
      : undefined;
  evidence.putPackages(
    path,
    NO_LAYER,
    runCataloger(cataloger, bytes, location, (m) => warnings.push(m), companion),
  );
}

/** The file a cataloger reads beside another (go.sum for go.mod): a regular file, not too big. */
async function readCompanion(path: string, maxBytes: number): Promise<Buffer | undefined> {
  const stats = await lstat(path).catch(() => undefined);
  if (!stats?.isFile() || stats.size > maxBytes) return undefined;
  return readFile(path).catch(() => undefined);
}

async function startsWithElf(path: string): Promise<boolean> {
  const handle = await open(path, "r").catch(() => undefined);
  if (!handle) return false;
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && hasElfMagic(head);
  } finally {
    await handle.close();
  }
}
