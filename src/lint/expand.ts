// Docker's build-time variable substitution ($VAR, ${VAR}, ${VAR:-word}, ${VAR:+word},
// ${VAR-word}, ${VAR+word}, `\$` escapes) applied to instruction arguments, so rules see
// `FROM ${BASE}` as the image it names. Pure. Never guesses: a reference to a variable
// with no known value marks the result unresolved, and rules skip what they cannot know.

export interface Expansion {
  readonly value: string;
  /** True when some variable had no known value (the result is then only partial). */
  readonly unresolved: boolean;
}

export type Scope = ReadonlyMap<string, string | undefined>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Expands variables in `text` using `scope`; `escapeChar` is the Dockerfile escapeChar character. */
export function expand(text: string, scope: Scope, escapeChar = "\\"): Expansion {
  if (!text.includes("$")) return { value: text, unresolved: false };
  let value = "";
  let unresolved = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === escapeChar && text[i + 1] === "$") {
      value += "$";
      i += 2;
    } else if (c === "$" && text[i + 1] === "{") {
      const close = text.indexOf("}", i + 2);
      if (close === -1) {
        value += text.slice(i);
        break;
      }
      const part = braced(text.slice(i + 2, close), scope, escapeChar);
      value += part.value;
      unresolved ||= part.unresolved;
      i = close + 1;
    } else if (c === "$" && NAME.test(text.slice(i + 1))) {
      const name = NAME.exec(text.slice(i + 1))![0];
      const known = scope.get(name);
      if (known === undefined) unresolved = true;
      else value += known;
      i += 1 + name.length;
    } else {
      value += c;
      i += 1;
    }
  }
  return { value, unresolved };
}

function braced(inner: string, scope: Scope, escapeChar: string): Expansion {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])(.*))?$/s.exec(inner);
  if (m === null) return { value: "", unresolved: true };
  const [, name, operator, word = ""] = m;
  const known = scope.get(name);
  const isSet = scope.has(name) && known !== undefined;
  const nonEmpty = isSet && known !== "";
  switch (operator) {
    case ":-":
      return nonEmpty ? { value: known, unresolved: false } : expand(word, scope, escapeChar);
    case "-":
      return isSet ? { value: known, unresolved: false } : expand(word, scope, escapeChar);
    case ":+":
      return nonEmpty ? expand(word, scope, escapeChar) : { value: "", unresolved: !isSet };
    case "+":
      return isSet ? expand(word, scope, escapeChar) : { value: "", unresolved: !scope.has(name) };
    default:
      return isSet ? { value: known, unresolved: false } : { value: "", unresolved: true };
  }
}
