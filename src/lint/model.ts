// Turns Dockerfile text into the model the lint rules read: build stages, each instruction
// with its span, flags, exec-form arguments, the variables in scope (ARG/ENV scoping per
// Docker: global ARGs only in FROM lines, per-stage ARG re-declaration, ENV overriding ARG,
// ENV inherited from a parent stage), and the shell commands of each RUN (continuations,
// comment lines inside continuations, heredocs and the escape directive handled).
// Parsing is dockerfile-ast's; this module only shapes it. Pure: no I/O.
import type { Instruction } from "dockerfile-ast";
import { expand, type Scope } from "./expand.js";
import { parseDockerfile } from "./parser.js";
import { parseShell, type ShellCommand } from "./shell.js";

/** A 1-based region of the file; end column exclusive. */
export interface Span {
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}

export interface Flag {
  readonly name: string;
  readonly value: string | null;
}

/** An argument or a `name=value` property of an instruction, as written. */
export interface Argument {
  readonly value: string;
  readonly span: Span;
}

export interface Property {
  readonly name: string;
  readonly value: string | null;
  readonly span: Span;
  /** Name and value as written (quotes and escapes kept, continuations joined). */
  readonly rawName: string;
  readonly rawValue: string | null;
}

export interface Mount {
  readonly type: string;
  readonly target: string;
}

export interface RunScript {
  readonly script: string;
  readonly commands: readonly ShellCommand[];
  readonly heredoc: boolean;
  readonly mounts: readonly Mount[];
  /** Span of a range of script offsets. */
  span(start: number, end: number): Span;
}

export interface InstructionInfo {
  /** Upper-case keyword (`RUN`, `COPY` …). */
  readonly keyword: string;
  readonly node: Instruction;
  readonly span: Span;
  /** Index of the stage, -1 for instructions before the first FROM. */
  readonly stage: number;
  /** Variables visible to the instruction (Docker's build-time scoping). */
  readonly scope: Scope;
  readonly flags: readonly Flag[];
  /** Whitespace-separated arguments after the flags (dockerfile-ast's view). */
  readonly args: readonly Argument[];
  /** `name=value` pairs of ARG, ENV and LABEL; empty for other instructions. */
  readonly properties: readonly Property[];
  /** Arguments as written (after flags), with line continuations removed. */
  readonly argsText: string;
  /** Span of the arguments, or of the instruction when there are none. */
  readonly argsSpan: Span;
  /** The JSON array when the instruction is in exec form, else null. */
  readonly execForm: readonly string[] | null;
  /** Shell commands of a shell-form RUN. */
  readonly run: RunScript | null;
}

export interface Stage {
  readonly index: number;
  /** Lower-case stage name (`AS name`), if any. */
  readonly name: string | null;
  readonly from: InstructionInfo;
  /** Base image after variable expansion. */
  readonly image: string;
  readonly imageUnresolved: boolean;
  /** Index of the earlier stage this one builds on (`FROM builder`), if any. */
  readonly parent: number | null;
  readonly platform: string | null;
  readonly instructions: InstructionInfo[];
}

export interface DockerfileModel {
  readonly text: string;
  readonly lines: readonly string[];
  readonly escape: string;
  readonly instructions: readonly InstructionInfo[];
  readonly stages: readonly Stage[];
}

/** ARGs BuildKit defines automatically in the global scope. */
export const AUTOMATIC_PLATFORM_ARGS = [
  "BUILDPLATFORM",
  "BUILDOS",
  "BUILDARCH",
  "BUILDVARIANT",
  "TARGETPLATFORM",
  "TARGETOS",
  "TARGETARCH",
  "TARGETVARIANT",
];

class LineIndex {
  readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = 0; i < text.length; i += 1) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }
  offset(line0: number, character: number): number {
    return (this.starts[line0] ?? 0) + character;
  }
  /** 1-based line/column of a document offset. */
  position(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo] + 1 };
  }
}

interface AstRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

function spanOf(range: AstRange): Span {
  return {
    line: range.start.line + 1,
    column: range.start.character + 1,
    endLine: range.end.line + 1,
    endColumn: range.end.character + 1,
  };
}

/** Text after continuation removal, and where each of its characters came from. */
class Logical {
  text = "";
  /** Start, in `text`, of each piece copied from the document, ascending. */
  private readonly pieceStarts: number[] = [];
  /** Document offset of the first character of each piece. */
  private readonly pieceOrigins: number[] = [];

