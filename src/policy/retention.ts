// Retention, the pure evaluator: given a project's rules, the facts of its repositories
// (manifests with tags, push and pull times, index children, referrer subjects), the
// project's immutable-tag rules and the time, return a verdict per artifact with the reasons.
// Never does I/O; policy/retention-run.ts reads the facts and performs the deletions.
//
// Semantics (Harbor's tag retention, with its grammar):
// - A rule selects repositories (a doublestar pattern over the repository path inside the
//   project, `matching` or `excluding`) and artifacts by tag (`matching`: some tag matches;
//   `excluding`: no tag matches; `untagged: true` also selects artifacts without tags), then
//   retains some of the selected ones by a template: the N most recently pushed, the N most
//   recently pulled (never-pulled ones sort last), pushed within N days, pulled within N
//   days, or always.
// - Rules are OR-combined: an artifact is retained if any rule retains it. In a repository
//   that at least one rule selects, every artifact no rule retains is deleted (untagged ones
//   included, unless a rule selects untagged artifacts). Repositories no rule selects are
//   left alone.
// - An artifact carrying an immutable tag is always retained.
// - Index children and referrers (signatures, SBOMs…) follow their parent: what a retained
//   index lists and what refers to a retained subject is retained; an untagged child whose
//   indexes all go goes too; referrers go with their subject (registry/deletion.ts deletes
//   them together), and a referrer with an immutable tag keeps its subject.
import { type ImmutableRule, immutableRuleFor } from "./immutability.js";
import { matcher, pathInProject, patternProblem } from "./patterns.js";

export type Selector =
  | { matching: string; excluding?: undefined }
  | { excluding: string; matching?: undefined };

export type RetainTemplate =
  | { kind: "mostRecentlyPushed"; count: number }
  | { kind: "mostRecentlyPulled"; count: number }
  | { kind: "pushedWithinDays"; days: number }
  | { kind: "pulledWithinDays"; days: number }
  | { kind: "always" };

export interface RetentionRule {
  repositories: Selector;
  tags: Selector & { untagged: boolean };
  retain: RetainTemplate;
}

export interface RetentionPolicy {
  rules: RetentionRule[];
  /** Cron expression, or null for manual runs only. */
  schedule: string | null;
}

export interface ArtifactFact {
  digest: string;
  tags: readonly string[];
  pushedAt: number;
  pulledAt: number | null;
  subjectDigest: string | null;
  children: readonly string[];
}

export interface RepositoryFact {
  repository: string;
  manifests: readonly ArtifactFact[];
}

export interface Verdict {
  repository: string;
  digest: string;
  tags: string[];
  action: "retain" | "delete";
  reasons: string[];
}

