// Connects `berth lint` to `berth analyze`: with --dockerfile, the Dockerfile is linted too and
// every lint finding is tied to the layer its instruction produced (with that layer's size),
// and every waste finding to the lint findings on the instruction that caused it. So "layer 4
// keeps 12 MB of /var/lib/apt/lists" comes with "BL2004: apt-get lists not cleaned up in the
// same RUN" at the same line, and a lint warning shows what it costs in this image. Pure.
import { docsUrl, type Finding as LintFinding, lintDockerfile } from "../lint/index.js";
import type { DockerfileLocation } from "./dockerfile-map.js";
import type { Finding } from "./findings.js";

/** A lint finding as analyze reports it. */
export interface LintNote {
  readonly ruleId: string;
  readonly severity: string;
  readonly message: string;
  readonly line: number;
  readonly column: number;
  /** The rule's documentation page (path in the Berth source tree). */
  readonly docs: string;
}

/** A lint finding of the analysed Dockerfile, with the layer its instruction produced. */
export interface LinkedLintFinding extends LintNote {
  /** The layer the instruction at this line produced, when the image has one. */
  readonly layer?: number;
  /** That layer's content bytes (dive's layer size). */
  readonly layerBytes?: number;
}

interface LayerLike {
  readonly index: number;
  readonly contentBytes: number;
  readonly dockerfile?: DockerfileLocation;
}

function note(f: LintFinding): LintNote {
  return {
    ruleId: f.ruleId,
    severity: f.severity,
    message: f.message,
    line: f.line,
    column: f.column,
    docs: docsUrl(f.ruleId),
  };
}

function within(line: number, loc: DockerfileLocation): boolean {
  return line >= loc.line && line <= loc.endLine;
}

/** Lints the Dockerfile; a Dockerfile the linter rejects yields no notes (analysis goes on). */
export function lintForAnalysis(text: string, target?: string): readonly LintFinding[] {
  try {
    return lintDockerfile(text, { target });
  } catch {
    return [];
  }
}

/** Every lint finding, with the layer (and its size) that its instruction produced. */
export function linkLintToLayers(
  lint: readonly LintFinding[],
  layers: readonly LayerLike[],
): LinkedLintFinding[] {
  return lint.map((f) => {
    const layer = layers.find((l) => l.dockerfile !== undefined && within(f.line, l.dockerfile));
    return layer === undefined
      ? note(f)
      : { ...note(f), layer: layer.index, layerBytes: layer.contentBytes };
  });
}

/** Lint findings on the instructions of one layer. */
export function lintOfLocation(
  lint: readonly LintFinding[],
  loc: DockerfileLocation | undefined,
): LintNote[] {
  if (loc === undefined) return [];
  return lint.filter((f) => within(f.line, loc)).map(note);
}

/** Each waste finding with the lint findings on the instruction that caused it. */
export function linkLintToFindings(
  findings: readonly Finding[],
  lint: readonly LintFinding[],
): Finding[] {
  return findings.map((f) => {
    const where = f.cause.dockerfile ?? (f.fromBase ? f.other?.dockerfile : undefined);
    const notes = lintOfLocation(lint, where);
    return notes.length > 0 ? { ...f, lint: notes } : f;
  });
}
