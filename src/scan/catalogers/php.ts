// The PHP cataloger: packages Composer installed, from `vendor/composer/installed.json` in
// both formats (v1: a JSON array; v2, Composer ≥ 2.0: `{ "packages": [...] }`), and — in source
// trees only — the packages a `composer.lock` pins (`packages` and `packages-dev`). Pure.
import { type LibraryDraft, library } from "./draft.js";
import { isRecord, parseJson } from "./json.js";
import { parseLockJson } from "./lock-parse.js";
import { purl } from "./purl.js";

export function wantsComposerInstalled(path: string): boolean {
  return /(?:^|\/)vendor\/composer\/installed\.json$/.test(path);
}

export function parseComposerInstalled(text: string, location: string): LibraryDraft[] {
  const doc = parseJson(text);
  const list = Array.isArray(doc)
    ? doc
    : isRecord(doc) && Array.isArray(doc.packages)
      ? doc.packages
      : [];
  return packagistDrafts(list, location);
}

export function wantsComposerLock(path: string): boolean {
  if (path.includes("vendor/")) return false;
  return /(?:^|\/)composer\.lock$/.test(path);
}

/** composer.lock: `{ "packages": [...], "packages-dev": [...] }`, entries as in installed.json. */
export function parseComposerLock(text: string, location: string): LibraryDraft[] {
  const doc = parseLockJson(text, "composer.lock");
  if (!Array.isArray(doc.packages)) throw new Error('not a composer.lock: no "packages" list');
  const dev = Array.isArray(doc["packages-dev"]) ? doc["packages-dev"] : [];
  return packagistDrafts([...doc.packages, ...dev], location);
}

function packagistDrafts(list: readonly unknown[], location: string): LibraryDraft[] {
  const out: LibraryDraft[] = [];
  for (const entry of list) {
    if (!isRecord(entry)) continue;
    const { name, version } = entry;
    if (typeof name !== "string" || typeof version !== "string" || !name.includes("/")) continue;
    const [vendor, project] = name.split("/", 2) as [string, string];
    const licenses = Array.isArray(entry.license)
      ? entry.license.filter((l): l is string => typeof l === "string")
      : typeof entry.license === "string"
        ? [entry.license]
        : [];
    out.push(
      library(
        {
          name,
          version,
          ecosystem: "Packagist",
          type: "library",
          licenses: licenses.length > 0 ? licenses : undefined,
          purl: purl({ type: "composer", namespace: vendor, name: project, version }),
        },
        location,
      ),
    );
  }
  return out;
}
