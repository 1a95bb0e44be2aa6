// Shared vocabulary of the Dockerfile linter: severities, findings, options. Pure types and
// the severity ordering; nothing here reads files or prints.

export const SEVERITIES = ["error", "warning", "info", "style"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Rank for threshold comparisons: a lower number is more severe. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export function isSeverity(value: unknown): value is Severity {
  return typeof value === "string" && (SEVERITIES as readonly string[]).includes(value);
}

/** One problem found in a Dockerfile. Lines and columns are 1-based, end column exclusive. */
export interface Finding {
  readonly ruleId: string;
  readonly severity: Severity;
  readonly message: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}

/** The part of `.berth-lint.yaml` that changes what the linter reports. */
export interface LintConfig {
  /** Rule ids (berth `BL…` or hadolint `DL…`) never reported. */
  readonly ignore: readonly string[];
  /** Severity per rule id (berth or hadolint id). */
  readonly severity: Readonly<Record<string, Severity>>;
  /** Registries base images may come from; empty means any. */
  readonly trustedRegistries: readonly string[];
  /** Labels the final image must set. */
  readonly requiredLabels: readonly string[];
}

export const EMPTY_CONFIG: LintConfig = {
  ignore: [],
  severity: {},
  trustedRegistries: [],
  requiredLabels: [],
};

export interface LintOptions {
  readonly config?: LintConfig;
  /** `--build-arg` values: override ARG defaults when resolving variables. */
  readonly buildArgs?: Readonly<Record<string, string>>;
  /** Stage built with `--target`; defaults to the last stage. */
  readonly target?: string;
  /**
   * Facts about the build context, gathered by the caller (the core does no I/O). Absent
   * when no context was given: context rules are then not checked.
   */
  readonly context?: { readonly dockerignorePresent: boolean };
}
