// Migration 0005: the policy tables (types in ../policy-schema.ts): quota limits beside the
// per-project one (per repository and system-wide), tag immutability rules and retention
// policies, per project. Portable across SQLite and PostgreSQL: text ids, bigint times in
// milliseconds since the epoch, JSON as text. Never drops data on up.
import type { Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("quota_limits")
    .ifNotExists()
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("limit_bytes", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("quota_limits_pk", ["kind", "name"])
    .execute();

  await db.schema
    .createTable("immutable_rules")
    .ifNotExists()
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("project", "text", (c) => c.notNull())
    .addColumn("repository_pattern", "text", (c) => c.notNull())
    .addColumn("tag_pattern", "text", (c) => c.notNull())
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("immutable_rules_unique", ["project", "repository_pattern", "tag_pattern"])
    .execute();
  await db.schema
    .createIndex("immutable_rules_project")
    .ifNotExists()
    .on("immutable_rules")
    .column("project")
    .execute();

  await db.schema
    .createTable("retention_policies")
    .ifNotExists()
    .addColumn("project", "text", (c) => c.primaryKey())
    .addColumn("rules", "text", (c) => c.notNull())
    .addColumn("schedule", "text")
    .addColumn("updated_by", "text", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("retention_policies").ifExists().execute();
  await db.schema.dropTable("immutable_rules").ifExists().execute();
  await db.schema.dropTable("quota_limits").ifExists().execute();
}
