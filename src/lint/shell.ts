// A POSIX shell tokeniser for the scripts inside RUN instructions, just deep enough for lint
// rules: it splits a script into simple commands (argv words with quotes removed) joined by
// `&&`, `||`, `;`, `|`, `&` and newlines, drops comments, redirections and heredoc bodies,
// strips leading `VAR=value` assignments and wrappers (`sudo`, `env`, `nice` …), and looks
// inside `sh -c "…"` and `bash <<EOF` scripts. Rules then ask about commands, never about
// substrings, so `# apt-get update` in a comment or `echo "apt-get"` never misfires.
// It must never execute anything or expand variables (the values are unknown at lint time).

/** How a command is joined to the one before it. */
export type Connector = "start" | "&&" | "||" | ";" | "|" | "&" | "newline";

export interface ShellWord {
  /** The word with quotes and escapes removed (variable references kept verbatim). */
  readonly text: string;
  /** Offsets into the script (start inclusive, end exclusive). */
  readonly start: number;
  readonly end: number;
}

export interface ShellCommand {
  /** argv: assignments, redirections, reserved words and wrappers removed. */
  readonly words: readonly ShellWord[];
  /** The command's name: last path component of argv[0] (`/usr/bin/apt-get` → `apt-get`). */
  readonly name: string;
  /** The argv texts after the name (`words[1…]`), worked out once for every rule. */
  readonly args: readonly string[];
  /** Wrapper commands that were stripped, in order (`sudo`, `env`, `nice` …). */
  readonly wrappers: readonly string[];
  /** `NAME=value` prefixes of the command. */
  readonly assignments: readonly string[];
  readonly connector: Connector;
  /** Commands with the same pipeline number are joined by `|`. */
  readonly pipeline: number;
  /** Depth of `( … )` subshells the command sits in (0 at top level). */
  readonly subshell: number;
  /** True when the command came from inside `sh -c "…"` or a heredoc script. */
  readonly nested: boolean;
  readonly start: number;
  readonly end: number;
}

interface RawWord {
  text: string;
  start: number;
  end: number;
  /** True when any part was quoted or escaped (a quoted word is never an operator). */
  quoted: boolean;
}

interface PendingHeredoc {
  delimiter: string;
  stripTabs: boolean;
  owner: CommandDraft;
}

interface CommandDraft {
  words: RawWord[];
  connector: Connector;
  pipeline: number;
  subshell: number;
  heredocBodies: { start: number; end: number }[];
}

const SHELLS = new Set(["sh", "bash", "dash", "ash", "zsh", "ksh", "busybox"]);
const RESERVED_PREFIXES = new Set(["!", "if", "then", "else", "elif", "do", "while", "until", "{"]);
const RESERVED_ALONE = new Set(["fi", "done", "esac", "}", "then", "else", "do"]);
const WRAPPERS = new Set(["sudo", "env", "nice", "nohup", "time", "exec", "doas"]);
/** Wrapper options that take a value (`sudo -u app cmd`). */
const WRAPPER_OPTIONS_WITH_VALUE = new Set(["-u", "-g", "-C", "-D", "-h", "-p", "-U", "-n"]);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** Splits a shell script into simple commands. Positions are offsets into `script`. */
export function parseShell(script: string): ShellCommand[] {
  const out: ShellCommand[] = [];
  parseInto(script, 0, script.length, false, out, { pipeline: 0 });
  return out;
}

/** The last path component of a command name (`/usr/bin/apt-get` → `apt-get`). */
export function commandName(command: ShellCommand): string {
  return command.name;
}

interface Counter {
  pipeline: number;
}

class Tokeniser {
  private i: number;
  private readonly drafts: CommandDraft[] = [];
  private current: CommandDraft;
  private word: RawWord | null = null;
  private redirectPending: "file" | "heredoc-strip" | "heredoc" | null = null;
  private readonly pending: PendingHeredoc[] = [];
  private depth = 0;