  append(document: string, from: number, to: number): void {
    if (from >= to) return;
    this.pieceStarts.push(this.text.length);
    this.pieceOrigins.push(from);
    this.text += document.slice(from, to);
  }

  /** Document offset of `text[index]`; undefined outside `text`. */
  origin(index: number): number | undefined {
    if (index < 0 || index >= this.text.length) return undefined;
    const starts = this.pieceStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= index) lo = mid;
      else hi = mid - 1;
    }
    return this.pieceOrigins[lo] + index - starts[lo];
  }
}

/**
 * Joins continuation lines the way Docker does: an escape character at the end of a line
 * (trailing blanks allowed) continues it; blank and comment lines inside the continuation are
 * dropped. With heredocs, only the first logical line is joined; bodies are kept verbatim.
 */
function logicalText(text: string, from: number, to: number, escapeChar: string): Logical {
  const out = new Logical();
  let piece = from;
  let i = from;
  while (i < to) {
    const k = nextSpecial(text, i, to, escapeChar);
    if (k === to || text[k] === "\n") {
      out.append(text, piece, to);
      return out;
    }
    if (continuesLine(text, k + 1, to)) {
      out.append(text, piece, k);
      i = skipContinuationLines(text, text.indexOf("\n", k) + 1, to);
      piece = i;
    } else i = k + 1;
  }
  out.append(text, piece, Math.min(i, to));
  return out;
}

/** Index of the first escape character or `\n` in `text[from, to)`, else `to`. */
function nextSpecial(text: string, from: number, to: number, escapeChar: string): number {
  for (let j = from; j < to; j += 1) {
    const c = text[j];
    if (c === escapeChar || c === "\n") return j;
  }
  return to;
}

function continuesLine(text: string, i: number, to: number): boolean {
  for (let j = i; j < to; j += 1) {
    const c = text[j];
    if (c === "\n") return true;
    if (c !== " " && c !== "\t" && c !== "\r") return false;
  }
  return false;
}

function skipContinuationLines(text: string, i: number, to: number): number {
  let pos = i;
  while (pos > 0 && pos < to) {
    const eol = text.indexOf("\n", pos);
    const line = text.slice(pos, eol === -1 || eol > to ? to : eol);
    const trimmed = line.trim();
    if (eol === -1 || eol >= to || (trimmed !== "" && !trimmed.startsWith("#"))) return pos;
    pos = eol + 1;
  }
  return pos;
}

function parseExecForm(argsText: string): string[] | null {
  const trimmed = argsText.trim();
  if (!trimmed.startsWith("[")) return null;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (Array.isArray(parsed) && parsed.every((x) => typeof x === "string")) return parsed;
  } catch {
    return null;
  }
  return null;
}

function parseMount(value: string): Mount {
  let type = "bind";
  let target = "";
  for (const part of value.split(",")) {
    const [key, v = ""] = part.split("=", 2);
    if (key === "type") type = v;
    else if (key === "target" || key === "dst" || key === "destination") target = v;
  }
  return { type, target };
}

const PROPERTY_KEYWORDS = new Set(["ARG", "ENV", "LABEL"]);
const EXEC_FORM_KEYWORDS = new Set(["RUN", "CMD", "ENTRYPOINT", "SHELL"]);
const HEREDOC_START = /<<-?\s*["']?[A-Za-z_]/;

function firstLineOf(text: string): string {
  const eol = text.indexOf("\n");
  return eol === -1 ? text : text.slice(0, eol);
}

interface AstProperty {
  getName(): string;
  getNameRange(): AstRange;
  getValue(): string | null;
  getValueRange(): AstRange | null;
  getRange(): AstRange;
}

function propertiesOf(node: Instruction, raw: (range: AstRange) => string): Property[] {
  const withProps = node as Instruction & { getProperties?: () => AstProperty[] };
  if (typeof withProps.getProperties !== "function") return [];
  return withProps.getProperties().map((p) => {
    const valueRange = p.getValueRange();
    return {
      name: p.getName(),
      value: p.getValue(),
      span: spanOf(p.getRange()),
      rawName: raw(p.getNameRange()),
      rawValue: valueRange === null ? (p.getValue() === null ? null : "") : raw(valueRange),
    };
  });
}

function mountsOf(flags: readonly Flag[]): Mount[] {
  return flags.filter((f) => f.name === "mount" && f.value).map((f) => parseMount(f.value ?? ""));
}

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, "'\\''")}'`;
}

/**
 * Exec-form RUN (`RUN ["sh", "-c", "…"]`): the argv becomes one quoted command so the shell
 * tokeniser sees the same words (and descends into `sh -c`). Findings point at the arguments.
 */
