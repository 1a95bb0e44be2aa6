// The Dockerfile linter's pure core: `lintDockerfile(text, options)` parses a Dockerfile,
// runs every rule, applies configuration (ignores, severity overrides) and inline pragmas,
// and returns findings sorted by position. `prepareLint` does the same in two steps so that
// ShellCheck's comments (from the I/O shell, src/lint/shellcheck-runner.ts) on the RUN
// scripts it hands out go through the same ignores, severities and pragmas. No I/O: the CLI
// (src/cli/lint.ts) reads files, finds config, runs shellcheck and formats the result.
import { ruleById } from "./catalog.js";
import { buildModel, imageChain } from "./model.js";
import { collectSuppressions, suppressed } from "./pragmas.js";
import { type Check, instructionsOf, type RuleContext } from "./rules/context.js";
import { instructionChecks } from "./rules/instructions.js";
import { packageChecks } from "./rules/packages.js";
import { secretChecks } from "./rules/secrets.js";
import { shellUsageChecks } from "./rules/shell-usage.js";
import { stageChecks } from "./rules/stages.js";
import {
  findingsOf,
  type ShellCheckComment,
  type ShellCheckJob,
  shellCheckJobs,
} from "./shellcheck.js";
import {
  EMPTY_CONFIG,
  type Finding,
  type LintOptions,
  type Severity,
  severityRank,
} from "./types.js";

export {
  DOCS_PATH,
  docsUrl,
  isDocsBaseUrl,
  RULES,
  type RuleMeta,
  resolveRuleId,
  ruleById,
} from "./catalog.js";
export { CONFIG_FILE_NAME, LintConfigError, type LoadedConfig, parseLintConfig } from "./config.js";
export * from "./types.js";

const CHECKS: readonly Check[] = [
  ...stageChecks,
  ...packageChecks,
  ...shellUsageChecks,
  ...instructionChecks,
  ...secretChecks,
];

export class LintTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LintTargetError";
  }
}

/** Lints one Dockerfile. Throws LintTargetError when `options.target` names no stage. */
export function lintDockerfile(text: string, options: LintOptions = {}): Finding[] {
  return prepareLint(text, options).findings();
}

/** A parsed Dockerfile whose findings may include ShellCheck's comments on its RUNs. */
export interface PreparedLint {
  /** The shell-form RUNs ShellCheck should check, with the script to give it for each. */
  shellCheckJobs(): readonly ShellCheckJob[];
  /**
   * Every finding: the rules', plus ShellCheck's when `shellcheck[i]` holds its comments on
   * `shellCheckJobs()[i]`, all through the same configuration and pragmas.
   */
  findings(shellcheck?: readonly (readonly ShellCheckComment[])[]): Finding[];
}

/** Parses one Dockerfile. Throws LintTargetError when `options.target` names no stage. */
export function prepareLint(text: string, options: LintOptions = {}): PreparedLint {
  const config = options.config ?? EMPTY_CONFIG;
  const model = buildModel(text, options.buildArgs ?? {});
  let target = model.stages.length - 1;
  if (options.target !== undefined) {
    target = model.stages.findIndex((s) => s.name === options.target?.toLowerCase());
    if (target === -1) throw new LintTargetError(`target stage "${options.target}" is not defined`);
  }
  const findings: Finding[] = [];
  const ignored = new Set(config.ignore);
  const imageStages = new Set(target < 0 ? [] : imageChain(model, target));
  const ctx: RuleContext = {
    model,
    config,
    target,
    imageStages,
    imageInstructions: instructionsOf(model, imageStages),
    context: options.context,
    report(ruleId, span, message) {
      if (ignored.has(ruleId)) return;
      const meta = ruleById(ruleId);
      if (meta === undefined) throw new Error(`rule ${ruleId} is not in the catalogue`);
      const severity: Severity = config.severity[ruleId] ?? meta.severity;
      const { line, column, endLine, endColumn } = span;
      findings.push({ ruleId, severity, message, line, column, endLine, endColumn });
    },
  };
  let jobs: ShellCheckJob[] | undefined;
  let checked = false;
  return {
    shellCheckJobs() {
      jobs ??= shellCheckJobs(model);
      return jobs;
    },
    findings(shellcheck) {
      if (!checked) {
        for (const check of CHECKS) check(ctx);
        checked = true;
      }
      const all = [...findings];
      if (shellcheck !== undefined) {
        const list = this.shellCheckJobs();
        list.forEach((job, i) => {
          for (const f of findingsOf(job, shellcheck[i] ?? [])) {
            if (ignored.has(f.ruleId)) continue;
            all.push({ ...f, severity: config.severity[f.ruleId] ?? f.severity });
          }
        });
      }
      const suppressions = collectSuppressions(model);
      const kept =
        suppressions === null ? all : all.filter((f) => !suppressed(f, model, suppressions));
      return kept.sort(byPosition);
    },
  };
}

/**
 * File order, then rule id. Rule ids are `BL` or `SC` and four digits, so comparing code units
 * orders them exactly as localeCompare did, without a collator.
 */
function byPosition(a: Finding, b: Finding): number {
  return (
    a.line - b.line ||
    a.column - b.column ||
    (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0)
  );
}

/** True when some finding is at or above `threshold` (error > warning > info > style). */
export function exceedsThreshold(findings: readonly Finding[], threshold: Severity): boolean {
  return findings.some((f) => severityRank(f.severity) <= severityRank(threshold));
}
