// Retention policies per project (`retention_policies`): the rules as JSON text and the cron
// schedule. Validation and meaning live in policy/retention.ts; this file only stores them.
import type { Kysely } from "kysely";
import type { Database } from "./database.js";

export interface RetentionPolicyRow {
  project: string;
  rules: unknown;
  schedule: string | null;
  updatedBy: string;
  updatedAt: string;
}

export async function getRetentionPolicy(
  db: Kysely<Database>,
  project: string,
): Promise<RetentionPolicyRow | undefined> {
  const row = await db
    .selectFrom("retention_policies")
    .selectAll()
    .where("project", "=", project)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    project: row.project,
    rules: JSON.parse(row.rules) as unknown,
    schedule: row.schedule,
    updatedBy: row.updated_by,
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
  };
}

export async function putRetentionPolicy(
  db: Kysely<Database>,
  policy: { project: string; rules: unknown; schedule: string | null; updatedBy: string },
): Promise<void> {
  const now = Date.now();
  const values = {
    project: policy.project,
    rules: JSON.stringify(policy.rules),
    schedule: policy.schedule,
    updated_by: policy.updatedBy,
    updated_at: now,
  };
  await db
    .insertInto("retention_policies")
    .values(values)
    .onConflict((oc) =>
      oc.column("project").doUpdateSet({
        rules: values.rules,
        schedule: values.schedule,
        updated_by: values.updated_by,
        updated_at: now,
      }),
    )
    .execute();
}

export async function deleteRetentionPolicy(
  db: Kysely<Database>,
  project: string,
): Promise<boolean> {
  const r = await db
    .deleteFrom("retention_policies")
    .where("project", "=", project)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Every project with a scheduled policy (for the scheduler). */
export async function listScheduledRetention(
  db: Kysely<Database>,
): Promise<{ project: string; schedule: string }[]> {
  const rows = await db
    .selectFrom("retention_policies")
    .select(["project", "schedule"])
    .where("schedule", "is not", null)
    .execute();
  return rows.flatMap((r) => (r.schedule ? [{ project: r.project, schedule: r.schedule }] : []));
}