function execRunScript(argv: readonly string[], flags: readonly Flag[], argsSpan: Span): RunScript {
  const script = argv.map(shellQuote).join(" ");
  return {
    script,
    commands: parseShell(script),
    heredoc: false,
    mounts: mountsOf(flags),
    span: () => argsSpan,
  };
}

interface ScopeState {
  vars: Map<string, string | undefined>;
  envNames: Set<string>;
}

function flagsOf(node: Instruction): Flag[] {
  const withFlags = node as Instruction & {
    getFlags?: () => { getName(): string; getValue(): string | null }[];
  };
  if (typeof withFlags.getFlags !== "function") return [];
  return withFlags
    .getFlags()
    .map((f) => ({ name: f.getName().toLowerCase(), value: f.getValue() }));
}

class ModelBuilder {
  private readonly index: LineIndex;
  private readonly instructions: InstructionInfo[] = [];
  private readonly stages: Stage[] = [];
  private readonly globals = new Map<string, string | undefined>();
  private state: ScopeState | null = null;
  private readonly stageEnv: Map<string, string | undefined>[] = [];

  constructor(
    private readonly text: string,
    private readonly escapeChar: string,
    private readonly buildArgs: Readonly<Record<string, string>>,
  ) {
    this.index = new LineIndex(text);
    for (const name of AUTOMATIC_PLATFORM_ARGS) this.globals.set(name, buildArgs[name]);
  }

  add(node: Instruction): void {
    const keyword = node.getKeyword().toUpperCase();
    const range = node.getRange() as AstRange;
    // dockerfile-ast recomputes arguments on every call: ask once (flags are cached after).
    const args = node
      .getArguments()
      .map((a) => ({ value: a.getValue(), span: spanOf(a.getRange() as AstRange) }));
    const end = this.index.offset(range.end.line, range.end.character);
    const argsStart =
      args.length > 0 ? this.index.offset(args[0].span.line - 1, args[0].span.column - 1) : end;
    const logical = logicalText(this.text, argsStart, end, this.escapeChar);
    const firstLine = firstLineOf(logical.text);
    const scope: Scope = keyword === "FROM" || this.state === null ? this.globals : this.state.vars;
    const flags = flagsOf(node);
    const execForm = EXEC_FORM_KEYWORDS.has(keyword) ? parseExecForm(firstLine) : null;
    const argsSpan: Span =
      args.length > 0
        ? {
            ...args[0].span,
            endLine: args[args.length - 1].span.endLine,
            endColumn: args[args.length - 1].span.endColumn,
          }
        : spanOf(range);
    const info: InstructionInfo = {
      keyword,
      node,
      span: spanOf(range),
      stage: keyword === "FROM" ? this.stages.length : this.stages.length - 1,
      scope,
      flags,
      args,
      properties: PROPERTY_KEYWORDS.has(keyword) ? propertiesOf(node, (r) => this.rawText(r)) : [],
      argsText: firstLine,
      argsSpan,
      execForm,
      run:
        keyword !== "RUN"
          ? null
          : execForm === null
            ? this.runScript(logical, flags)
            : execRunScript(execForm, flags, argsSpan),
    };
    this.instructions.push(info);
    if (keyword === "FROM") this.startStage(info);
    else if (this.stages.length === 0) {
      if (keyword === "ARG") this.declareGlobal(info);
    } else {
      this.stages[this.stages.length - 1].instructions.push(info);
      if (keyword === "ARG") this.declareArg(info);
      else if (keyword === "ENV") this.declareEnv(info);
    }
  }

  /** Document text of a range with line continuations removed. */
  private rawText(range: AstRange): string {
    const from = this.index.offset(range.start.line, range.start.character);
    const to = this.index.offset(range.end.line, range.end.character);
    return logicalText(this.text, from, to, this.escapeChar).text;
  }

  private runScript(logical: Logical, flags: Flag[]): RunScript {
    const index = this.index;
    const commands = parseShell(logical.text);
    return {
      script: logical.text,
      commands,
      heredoc: HEREDOC_START.test(firstLineOf(logical.text)),
      mounts: mountsOf(flags),
      span(start: number, stop: number): Span {
        const length = logical.text.length;
        const a = index.position(logical.origin(Math.min(start, length - 1)) ?? 0);
        const b = index.position(
          (logical.origin(Math.max(start, Math.min(stop, length) - 1)) ?? 0) + 1,
        );
        return { line: a.line, column: a.column, endLine: b.line, endColumn: b.column };
      },
    };
  }

