// The yarn.lock cataloger for source trees (`scan fs:`): classic v1 files (read with yarn's own
// parser, `@yarnpkg/lockfile`, loaded only when one is met) and berry files (yarn 2+: YAML with
// a `__metadata` entry, keys `name@npm:range[, …]`). Only packages resolved from the registry
// count: workspace, link, portal, file, patch and exec entries are the project's own or copies.
// Entries count only where no node_modules beside the lock file shows what is installed. Pure.
import { createRequire } from "node:module";
import { parse as parseYaml } from "yaml";
import type { LibraryDraft } from "./draft.js";
import { isRecord } from "./json.js";
import { asLockfileDrafts, npmDraft } from "./npm.js";

type YarnLockfileModule = typeof import("@yarnpkg/lockfile");

const requireCjs = createRequire(import.meta.url);
let yarnV1: YarnLockfileModule | undefined;

export function wantsYarnLock(path: string): boolean {
  if (path.includes("node_modules/")) return false;
  return /(?:^|\/)yarn\.lock$/.test(path);
}

export function parseYarnLock(text: string, location: string): LibraryDraft[] {
  const drafts = /^__metadata:/m.test(text)
    ? parseBerry(text, location)
    : parseClassic(text, location);
  return asLockfileDrafts(drafts, location);
}

function parseClassic(text: string, location: string): LibraryDraft[] {
  yarnV1 ??= requireCjs("@yarnpkg/lockfile") as YarnLockfileModule;
  let parsed: ReturnType<YarnLockfileModule["parse"]>;
  try {
    parsed = yarnV1.parse(text);
  } catch (err) {
    throw new Error(`not a valid yarn.lock: ${err instanceof Error ? err.message : err}`);
  }
  if (parsed.type === "conflict") throw new Error("yarn.lock has unresolved merge conflicts");
  const out = new Dedup();
  for (const [key, entry] of Object.entries(parsed.object)) {
    if (!isRecord(entry) || typeof entry.version !== "string") continue;
    const spec = splitSpec(key);
    if (!spec || /^(?:file|link|workspace|portal):/.test(spec.range)) continue;
    const aliased = spec.range.startsWith("npm:") ? splitSpec(spec.range.slice(4)) : undefined;
    out.add(aliased?.name ?? spec.name, entry.version, location);
  }
  return out.drafts;
}

function parseBerry(text: string, location: string): LibraryDraft[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const first = (err instanceof Error ? err.message : String(err)).split("\n")[0];
    throw new Error(`not a valid yarn.lock (YAML): ${first}`);
  }
  if (!isRecord(doc)) throw new Error("not a valid yarn.lock: the top level is not a mapping");
  const out = new Dedup();
  for (const [key, entry] of Object.entries(doc)) {
    if (key === "__metadata" || !isRecord(entry)) continue;
    const version = typeof entry.version === "string" ? entry.version : undefined;
    const resolution =
      typeof entry.resolution === "string" ? entry.resolution : key.split(",")[0]?.trim();
    const spec = resolution ? splitSpec(resolution) : undefined;
    if (!version || !spec?.range.startsWith("npm:")) continue;
    out.add(spec.name, version, location);
  }
  return out.drafts;
}

/** `@scope/name@range` → name and range (the `@` after the scope's own). */
function splitSpec(spec: string): { name: string; range: string } | undefined {
  const at = spec.indexOf("@", spec.startsWith("@") ? 1 : 0);
  if (at <= 0) return undefined;
  return { name: spec.slice(0, at), range: spec.slice(at + 1) };
}

class Dedup {
  readonly drafts: LibraryDraft[] = [];
  private readonly seen = new Set<string>();

  add(name: string, version: string, location: string): void {
    const key = `${name}@${version}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.drafts.push(npmDraft(name, version, location));
  }
}
