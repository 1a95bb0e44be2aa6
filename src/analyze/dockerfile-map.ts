// Maps an image's history entries to the Dockerfile instructions that produced them, so a
// finding can say "Dockerfile line 12". The image's history ends with the final stage's
// instructions (everything before them is the base image's), so matching walks both lists
// backwards: each history entry takes the nearest earlier instruction with the same keyword
// (RUN text must also agree, after collapsing line continuations and whitespace). Entries
// left over at the front are the base image's. A final stage built FROM an earlier stage
// inherits that stage's instructions (and history), so they are matched too. Parsing uses
// dockerfile-ast. Pure: takes the Dockerfile's text, never reads files.
import { DockerfileParser, From, type Instruction } from "dockerfile-ast";
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

interface Stage {
  /** `AS name`, lower case (Docker's stage names are case-insensitive). */
  readonly name?: string;
  /** The FROM image, lower case: an earlier stage's name when the stage builds on it. */
  readonly base?: string;
  readonly body: Instruction[];
}

/**
 * The instructions of the image's stages: `target` (else the last stage) preceded by the
 * stages it builds on (`FROM build AS final` starts from stage `build`'s filesystem and
 * history), so their RUNs are the Dockerfile's too, not the base image's.
 */
function finalStageInstructions(dockerfileText: string, target?: string): Candidate[] {
  const lines = dockerfileText.split(/\r?\n/);
  const instructions = DockerfileParser.parse(dockerfileText).getInstructions();
  const stages = splitStages(instructions);
  const chosen =
    stages.length === 0
      ? [{ body: instructions }]
      : stageChain(stages, target ? stages.findIndex((s) => s.name === target.toLowerCase()) : -1);
  return chosen
    .flatMap((stage) => stage.body)
    .filter((instruction) => !NO_HISTORY.has(instruction.getKeyword().toUpperCase()))
    .map((instruction) => toCandidate(instruction, lines));
}

function splitStages(instructions: readonly Instruction[]): Stage[] {
  const stages: { name?: string; base?: string; body: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction instanceof From) {
      const name = instruction.getBuildStage()?.toLowerCase();
      const base = instruction.getImageName()?.toLowerCase();
      stages.push({ name, base, body: [] });
    } else {
      stages[stages.length - 1]?.body.push(instruction);
    }
  }
  return stages;
}

/** Stage `index` (the last when -1) and the earlier stages it builds on, first first. */
function stageChain(stages: readonly Stage[], index: number): Stage[] {
  const chain: Stage[] = [];
  let current = index === -1 ? stages.length - 1 : index;
  while (current !== -1) {
    const stage = stages[current] as Stage;
    chain.unshift(stage);
    const base = stage.base;
    current = base === undefined ? -1 : findLastIndexBefore(stages, current, base);
  }
  return chain;
}

function findLastIndexBefore(stages: readonly Stage[], before: number, name: string): number {
  for (let i = before - 1; i >= 0; i--) if (stages[i]?.name === name) return i;
  return -1;
}

/** The names of the Dockerfile's stages (`FROM … AS name`), lower case as Docker treats them. */
export function stageNames(dockerfileText: string): string[] {
  return splitStages(DockerfileParser.parse(dockerfileText).getInstructions())
    .map((stage) => stage.name)
    .filter((name): name is string => name !== undefined);
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
