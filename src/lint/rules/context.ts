// What a lint check sees (the model, the options, the target stage) and how it reports.
// Checks are pure functions of this context; they never read files.
import type { DockerfileModel, InstructionInfo, Span } from "../model.js";
import type { LintConfig } from "../types.js";

export interface RuleContext {
  readonly model: DockerfileModel;
  readonly config: LintConfig;
  /** Index of the stage being built (`--target`, else the last). */
  readonly target: number;
  /** Stages whose layers end up in the target image (the target and its parents). */
  readonly imageStages: ReadonlySet<number>;
  readonly context?: { readonly dockerignorePresent: boolean };
  /** Instructions of the image chain, parents first (what the target image is made of). */
  readonly imageInstructions: readonly InstructionInfo[];
  report(ruleId: string, span: Span, message: string): void;
}

export type Check = (ctx: RuleContext) => void;

/** Instructions of the given stages, in file order. */
export function instructionsOf(
  model: DockerfileModel,
  stages: ReadonlySet<number>,
): InstructionInfo[] {
  const order = [...stages].sort((a, b) => a - b);
  return order.flatMap((i) => model.stages[i].instructions);
}

/** A short quotation of an instruction's first line for messages. */
export function excerpt(text: string, max = 60): string {
  const line = text.split("\n", 1)[0].trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
