// Here-documents in RUN, COPY and ADD, as BuildKit (Dockerfile 1.4+) reads them: each `<<NAME`,
// `<<-NAME` (leading tabs of the body removed) or `<<"NAME"`/`<<'NAME'` (quoted: no variable
// expansion) word of the instruction's first line takes the lines after it, in order, up to
// a line that is exactly NAME. What a heredoc means is the builder's business: RUN's lone
// heredoc is the script, COPY's are inline files. Pure: no I/O.
import { DockerfileError } from "./instructions.js";

export interface Heredoc {
  readonly name: string;
  /** Body with its trailing newline (`<<-`: leading tabs removed from each line). */
  readonly content: string;
  /** False when the name was quoted: the body is taken literally. */
  readonly expand: boolean;
  readonly chomp: boolean;
}

const WORD = /^<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_.-]*)\2$/;

/** The heredoc marker of a word, or null when the word is not one. */
export function heredocWord(
  word: string,
): { name: string; expand: boolean; chomp: boolean } | null {
  const m = WORD.exec(word);
  if (!m) return null;
  return { name: m[3] as string, expand: m[2] === "", chomp: m[1] === "-" };
}

/**
 * The heredocs of an instruction: `words` are its first line's words, `lines` the physical
 * lines after that line (the bodies, then possibly nothing else).
 */
export function parseHeredocs(words: readonly string[], lines: readonly string[]): Heredoc[] {
  const out: Heredoc[] = [];
  let at = 0;
  for (const word of words) {
    const marker = heredocWord(word);
    if (!marker) continue;
    const body: string[] = [];
    let closed = false;
    for (; at < lines.length; at++) {
      const raw = (lines[at] as string).replace(/\r$/, "");
      const line = marker.chomp ? raw.replace(/^\t+/, "") : raw;
      if (line === marker.name) {
        closed = true;
        at++;
        break;
      }
      body.push(line);
    }
    if (!closed)
      throw new DockerfileError(`heredoc <<${marker.name} has no closing ${marker.name} line`);
    out.push({ ...marker, content: body.map((l) => `${l}\n`).join("") });
  }
  return out;
}

/** The physical lines of an instruction after its first logical line (continuations joined). */
export function linesAfterFirst(lines: readonly string[], escapeChar: string): string[] {
  let i = 0;
  while (i < lines.length - 1 && (lines[i] as string).trimEnd().endsWith(escapeChar)) i++;
  return lines.slice(i + 1);
}
