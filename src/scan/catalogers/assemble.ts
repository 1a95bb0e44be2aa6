// Turns the final evidence of an image or filesystem into the catalog: detects the OS,
// completes OS package drafts (dpkg licenses from copyright files), drops lock-file entries
// where installed packages were found next to the lock file, attaches layer origins, and
// orders the result (OS packages first, then by ecosystem, name, version, location). Pure.
import type { LayerOrigin, Package } from "../package.js";
import { debianCopyrightPath, parseDebianCopyright } from "./dpkg.js";
import type { Draft, OsPackageDraft } from "./draft.js";
import type { EvidenceSet, LocatedDraft } from "./evidence.js";
import { completeOsPackage } from "./os-packages.js";
import { detectOs, type OsInfo } from "./os-release.js";

export interface CatalogResult {
  readonly os?: OsInfo;
  readonly packages: Package[];
  /** Files that could not be read (too large, corrupt): the scan went on without them. */
  readonly warnings: string[];
}

export function assembleCatalog(
  evidence: EvidenceSet,
  layers: readonly LayerOrigin[],
  warnings: string[],
): CatalogResult {
  const os = detectOs((path) => evidence.text(path)?.toString("utf8"));
  const located = withoutShadowedLockfiles(evidence.packages());
  const packages = located.map(({ draft, layer }) => toPackage(draft, os, layers[layer], evidence));
  packages.sort(comparePackages);
  return { os, packages, warnings };
}

function toPackage(
  draft: Draft,
  os: OsInfo | undefined,
  layer: LayerOrigin | undefined,
  evidence: EvidenceSet,
): Package {
  const base =
    draft.kind === "os" ? completeOsPackage(withLicenses(draft, evidence), os) : draft.pkg;
  return withoutUndefined({ ...base, locations: [draft.location], layer });
}

/** dpkg keeps licenses out of its database; the package's copyright file has them. */
function withLicenses(draft: OsPackageDraft, evidence: EvidenceSet): OsPackageDraft {
  if (draft.manager !== "dpkg" || draft.licenses) return draft;
  const copyright = evidence.text(debianCopyrightPath(draft.name));
  const licenses = copyright ? parseDebianCopyright(copyright.toString("utf8")) : [];
  return licenses.length > 0 ? { ...draft, licenses } : draft;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Lock-file entries count only for projects without an installed `node_modules`. */
function withoutShadowedLockfiles(items: readonly LocatedDraft[]): LocatedDraft[] {
  const installedDirs = new Set<string>();
  for (const { draft } of items) {
    if (draft.kind !== "library" || draft.fromLockfileIn !== undefined) continue;
    const at = draft.location.indexOf("/node_modules/");
    if (at !== -1) installedDirs.add(draft.location.slice(0, at));
  }
  return items.filter(
    ({ draft }) =>
      draft.kind !== "library" ||
      draft.fromLockfileIn === undefined ||
      !installedDirs.has(draft.fromLockfileIn),
  );
}

function comparePackages(a: Package, b: Package): number {
  const rank = (p: Package) => (p.type === "os" ? 0 : 1);
  return (
    rank(a) - rank(b) ||
    cmp(a.ecosystem, b.ecosystem) ||
    cmp(a.name, b.name) ||
    cmp(a.version, b.version) ||
    cmp(a.locations[0] ?? "", b.locations[0] ?? "")
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
