// The rule catalogue: every lint rule's stable id, default severity, one-line summary and the
// hadolint rules it corresponds to. Ids never change meaning once published: BL1xxx base
// images and stages, BL2xxx RUN commands (package managers, shell usage), BL3xxx other
// instructions and image configuration, BL4xxx secrets. A rule that is hadolint's rule
// exactly (its condition, message and severity word for word) carries hadolint's own id
// (DL3027, DL3047), so what hadolint users type in `--ignore`, pragmas and config is what
// Berth reports; the other BL rules only correspond to hadolint rules (different scope or
// wording). An id a rule was published under before is kept as an alias (`formerIds`) and
// still accepted wherever ids are. Pure data.
import type { Severity } from "./types.js";

export interface RuleMeta {
  readonly id: string;
  readonly name: string;
  readonly severity: Severity;
  readonly summary: string;
  /** hadolint ids that mean the same (accepted in config and `# hadolint ignore=`). */
  readonly hadolint: readonly string[];
  /** Ids this rule was published under before (accepted as aliases, never reported). */
  readonly formerIds: readonly string[];
}

/** Where each rule's page lives, relative to the root of the Berth source tree. */
export const DOCS_PATH = "docs/lint/";

export const RULES: readonly RuleMeta[] = [
  rule("BL1001", "base-image-latest", "warning", "Base image is untagged or uses :latest", [
    "DL3006",
    "DL3007",
  ]),
  rule("BL1002", "base-image-digest", "info", "Base image is not pinned by digest", []),
  rule("BL1003", "untrusted-registry", "warning", "Base image comes from an untrusted registry", [
    "DL3026",
  ]),
  rule("BL1004", "duplicate-stage-name", "error", "Two build stages have the same name", [
    "DL3024",
  ]),
  rule("BL1005", "unused-stage", "info", "Build stage is never used by the target", []),
  rule(
    "BL1006",
    "copy-from-unknown-stage",
    "error",
    "COPY --from names an unknown or later stage",
    ["DL3022", "DL3023"],
  ),
  rule("BL1007", "buildplatform-final-stage", "warning", "Final stage runs on $BUILDPLATFORM", []),
  rule("BL1008", "platform-hardcoded", "info", "FROM --platform is hard-coded", ["DL3029"]),
  rule("BL1009", "required-label-missing", "warning", "A required label is missing", ["DL3049"]),
  rule(
    "BL1010",
    "missing-from",
    "error",
    "No FROM, or an instruction other than ARG before it",
    [],
  ),
  rule("BL2001", "apt-get-update-alone", "warning", "apt-get update in a RUN without install", []),
  rule("BL2002", "apt-get-install-yes", "warning", "apt-get install without -y", ["DL3014"]),
  rule(
    "BL2003",
    "apt-get-install-recommends",
    "info",
    "apt-get install without --no-install-recommends",
    ["DL3015"],
  ),
  rule("BL2004", "apt-get-install-unpinned", "info", "apt-get install without version pins", [
    "DL3008",
  ]),
  rule("BL2005", "apt-lists-not-removed", "warning", "apt lists not removed in the same RUN", [
    "DL3009",
  ]),
  rule("BL2006", "apk-add-cache", "warning", "apk add without --no-cache", ["DL3019"]),
  rule("BL2007", "apk-add-unpinned", "info", "apk add without version pins", ["DL3018"]),
  rule("BL2008", "pip-install-cache", "warning", "pip install without --no-cache-dir", ["DL3042"]),
  rule("BL2009", "pip-install-unpinned", "info", "pip install without version pins", ["DL3013"]),
  rule("BL2010", "npm-install-use-ci", "warning", "npm install where npm ci fits", []),
  rule("BL2011", "npm-install-unpinned", "info", "npm install of a package without a version", [
    "DL3016",
  ]),
  rule(
    "BL2012",
    "yum-dnf-no-clean",
    "warning",
    "yum/dnf install without clean all in the same RUN",
    ["DL3032", "DL3040"],
  ),
  rule("BL2013", "yum-dnf-no-yes", "warning", "yum/dnf install without -y", ["DL3030", "DL3038"]),
  rule("BL2014", "pipe-without-pipefail", "warning", "Pipe in RUN without pipefail", ["DL4006"]),
  rule("BL2015", "sudo", "warning", "sudo in RUN", ["DL3004"]),
  rule("BL2016", "run-cd", "warning", "cd in RUN instead of WORKDIR", ["DL3003"]),
  rule("BL2017", "merge-consecutive-runs", "info", "Consecutive RUN instructions could be merged", [
    "DL3059",
  ]),
  rule(
    "DL3027",
    "apt-not-apt-get",
    "warning",
    "apt used instead of apt-get or apt-cache",
    ["DL3027"],
    ["BL2018"],
  ),
  rule(
    "DL3047",
    "wget-no-progress",
    "warning",
    "wget without --progress or a quieter log",
    ["DL3047"],
    ["BL2019"],
  ),
  rule("BL3001", "add-local-file", "warning", "ADD of a local file; use COPY", ["DL3020"]),
  rule("BL3002", "add-url", "warning", "ADD of a URL without --checksum", []),
  rule(
    "BL3003",
    "copy-context-before-install",
    "warning",
    "Whole context copied before dependencies are installed",
    [],
  ),
  rule("BL3004", "user-root", "warning", "Last USER is root", ["DL3002"]),
  rule("BL3005", "user-missing", "info", "Final image sets no USER", []),
  rule("BL3006", "workdir-relative", "warning", "WORKDIR is a relative path", ["DL3000"]),
  rule("BL3007", "shell-form-cmd", "warning", "CMD/ENTRYPOINT in shell form", ["DL3025"]),
  rule("BL3008", "multiple-cmd", "warning", "More than one CMD in a stage", ["DL4003"]),
  rule("BL3009", "multiple-entrypoint", "error", "More than one ENTRYPOINT in a stage", ["DL4004"]),
  rule("BL3010", "multiple-healthcheck", "error", "More than one HEALTHCHECK in a stage", [
    "DL3012",
  ]),
  rule("BL3011", "maintainer", "warning", "MAINTAINER is deprecated", ["DL4000"]),
  rule("BL3012", "expose-invalid-port", "error", "EXPOSE with an invalid port", ["DL3011"]),
  rule("BL3013", "healthcheck-missing", "info", "Final stage has no HEALTHCHECK", ["DL3057"]),
  rule("BL3014", "dockerignore-missing", "warning", "Build context has no .dockerignore", []),
  rule("BL3015", "unknown-instruction", "error", "Unknown instruction", []),
  rule("BL4001", "secret-name", "warning", "ENV/ARG name suggests a secret", []),
  rule("BL4002", "secret-value", "error", "ENV/ARG value looks like a credential", []),
];