  constructor(
    private readonly s: string,
    start: number,
    private readonly end: number,
    private readonly counter: Counter,
  ) {
    this.i = start;
    this.current = this.newDraft("start");
  }

  run(): CommandDraft[] {
    while (this.i < this.end) this.step();
    this.finishWord();
    this.finishCommand();
    return this.drafts;
  }

  private newDraft(connector: Connector): CommandDraft {
    if (connector !== "|") this.counter.pipeline += 1;
    return {
      words: [],
      connector,
      pipeline: this.counter.pipeline,
      subshell: this.depth,
      heredocBodies: [],
    };
  }

  private step(): void {
    const c = this.s[this.i];
    if (c === " " || c === "\t" || c === "\r") {
      this.finishWord();
      this.i += 1;
    } else if (c === "\n") {
      this.finishWord();
      this.i += 1;
      this.readHeredocBodies();
      this.separate("newline");
    } else if (c === "#" && this.word === null) {
      while (this.i < this.end && this.s[this.i] !== "\n") this.i += 1;
    } else if (c === "\\") {
      this.escape();
    } else if (c === "'") {
      this.single();
    } else if (c === '"') {
      this.double();
    } else if (c === "$" || c === "`") {
      this.dollar();
    } else if (this.isRedirect(c)) {
      this.redirect();
    } else if (c === "&" || c === "|" || c === ";" || c === "(" || c === ")") {
      this.operator(c);
    } else {
      this.append(c, this.i, this.i + 1, false);
      this.i += 1;
    }
  }

  private append(text: string, start: number, end: number, quoted: boolean): void {
    if (this.word === null) this.word = { text: "", start, end, quoted: false };
    this.word.text += text;
    this.word.end = end;
    this.word.quoted ||= quoted;
  }

  private escape(): void {
    const next = this.s[this.i + 1];
    if (next === "\n") {
      this.i += 2;
      return;
    }
    if (next === undefined) {
      this.i += 1;
      return;
    }
    this.append(next, this.i, this.i + 2, true);
    this.i += 2;
  }

  private single(): void {
    const close = this.s.indexOf("'", this.i + 1);
    const stop = close === -1 || close >= this.end ? this.end : close;
    this.append(this.s.slice(this.i + 1, stop), this.i, stop + 1, true);
    this.i = stop + 1;
  }

  private double(): void {
    const start = this.i;
    let text = "";
    let j = this.i + 1;
    while (j < this.end && this.s[j] !== '"') {
      const c = this.s[j];
      if (c === "\\" && j + 1 < this.end) {
        const n = this.s[j + 1];
        if (n === "\n") {
          j += 2;
          continue;
        }
        text += n === "$" || n === "`" || n === '"' || n === "\\" ? n : `\\${n}`;
        j += 2;
      } else if (c === "$" && this.s[j + 1] === "(") {
        const close = this.balanced(j + 1, "(", ")");
        text += this.s.slice(j, close);
        j = close;
      } else {
        text += c;
        j += 1;
      }
    }
    this.append(text, start, Math.min(j + 1, this.end), true);
    this.i = j + 1;
  }

  /** `$var`, `${…}`, `$(…)`, `$((…))`, `$'…'` and backticks: kept verbatim in the word. */
  private dollar(): void {
    const start = this.i;
    const c = this.s[this.i];
    let stop: number;
    if (c === "`") {
      const close = this.s.indexOf("`", this.i + 1);
      stop = close === -1 || close >= this.end ? this.end : close + 1;
    } else if (this.s[this.i + 1] === "(") {
      stop = this.balanced(this.i + 1, "(", ")");
    } else if (this.s[this.i + 1] === "{") {
      stop = this.balanced(this.i + 1, "{", "}");
    } else if (this.s[this.i + 1] === "'") {
      const close = this.s.indexOf("'", this.i + 2);
      const end = close === -1 || close >= this.end ? this.end : close;
      this.append(this.s.slice(this.i + 2, end), start, end + 1, true);
      this.i = end + 1;
      return;
    } else {
      stop = this.i + 1;
    }
    this.append(this.s.slice(start, stop), start, stop, false);
    this.i = stop;
  }

