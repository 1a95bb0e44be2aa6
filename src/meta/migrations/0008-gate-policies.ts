// Migration 0008: the quality-gate policy attached to a project (one per project, the policy
// file's text as the administrator gave it; parsed and validated before it is stored). Rows go
// with their project (ON DELETE CASCADE). Portable across SQLite and PostgreSQL.
import type { Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("gate_policies")
    .ifNotExists()
    .addColumn("project_id", "text", (c) =>
      c.primaryKey().references("projects.id").onDelete("cascade"),
    )
    .addColumn("policy", "text", (c) => c.notNull())
    .addColumn("updated_by", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("gate_policies").ifExists().execute();
}