function rule(
  id: string,
  name: string,
  severity: Severity,
  summary: string,
  hadolint: string[],
  formerIds: string[] = [],
): RuleMeta {
  return { id, name, severity, summary, hadolint, formerIds };
}

const BY_ID = new Map(RULES.map((r) => [r.id, r]));
const BY_HADOLINT = new Map<string, string[]>();
for (const r of RULES) {
  for (const h of r.hadolint) BY_HADOLINT.set(h, [...(BY_HADOLINT.get(h) ?? []), r.id]);
}
const BY_FORMER_ID = new Map(RULES.flatMap((r) => r.formerIds.map((old) => [old, r.id] as const)));

/** ShellCheck's ids (`SC2086`): reported as ShellCheck names them, not in the catalogue. */
export function isShellCheckId(id: string): boolean {
  return /^SC\d{4}$/.test(id);
}

export function ruleById(id: string): RuleMeta | undefined {
  return BY_ID.get(id);
}

/**
 * Rule ids an id from a config file or pragma stands for: itself for a rule's id or a
 * ShellCheck id (`SC2086`, reported as is), the rule for a former id (`BL2018` → `DL3027`),
 * the corresponding rules for a hadolint id, nothing for an unknown id.
 */
export function resolveRuleId(id: string): string[] {
  const upper = id.trim().toUpperCase();
  if (BY_ID.has(upper) || isShellCheckId(upper)) return [upper];
  const renamed = BY_FORMER_ID.get(upper);
  if (renamed !== undefined) return [renamed];
  return BY_HADOLINT.get(upper) ?? [];
}

/**
 * A rule's documentation: `${base}${id}.md` when a base URL is configured (`--docs-url` or
 * BERTH_LINT_DOCS_URL, e.g. the docs/lint/ folder of the repository Berth was installed from),
 * else the page's path in the Berth source tree (`docs/lint/BL1001.md`). Berth ships no
 * hosted documentation site, so it invents no URL. A ShellCheck id links to ShellCheck's own
 * wiki page for it.
 */
export function docsUrl(id: string, baseUrl?: string): string {
  if (isShellCheckId(id)) return `https://www.shellcheck.net/wiki/${id}`;
  if (baseUrl === undefined || baseUrl === "") return `${DOCS_PATH}${id}.md`;
  return `${baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`}${id}.md`;
}

/** A docs base URL must be absolute http(s) (SARIF's helpUri is an absolute URI). */
export function isDocsBaseUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}