export interface RetentionResult {
  verdicts: Verdict[];
  /** Repositories at least one rule selects. */
  repositories: string[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

// ---- parsing the rules file ------------------------------------------------------------

export class RetentionRuleError extends Error {}

function fail(message: string): never {
  throw new RetentionRuleError(message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function onlyKeys(obj: Record<string, unknown>, allowed: string[], where: string): void {
  for (const key of Object.keys(obj))
    if (!allowed.includes(key))
      fail(`${where}: unknown key "${key}" (expected ${allowed.join(", ")})`);
}

function parseSelector(value: unknown, where: string, extra: string[] = []): Selector {
  if (value === undefined) return { matching: "**" };
  if (!isObject(value)) fail(`${where} must be an object with "matching" or "excluding"`);
  onlyKeys(value, ["matching", "excluding", ...extra], where);
  const has = (k: string) => value[k] !== undefined;
  if (has("matching") === has("excluding"))
    fail(`${where} needs exactly one of "matching" and "excluding"`);
  const key = has("matching") ? "matching" : "excluding";
  const problem = patternProblem(value[key], `${where}.${key}`);
  if (problem) fail(problem);
  return key === "matching"
    ? { matching: value.matching as string }
    : { excluding: value.excluding as string };
}

function positiveInteger(value: unknown, where: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 1_000_000)
    fail(`${where} must be a whole number from 0 to 1000000`);
  return value;
}

const TEMPLATES = [
  "mostRecentlyPushed",
  "mostRecentlyPulled",
  "pushedWithinDays",
  "pulledWithinDays",
  "always",
] as const;

function parseTemplate(value: unknown, where: string): RetainTemplate {
  if (!isObject(value)) fail(`${where} must be an object such as {"mostRecentlyPushed": 10}`);
  const keys = Object.keys(value);
  if (keys.length !== 1 || !TEMPLATES.includes(keys[0] as (typeof TEMPLATES)[number]))
    fail(`${where} needs exactly one of ${TEMPLATES.join(", ")}`);
  const kind = keys[0] as (typeof TEMPLATES)[number];
  const v = value[kind];
  switch (kind) {
    case "always":
      if (v !== true) fail(`${where}.always must be true`);
      return { kind };
    case "mostRecentlyPushed":
    case "mostRecentlyPulled":
      return { kind, count: positiveInteger(v, `${where}.${kind}`) };
    default:
      return { kind, days: positiveInteger(v, `${where}.${kind}`) };
  }
}

/** Validates a rules document (parsed YAML/JSON); throws RetentionRuleError with a sentence. */
export function parseRetentionPolicy(
  doc: unknown,
  validateSchedule: (cron: string) => string | undefined,
): RetentionPolicy {
  if (!isObject(doc))
    fail('the rules file must be an object with "rules" (and optional "schedule")');
  onlyKeys(doc, ["rules", "schedule"], "the rules file");
  const schedule = doc.schedule ?? null;
  if (schedule !== null) {
    if (typeof schedule !== "string" || schedule.trim() === "")
      fail('"schedule" must be a cron expression such as "0 3 * * *", or null');
    const problem = validateSchedule(schedule);
    if (problem) fail(`"schedule" is not a valid cron expression: ${problem}`);
  }
  if (!Array.isArray(doc.rules) || doc.rules.length === 0) fail('"rules" must be a non-empty list');
  if (doc.rules.length > 50) fail('"rules" may hold at most 50 rules');
  const rules = doc.rules.map((raw, i): RetentionRule => {
    const where = `rules[${i}]`;
    if (!isObject(raw)) fail(`${where} must be an object`);
    onlyKeys(raw, ["repositories", "tags", "retain"], where);
    const tags = parseSelector(raw.tags, `${where}.tags`, ["untagged"]);
    const untagged = isObject(raw.tags) ? raw.tags.untagged : undefined;
    if (untagged !== undefined && typeof untagged !== "boolean")
      fail(`${where}.tags.untagged must be true or false`);
    if (raw.retain === undefined) fail(`${where} needs "retain"`);
    return {
      repositories: parseSelector(raw.repositories, `${where}.repositories`),
      tags: { ...tags, untagged: untagged === true },
      retain: parseTemplate(raw.retain, `${where}.retain`),
    };
  });
  return { rules, schedule: typeof schedule === "string" ? schedule.trim() : null };
}

/** The policy as stored and served: the same shape the rules file has. */
export function policyDocument(policy: RetentionPolicy): Record<string, unknown> {
  return {
    schedule: policy.schedule,
    rules: policy.rules.map((r) => ({
      repositories: r.repositories,
      tags: {
        ...(r.tags.matching !== undefined
          ? { matching: r.tags.matching }
          : { excluding: r.tags.excluding }),
        untagged: r.tags.untagged,
      },
      retain: templateDocument(r.retain),
    })),
  };
}

function templateDocument(t: RetainTemplate): Record<string, number | boolean> {
  switch (t.kind) {
    case "always":
      return { always: true };
    case "mostRecentlyPushed":
    case "mostRecentlyPulled":
      return { [t.kind]: t.count };
    default:
      return { [t.kind]: t.days };
  }
}

// ---- evaluation ------------------------------------------------------------------------

function selects(selector: Selector, text: string): boolean {
  return selector.matching !== undefined
    ? matcher(selector.matching)(text)
    : !matcher(selector.excluding)(text);
}

function describeSelector(what: string, s: Selector): string {
  return s.matching !== undefined
    ? `${what} matching "${s.matching}"`
    : `${what} excluding "${s.excluding}"`;
}

export function describeRule(rule: RetentionRule, index: number): string {
  const t = rule.retain;
  const template =
    t.kind === "always"
      ? "always retain"
      : t.kind === "mostRecentlyPushed"
        ? `retain the ${t.count} most recently pushed`
        : t.kind === "mostRecentlyPulled"
          ? `retain the ${t.count} most recently pulled`
          : t.kind === "pushedWithinDays"
            ? `retain those pushed within ${t.days} days`
            : `retain those pulled within ${t.days} days`;
  const untagged = rule.tags.untagged ? " or untagged" : "";
  return `rule ${index + 1} (${template}; ${describeSelector("repositories", rule.repositories)}, ${describeSelector("tags", rule.tags)}${untagged})`;
}

function tagsSelected(rule: RetentionRule, a: ArtifactFact): boolean {
  if (a.tags.length === 0) return rule.tags.untagged;
  if (rule.tags.matching !== undefined) {
    const m = matcher(rule.tags.matching);
    return a.tags.some((t) => m(t));
  }
  const m = matcher(rule.tags.excluding);
  return !a.tags.some((t) => m(t));
}

const byPushed = (a: ArtifactFact, b: ArtifactFact) =>
  b.pushedAt - a.pushedAt || (a.digest < b.digest ? -1 : 1);
const byPulled = (a: ArtifactFact, b: ArtifactFact) =>
  (b.pulledAt ?? -1) - (a.pulledAt ?? -1) || byPushed(a, b);

/** Which of the selected artifacts the template retains, with the reason for each. */
function applyTemplate(
  t: RetainTemplate,
  selected: ArtifactFact[],
  now: number,
): { kept: Map<string, string>; notKept: string } {
  const kept = new Map<string, string>();
  switch (t.kind) {
    case "always":
      for (const a of selected) kept.set(a.digest, "always retained");
      return { kept, notKept: "" };
    case "mostRecentlyPushed": {
      const sorted = [...selected].sort(byPushed);
      sorted.slice(0, t.count).forEach((a, i) => {
        kept.set(a.digest, `number ${i + 1} of the ${t.count} most recently pushed`);
      });
      return { kept, notKept: `not among the ${t.count} most recently pushed` };
    }
    case "mostRecentlyPulled": {
      const sorted = [...selected].sort(byPulled);
      sorted.slice(0, t.count).forEach((a, i) => {
        kept.set(a.digest, `number ${i + 1} of the ${t.count} most recently pulled`);
      });
      return { kept, notKept: `not among the ${t.count} most recently pulled` };
    }
    case "pushedWithinDays": {
      const since = now - t.days * DAY_MS;
      for (const a of selected)
        if (a.pushedAt >= since) kept.set(a.digest, `pushed within ${t.days} days`);
      return { kept, notKept: `not pushed within ${t.days} days` };
    }
    case "pulledWithinDays": {
      const since = now - t.days * DAY_MS;
      for (const a of selected)
        if (a.pulledAt !== null && a.pulledAt >= since)
          kept.set(a.digest, `pulled within ${t.days} days`);
      return { kept, notKept: `not pulled within ${t.days} days` };
    }
  }
}

/** Evaluates the rules over one project's repositories. */
export function evaluateRetention(input: {
  rules: readonly RetentionRule[];
  repositories: readonly RepositoryFact[];
  immutable: readonly ImmutableRule[];
  now: number;
}): RetentionResult {
  const verdicts: Verdict[] = [];
  const selectedRepositories: string[] = [];
  for (const repo of input.repositories) {
    const path = pathInProject(repo.repository);
    const applicable = input.rules
      .map((rule, index) => ({ rule, index }))
      .filter(({ rule }) => selects(rule.repositories, path));
    if (applicable.length === 0) continue;
    selectedRepositories.push(repo.repository);
    verdicts.push(...evaluateRepository(repo, applicable, input.immutable, input.now));
  }
  return { verdicts, repositories: selectedRepositories };
}

function evaluateRepository(
  repo: RepositoryFact,
  applicable: { rule: RetentionRule; index: number }[],
  immutable: readonly ImmutableRule[],
  now: number,
): Verdict[] {
  const byDigest = new Map(repo.manifests.map((m) => [m.digest, m]));
  const parents = new Map<string, string[]>();
  const referrers = new Map<string, string[]>();
  for (const m of repo.manifests) {
    for (const child of m.children) {
      if (!byDigest.has(child)) continue;
      const list = parents.get(child) ?? [];
      list.push(m.digest);
      parents.set(child, list);
    }
    if (m.subjectDigest && byDigest.has(m.subjectDigest)) {
      const list = referrers.get(m.subjectDigest) ?? [];
      list.push(m.digest);
      referrers.set(m.subjectDigest, list);
    }
  }
  const isDependent = (m: ArtifactFact) =>
    parents.has(m.digest) || (m.subjectDigest !== null && byDigest.has(m.subjectDigest));
  // Candidates: tagged manifests and untagged top-level ones.
  const candidates = repo.manifests.filter((m) => m.tags.length > 0 || !isDependent(m));
  const retained = new Map<string, string[]>();
  const notes = new Map<string, string[]>();
  const keep = (digest: string, reason: string) => {
    const list = retained.get(digest) ?? [];
    list.push(reason);
    retained.set(digest, list);
  };
  for (const { rule, index } of applicable) {
    const name = describeRule(rule, index);
    const selected = candidates.filter((a) => tagsSelected(rule, a));
    const { kept, notKept } = applyTemplate(rule.retain, selected, now);
    const selectedSet = new Set(selected.map((a) => a.digest));
    for (const a of candidates) {
      const reason = kept.get(a.digest);
      if (reason) keep(a.digest, `${name}: ${reason}`);
      else {
        const list = notes.get(a.digest) ?? [];
        list.push(
          `${name}: ${selectedSet.has(a.digest) ? notKept : "not selected by its tag selector"}`,
        );
        notes.set(a.digest, list);
      }
    }
  }
  for (const m of repo.manifests) {
    for (const tag of m.tags) {
      const rule = immutableRuleFor(immutable, repo.repository, tag);
      if (rule) keep(m.digest, `tag "${tag}" is immutable (immutability rule ${rule.id})`);
    }
  }
  // A referrer with an immutable tag keeps its subject (deleting the subject would take it).
  for (const m of repo.manifests) {
    if (!m.subjectDigest || !byDigest.has(m.subjectDigest)) continue;
    if ((retained.get(m.digest) ?? []).some((r) => r.includes("is immutable")))
      keep(m.subjectDigest, `its referrer ${m.digest} carries an immutable tag`);
  }
  // Downward propagation: what a retained index lists and what refers to a retained subject.
  const queue = [...retained.keys()];
  while (queue.length > 0) {
    const digest = queue.pop()!;
    const m = byDigest.get(digest)!;
    const down = [
      ...m.children
        .filter((c) => byDigest.has(c))
        .map((c) => [c, `listed by retained index ${digest}`] as const),
      ...(referrers.get(digest) ?? []).map((r) => [r, `referrer of retained ${digest}`] as const),
    ];
    for (const [child, reason] of down) {
      const first = !retained.has(child);
      keep(child, reason);
      if (first) queue.push(child);
    }
  }
  // Referrers of a deleted subject go with it, whatever kept them (registry/deletion.ts).
  const deletedSubjects = (m: ArtifactFact): string | undefined => {
    let s = m.subjectDigest;
    const seen = new Set<string>();
    while (s && byDigest.has(s) && !seen.has(s)) {
      seen.add(s);
      if (!retained.has(s)) return s;
      s = byDigest.get(s)!.subjectDigest;
    }
    return undefined;
  };
  return repo.manifests.map((m): Verdict => {
    const base = { repository: repo.repository, digest: m.digest, tags: [...m.tags] };
    const goneSubject = deletedSubjects(m);
    if (goneSubject) {
      return {
        ...base,
        action: "delete",
        reasons: [`referrer of ${goneSubject}, which is deleted (referrers go with their subject)`],
      };
    }
    const reasons = retained.get(m.digest);
    if (reasons) return { ...base, action: "retain", reasons };
    if (m.tags.length === 0 && parents.has(m.digest)) {
      return {
        ...base,
        action: "delete",
        reasons: [
          `untagged, and every index listing it is deleted (${parents.get(m.digest)!.join(", ")})`,
        ],
      };
    }
    return {
      ...base,
      action: "delete",
      reasons: ["retained by no rule", ...(notes.get(m.digest) ?? [])],
    };
  });
}
