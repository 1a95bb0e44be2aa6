// Scan orchestration: inventory (catalog an image or directory, or read an SBOM) → match
// against the local OSV database → filter (severity, unfixed, ignore rules, VEX, package
// types) → a ScanResult for the report writers. Does no output itself; progress goes to the
// caller's callback.
import { readFile } from "node:fs/promises";
import { openImageSource, type TransportOptions } from "../transport/index.js";
import { catalogFilesystem, catalogImage, ScanTargetError } from "./catalogers/index.js";
import { type FilterOptions, filterFindings } from "./match/filter.js";
import { matchPackages, type RecordSource } from "./match/index.js";
import { OsvStore } from "./osv/store.js";
import type { Package, PackageType } from "./package.js";
import { readSbom } from "./report/sbom-read.js";
import { groupTargets, type ScannedArtifact, type ScannedOs, type ScanResult } from "./result.js";

export interface Inventory {
  readonly artifact: ScannedArtifact;
  readonly os?: ScannedOs;
  readonly packages: readonly Package[];
  readonly warnings: readonly string[];
}

export interface InventoryOptions {
  readonly platform?: string;
  readonly transport?: TransportOptions;
  readonly onProgress?: (message: string) => void;
}

export type TargetSpec =
  | { kind: "filesystem"; path: string }
  | { kind: "sbom"; path: string }
  | { kind: "image"; spec: string };

export function parseTargetSpec(target: string): TargetSpec {
  if (target.startsWith("fs:")) return { kind: "filesystem", path: target.slice(3) };
  if (target.startsWith("sbom:")) return { kind: "sbom", path: target.slice(5) };
  return { kind: "image", spec: target };
}

const OS_FAMILIES = new Set([
  "debian",
  "ubuntu",
  "alpine",
  "wolfi",
  "chainguard",
  "rhel",
  "rocky",
  "almalinux",
  "opensuse",
  "opensuse-leap",
  "sles",
  "centos",
  "fedora",
]);

function scannedOs(
  os: { id: string; versionId?: string; prettyName?: string } | undefined,
): ScannedOs | undefined {
  return os ? { family: os.id, version: os.versionId, name: os.prettyName } : undefined;
}

/** What is installed in the target. */
export async function collectInventory(
  target: string,
  options: InventoryOptions = {},
): Promise<Inventory> {
  const spec = parseTargetSpec(target);
  if (spec.kind === "sbom") {
    let doc: unknown;
    try {
      doc = JSON.parse(await readFile(spec.path, "utf8"));
    } catch (err) {
      throw new ScanTargetError(`cannot read SBOM ${spec.path}: ${(err as Error).message}`);
    }
    let sbom: ReturnType<typeof readSbom>;
    try {
      sbom = readSbom(doc, spec.path);
    } catch (err) {
      throw new ScanTargetError((err as Error).message);
    }
    return { artifact: { name: sbom.name, type: "sbom" }, packages: sbom.packages, warnings: [] };
  }
  if (spec.kind === "filesystem") {
    options.onProgress?.(`cataloging ${spec.path}`);
    const result = await catalogFilesystem(spec.path);
    return withOsCheck({ name: spec.path, type: "filesystem" }, result);
  }
  const source = await openImageSource(spec.spec, options.transport);
  try {
    const result = await catalogImage(source, {
      platform: options.platform,
      onProgress: (p) =>
        options.onProgress?.(`reading layer ${p.index + 1}/${p.total} ${p.digest.slice(0, 19)}`),
    });
    const manifest = await source.getManifest().catch(() => undefined);
    return withOsCheck(
      { name: source.description, type: "image", digest: manifest?.digest },
      result,
    );
  } finally {
    await source.close();
  }
}

function withOsCheck(
  artifact: ScannedArtifact,
  result: {
    os?: { id: string; versionId?: string; prettyName?: string };
    packages: Package[];
    warnings: string[];
  },
): Inventory {
  const warnings = [...result.warnings];
  const os = scannedOs(result.os);
  if (os && !OS_FAMILIES.has(os.family)) {
    warnings.push(
      `unknown OS "${os.family}${os.version ? ` ${os.version}` : ""}": its packages cannot be matched; only language packages were checked`,
    );
  }
  if (!os && result.packages.some((p) => p.type === "os")) {
    warnings.push(
      "OS packages found but the OS could not be identified (no /etc/os-release); matched without a release",
    );
  }
  return { artifact, os, packages: result.packages, warnings };
}

export interface MatchOptions {
  readonly pkgTypes?: readonly PackageType[];
  readonly filter?: FilterOptions;
}

/** Matches an inventory against a record source and applies the filters. */
export function evaluateInventory(
  inventory: Inventory,
  source: RecordSource,
  options: MatchOptions = {},
): ScanResult {
  const packages = options.pkgTypes?.length
    ? inventory.packages.filter((p) => options.pkgTypes!.includes(p.type))
    : inventory.packages;
  const filtered = filterFindings(matchPackages(packages, source), options.filter ?? {});
  return {
    artifact: inventory.artifact,
    os: inventory.os,
    createdAt: new Date().toISOString(),
    packages,
    targets: groupTargets(packages, filtered, inventory.os),
    suppressed: filtered.suppressed,
    warnings: inventory.warnings,
  };
}

export interface ScanOptions extends InventoryOptions, MatchOptions {
  readonly dbDir: string;
}

/** The whole scan: database first (fail fast when missing), then inventory, then matching. */
export async function scan(target: string, options: ScanOptions): Promise<ScanResult> {
  const store = OsvStore.open(options.dbDir);
  try {
    const inventory = await collectInventory(target, options);
    const ecosystems = new Set(store.status().ecosystems.map((e) => e.ecosystem));
    const missing = [...new Set(inventory.packages.map((p) => p.ecosystem))].filter(
      (e) => !ecosystems.has(e),
    );
    const warnings = missing.length
      ? [
          ...inventory.warnings,
          `the database has no records for ${missing.join(", ")}: those packages were not checked`,
        ]
      : inventory.warnings;
    options.onProgress?.(`matching ${inventory.packages.length} packages`);
    return evaluateInventory({ ...inventory, warnings }, store, options);
  } finally {
    store.close();
  }
}
