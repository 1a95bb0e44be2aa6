// What a replication rule is, as pure data and pure functions: the rule's shape, its
// validation (a clear sentence per mistake, nothing stored), which repositories and tags
// its filters select (doublestar patterns, matching and excluding), whether an image's
// labels pass the label filter, and where a source repository lands on the destination
// (keep, flatten N levels, replace the namespace). No I/O here: the engine and the API call
// these with facts they fetched. Never: accept a pattern, platform or namespace that the
// registry would later refuse mid-copy.
import { type Platform, parsePlatform } from "../oci/index.js";
import { matcher, patternProblem } from "../policy/patterns.js";

export type ReplicationMode = "push" | "pull";
export type ReplicationTrigger = "manual" | "event" | "cron";

export interface PatternFilter {
  /** Any of these (empty: everything). */
  readonly include: readonly string[];
  /** None of these. */
  readonly exclude: readonly string[];
}

export interface ReplicationFilters {
  /** Full repository names on the source (`team/app`, `library/**`). */
  readonly repositories: PatternFilter;
  readonly tags: PatternFilter;
  /** `key` (present) or `key=glob` on the image config's labels; all must hold. */
  readonly labels: readonly string[];
  /** `os/arch[/variant]`: copy only these images of an index (empty: all). */
  readonly platforms: readonly string[];
}

/**
 * Destination repository = `namespace/` + the source path without its first `flatten`
 * components (`flatten: -1` keeps only the last component).
 */
export interface DestinationNamespace {
  readonly namespace: string;
  readonly flatten: number;
}

export interface RuleSettings {
  readonly name: string;
  readonly description: string;
  readonly endpoint: string;
  readonly mode: ReplicationMode;
  readonly filters: ReplicationFilters;
  readonly destination: DestinationNamespace;
  readonly trigger: ReplicationTrigger;
  readonly cron: string | null;
  /** Replace a destination tag that points elsewhere (false: skip it). */
  readonly overwrite: boolean;
  /** Event rules: delete on the destination what is deleted here. */
  readonly replicateDeletion: boolean;
  /** Bytes per second, summed over the execution's transfers, in KiB/s (0: unlimited). */
  readonly bandwidthKbps: number;
  /** Artifacts copied at once. */
  readonly concurrency: number;
  readonly enabled: boolean;
}

export class RuleInputError extends Error {}

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const REPOSITORY_PATH =
  /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const LABEL = /^[A-Za-z0-9._\-/]{1,128}(=.{0,256})?$/;

/** Throws RuleInputError naming the first problem; returns the rule with defaults filled. */
export function validateRule(input: RuleSettings, validCron: (cron: string) => void): RuleSettings {
  const fail = (message: string): never => {
    throw new RuleInputError(message);
  };
  if (!NAME.test(input.name))
    fail(`rule name "${input.name}" must be 1-64 lowercase letters, digits, '.', '_' or '-'`);
  if (input.mode !== "push" && input.mode !== "pull") fail('mode must be "push" or "pull"');
  for (const [what, list] of [
    ["repository pattern", input.filters.repositories.include],
    ["excluded repository pattern", input.filters.repositories.exclude],
    ["tag pattern", input.filters.tags.include],
    ["excluded tag pattern", input.filters.tags.exclude],
  ] as const) {
    if (list.length > 32) fail(`at most 32 ${what}s`);
    for (const p of list) {
      const problem = patternProblem(p, what);
      if (problem) fail(problem);
    }
  }
  for (const label of input.filters.labels) {
    if (!LABEL.test(label)) fail(`label filter "${label}" is not KEY or KEY=PATTERN`);
  }
  for (const p of input.filters.platforms) platformOf(p);
  const { namespace, flatten } = input.destination;
  if (namespace !== "" && !REPOSITORY_PATH.test(namespace))
    fail(`destination namespace "${namespace}" is not a repository path`);
  if (!Number.isInteger(flatten) || flatten < -1 || flatten > 16)
    fail("flatten must be -1 (all but the last level) or 0 to 16 levels");
  if (!["manual", "event", "cron"].includes(input.trigger))
    fail('trigger must be "manual", "event" or "cron:EXPR"');
  if (input.trigger === "cron") {
    if (!input.cron) fail("a cron trigger needs an expression (cron:EXPR)");
    try {
      validCron(input.cron as string);
    } catch (err) {
      fail((err as Error).message);
    }
  }
  if (input.trigger === "event" && input.mode !== "push")
    fail("event triggers replicate this registry's pushes: they need mode push");
  if (!Number.isInteger(input.bandwidthKbps) || input.bandwidthKbps < 0)
    fail("bandwidth must be a whole number of KiB/s (0: unlimited)");
  if (!Number.isInteger(input.concurrency) || input.concurrency < 1 || input.concurrency > 32)
    fail("concurrency must be 1 to 32");
  return { ...input, cron: input.trigger === "cron" ? input.cron : null };
}

/** The parsed platform, or RuleInputError. */
export function platformOf(text: string): Platform {
  try {
    const p = parsePlatform(text);
    if (!p.os || !p.architecture) throw new Error("incomplete");
    return p;
  } catch {
    throw new RuleInputError(`platform "${text}" is not os/arch[/variant] (e.g. linux/arm64)`);
  }
}

function passes(filter: PatternFilter, text: string): boolean {
  if (filter.include.length > 0 && !filter.include.some((p) => matcher(p)(text))) return false;
  return !filter.exclude.some((p) => matcher(p)(text));
}

export function selectsRepository(filters: ReplicationFilters, repository: string): boolean {
  return passes(filters.repositories, repository);
}

export function selectsTag(filters: ReplicationFilters, tag: string): boolean {
  return passes(filters.tags, tag);
}

/** Whether the image's config labels satisfy every label filter. */
export function labelsPass(
  filters: ReplicationFilters,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  return filters.labels.every((f) => {
    const eq = f.indexOf("=");
    const key = eq < 0 ? f : f.slice(0, eq);
    const value = labels?.[key];
    if (value === undefined) return false;
    return eq < 0 || matcher(f.slice(eq + 1))(value);
  });
}

/** Where `repository` lands on the destination. */
export function destinationRepository(dest: DestinationNamespace, repository: string): string {
  const parts = repository.split("/");
  const kept =
    dest.flatten === -1 ? parts.slice(-1) : parts.slice(Math.min(dest.flatten, parts.length - 1));
  return [...(dest.namespace ? [dest.namespace] : []), ...kept].join("/");
}

/**
 * The first path component of the source repository patterns, when every include pattern
 * names one literal project: listing can then stay inside it instead of the whole catalog.
 */
export function literalPrefixes(filters: ReplicationFilters): string[] | undefined {
  const include = filters.repositories.include;
  if (include.length === 0) return undefined;
  const prefixes = new Set<string>();
  for (const p of include) {
    const first = p.split("/")[0] ?? "";
    if (first === "" || /[*?{}[\]!()+@]/.test(first)) return undefined;
    prefixes.add(first);
  }
  return [...prefixes];
}
