// The retention editor's form model and its translation to and from the API's retention
// document (docs/policies.md: rules of repositories/tags selectors and one retain template).
// The form keeps every field as the user typed it; `retentionDocument` turns it into the
// body of PUT /projects/{p}/retention and leaves every check to the API, whose message the
// page shows. Pure: no DOM, no I/O (unit-tested in test/web/shape.test.ts).

export const RETAIN_KINDS = [
  "mostRecentlyPushed",
  "mostRecentlyPulled",
  "pushedWithinDays",
  "pulledWithinDays",
  "always",
] as const;
export type RetainKind = (typeof RETAIN_KINDS)[number];

export const RETAIN_LABELS: Readonly<Record<RetainKind, string>> = {
  mostRecentlyPushed: "the N most recently pushed",
  mostRecentlyPulled: "the N most recently pulled",
  pushedWithinDays: "pushed within N days",
  pulledWithinDays: "pulled within N days",
  always: "always",
};

export type SelectorMode = "matching" | "excluding";

export interface RuleForm {
  repositoriesMode: SelectorMode;
  repositories: string;
  tagsMode: SelectorMode;
  tags: string;
  untagged: boolean;
  retain: RetainKind;
  count: string;
}

export interface RetentionForm {
  schedule: string;
  rules: RuleForm[];
}

interface SelectorDoc {
  matching?: string;
  excluding?: string;
  untagged?: boolean;
}

export interface RetentionRuleDoc {
  repositories?: SelectorDoc;
  tags?: SelectorDoc;
  retain?: Partial<Record<RetainKind, number | boolean>>;
}

export interface RetentionDoc {
  schedule: string | null;
  rules: RetentionRuleDoc[];
}

export function emptyRule(): RuleForm {
  return {
    repositoriesMode: "matching",
    repositories: "**",
    tagsMode: "matching",
    tags: "**",
    untagged: false,
    retain: "mostRecentlyPushed",
    count: "10",
  };
}

function selectorForm(selector: SelectorDoc | undefined): [SelectorMode, string] {
  if (selector?.excluding !== undefined) return ["excluding", selector.excluding];
  return ["matching", selector?.matching ?? "**"];
}

/** The form for a stored policy, or one starter rule when there is none. */
export function retentionForm(doc: RetentionDoc | null | undefined): RetentionForm {
  if (!doc) return { schedule: "", rules: [emptyRule()] };
  return {
    schedule: doc.schedule ?? "",
    rules: doc.rules.map((rule) => {
      const [repositoriesMode, repositories] = selectorForm(rule.repositories);
      const [tagsMode, tags] = selectorForm(rule.tags);
      const kind = RETAIN_KINDS.find((k) => rule.retain?.[k] !== undefined) ?? "mostRecentlyPushed";
      const value = rule.retain?.[kind];
      return {
        repositoriesMode,
        repositories,
        tagsMode,
        tags,
        untagged: rule.tags?.untagged === true,
        retain: kind,
        count: typeof value === "number" ? String(value) : "",
      };
    }),
  };
}

/** `"12"` → 12; anything else is sent as typed, so the API names the bad field. */
function countValue(text: string): number | string {
  const trimmed = text.trim();
  return /^\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
}

/** The PUT body for a form: exactly the fields the user set, in the API's shape. */
export function retentionDocument(form: RetentionForm): RetentionDoc {
  return {
    schedule: form.schedule.trim() === "" ? null : form.schedule.trim(),
    rules: form.rules.map((rule) => ({
      repositories: { [rule.repositoriesMode]: rule.repositories },
      tags: { [rule.tagsMode]: rule.tags, untagged: rule.untagged },
      retain:
        rule.retain === "always"
          ? { always: true }
          : ({ [rule.retain]: countValue(rule.count) } as Record<RetainKind, number>),
    })),
  };
}

/** One sentence per rule, as the policy list shows it. */
export function describeRule(rule: RuleForm): string {
  const repos = `${rule.repositoriesMode === "excluding" ? "not " : ""}${rule.repositories}`;
  const tags = `${rule.tagsMode === "excluding" ? "not " : ""}${rule.tags}`;
  const keep = RETAIN_LABELS[rule.retain].replace("N", rule.count || "N");
  return `In ${repos}, of tags ${tags}${rule.untagged ? " (and untagged)" : ""}, keep ${keep}`;
}
