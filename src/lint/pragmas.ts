// Inline suppressions: `# berth-lint ignore=BL2004,DL3008` (or hadolint's own
// `# hadolint ignore=DL3008`) silences those rules for the next instruction;
// `# berth-lint global ignore=…` / `# hadolint global ignore=…` for the whole file. Pure.
import { resolveRuleId } from "./catalog.js";
import type { DockerfileModel } from "./model.js";
import type { Finding } from "./types.js";

const PRAGMA =
  /^\s*#\s*(?:berth-lint|hadolint)\s+(global\s+)?ignore\s*=\s*([A-Za-z0-9_,\s-]+?)\s*$/;

export interface Suppressions {
  readonly global: ReadonlySet<string>;
  /** Start line of an instruction → rule ids ignored for it. */
  readonly byInstruction: ReadonlyMap<number, ReadonlySet<string>>;
}

/** The file's pragmas; null when it has none (no line mentions "ignore"). */
export function collectSuppressions(model: DockerfileModel): Suppressions | null {
  if (!model.text.includes("ignore")) return null;
  const global = new Set<string>();
  const byInstruction = new Map<number, Set<string>>();
  const starts = model.instructions.map((i) => i.span.line);
  model.lines.forEach((line, index) => {
    if (!line.includes("ignore")) return;
    const m = PRAGMA.exec(line);
    if (m === null) return;
    const ids = m[2]
      .split(/[,\s]+/)
      .filter((s) => s !== "")
      .flatMap(resolveRuleId);
    if (m[1] !== undefined) {
      for (const id of ids) global.add(id);
      return;
    }
    const next = starts.find((s) => s > index + 1);
    if (next === undefined) return;
    const set = byInstruction.get(next) ?? new Set<string>();
    for (const id of ids) set.add(id);
    byInstruction.set(next, set);
  });
  return { global, byInstruction };
}

/** True when a pragma silences `finding`. */
export function suppressed(finding: Finding, model: DockerfileModel, s: Suppressions): boolean {
  if (s.global.has(finding.ruleId)) return true;
  const owner = model.instructions.find(
    (i) => i.span.line <= finding.line && finding.line <= i.span.endLine,
  );
  return (
    owner !== undefined && (s.byInstruction.get(owner.span.line)?.has(finding.ruleId) ?? false)
  );
}
