// The .NET cataloger: NuGet packages an application was built with, from its
// `*.deps.json` (the `libraries` map, `"Name/Version": { "type": "package" }`); project
// references (`type: project`) are the application itself and are left out. Pure.
import { type LibraryDraft, library } from "./draft.js";
import { isRecord, parseJson } from "./json.js";
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
    out.push(
      library(
        {
          name,
          version,
          ecosystem: "NuGet",
          type: "library",
          purl: purl({ type: "nuget", name, version }),
        },
        location,
      ),
    );
  }
  return out;
}
