// The quality gate: one policy file (`gate.yaml`) parsed into a GatePolicy, and the one pure
// evaluator that, given facts gathered about an image, returns a verdict with a result per
// rule, each failed rule naming its evidence. `berth gate` (src/cli/gate.ts) and the
// registry's push admission (src/policy/gate-admission.ts) both call `evaluateGate`; only the
// fact gathering differs. Pure: no I/O, no clock (the caller passes `now`), no logging.
// A rule whose facts were not gathered is "undecided" (at push: scans and signatures do not
// exist yet); it never passes or fails silently.
import { parse as parseYaml } from "yaml";
import { parseByteSize, parseDuration } from "../config/config.js";
import { isSeverity as isLintSeverity, type Severity as LintSeverity } from "../lint/types.js";
import { formatPlatform, type Platform, parseImageReference, parsePlatform } from "../oci/index.js";
import { SEVERITIES, type Severity } from "../scan/severity/index.js";

export class GatePolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GatePolicyError";
  }
}

export const GATE_RULES = [
  "maxSize",
  "maxUncompressedSize",
  "requiredLabels",
  "baseImages",
  "vulnerabilities",
  "signedBy",
  "lint",
  "efficiency",
  "forbiddenPackages",
  "forbiddenLicenses",
  "maxBaseAge",
  "platforms",
] as const;
export type GateRule = (typeof GATE_RULES)[number];

/** Rules the registry can decide from the pushed manifest, its config and stored layers. */
export const PUSH_DECIDABLE: ReadonlySet<GateRule> = new Set<GateRule>([
  "maxSize",
  "requiredLabels",
  "baseImages",
  "platforms",
]);

/**
 * Rules the registry decides at pull from the stored scan (findings and the SBOM's package
 * inventory): `vulnerabilities`, `forbiddenPackages`, `forbiddenLicenses`. `signedBy` is not
 * among them: its keys are files on the CI machine; the registry enforces signatures with
 * the project's trust policy (policy/trust-admission.ts).
 */
export const PULL_DECIDABLE: ReadonlySet<GateRule> = new Set<GateRule>([
  "vulnerabilities",
  "forbiddenPackages",
  "forbiddenLicenses",
]);

/** The policy's rules in `rules` only (undefined when none is set). */
export function onlyRules(
  policy: GatePolicy,
  rules: ReadonlySet<GateRule>,
): GatePolicy | undefined {
  const out: Record<string, unknown> = {};
  for (const rule of GATE_RULES) {
    if (rules.has(rule) && policy[rule] !== undefined) out[rule] = policy[rule];
  }
  return Object.keys(out).length > 0 ? (out as GatePolicy) : undefined;
}

export interface AllowlistEntry {
  readonly id: string;
  /** ISO date; the entry stops applying after it. */
  readonly expires?: string;
  readonly reason?: string;
}

export interface GatePolicy {
  readonly maxSize?: number;
  readonly maxUncompressedSize?: number;
  readonly requiredLabels?: readonly { label: string; pattern: string }[];
  readonly baseImages?: readonly string[];
  readonly vulnerabilities?: {
    readonly max: Partial<Record<Severity, number>>;
    readonly ignoreUnfixed: boolean;
    readonly allowlist: readonly AllowlistEntry[];
  };
  /** Public key files (paths as written in the policy). */
  readonly signedBy?: readonly string[];
  readonly lint?: { readonly failOn: LintSeverity };
  readonly efficiency?: { readonly min?: number; readonly maxWastedBytes?: number };
  readonly forbiddenPackages?: readonly string[];
  readonly forbiddenLicenses?: readonly string[];
  /** Milliseconds. */
  readonly maxBaseAge?: number;
  readonly platforms?: readonly string[];
}

// ---------------------------------------------------------------- parsing