  /** Index just past the bracket that closes the one at `open`, skipping quoted text. */
  private balanced(open: number, openChar: string, closeChar: string): number {
    let level = 0;
    let j = open;
    while (j < this.end) {
      const c = this.s[j];
      if (c === "\\") j += 2;
      else if (c === "'") {
        const close = this.s.indexOf("'", j + 1);
        j = close === -1 ? this.end : close + 1;
      } else {
        if (c === openChar) level += 1;
        else if (c === closeChar) {
          level -= 1;
          if (level === 0) return j + 1;
        }
        j += 1;
      }
    }
    return this.end;
  }

  private isRedirect(c: string): boolean {
    if (c === "<" || c === ">") return true;
    return c === "&" && this.s[this.i + 1] === ">" && this.word === null;
  }

  private redirect(): void {
    const fd = this.word !== null && !this.word.quoted && /^\d+$/.test(this.word.text);
    if (fd) this.word = null;
    else this.finishWord();
    const rest = this.s.slice(this.i, this.i + 4);
    const op = /^(<<-|<<<|<<|>>|>&|<&|>\||<>|&>>|&>|<|>)/.exec(rest)?.[1] ?? ">";
    this.i += op.length;
    if (op === "<<") this.redirectPending = "heredoc";
    else if (op === "<<-") this.redirectPending = "heredoc-strip";
    else if ((op === ">&" || op === "<&") && /^[\d-]/.test(this.s[this.i] ?? "")) {
      while (this.i < this.end && /[\d-]/.test(this.s[this.i])) this.i += 1;
    } else this.redirectPending = "file";
  }

  private operator(c: string): void {
    this.finishWord();
    const two = this.s.slice(this.i, this.i + 2);
    if (two === "&&" || two === "||" || two === ";;") {
      this.i += 2;
      this.separate(two === ";;" ? ";" : two);
    } else if (two === "|&") {
      this.i += 2;
      this.separate("|");
    } else if (c === "(") {
      this.i += 1;
      if (this.current.words.length === 0) {
        this.depth += 1;
        this.current.subshell = this.depth;
      }
    } else if (c === ")") {
      this.i += 1;
      this.finishCommand();
      this.depth = Math.max(0, this.depth - 1);
      this.current = this.newDraft(";");
    } else {
      this.i += 1;
      this.separate(c === "|" ? "|" : c === "&" ? "&" : ";");
    }
  }

  private separate(connector: Connector): void {
    this.finishCommand();
    this.current = this.newDraft(connector);
  }

  private finishWord(): void {
    const word = this.word;
    this.word = null;
    if (word === null) return;
    if (this.redirectPending === "file") {
      this.redirectPending = null;
      return;
    }
    if (this.redirectPending !== null) {
      this.pending.push({
        delimiter: word.text,
        stripTabs: this.redirectPending === "heredoc-strip",
        owner: this.current,
      });
      this.redirectPending = null;
      return;
    }
    this.current.words.push(word);
  }

  private finishCommand(): void {
    if (this.current.words.length > 0 || this.current.heredocBodies.length > 0) {
      this.drafts.push(this.current);
    }
  }

  /** After a newline: skips the bodies of heredocs opened on the line just ended. */
  private readHeredocBodies(): void {
    while (this.pending.length > 0) {
      const doc = this.pending.shift()!;
      const bodyStart = this.i;
      let bodyEnd = this.end;
      while (this.i < this.end) {
        const eol = this.s.indexOf("\n", this.i);
        const lineEnd = eol === -1 || eol > this.end ? this.end : eol;
        let line = this.s.slice(this.i, lineEnd);
        if (doc.stripTabs) line = line.replace(/^\t+/, "");
        if (line === doc.delimiter) {
          bodyEnd = this.i;
          this.i = Math.min(lineEnd + 1, this.end);
          break;
        }
        this.i = lineEnd + 1;
      }
      doc.owner.heredocBodies.push({ start: bodyStart, end: Math.min(bodyEnd, this.end) });
    }
  }
}

