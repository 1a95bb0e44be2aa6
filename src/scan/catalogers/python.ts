// The Python cataloger: installed distributions from `*.dist-info/METADATA` (wheels, pip)
// and `*.egg-info/PKG-INFO` or a single-file `*.egg-info` (setuptools, distro packages).
// Licenses come from `License-Expression`, `License` or the `License ::` classifiers. Pure.
import { parseHeaderBlock } from "./control-fields.js";
import { type LibraryDraft, library } from "./draft.js";
import { purl } from "./purl.js";

export function wantsPythonMetadata(path: string): boolean {
  return (
    /\.dist-info\/METADATA$/.test(path) ||
    /\.egg-info\/PKG-INFO$/.test(path) ||
    /\/[^/]+\.egg-info$/.test(path)
  );
}

export function parsePythonMetadata(text: string, location: string): LibraryDraft[] {
  const { first, all } = parseHeaderBlock(text);
  const name = first.get("Name");
  const version = first.get("Version");
  if (!name || !version) return [];
  return [
    library(
      {
        name,
        version,
        ecosystem: "PyPI",
        type: "library",
        licenses: licenses(first, all.get("Classifier") ?? []),
        purl: purl({ type: "pypi", name: normaliseName(name), version }),
      },
      location,
    ),
  ];
}

/** PEP 503 normalisation, as purl's pypi type requires. */
export function normaliseName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

function licenses(
  first: ReadonlyMap<string, string>,
  classifiers: readonly string[],
): string[] | undefined {
  const expression = first.get("License-Expression");
  if (expression) return [expression];
  const fromClassifiers = classifiers
    .filter((c) => c.startsWith("License ::"))
    .map((c) => c.split("::").pop()?.trim() ?? "")
    .filter((c) => c !== "");
  if (fromClassifiers.length > 0) return fromClassifiers;
  const license = first.get("License");
  if (license && license !== "UNKNOWN" && !license.includes("\n") && license.length < 100) {
    return [license];
  }
  return undefined;
}
