// The pnpm-lock.yaml cataloger for source trees (`scan fs:`), for the three key formats pnpm
// has written: v5 (`/name/1.0.0`, `/@scope/name/1.0.0_peer@1`), v6 (`/name@1.0.0`,
// `/@scope/name@1.0.0(peer@1)`) and v9 (`name@1.0.0` under `packages:`). Dev-only packages are
// left out, as Trivy does: v5/v6 mark them `dev: true`; v9 no longer does, so there the
// packages reachable from the importers' `dependencies`/`optionalDependencies` through the
// `snapshots:` graph count (a v9 file without `snapshots:` counts every package). Tarball, git,
// file and link entries (no registry version) are left out. Entries count only where no
// node_modules beside the lock file shows what is installed. Pure.
import { parse as parseYaml } from "yaml";
import type { LibraryDraft } from "./draft.js";
import { isRecord } from "./json.js";
import { asLockfileDrafts, npmDraft } from "./npm.js";

export function wantsPnpmLock(path: string): boolean {
  if (path.includes("node_modules/")) return false;
  return /(?:^|\/)pnpm-lock\.yaml$/.test(path);
}

export function parsePnpmLock(text: string, location: string): LibraryDraft[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const first = (err instanceof Error ? err.message : String(err)).split("\n")[0];
    throw new Error(`not a valid pnpm-lock.yaml (YAML): ${first}`);
  }
  if (!isRecord(doc) || doc.lockfileVersion === undefined) {
    throw new Error("not a valid pnpm-lock.yaml: no lockfileVersion");
  }
  const major = Number.parseInt(String(doc.lockfileVersion), 10);
  const packages = isRecord(doc.packages) ? doc.packages : {};
  const production = major >= 9 ? productionPackages(doc) : undefined;
  const out: LibraryDraft[] = [];
  const seen = new Set<string>();
  for (const [key, entry] of Object.entries(packages)) {
    if (isRecord(entry) && entry.dev === true) continue;
    if (production && !production.has(key)) continue;
    const id = major < 6 ? v5Key(key) : v6Key(key);
    const name = isRecord(entry) && typeof entry.name === "string" ? entry.name : id?.name;
    const version =
      isRecord(entry) && typeof entry.version === "string" ? entry.version : id?.version;
    if (!name || !version || !/^\d/.test(version)) continue;
    if (seen.has(`${name}@${version}`)) continue;
    seen.add(`${name}@${version}`);
    out.push(npmDraft(name, version, location));
  }
  return asLockfileDrafts(out, location);
}

/** v5: `/name/1.0.0`, `/@scope/name/1.0.0_peer@1.0.0`. */
function v5Key(key: string): { name: string; version: string } | undefined {
  const path = key.replace(/^[^/]*\//, "");
  const slash = path.lastIndexOf("/");
  if (slash <= 0) return undefined;
  const version = path.slice(slash + 1).split("_")[0] as string;
  return { name: path.slice(0, slash), version };
}

/** v6: `/name@1.0.0(peer@1)`; v9: `name@1.0.0(peer@1)`. */
function v6Key(key: string): { name: string; version: string } | undefined {
  const id = key.replace(/^\//, "").replace(/\(.*$/, "");
  const at = id.lastIndexOf("@");
  if (at <= 0) return undefined;
  return { name: id.slice(0, at), version: id.slice(at + 1) };
}

/**
 * v9: the `packages:` keys reachable from the importers' production dependencies through
 * `snapshots:` (keys there carry peer suffixes, `name@1.0.0(peer@2)`), or undefined when the
 * file has no snapshots to follow.
 */
function productionPackages(doc: Record<string, unknown>): Set<string> | undefined {
  const { importers, snapshots } = doc;
  if (!isRecord(snapshots) || !isRecord(importers)) return undefined;
  const reached = new Set<string>();
  const queue: string[] = [];
  const visit = (deps: unknown) => {
    if (!isRecord(deps)) return;
    for (const [name, spec] of Object.entries(deps)) {
      const version = isRecord(spec) ? spec.version : spec;
      const key = typeof version === "string" ? snapshotKey(name, version) : undefined;
      if (key && !reached.has(key)) {
        reached.add(key);
        queue.push(key);
      }
    }
  };
  for (const importer of Object.values(importers)) {
    if (!isRecord(importer)) continue;
    visit(importer.dependencies);
    visit(importer.optionalDependencies);
  }
  for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
    const snapshot = snapshots[key];
    if (!isRecord(snapshot)) continue;
    visit(snapshot.dependencies);
    visit(snapshot.optionalDependencies);
  }
  return new Set([...reached].map((key) => key.replace(/\(.*$/, "")));
}

/** `1.0.0(peer@2)` → `name@1.0.0(peer@2)`; an alias `real@1.0.0` is its own key; links: none. */
function snapshotKey(name: string, version: string): string | undefined {
  if (/^\d/.test(version)) return `${name}@${version}`;
  return /^@?[^@(]+@\d/.test(version) ? version : undefined;
}