  private declareGlobal(info: InstructionInfo): void {
    for (const { name, value } of info.properties) {
      const fallback =
        value === null ? undefined : unquote(expand(value, this.globals, this.escapeChar));
      this.globals.set(name, this.buildArgs[name] ?? fallback);
    }
  }

  private declareArg(info: InstructionInfo): void {
    const state = this.state!;
    const vars = new Map(state.vars);
    for (const { name, value } of info.properties) {
      if (state.envNames.has(name)) continue;
      const fallback =
        value === null ? this.globals.get(name) : unquote(expand(value, vars, this.escapeChar));
      vars.set(name, this.buildArgs[name] ?? fallback);
    }
    state.vars = vars;
  }

  private declareEnv(info: InstructionInfo): void {
    const state = this.state!;
    const vars = new Map(state.vars);
    const env = this.stageEnv[this.stageEnv.length - 1];
    // Docker expands every value of one ENV with the variables as they were before it.
    for (const { name, value } of info.properties) {
      const resolved =
        value === null ? undefined : unquote(expand(value, state.vars, this.escapeChar));
      vars.set(name, resolved);
      env.set(name, resolved);
      state.envNames.add(name);
    }
    state.vars = vars;
  }

  private startStage(info: InstructionInfo): void {
    // FROM [--platform=…] image [AS name]: flags are already split off the arguments.
    const raw = info.args[0]?.value ?? "";
    const alias = info.args[1]?.value.toUpperCase() === "AS" ? (info.args[2]?.value ?? null) : null;
    const expanded = expand(raw, this.globals, this.escapeChar);
    const image = expanded.value;
    const parent = this.stages.findIndex((s) => s.name !== null && s.name === image.toLowerCase());
    const inherited =
      parent === -1 ? new Map<string, string | undefined>() : new Map(this.stageEnv[parent]);
    this.stageEnv.push(new Map(inherited));
    this.state = { vars: new Map(inherited), envNames: new Set(inherited.keys()) };
    const platform = info.flags.find((f) => f.name === "platform")?.value ?? null;
    this.stages.push({
      index: this.stages.length,
      name: alias?.toLowerCase() ?? null,
      from: info,
      image,
      imageUnresolved: expanded.unresolved || image === "",
      parent: parent === -1 ? null : parent,
      platform,
      instructions: [],
    });
  }

  build(): DockerfileModel {
    const text = this.text;
    let lines: string[] | undefined;
    return {
      text,
      // Split on first use: most files never need their lines (pragmas, the first line).
      get lines() {
        lines ??= text.split("\n");
        return lines;
      },
      escape: this.escapeChar,
      instructions: this.instructions,
      stages: this.stages,
    };
  }
}

function unquote(expansion: { value: string; unresolved: boolean }): string | undefined {
  if (expansion.unresolved) return undefined;
  const v = expansion.value;
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0]) {
    return v.slice(1, -1);
  }
  return v;
}

/** Parses a Dockerfile into the lint model. */
export function buildModel(
  text: string,
  buildArgs: Readonly<Record<string, string>> = {},
): DockerfileModel {
  const dockerfile = parseDockerfile(text);
  const builder = new ModelBuilder(text, dockerfile.getEscapeCharacter(), buildArgs);
  for (const node of dockerfile.getInstructions()) builder.add(node);
  return builder.build();
}

/** Indexes of the stages that end up in the image built for `target` (it and its parents). */
export function imageChain(model: DockerfileModel, target: number): number[] {
  const chain: number[] = [];
  let current: number | null = target;
  while (current !== null && !chain.includes(current)) {
    chain.push(current);
    current = model.stages[current]?.parent ?? null;
  }
  return chain;
}

/**
 * The SHELL in force for `info` (its exec-form argv): the last SHELL before it in its stage or
 * the stages it builds on (SHELL is image configuration, so `FROM base` inherits it); null
 * for Docker's default `/bin/sh -c`.
 */
export function shellFor(model: DockerfileModel, info: InstructionInfo): readonly string[] | null {
  const chain: number[] = [];
  for (
    let s: number | null = info.stage;
    s !== null && s >= 0 && !chain.includes(s);
    s = model.stages[s].parent
  )
    chain.unshift(s);
  let shell: readonly string[] | null = null;
  for (const s of chain) {
    for (const other of model.stages[s].instructions) {
      if (other === info) return shell;
      if (other.keyword === "SHELL" && other.execForm !== null) shell = other.execForm;
    }
  }
  return shell;
}
