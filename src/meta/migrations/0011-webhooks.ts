// Migration 0011: webhook targets per project and their delivery log (types and queries in
// ../webhooks.ts). A delivery row is keyed by (target, event key), which is what makes the
// outbox consumer idempotent: the same event can never produce two deliveries to one target.
// Portable across SQLite and PostgreSQL; rows go with their project (ON DELETE CASCADE).
import type { Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("webhook_targets")
    .ifNotExists()
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("project_id", "text", (c) =>
      c.notNull().references("projects.id").onDelete("cascade"),
    )
    .addColumn("url", "text", (c) => c.notNull())
    .addColumn("events", "text", (c) => c.notNull())
    .addColumn("format", "text", (c) => c.notNull())
    .addColumn("headers", "text", (c) => c.notNull())
    .addColumn("secret_sealed", "text", (c) => c.notNull())
    .addColumn("enabled", "integer", (c) => c.notNull())
    .addColumn("consecutive_failures", "integer", (c) => c.notNull())
    .addColumn("disabled_reason", "text")
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("webhook_targets_project")
    .ifNotExists()
    .on("webhook_targets")
    .column("project_id")
    .execute();
  await db.schema
    .createTable("webhook_deliveries")
    .ifNotExists()
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("target_id", "text", (c) =>
      c.notNull().references("webhook_targets.id").onDelete("cascade"),
    )
    .addColumn("event_key", "text", (c) => c.notNull())
    .addColumn("event_type", "text", (c) => c.notNull())
    .addColumn("body", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("status_code", "integer")
    .addColumn("duration_ms", "integer")
    .addColumn("error", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("delivered_at", "bigint")
    .addUniqueConstraint("webhook_deliveries_once", ["target_id", "event_key"])
    .execute();
  await db.schema
    .createIndex("webhook_deliveries_target")
    .ifNotExists()
    .on("webhook_deliveries")
    .columns(["target_id", "created_at"])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("webhook_deliveries").ifExists().execute();
  await db.schema.dropTable("webhook_targets").ifExists().execute();
}
