// The .NET cataloger: NuGet packages an application was built with, from its
// `*.deps.json` (the `libraries` map, `"Name/Version": { "type": "package" }`); project
// references (`type: project`) are the application itself and are left out; and from NuGet's
// `packages.lock.json` (per target framework, `"Name": { "type": "Direct|Transitive",
// "resolved": "1.2.3" }`; `Project` entries left out), read in images too, as Trivy does. Pure.
import { type LibraryDraft, library } from "./draft.js";
import { isRecord, parseJson } from "./json.js";
import { parseLockJson } from "./lock-parse.js";
import { purl } from "./purl.js";

export function wantsDepsJson(path: string): boolean {
  return path.endsWith(".deps.json");
}

export function parseDepsJson(text: string, location: string): LibraryDraft[] {
  const doc = parseJson(text);
  if (!isRecord(doc) || !isRecord(doc.libraries)) return [];
  const out: LibraryDraft[] = [];
  for (const [key, value] of Object.entries(doc.libraries)) {
    if (!isRecord(value) || value.type !== "package") continue;
    const slash = key.lastIndexOf("/");
    if (slash <= 0) continue;
    const name = key.slice(0, slash);
    const version = key.slice(slash + 1);
    out.push(nugetDraft(name, version, location));
  }
  return out;
}

export function wantsNugetLock(path: string): boolean {
  return /(?:^|\/)packages\.lock\.json$/.test(path);
}

export function parseNugetLock(text: string, location: string): LibraryDraft[] {
  const doc = parseLockJson(text, "packages.lock.json");
  if (!isRecord(doc.dependencies)) throw new Error('not a packages.lock.json: no "dependencies"');
  const out: LibraryDraft[] = [];
  const seen = new Set<string>();
  for (const framework of Object.values(doc.dependencies)) {
    if (!isRecord(framework)) continue;
    for (const [name, entry] of Object.entries(framework)) {
      if (!isRecord(entry) || entry.type === "Project" || typeof entry.resolved !== "string")
        continue;
      const key = `${name.toLowerCase()}@${entry.resolved}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(nugetDraft(name, entry.resolved, location));
    }
  }
  return out;
}

function nugetDraft(name: string, version: string, location: string): LibraryDraft {
  return library(
    {
      name,
      version,
      ecosystem: "NuGet",
      type: "library",
      purl: purl({ type: "nuget", name, version }),
    },
    location,
  );
}
