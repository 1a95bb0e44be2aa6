// Maps an image's history entries to the Dockerfile instructions that produced them, so a
// finding can say "Dockerfile line 12". The image's history ends with the final stage's
// instructions (everything before them is the base image's), so matching walks both lists
// backwards: each history entry takes the nearest earlier instruction with the same keyword
// (RUN text must also agree, after collapsing line continuations and whitespace). Entries
// left over at the front are the base image's. Parsing uses dockerfile-ast. Pure: takes the
// Dockerfile's text, never reads files.
import { DockerfileParser, type Instruction } from "dockerfile-ast";
import type { HistoryEntry } from "../oci/index.js";
import { collapse, parseCreatedBy } from "./history.js";

export interface DockerfileLocation {
  /** 1-based line of the instruction's keyword. */
  readonly line: number;
  /** 1-based line where the instruction (with its continuations) ends. */
  readonly endLine: number;
  readonly keyword: string;
  /** The instruction as written (first line), for messages. */
  readonly source: string;
}

/** Instructions that never leave a history entry. */
const NO_HISTORY = new Set(["FROM", "ARG"]);

interface Candidate {
  readonly keyword: string;
  readonly text: string;
  readonly location: DockerfileLocation;
}

/** Returns, for each history index that matched, where in the Dockerfile it came from. */
export function mapHistoryToDockerfile(
  history: readonly HistoryEntry[],
  dockerfileText: string,
  target?: string,
): Map<number, DockerfileLocation> {
  const candidates = finalStageInstructions(dockerfileText, target);
  const result = new Map<number, DockerfileLocation>();
  let next = candidates.length - 1;
  for (let h = history.length - 1; h >= 0 && next >= 0; h--) {
    const parsed = parseCreatedBy(history[h]?.created_by);
    if (!parsed) continue;
    const found = findBackwards(candidates, next, parsed.keyword, parsed.text);
    if (found === -1) continue;
    result.set(h, (candidates[found] as Candidate).location);
    next = found - 1;
  }
  return result;
}

function findBackwards(
  candidates: readonly Candidate[],
  from: number,
  keyword: string,
  text: string,
): number {
  for (let i = from; i >= 0; i--) {
    const candidate = candidates[i] as Candidate;
    if (candidate.keyword !== keyword) continue;
    if (keyword !== "RUN" || sameCommand(candidate.text, text)) return i;
  }
  return -1;
}

/** RUN text agrees when equal after collapsing, or equal once JSON/exec punctuation is gone. */
function sameCommand(fromDockerfile: string, fromHistory: string): boolean {
  if (fromDockerfile === fromHistory) return true;
  return loosen(fromDockerfile) === loosen(fromHistory);
}

function loosen(text: string): string {
  return collapse(text.replace(/[[\]",]/g, " "));
}

/** The instructions of the stage that became the image: `target`, else the last stage. */
function finalStageInstructions(dockerfileText: string, target?: string): Candidate[] {
  const dockerfile = DockerfileParser.parse(dockerfileText);
  const lines = dockerfileText.split(/\r?\n/);
  const instructions = dockerfile.getInstructions();
  const stageStarts = instructions
    .map((instruction, index) => ({ instruction, index }))
    .filter(({ instruction }) => instruction.getKeyword() === "FROM");
  let start = 0;
  let end = instructions.length;
  if (stageStarts.length > 0) {
    let stage = stageStarts.length - 1;
    if (target) {
      const named = stageStarts.findIndex(({ instruction }) => stageName(instruction) === target);
      if (named !== -1) stage = named;
    }
    start = (stageStarts[stage] as { index: number }).index + 1;
    end =
      stage + 1 < stageStarts.length ? (stageStarts[stage + 1] as { index: number }).index : end;
  }
  return instructions
    .slice(start, end)
    .filter((instruction) => !NO_HISTORY.has(instruction.getKeyword().toUpperCase()))
    .map((instruction) => toCandidate(instruction, lines));
}

function stageName(from: Instruction): string | undefined {
  const args = from.getArguments().map((a) => a.getValue());
  const as = args.findIndex((a) => a.toLowerCase() === "as");
  return as !== -1 ? args[as + 1] : undefined;
}

function toCandidate(instruction: Instruction, lines: readonly string[]): Candidate {
  const keyword = instruction.getKeyword().toUpperCase();
  const range = instruction.getRange();
  const text = collapse(
    instruction
      .getArguments()
      .map((a) => a.getValue())
      .join(" "),
  );
  const firstLine = (lines[range.start.line] ?? "").trim();
  return {
    keyword,
    text,
    location: {
      line: range.start.line + 1,
      endLine: range.end.line + 1,
      keyword,
      source: firstLine,
    },
  };
}
