// Docker's word processing (BuildKit's frontend/dockerfile/shell lexer, ProcessWord) applied
// to the raw text of an instruction argument: single quotes are literal, double quotes keep
// `$` expansion and let the escape character escape only `"`, `$` and itself, the escape
// character outside quotes takes the next character literally, `$NAME`, `${NAME}` and the
// `${NAME:-w}`, `-`, `:+`, `+`, `:?`, `?`, `#`, `##`, `%`, `%%`, `/`, `//` modifiers, unset
// variables expand to nothing. The builder applies it to ENV, ARG and LABEL values exactly
// as BuildKit does. Pure; never reads the process environment.
import { DockerfileError } from "./instructions.js";

export type WordScope = ReadonlyMap<string, string | undefined>;

const SPECIAL_PARAMS = new Set(["@", "*", "#", "?", "-", "$", "!", "0"]);

class Lexer {
  private i = 0;
  constructor(
    private readonly text: string,
    private readonly scope: WordScope,
    private readonly escapeChar: string,
  ) {}

  private peek(): string | undefined {
    return this.text[this.i];
  }

  private next(): string | undefined {
    const c = this.text[this.i];
    if (c !== undefined) this.i += 1;
    return c;
  }

  private get(name: string): { value: string; set: boolean } {
    const v = this.scope.get(name);
    return v === undefined ? { value: "", set: false } : { value: v, set: true };
  }

  /** Processes until `stop` (consumed) or the end; `raw` keeps escapes (for patterns). */
  word(stop?: string, raw = false): string {
    let out = "";
    while (this.peek() !== undefined) {
      const c = this.peek() as string;
      if (stop !== undefined && c === stop) {
        this.next();
        return out;
      }
      if (c === "'") out += this.singleQuoted();
      else if (c === '"') out += this.doubleQuoted();
      else if (c === "$") out += this.dollar();
      else {
        this.next();
        if (c === this.escapeChar) {
          const escaped = this.next();
          if (escaped === undefined) break;
          out += raw ? c + escaped : escaped;
        } else out += c;
      }
    }
    if (stop !== undefined) {
      throw new DockerfileError(`unexpected end of statement while looking for matching ${stop}`);
    }
    return out;
  }

  private singleQuoted(): string {
    this.next();
    const close = this.text.indexOf("'", this.i);
    if (close === -1) {
      throw new DockerfileError(
        "unexpected end of statement while looking for matching single-quote",
      );
    }
    const out = this.text.slice(this.i, close);
    this.i = close + 1;
    return out;
  }

  private doubleQuoted(): string {
    this.next();
    let out = "";
    for (;;) {
      const c = this.peek();
      if (c === undefined) {
        throw new DockerfileError(
          "unexpected end of statement while looking for matching double-quote",
        );
      }
      if (c === '"') {
        this.next();
        return out;
      }
      if (c === "$") {
        out += this.dollar();
        continue;
      }
      this.next();
      if (c === this.escapeChar) {
        const after = this.peek();
        if (after === undefined) continue;
        if (after === '"' || after === "$" || after === this.escapeChar) {
          out += this.next();
          continue;
        }
      }
      out += c;
    }
  }

  private name(): string {
    const first = this.peek();
    if (first === undefined) return "";
    if (/[0-9]/.test(first)) {
      let digits = "";
      while (/[0-9]/.test(this.peek() ?? "")) digits += this.next();
      return digits;
    }
    if (SPECIAL_PARAMS.has(first)) return this.next() as string;
    let name = "";
    while (/[\p{L}\p{N}_]/u.test(this.peek() ?? "")) name += this.next();
    return name;
  }

  private dollar(): string {
    this.next();
    if (this.peek() !== "{") {
      const name = this.name();
      return name === "" ? "$" : this.get(name).value;
    }
    this.next();
    const first = this.peek();
    if (first === undefined) throw new DockerfileError("syntax error: missing '}'");
    if (first === "{" || first === "}" || first === ":") {
      throw new DockerfileError("syntax error: bad substitution");
    }
    const name = this.name();
    const op = this.next();
    if (op === "}") return this.get(name).value;
    if (op === "/") return this.replace(name);
    let modifier = op ?? "";
    const nullIsUnset = op === ":";
    if (nullIsUnset) modifier += this.next() ?? "";
    const kind = modifier[modifier.length - 1] ?? "";
    if (
      !["-", "+", "?", "#", "%"].includes(kind) ||
      (nullIsUnset && (kind === "#" || kind === "%"))
    ) {
      throw new DockerfileError(`unsupported modifier (${modifier}) in substitution`);
    }
    const { value, set } = this.get(name);
    const empty = !set || (nullIsUnset && value === "");
    if (kind === "#" || kind === "%") return this.trim(value, kind);
    const word = this.word("}");
    if (kind === "-") return empty ? word : value;
    if (kind === "+") return empty ? "" : word;
    if (empty) {
      const why = word || (set ? "is not allowed to be empty" : "is not allowed to be unset");
      throw new DockerfileError(`${name}: ${why}`);
    }
    return value;
  }

  private trim(value: string, kind: string): string {
    const longest = this.peek() === kind;
    if (longest) this.next();
    const pattern = globRegex(this.word("}", true), this.escapeChar);
    const lengths = [...Array(value.length + 1).keys()];
    if (longest) lengths.reverse();
    for (const n of lengths) {
      const piece = kind === "#" ? value.slice(0, n) : value.slice(value.length - n);
      if (pattern.test(piece))
        return kind === "#" ? value.slice(n) : value.slice(0, value.length - n);
    }
    return value;
  }

  private replace(name: string): string {
    const all = this.peek() === "/";
    if (all) this.next();
    const pattern = this.word("/", true);
    const replacement = this.word("}");
    const { value } = this.get(name);
    const re = new RegExp(globRegex(pattern, this.escapeChar).source.slice(1, -1), all ? "g" : "");
    return value.replace(re, () => replacement);
  }
}

/** A shell glob (`*`, `?`, escapes) as an anchored regular expression. */
function globRegex(glob: string, escapeChar: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i += 1) {
    const c = glob[i] as string;
    if (c === escapeChar && i + 1 < glob.length) source += escapeRegex(glob[++i] as string);
    else if (c === "*") source += "[\\s\\S]*";
    else if (c === "?") source += "[\\s\\S]";
    else source += escapeRegex(c);
  }
  return new RegExp(`^${source}$`);
}

function escapeRegex(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** One argument processed as BuildKit's ProcessWord does (quotes removed, variables expanded). */
export function processWord(raw: string, scope: WordScope, escapeChar = "\\"): string {
  return new Lexer(raw, scope, escapeChar).word();
}
