// The npm cataloger: installed packages from `node_modules/<name>/package.json` (and
// `node_modules/@scope/<name>/package.json`, at any depth of nesting), and — for source trees
// shipped without node_modules — the packages a `package-lock.json` (v1, v2, v3) pins
// (yarn.ts and pnpm.ts read the other lock files). Dev-only lock entries are left out. Pure.
import { type LibraryDraft, library } from "./draft.js";
import { isRecord, parseJson } from "./json.js";
import { parseLockJson } from "./lock-parse.js";
import { purl } from "./purl.js";

export function wantsNpmPackageJson(path: string): boolean {
  return /(?:^|\/)node_modules\/(?:@[^/]+\/)?[^/@][^/]*\/package\.json$/.test(path);
}

export function wantsNpmLockfile(path: string): boolean {
  if (path.includes("node_modules/")) return false;
  return /(?:^|\/)package-lock\.json$/.test(path);
}

export function parseNpmPackageJson(text: string, location: string): LibraryDraft[] {
  const doc = parseJson(text);
  if (!isRecord(doc)) return [];
  const name = doc.name;
  const version = doc.version;
  if (typeof name !== "string" || typeof version !== "string" || !name || !version) return [];
  return [npmDraft(name, version, location, licensesOf(doc))];
}

export function parseNpmLockfile(text: string, location: string): LibraryDraft[] {
  return asLockfileDrafts(parsePackageLock(text, location), location);
}

/** Marks lock-file entries as such: they count only where no node_modules shows what is installed. */
export function asLockfileDrafts(drafts: LibraryDraft[], location: string): LibraryDraft[] {
  const dir = location.slice(0, location.lastIndexOf("/"));
  return drafts.map((d) => ({ ...d, fromLockfileIn: dir }));
}

function parsePackageLock(text: string, location: string): LibraryDraft[] {
  const doc = parseLockJson(text, "package-lock.json");
  const out: LibraryDraft[] = [];
  if (isRecord(doc.packages)) {
    for (const [key, value] of Object.entries(doc.packages)) {
      if (key === "" || !isRecord(value) || value.dev === true || value.link === true) continue;
      const name = typeof value.name === "string" ? value.name : nameFromLockPath(key);
      if (name && typeof value.version === "string") {
        out.push(npmDraft(name, value.version, location, licensesOf(value)));
      }
    }
    return out;
  }
  const walk = (deps: unknown) => {
    if (!isRecord(deps)) return;
    for (const [name, value] of Object.entries(deps)) {
      if (!isRecord(value) || value.dev === true) continue;
      if (typeof value.version === "string" && !value.version.includes(":")) {
        out.push(npmDraft(name, value.version, location));
      }
      walk(value.dependencies);
    }
  };
  walk(doc.dependencies);
  return out;
}

function nameFromLockPath(key: string): string | undefined {
  const at = key.lastIndexOf("node_modules/");
  return at === -1 ? undefined : key.slice(at + "node_modules/".length);
}

export function npmDraft(
  name: string,
  version: string,
  location: string,
  licenses?: string[],
): LibraryDraft {
  const slash = name.startsWith("@") ? name.indexOf("/") : -1;
  return library(
    {
      name,
      version,
      ecosystem: "npm",
      type: "library",
      licenses: licenses && licenses.length > 0 ? licenses : undefined,
      purl: purl({
        type: "npm",
        namespace: slash > 0 ? name.slice(0, slash) : undefined,
        name: slash > 0 ? name.slice(slash + 1) : name,
        version,
      }),
    },
    location,
  );
}

function licensesOf(doc: Record<string, unknown>): string[] {
  const one = doc.license;
  if (typeof one === "string") return [one];
  if (isRecord(one) && typeof one.type === "string") return [one.type];
  if (Array.isArray(doc.licenses)) {
    return doc.licenses
      .map((l) => (typeof l === "string" ? l : isRecord(l) ? l.type : undefined))
      .filter((l): l is string => typeof l === "string");
  }
  return [];
}