/** Parses a policy file (YAML or JSON: JSON is YAML). Throws GatePolicyError naming the key. */
export function parseGatePolicy(text: string, source = "policy"): GatePolicy {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new GatePolicyError(`${source}: not valid YAML or JSON: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new GatePolicyError(`${source}: the policy must be a mapping of rules`);
  }
  const raw = doc as Record<string, unknown>;
  const policy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!(GATE_RULES as readonly string[]).includes(key)) {
      throw new GatePolicyError(
        `${source}: unknown key "${key}" (known keys: ${GATE_RULES.join(", ")})`,
      );
    }
    try {
      policy[key] = PARSERS[key as GateRule](value);
    } catch (err) {
      throw new GatePolicyError(`${source}: ${key}: ${(err as Error).message}`);
    }
  }
  if (Object.keys(policy).length === 0) throw new GatePolicyError(`${source}: the policy is empty`);
  return policy as GatePolicy;
}

const PARSERS: Record<GateRule, (value: unknown) => unknown> = {
  maxSize: parseByteSize,
  maxUncompressedSize: parseByteSize,
  requiredLabels: parseRequiredLabels,
  baseImages: (v) => stringList(v).map(checkReference),
  vulnerabilities: parseVulnerabilities,
  signedBy: (v) => nonEmpty(stringList(v)),
  lint: parseLint,
  efficiency: parseEfficiency,
  forbiddenPackages: (v) => nonEmpty(stringList(v)),
  forbiddenLicenses: (v) => nonEmpty(stringList(v)),
  maxBaseAge: parseDuration,
  platforms: (v) =>
    nonEmpty(stringList(v)).map((p) => {
      try {
        return formatPlatform(parsePlatform(p));
      } catch {
        throw new Error(`"${p}" is not a platform such as linux/amd64`);
      }
    }),
};

function mapping(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`must be a mapping of ${what}`);
  }
  return value as Record<string, unknown>;
}

function onlyKeys(map: Record<string, unknown>, keys: readonly string[]): void {
  for (const k of Object.keys(map)) {
    if (!keys.includes(k)) throw new Error(`unknown key "${k}" (known: ${keys.join(", ")})`);
  }
}

function stringList(value: unknown): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v.trim() === "")) {
    throw new Error("must be a list of non-empty strings");
  }
  return value as string[];
}

function nonEmpty<T>(list: T[]): T[] {
  if (list.length === 0) throw new Error("must not be empty");
  return list;
}

function checkReference(text: string): string {
  if (text.includes(":") && /^(oci|oci-archive|docker-archive|docker):/.test(text)) return text;
  try {
    parseImageReference(text);
  } catch {
    throw new Error(`"${text}" is not an image reference`);
  }
  return text;
}

function parseRequiredLabels(value: unknown): { label: string; pattern: string }[] {
  if (Array.isArray(value)) {
    return nonEmpty(stringList(value)).map((label) => ({ label, pattern: "" }));
  }
  const map = mapping(value, "label → value pattern");
  const out = Object.entries(map).map(([label, pattern]) => {
    if (pattern === null) return { label, pattern: "" };
    if (typeof pattern !== "string") throw new Error(`${label}: the pattern must be a string`);
    try {
      new RegExp(pattern, "u");
    } catch (err) {
      throw new Error(`${label}: invalid regular expression: ${(err as Error).message}`);
    }
    return { label, pattern };
  });
  return nonEmpty(out);
}

function count(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new Error(`${what} must be a whole number ≥ 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

function parseVulnerabilities(value: unknown): GatePolicy["vulnerabilities"] {
  const map = mapping(value, "max, ignoreUnfixed, allowlist");
  onlyKeys(map, ["max", "ignoreUnfixed", "allowlist"]);
  const maxMap = mapping(map.max ?? {}, "severity → count");
  const max: Partial<Record<Severity, number>> = {};
  for (const [severity, n] of Object.entries(maxMap)) {
    const upper = severity.toUpperCase() as Severity;
    if (!SEVERITIES.includes(upper)) {
      throw new Error(
        `max: unknown severity "${severity}" (use ${SEVERITIES.map((s) => s.toLowerCase()).join(", ")})`,
      );
    }
    max[upper] = count(n, `max.${severity}`);
  }
  if (Object.keys(max).length === 0) throw new Error("max: give at least one severity limit");
  if (map.ignoreUnfixed !== undefined && typeof map.ignoreUnfixed !== "boolean") {
    throw new Error("ignoreUnfixed must be true or false");
  }
  if (map.allowlist !== undefined && !Array.isArray(map.allowlist)) {
    throw new Error("allowlist must be a list of CVE ids or {id, expires, reason}");
  }
  const allowlist = ((map.allowlist ?? []) as unknown[]).map(
    (entry: unknown, i: number): AllowlistEntry => {
      if (typeof entry === "string") return { id: entry };
      const e = mapping(entry, `allowlist[${i}] (id, expires, reason)`);
      onlyKeys(e, ["id", "expires", "reason"]);
      if (typeof e.id !== "string" || e.id === "") throw new Error(`allowlist[${i}]: id missing`);
      let expires: string | undefined;
      if (e.expires !== undefined) {
        const when = e.expires instanceof Date ? e.expires : new Date(String(e.expires));
        if (Number.isNaN(when.getTime())) {
          throw new Error(`allowlist[${i}]: expires must be a date such as 2027-01-31`);
        }
        expires = when.toISOString();
      }
      return {
        id: e.id,
        ...(expires ? { expires } : {}),
        ...(typeof e.reason === "string" ? { reason: e.reason } : {}),
      };
    },
  );
  return { max, ignoreUnfixed: map.ignoreUnfixed === true, allowlist };
}

function parseLint(value: unknown): GatePolicy["lint"] {
  const map = mapping(value, "failOn");
  onlyKeys(map, ["failOn"]);
  if (!isLintSeverity(map.failOn)) {
    throw new Error("failOn must be one of error, warning, info, style");
  }
  return { failOn: map.failOn };
}

function parseEfficiency(value: unknown): GatePolicy["efficiency"] {
  const map = mapping(value, "min, maxWastedBytes");
  onlyKeys(map, ["min", "maxWastedBytes"]);
  const out: { min?: number; maxWastedBytes?: number } = {};
  if (map.min !== undefined) {
    if (typeof map.min !== "number" || map.min < 0 || map.min > 1) {
      throw new Error("min must be a ratio between 0 and 1, e.g. 0.95");
    }
    out.min = map.min;
  }
  if (map.maxWastedBytes !== undefined) out.maxWastedBytes = parseByteSize(map.maxWastedBytes);
  if (out.min === undefined && out.maxWastedBytes === undefined) {
    throw new Error("give min or maxWastedBytes");
  }
  return out;
}

// ---------------------------------------------------------------- facts

export interface GateVulnerability {
  readonly id: string;
  readonly aliases: readonly string[];
  readonly severity: Severity;
  readonly package: string;
  readonly version: string;
  readonly fixedVersion?: string;
}

export interface GatePackage {
  readonly name: string;
  readonly version: string;
  readonly ecosystem: string;
  readonly licenses: readonly string[];
}

export interface ApprovedBase {
  readonly reference: string;
  /** The base's manifest digest and layer diff_ids, when it could be read. */
  readonly digest?: string;
  readonly diffIds?: readonly string[];
  readonly created?: string;
  /** Why it could not be read. */
  readonly error?: string;
}

/** What is known about the image; a fact left undefined makes its rule undecided. */
export interface GateFacts {
  readonly image: string;
  readonly digest: string;
  readonly compressedBytes?: number;
  readonly uncompressedBytes?: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly diffIds?: readonly string[];
  /** Manifest annotations (and config labels) naming the base: `org.opencontainers.image.base.*`. */
  readonly baseAnnotations?: { readonly name?: string; readonly digest?: string };
  readonly approvedBases?: readonly ApprovedBase[];
  readonly platforms?: readonly string[];
  readonly vulnerabilities?: readonly GateVulnerability[];
  readonly signatures?: readonly { verified: boolean; keyFingerprint?: string; reason: string }[];
  readonly lint?: readonly {
    ruleId: string;
    severity: LintSeverity;
    message: string;
    line: number;
  }[];
  readonly efficiency?: { readonly efficiency: number; readonly wastedBytes: number };
  readonly packages?: readonly GatePackage[];
  /** The identified base image and its creation time. */
  readonly base?: { readonly reference: string; readonly created?: string } | null;
}

// ---------------------------------------------------------------- evaluation

export type RuleStatus = "pass" | "fail" | "undecided";

export interface GateRuleResult {
  readonly rule: GateRule;
  readonly status: RuleStatus;
  /** One sentence. */
  readonly message: string;
  /** What the verdict rests on (failing labels, CVE ids, layers…). */
  readonly evidence: readonly string[];
}

export interface GateVerdict {
  readonly image: string;
  readonly digest: string;
  readonly verdict: "pass" | "fail";
  readonly rules: readonly GateRuleResult[];
}

export interface EvaluateOptions {
  readonly now: Date;
  /** Why facts may be missing (shown for undecided rules). */
  readonly undecidedReason?: string;
}

/** Evaluates every rule of the policy, in the order of GATE_RULES. */
export function evaluateGate(
  policy: GatePolicy,
  facts: GateFacts,
  options: EvaluateOptions,
): GateVerdict {
  const rules: GateRuleResult[] = [];
  for (const rule of GATE_RULES) {
    if (policy[rule] === undefined) continue;
    const result = RULES[rule](policy, facts, options.now);
    rules.push(
      result ?? {
        rule,
        status: "undecided",
        message: options.undecidedReason ?? "the facts this rule needs were not gathered",
        evidence: [],
      },
    );
  }
  return {
    image: facts.image,
    digest: facts.digest,
    verdict: rules.some((r) => r.status === "fail") ? "fail" : "pass",
    rules,
  };
}

type RuleFn = (policy: GatePolicy, facts: GateFacts, now: Date) => GateRuleResult | undefined;

function result(
  rule: GateRule,
  failed: boolean,
  message: string,
  evidence: string[] = [],
): GateRuleResult {
  return { rule, status: failed ? "fail" : "pass", message, evidence };
}

const RULES: Record<GateRule, RuleFn> = {
  maxSize: (p, f) => sizeRule("maxSize", "compressed", p.maxSize!, f.compressedBytes),
  maxUncompressedSize: (p, f) =>
    sizeRule("maxUncompressedSize", "uncompressed", p.maxUncompressedSize!, f.uncompressedBytes),
  requiredLabels: requiredLabelsRule,
  baseImages: baseImagesRule,
  vulnerabilities: vulnerabilitiesRule,
  signedBy: signedByRule,
  lint: lintRule,
  efficiency: efficiencyRule,
  forbiddenPackages: forbiddenPackagesRule,
  forbiddenLicenses: forbiddenLicensesRule,
  maxBaseAge: maxBaseAgeRule,
  platforms: platformsRule,
};

function sizeRule(
  rule: GateRule,
  what: string,
  limit: number,
  actual: number | undefined,
): GateRuleResult | undefined {
  if (actual === undefined) return undefined;
  const over = actual > limit;
  return result(
    rule,
    over,
    `${what} size ${actual} bytes ${over ? "exceeds" : "is within"} the limit of ${limit} bytes`,
    over ? [`${what} size: ${actual} bytes`, `limit: ${limit} bytes`] : [],
  );
}

function requiredLabelsRule(p: GatePolicy, f: GateFacts): GateRuleResult | undefined {
  if (f.labels === undefined) return undefined;
  const problems: string[] = [];
  for (const { label, pattern } of p.requiredLabels!) {
    const value = f.labels[label];
    if (value === undefined) problems.push(`label ${label} is missing`);
    else if (pattern !== "" && !new RegExp(pattern, "u").test(value)) {
      problems.push(`label ${label}=${JSON.stringify(value)} does not match /${pattern}/`);
    }
  }
  return result(
    "requiredLabels",
    problems.length > 0,
    problems.length > 0
      ? `${problems.length} required label(s) missing or malformed`
      : "every required label is present and matches",
    problems,
  );
}

/** `docker.io/library/debian:12` and `debian:12` name the same image. */
function normalReference(text: string): string {
  try {
    const ref = parseImageReference(text.replace(/^docker:\/\//, ""));
    return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ""}${ref.digest ? `@${ref.digest}` : ""}`;
  } catch {
    return text;
  }
}

function startsWith(image: readonly string[], base: readonly string[]): boolean {
  return base.length > 0 && base.length <= image.length && base.every((d, i) => image[i] === d);
}

function baseImagesRule(_p: GatePolicy, f: GateFacts): GateRuleResult | undefined {
  if (f.approvedBases === undefined || (f.diffIds === undefined && f.baseAnnotations === undefined))
    return undefined;
  const diffIds = f.diffIds ?? [];
  for (const base of f.approvedBases) {
    if (base.diffIds && startsWith(diffIds, base.diffIds)) {
      return result(
        "baseImages",
        false,
        `built on the approved base ${base.reference} (its ${base.diffIds.length} layer(s) are the image's bottom layers)`,
      );
    }
  }
  const ann = f.baseAnnotations ?? {};
  for (const base of f.approvedBases) {
    if (ann.digest && base.digest && ann.digest === base.digest) {
      return result(
        "baseImages",
        false,
        `the base annotation names the digest of the approved base ${base.reference}`,
      );
    }
    if (ann.name && normalReference(ann.name) === normalReference(base.reference)) {
      return result(
        "baseImages",
        false,
        `the base annotation names the approved base ${base.reference}`,
      );
    }
  }
  const evidence = [
    `bottom layer: ${diffIds[0] ?? "(the image has no layers)"}`,
    ann.name ? `annotation org.opencontainers.image.base.name: ${ann.name}` : "",
    ann.digest ? `annotation org.opencontainers.image.base.digest: ${ann.digest}` : "",
    ...f.approvedBases.map((b) =>
      b.error
        ? `approved base ${b.reference} could not be read: ${b.error}`
        : `approved base ${b.reference}: bottom layer ${b.diffIds?.[0] ?? "(none)"}`,
    ),
  ].filter((e) => e !== "");
  return result("baseImages", true, "the image is not built on an approved base image", evidence);
}

function allowlisted(v: GateVulnerability, p: GatePolicy, now: Date): boolean {
  return p.vulnerabilities!.allowlist.some(
    (a) =>
      (a.id === v.id || v.aliases.includes(a.id)) &&
      (a.expires === undefined || Date.parse(a.expires) > now.getTime()),
  );
}

function vulnerabilitiesRule(p: GatePolicy, f: GateFacts, now: Date): GateRuleResult | undefined {
  if (f.vulnerabilities === undefined) return undefined;
  const rule = p.vulnerabilities!;
  const counted = f.vulnerabilities.filter(
    (v) => !(rule.ignoreUnfixed && v.fixedVersion === undefined) && !allowlisted(v, p, now),
  );
  const evidence: string[] = [];
  const parts: string[] = [];
  let failed = false;
  for (const severity of [...SEVERITIES].reverse()) {
    const limit = rule.max[severity];
    if (limit === undefined) continue;
    const found = counted.filter((v) => v.severity === severity);
    parts.push(`${severity.toLowerCase()} ${found.length}/${limit}`);
    if (found.length > limit) {
      failed = true;
      evidence.push(
        ...found.map(
          (v) =>
            `${severity} ${v.id} in ${v.package} ${v.version}${v.fixedVersion ? ` (fixed in ${v.fixedVersion})` : " (no fix)"}`,
        ),
      );
    }
  }
  const expired = rule.allowlist.filter(
    (a) => a.expires !== undefined && Date.parse(a.expires) <= now.getTime(),
  );
  for (const a of expired) evidence.push(`allowlist entry ${a.id} expired on ${a.expires}`);
  return result(
    "vulnerabilities",
    failed,
    `vulnerabilities found vs allowed: ${parts.join(", ")}`,
    failed ? evidence : expired.map((a) => `allowlist entry ${a.id} expired on ${a.expires}`),
  );
}

function signedByRule(_p: GatePolicy, f: GateFacts): GateRuleResult | undefined {
  if (f.signatures === undefined) return undefined;
  const valid = f.signatures.filter((s) => s.verified);
  if (valid.length > 0) {
    return result(
      "signedBy",
      false,
      `${valid.length} valid signature(s) by a trusted key`,
      valid.map((s) => `verified by key ${s.keyFingerprint ?? "?"}`),
    );
  }
  return result(
    "signedBy",
    true,
    f.signatures.length === 0
      ? "the image has no signatures"
      : "no signature verifies with the policy's keys",
    f.signatures.map((s) => `rejected: ${s.reason}`),
  );
}

const LINT_ORDER: readonly LintSeverity[] = ["error", "warning", "info", "style"];

function lintRule(p: GatePolicy, f: GateFacts): GateRuleResult | undefined {
  if (f.lint === undefined) return undefined;
  const threshold = LINT_ORDER.indexOf(p.lint!.failOn);
  const hits = f.lint.filter((l) => LINT_ORDER.indexOf(l.severity) <= threshold);
  return result(
    "lint",
    hits.length > 0,
    `${hits.length} Dockerfile finding(s) at or above ${p.lint!.failOn}`,
    hits.map((l) => `line ${l.line}: ${l.ruleId} (${l.severity}) ${l.message}`),
  );
}

function efficiencyRule(p: GatePolicy, f: GateFacts): GateRuleResult | undefined {
  if (f.efficiency === undefined) return undefined;
  const { min, maxWastedBytes } = p.efficiency!;
  const evidence: string[] = [];
  if (min !== undefined && f.efficiency.efficiency < min) {
    evidence.push(`efficiency ${f.efficiency.efficiency.toFixed(4)} is below ${min}`);
  }
  if (maxWastedBytes !== undefined && f.efficiency.wastedBytes > maxWastedBytes) {
    evidence.push(`wasted ${f.efficiency.wastedBytes} bytes, more than ${maxWastedBytes}`);
  }
  return result(
    "efficiency",
    evidence.length > 0,
    `efficiency ${f.efficiency.efficiency.toFixed(4)}, wasted ${f.efficiency.wastedBytes} bytes`,
    evidence,
  );
}

/** `name`, `name@version`, with `*` wildcards in the name. */
function packageMatches(pattern: string, pkg: GatePackage): boolean {
  const at = pattern.lastIndexOf("@");
  const namePart = at > 0 ? pattern.slice(0, at) : pattern;
  const version = at > 0 ? pattern.slice(at + 1) : undefined;
  const re = new RegExp(
    `^${namePart
      .split("*")
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
    "i",
  );
  return re.test(pkg.name) && (version === undefined || version === pkg.version);
}

function forbiddenPackagesRule(p: GatePolicy, f: GateFacts): GateRuleResult | undefined {
  if (f.packages === undefined) return undefined;
  const hits = f.packages.filter((pkg) => p.forbiddenPackages!.some((x) => packageMatches(x, pkg)));
  return result(
    "forbiddenPackages",
    hits.length > 0,
    `${hits.length} forbidden package(s) among ${f.packages.length}`,
    hits.map((pkg) => `${pkg.ecosystem} package ${pkg.name} ${pkg.version}`),
  );
}

/** The licence ids of an SPDX expression (`MIT OR (GPL-2.0-only WITH x)` → MIT, GPL-2.0-only). */
function licenceIds(expression: string): string[] {
  return expression
    .split(/\s+(?:AND|OR|WITH)\s+|[()]/i)
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== "");
}

function forbiddenLicensesRule(p: GatePolicy, f: GateFacts): GateRuleResult | undefined {
  if (f.packages === undefined) return undefined;
  const forbidden = new Set(p.forbiddenLicenses!.map((l) => l.toLowerCase()));
  const evidence: string[] = [];
  for (const pkg of f.packages) {
    const bad = pkg.licenses.filter((l) => licenceIds(l).some((id) => forbidden.has(id)));
    if (bad.length > 0) {
      evidence.push(`${pkg.ecosystem} package ${pkg.name} ${pkg.version}: ${bad.join(", ")}`);
    }
  }
  return result(
    "forbiddenLicenses",
    evidence.length > 0,
    `${evidence.length} package(s) under a forbidden licence`,
    evidence,
  );
}

function maxBaseAgeRule(p: GatePolicy, f: GateFacts, now: Date): GateRuleResult | undefined {
  if (f.base === undefined) return undefined;
  if (!f.base) {
    return result("maxBaseAge", true, "the base image could not be identified", [
      "no org.opencontainers.image.base.name annotation and no approved base matched",
    ]);
  }
  const created = f.base.created ? Date.parse(f.base.created) : Number.NaN;
  if (Number.isNaN(created)) {
    return result("maxBaseAge", true, `the base image ${f.base.reference} has no creation time`, [
      `base ${f.base.reference}: config.created is missing`,
    ]);
  }
  const age = now.getTime() - created;
  const days = (ms: number) => `${(ms / 86_400_000).toFixed(1)} days`;
  const old = age > p.maxBaseAge!;
  return result(
    "maxBaseAge",
    old,
    `the base image ${f.base.reference} is ${days(age)} old (limit ${days(p.maxBaseAge!)})`,
    old ? [`base ${f.base.reference} created ${f.base.created}`] : [],
  );
}

function platformsRule(p: GatePolicy, f: GateFacts): GateRuleResult | undefined {
  if (f.platforms === undefined) return undefined;
  const offered = new Set(f.platforms.map(normalPlatform));
  const missing = p.platforms!.filter((x) => !offered.has(normalPlatform(x)));
  return result(
    "platforms",
    missing.length > 0,
    missing.length > 0
      ? `missing required platform(s): ${missing.join(", ")}`
      : "every required platform is present",
    missing.length > 0 ? [`the image offers: ${f.platforms.join(", ") || "none"}`] : [],
  );
}

function normalPlatform(text: string): string {
  try {
    const p: Platform = parsePlatform(text);
    if (p.architecture === "arm64" && p.variant === "v8") delete p.variant;
    return formatPlatform(p);
  } catch {
    return text;
  }
}
