// Tag immutability, the pure evaluator: given a project's rules and a repository + tag,
// which rule (if any) makes the tag immutable. An immutable tag may be created, but never
// moved to another manifest (re-push, retag), nor deleted (by tag, or with the manifest it
// points at), and retention never removes it. Repository patterns match the repository path
// inside the project (`app` for `team/app`); tag patterns match the tag. Never does I/O.
import { matcher, pathInProject } from "./patterns.js";

export interface ImmutableRule {
  readonly id: string;
  readonly repositoryPattern: string;
  readonly tagPattern: string;
}

/** The first rule making `repository:tag` immutable, or undefined. */
export function immutableRuleFor(
  rules: readonly ImmutableRule[],
  repository: string,
  tag: string,
): ImmutableRule | undefined {
  const path = pathInProject(repository);
  return rules.find((r) => matcher(r.repositoryPattern)(path) && matcher(r.tagPattern)(tag));
}

/** How a refusal names its rule, for DENIED messages. */
export function describeRule(rule: ImmutableRule): string {
  return `immutability rule ${rule.id} (repository "${rule.repositoryPattern}", tag "${rule.tagPattern}")`;
}

export type TagChange =
  | { kind: "push"; tag: string; current: string | undefined; next: string }
  | { kind: "delete"; tag: string };

/** Why the change is refused (a sentence naming the rule), or undefined when allowed. */
export function immutabilityVerdict(
  rules: readonly ImmutableRule[],
  repository: string,
  change: TagChange,
): string | undefined {
  const rule = immutableRuleFor(rules, repository, change.tag);
  if (!rule) return undefined;
  if (change.kind === "push") {
    if (change.current === undefined || change.current === change.next) return undefined;
    return `tag "${repository}:${change.tag}" is immutable (${describeRule(rule)}): it cannot be moved to another manifest`;
  }
  return `tag "${repository}:${change.tag}" is immutable (${describeRule(rule)}): it cannot be deleted`;
}
