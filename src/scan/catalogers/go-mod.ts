// The Go module catalogers for source trees (`scan fs:`), as Trivy reads them: `go.mod`'s
// `require` directives (single and block form, `// indirect` ones included) with `replace`
// directives applied (a module replaced by a local directory is dropped, one replaced by another
// module becomes that module). Before Go 1.17 go.mod does not list the whole build graph, so
// there the modules of the sibling `go.sum` that go.mod does not name are added (located at
// go.sum); a `go.sum` without a go.mod beside it is read on its own. The module itself is not a
// dependency. Pure: the sibling file's text is handed in by the caller.
import type { LibraryDraft } from "./draft.js";
import { goDraft } from "./go-binary.js";

export function wantsGoMod(path: string): boolean {
  return /(?:^|\/)go\.mod$/.test(path);
}

export function wantsGoSum(path: string): boolean {
  return /(?:^|\/)go\.sum$/.test(path);
}

/** The sibling file a Go catalogers reads alongside `path` (go.mod ↔ go.sum). */
export function goSibling(path: string): string {
  return path.endsWith("go.mod") ? `${path.slice(0, -"go.mod".length)}go.sum` : goModBeside(path);
}

function goModBeside(goSum: string): string {
  return `${goSum.slice(0, -"go.sum".length)}go.mod`;
}

interface Replacement {
  readonly fromVersion?: string;
  readonly to: string;
  readonly toVersion?: string;
}

interface GoModFile {
  readonly goVersion?: string;
  readonly requires: Map<string, string>;
  readonly replaces: Map<string, Replacement[]>;
}

export function parseGoMod(text: string, location: string, goSumText?: string): LibraryDraft[] {
  const mod = readGoMod(text);
  const modules = applyReplaces(mod);
  const out = [...modules].map(([path, version]) => goDraft(path, version, location));
  if (goSumText !== undefined && goVersionBelow(mod.goVersion, 1, 17)) {
    const sumLocation = `${location.slice(0, -"go.mod".length)}go.sum`;
    const named = new Set([...mod.requires.keys(), ...modules.keys()]);
    for (const [path, version] of goSumModules(goSumText)) {
      if (!named.has(path)) out.push(goDraft(path, version, sumLocation));
    }
  }
  return out;
}

/** A go.sum on its own (no go.mod beside it): the last version listed for each module. */
export function parseGoSum(text: string, location: string, goModText?: string): LibraryDraft[] {
  if (goModText !== undefined) return []; // go.mod's cataloger reads this go.sum
  return [...goSumModules(text)].map(([path, version]) => goDraft(path, version, location));
}

function readGoMod(text: string): GoModFile {
  const requires = new Map<string, string>();
  const replaces = new Map<string, Replacement[]>();
  let goVersion: string | undefined;
  let block: string | undefined;
  let sawModule = false;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.replace(/\/\/.*$/, "").trim();
    if (line === "") return;
    if (block !== undefined) {
      if (line === ")") block = undefined;
      else directive(block, line, index);
      return;
    }
    const m = /^(\w+)\s*(.*)$/.exec(line);
    if (!m) throw new Error(`line ${index + 1} is not a go.mod directive: ${line}`);
    const [, verb, rest] = m as unknown as [string, string, string];
    if (rest === "(") block = verb;
    else directive(verb, rest, index);
  });
  if (!sawModule) throw new Error("not a go.mod: no module directive");
  return { goVersion, requires, replaces };

  function directive(verb: string, args: string, index: number): void {
    const words = args.split(/\s+/).map(unquote);
    if (verb === "module") sawModule = true;
    else if (verb === "go") goVersion = words[0];
    else if (verb === "require") {
      const [path, version] = words;
      if (!path || !version)
        throw new Error(`line ${index + 1}: require needs a module and version`);
      requires.set(path, version);
    } else if (verb === "replace") {
      const arrow = words.indexOf("=>");
      if (arrow < 1) throw new Error(`line ${index + 1}: replace needs "=>"`);
      const from = words[0] as string;
      const list = replaces.get(from) ?? [];
      list.push({
        fromVersion: words[arrow - 1] === from ? undefined : words[1],
        to: words[arrow + 1] ?? "",
        toVersion: words[arrow + 2],
      });
      replaces.set(from, list);
    }
    // exclude, retract, toolchain, godebug: no effect on what is built here.
  }
}

function unquote(word: string): string {
  return word.startsWith('"') && word.endsWith('"') ? word.slice(1, -1) : word;
}

function applyReplaces(mod: GoModFile): Map<string, string> {
  const out = new Map<string, string>();
  for (const [path, version] of mod.requires) {
    const rule = (mod.replaces.get(path) ?? []).find(
      (r) => r.fromVersion === undefined || r.fromVersion === version,
    );
    if (!rule) out.set(path, version);
    else if (isLocalPath(rule.to)) continue;
    else if (rule.toVersion) out.set(rule.to, rule.toVersion);
  }
  return out;
}

function isLocalPath(target: string): boolean {
  return target.startsWith("./") || target.startsWith("../") || target.startsWith("/");
}

/** `module version[/go.mod] h1:…` lines; for each module the last version listed wins. */
function goSumModules(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const [path, version, hash] = line.trim().split(/\s+/);
    if (!path || !version || !hash) continue;
    out.set(path, version.replace(/\/go\.mod$/, ""));
  }
  return out;
}

function goVersionBelow(version: string | undefined, major: number, minor: number): boolean {
  if (version === undefined) return true; // go.mod without a go directive: Go 1.16 semantics
  const [a = 0, b = 0] = version.split(".").map((n) => Number.parseInt(n, 10));
  return a < major || (a === major && b < minor);
}