function parseInto(
  script: string,
  start: number,
  end: number,
  nested: boolean,
  out: ShellCommand[],
  counter: Counter,
): void {
  const drafts = new Tokeniser(script, start, end, counter).run();
  for (const draft of drafts) {
    const command = finishDraft(draft, nested);
    if (command !== null && command.words.length > 0) out.push(command);
    descend(script, draft, command, out, counter);
  }
}

/** Parses the scripts hidden inside `sh -c "…"` and `sh <<EOF` / bare `<<EOF` heredocs. */
function descend(
  script: string,
  draft: CommandDraft,
  command: ShellCommand | null,
  out: ShellCommand[],
  counter: Counter,
): void {
  const name = command === null ? "" : commandName(command);
  const isShell = command === null || command.words.length === 0 || SHELLS.has(name);
  if (!isShell) return;
  const words = command?.words ?? [];
  const dashC = words.findIndex((w, k) => k > 0 && /^-[a-z]*c[a-z]*$/.test(w.text));
  if (dashC !== -1 && words[dashC + 1] !== undefined) {
    const inner = words[dashC + 1];
    const innerCommands: ShellCommand[] = [];
    parseInto(inner.text, 0, inner.text.length, true, innerCommands, counter);
    for (const c of innerCommands) out.push(relocate(c, inner.start, inner.end));
    return;
  }
  const body = draft.heredocBodies[0];
  if (body === undefined || words.length > 1) return;
  const firstLine = script.slice(body.start, script.indexOf("\n", body.start));
  if (firstLine.startsWith("#!") && !/\b(sh|bash|dash|ash|zsh)\b/.test(firstLine)) return;
  parseInto(script, body.start, body.end, true, out, counter);
}

function relocate(command: ShellCommand, start: number, end: number): ShellCommand {
  const words = command.words.map((w) => ({ text: w.text, start, end }));
  return { ...command, words, start, end };
}

function finishDraft(draft: CommandDraft, nested: boolean): ShellCommand | null {
  let words = draft.words;
  const assignments: string[] = [];
  const wrappers: string[] = [];
  let k = 0;
  for (;;) {
    const w = words[k];
    if (w === undefined) break;
    if (!w.quoted && RESERVED_PREFIXES.has(w.text)) k += 1;
    else if (ASSIGNMENT.test(w.text)) {
      assignments.push(w.text);
      k += 1;
    } else if (WRAPPERS.has(basename(w.text)) && words.length > k + 1) {
      wrappers.push(basename(w.text));
      k += 1;
      while (words[k]?.text.startsWith("-")) {
        k += WRAPPER_OPTIONS_WITH_VALUE.has(words[k].text) ? 2 : 1;
      }
    } else break;
  }
  words = words.slice(k);
  if (words.length === 1 && RESERVED_ALONE.has(words[0].text)) words = [];
  if (words[0]?.text === "for" || words[0]?.text === "case") words = [];
  if (words.length === 0 && draft.heredocBodies.length === 0) return null;
  const first = draft.words[0];
  const last = draft.words[draft.words.length - 1];
  return {
    words: words.map((w) => ({ text: w.text, start: w.start, end: w.end })),
    name: basename(words[0]?.text ?? ""),
    args: words.slice(1).map((w) => w.text),
    wrappers,
    assignments,
    connector: draft.connector,
    pipeline: draft.pipeline,
    subshell: draft.subshell,
    nested,
    start: first?.start ?? draft.heredocBodies[0]?.start ?? 0,
    end: last?.end ?? draft.heredocBodies[0]?.end ?? 0,
  };
}

function basename(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash === -1 ? path : path.slice(slash + 1);
}
