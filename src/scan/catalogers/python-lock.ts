// The Python lock-file catalogers for source trees (`scan fs:`), as Trivy reads them:
// `requirements.txt` (only `name==version` pins), `Pipfile.lock` (the `default` section;
// `develop` is dev-only), `poetry.lock` and `uv.lock` (TOML, every locked package except the
// project's own and local path/editable ones). A file that is not what its name says throws,
// so the registry turns it into a warning naming the file. Pure.
import { type LibraryDraft, library } from "./draft.js";
import { isRecord } from "./json.js";
import { parseLockJson, parseTomlLock } from "./lock-parse.js";
import { purl } from "./purl.js";
import { normaliseName } from "./python.js";

export function wantsRequirementsTxt(path: string): boolean {
  return /(?:^|\/)requirements\.txt$/.test(path);
}

export function wantsPipfileLock(path: string): boolean {
  return /(?:^|\/)Pipfile\.lock$/.test(path);
}

export function wantsPoetryLock(path: string): boolean {
  return /(?:^|\/)poetry\.lock$/.test(path);
}

export function wantsUvLock(path: string): boolean {
  return /(?:^|\/)uv\.lock$/.test(path);
}

/**
 * pip's requirements format: one requirement per logical line (a trailing `\` continues
 * it), `#` comments, options (`-r`, `-c`, `-e`, `--index-url`, `--hash=…`) ignored. Only
 * exact pins (`name==1.0`, `name[extra]==1.0 ; marker`) name a version; ranges, wildcards,
 * URLs and included files (`-r other.txt`, not followed) give no package.
 */
export function parseRequirementsTxt(text: string, location: string): LibraryDraft[] {
  const out: LibraryDraft[] = [];
  const seen = new Set<string>();
  for (const line of logicalLines(text)) {
    const pin = pinnedRequirement(line);
    if (!pin) continue;
    const key = `${normaliseName(pin.name)}@${pin.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(pypiDraft(pin.name, pin.version, location));
  }
  return out;
}

function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let current = "";
  for (const raw of text.split(/\r?\n/)) {
    const withoutComment = raw.replace(/(^|\s)#.*$/, "");
    if (withoutComment.endsWith("\\")) {
      current += `${withoutComment.slice(0, -1)} `;
      continue;
    }
    lines.push(current + withoutComment);
    current = "";
  }
  if (current !== "") lines.push(current);
  return lines;
}

function pinnedRequirement(line: string): { name: string; version: string } | undefined {
  const requirement = line
    .split(";")[0]
    ?.replace(/\s--?[a-z][\w-]*(?:[= ]\S+)?/gi, "")
    .trim();
  if (!requirement || requirement.startsWith("-")) return undefined;
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==\s*([^\s,;=]+)$/.exec(requirement);
  if (!m) return undefined;
  const version = m[2] as string;
  if (version.includes("*")) return undefined;
  return { name: m[1] as string, version };
}

/** Pipfile.lock: `{ "default": { "requests": { "version": "==2.31.0" } }, "develop": … }`. */
export function parsePipfileLock(text: string, location: string): LibraryDraft[] {
  const doc = parseLockJson(text, "Pipfile.lock");
  const section = doc.default;
  if (!isRecord(section)) throw new Error('not a Pipfile.lock: no "default" section');
  const out: LibraryDraft[] = [];
  for (const [name, entry] of Object.entries(section)) {
    if (!isRecord(entry) || typeof entry.version !== "string") continue;
    const version = entry.version.replace(/^==/, "");
    if (version === "" || /[<>=!~*]/.test(version)) continue;
    out.push(pypiDraft(name, version, location));
  }
  return out;
}

/** poetry.lock: `[[package]]` tables; `category = "dev"` (Poetry < 1.2) is dev-only. */
export function parsePoetryLock(text: string, location: string): LibraryDraft[] {
  const out: LibraryDraft[] = [];
  for (const entry of lockedPackages(text, "poetry.lock")) {
    if (entry.category === "dev") continue;
    if (isRecord(entry.source) && isLocalSource(entry.source.type)) continue;
    const draft = namedVersion(entry, location);
    if (draft) out.push(draft);
  }
  return out;
}

/** uv.lock: `[[package]]` tables; `source = { editable | virtual | directory | path }` is local. */
export function parseUvLock(text: string, location: string): LibraryDraft[] {
  const out: LibraryDraft[] = [];
  for (const entry of lockedPackages(text, "uv.lock")) {
    const source = entry.source;
    if (isRecord(source) && ["editable", "virtual", "directory", "path"].some((k) => k in source))
      continue;
    const draft = namedVersion(entry, location);
    if (draft) out.push(draft);
  }
  return out;
}

function lockedPackages(text: string, what: string): Record<string, unknown>[] {
  const doc = parseTomlLock(text, what);
  if (doc.package === undefined) return [];
  if (!Array.isArray(doc.package)) throw new Error(`not a ${what}: "package" is not an array`);
  return doc.package.filter(isRecord);
}

function isLocalSource(type: unknown): boolean {
  return type === "directory" || type === "file";
}

function namedVersion(entry: Record<string, unknown>, location: string): LibraryDraft | undefined {
  const { name, version } = entry;
  if (typeof name !== "string" || typeof version !== "string" || !name || !version) return;
  return pypiDraft(name, version, location);
}

export function pypiDraft(name: string, version: string, location: string): LibraryDraft {
  return library(
    {
      name,
      version,
      ecosystem: "PyPI",
      type: "library",
      purl: purl({ type: "pypi", name: normaliseName(name), version }),
    },
    location,
  );
}
