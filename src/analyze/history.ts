// Reads the instruction out of each history entry's `created_by`, which each builder writes
// differently (classic docker `/bin/sh -c #(nop) …`, buildkit `RUN … # buildkit`, buildah
// `|2 A=1 B=2 /bin/sh -c …`); this module turns all of them into a keyword and text. Which
// history entry made which layer is `alignHistory` in src/oci/history.ts, shared with
// `berth inspect` and the scanner. Pure: no I/O.

/** An instruction as recovered from `created_by`. */
export interface HistoryInstruction {
  /** Upper-case Dockerfile keyword: RUN, COPY, ADD, ENV, … */
  readonly keyword: string;
  /** The instruction's arguments, whitespace collapsed. */
  readonly text: string;
}

const NOP_MARKER = "#(nop)";
const SHELL_PREFIXES = ["/bin/sh -c ", "/bin/bash -c ", "/bin/sh -o pipefail -c "];

export function parseCreatedBy(createdBy: string | undefined): HistoryInstruction | undefined {
  if (!createdBy) return undefined;
  let text = createdBy.trim().replace(/\s+# buildkit$/, "");
  const nop = text.indexOf(NOP_MARKER);
  if (nop !== -1) return splitKeyword(text.slice(nop + NOP_MARKER.length));
  const keywordMatch = /^([A-Z]+)\s+/.exec(text);
  if (keywordMatch && keywordMatch[1] !== "RUN") return splitKeyword(text);
  if (keywordMatch) text = text.slice(keywordMatch[0].length);
  text = stripBuildArgs(text);
  for (const prefix of SHELL_PREFIXES) {
    if (text.startsWith(prefix)) {
      text = text.slice(prefix.length);
      break;
    }
  }
  if (!keywordMatch && text === createdBy.trim()) {
    // A bare word that is not a shell command: buildah writes e.g. `WORKDIR /app` unmarked.
    const bare = /^([A-Z]+)(\s|$)/.exec(text);
    if (bare) return splitKeyword(text);
  }
  return { keyword: "RUN", text: collapse(text) };
}

/** `|2 A=1 B=2 /bin/sh -c …`: the classic builder's record of build args in effect. */
function stripBuildArgs(text: string): string {
  const match = /^\|(\d+)\s+/.exec(text);
  if (!match) return text;
  let rest = text.slice(match[0].length);
  const count = Number(match[1]);
  for (let i = 0; i < count; i++) {
    const next = /^\S+\s*/.exec(rest);
    if (!next) break;
    rest = rest.slice(next[0].length);
  }
  return rest;
}

function splitKeyword(text: string): HistoryInstruction {
  const trimmed = text.trim();
  const space = trimmed.search(/\s/);
  const keyword = (space === -1 ? trimmed : trimmed.slice(0, space)).toUpperCase();
  const rest = space === -1 ? "" : trimmed.slice(space + 1);
  return { keyword, text: collapse(rest) };
}

export function collapse(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** A short form of `created_by` for tables: the instruction, cut at `width` characters. */
export function displayCommand(createdBy: string | undefined, width = 80): string {
  const instruction = parseCreatedBy(createdBy);
  if (!instruction) return "(no history)";
  const full = instruction.text
    ? `${instruction.keyword} ${instruction.text}`
    : instruction.keyword;
  return full.length > width ? `${full.slice(0, width - 1)}…` : full;
}
