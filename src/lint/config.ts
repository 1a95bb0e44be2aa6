// `.berth-lint.yaml`: parses and validates the linter's configuration from text (the CLI reads
// the file). Accepts berth's keys and hadolint's (.hadolint.yaml) spellings, and hadolint
// rule ids wherever rule ids appear. Pure: no I/O; errors name the bad key. The YAML parser
// is loaded on first use: most lint runs have no config file and should not pay for it.
import { createRequire } from "node:module";
import { resolveRuleId } from "./catalog.js";
import { isSeverity, type LintConfig, SEVERITIES, type Severity } from "./types.js";

export const CONFIG_FILE_NAME = ".berth-lint.yaml";

type YamlParse = typeof import("yaml").parse;
let yamlParse: YamlParse | undefined;

function parseYaml(text: string): unknown {
  yamlParse ??= (createRequire(import.meta.url)("yaml") as typeof import("yaml")).parse;
  return yamlParse(text);
}

export interface LoadedConfig extends LintConfig {
  /** `failureThreshold` from the file, if set (the CLI flag wins). */
  readonly failureThreshold?: Severity;
  /** `shellcheck: false` turns ShellCheck off for the Dockerfiles this file configures. */
  readonly shellcheck?: boolean;
}

export class LintConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LintConfigError";
  }
}

/** Keys hadolint understands that change nothing here; accepted so one file serves both. */
const IGNORED_HADOLINT_KEYS = new Set([
  "strict-labels",
  "no-color",
  "no-fail",
  "format",
  "disable-ignore-pragma",
]);
const KNOWN_KEYS = new Set([
  "ignore",
  "ignored",
  "severity",
  "override",
  "trustedRegistries",
  "requiredLabels",
  "label-schema",
  "failureThreshold",
  "failure-threshold",
  "shellcheck",
]);

function stringList(value: unknown, key: string): string[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new LintConfigError(`config key "${key}" must be a list of strings`);
  }
  return value;
}

/**
 * Rule ids for a configured id (berth, ShellCheck `SC…`, or hadolint's, which map to berth's);
 * unknown BL ids are errors, unmatched DL ids do nothing.
 */
function ruleIds(id: string, key: string): string[] {
  const ids = resolveRuleId(id);
  if (ids.length === 0 && !/^DL\d{4}$/i.test(id.trim())) {
    throw new LintConfigError(`config key "${key}" names unknown rule "${id}"`);
  }
  return ids;
}

function severityOf(value: unknown, key: string): Severity {
  if (!isSeverity(value)) {
    throw new LintConfigError(`config key "${key}" must be one of ${SEVERITIES.join(", ")}`);
  }
  return value;
}

function record(value: unknown, key: string): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new LintConfigError(`config key "${key}" must be a mapping`);
  }
  return value as Record<string, unknown>;
}

/** Parses `.berth-lint.yaml` text. Throws LintConfigError naming the offending key. */
export function parseLintConfig(text: string): LoadedConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new LintConfigError(
      `config is not valid YAML: ${err instanceof Error ? err.message.split("\n", 1)[0] : String(err)}`,
    );
  }
  const root = record(doc, "(top level)");
  for (const key of Object.keys(root)) {
    if (!KNOWN_KEYS.has(key) && !IGNORED_HADOLINT_KEYS.has(key)) {
      throw new LintConfigError(`unknown config key "${key}"`);
    }
  }
  const ignore = [
    ...stringList(root.ignore, "ignore"),
    ...stringList(root.ignored, "ignored"),
  ].flatMap((id) => ruleIds(id, "ignore"));
  const severity: Record<string, Severity> = {};
  const override = record(root.override, "override");
  for (const [level, ids] of Object.entries(override)) {
    const sev = severityOf(level, `override.${level}`);
    for (const id of stringList(ids, `override.${level}`)) {
      for (const ruleId of ruleIds(id, `override.${level}`)) severity[ruleId] = sev;
    }
  }
  for (const [id, level] of Object.entries(record(root.severity, "severity"))) {
    const sev = severityOf(level, `severity.${id}`);
    for (const ruleId of ruleIds(id, `severity.${id}`)) severity[ruleId] = sev;
  }
  const labelSchema = Object.keys(record(root["label-schema"], "label-schema"));
  const thresholdValue = root.failureThreshold ?? root["failure-threshold"];
  if (root.shellcheck !== undefined && typeof root.shellcheck !== "boolean") {
    throw new LintConfigError('config key "shellcheck" must be true or false');
  }
  return {
    ignore,
    severity,
    trustedRegistries: stringList(root.trustedRegistries, "trustedRegistries"),
    requiredLabels: [...stringList(root.requiredLabels, "requiredLabels"), ...labelSchema],
    failureThreshold:
      thresholdValue === undefined ? undefined : severityOf(thresholdValue, "failureThreshold"),
    ...(root.shellcheck === undefined ? {} : { shellcheck: root.shellcheck }),
  };
}
