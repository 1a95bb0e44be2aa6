// Tag immutability rules per project (`immutable_rules`): add, list, remove. What a rule
// means is decided by policy/immutability.ts; this file only stores them.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "./database.js";

export interface ImmutableRuleRow {
  id: string;
  project: string;
  repositoryPattern: string;
  tagPattern: string;
  createdBy: string;
  createdAt: string;
}

function toRow(r: {
  id: string;
  project: string;
  repository_pattern: string;
  tag_pattern: string;
  created_by: string;
  created_at: number;
}): ImmutableRuleRow {
  return {
    id: r.id,
    project: r.project,
    repositoryPattern: r.repository_pattern,
    tagPattern: r.tag_pattern,
    createdBy: r.created_by,
    createdAt: new Date(Number(r.created_at)).toISOString(),
  };
}

export async function listImmutableRules(
  db: Kysely<Database>,
  project: string,
): Promise<ImmutableRuleRow[]> {
  const rows = await db
    .selectFrom("immutable_rules")
    .selectAll()
    .where("project", "=", project)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return rows.map(toRow);
}

/** Adds a rule; an identical rule of the project is returned instead of duplicated. */
export async function addImmutableRule(
  db: Kysely<Database>,
  rule: { project: string; repositoryPattern: string; tagPattern: string; createdBy: string },
): Promise<{ rule: ImmutableRuleRow; created: boolean }> {
  const existing = await db
    .selectFrom("immutable_rules")
    .selectAll()
    .where("project", "=", rule.project)
    .where("repository_pattern", "=", rule.repositoryPattern)
    .where("tag_pattern", "=", rule.tagPattern)
    .executeTakeFirst();
  if (existing) return { rule: toRow(existing), created: false };
  const row = {
    id: randomUUID(),
    project: rule.project,
    repository_pattern: rule.repositoryPattern,
    tag_pattern: rule.tagPattern,
    created_by: rule.createdBy,
    created_at: Date.now(),
  };
  await db.insertInto("immutable_rules").values(row).execute();
  return { rule: toRow(row), created: true };
}

/** Removes the rule `id` of the project; the removed rule, or undefined. */
export async function removeImmutableRule(
  db: Kysely<Database>,
  project: string,
  id: string,
): Promise<ImmutableRuleRow | undefined> {
  const row = await db
    .selectFrom("immutable_rules")
    .selectAll()
    .where("project", "=", project)
    .where("id", "=", id)
    .executeTakeFirst();
  if (!row) return undefined;
  await db.deleteFrom("immutable_rules").where("id", "=", id).execute();
  return toRow(row);
}
