// Migration 0004: background work (types in ../jobs-schema.ts): jobs, job_logs, schedules,
// outbox, outbox_cursors; and two columns on blobs for online garbage collection
// (see src/jobs/gc.ts): `pinned_until` (an upload about to commit these bytes: GC keeps
// the row) and `deleting_at` (GC has claimed the row: links and mounts are refused until
// the bytes and the row are gone). Portable across SQLite and PostgreSQL.
import { type CreateTableBuilder, type Kysely, sql } from "kysely";
import { dialectOf, type SqlDialect } from "../dialect.js";

function withId<T extends string>(
  table: CreateTableBuilder<T, never>,
  dialect: SqlDialect,
): CreateTableBuilder<T, "id"> {
  return dialect === "postgres"
    ? table.addColumn("id", sql`bigserial`, (c) => c.primaryKey())
    : table.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());
}

export async function up(db: Kysely<unknown>): Promise<void> {
  const dialect = dialectOf(db);
  await withId(db.schema.createTable("jobs"), dialect)
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("max_attempts", "integer", (c) => c.notNull())
    .addColumn("run_after", "bigint", (c) => c.notNull())
    .addColumn("lease_owner", "text")
    .addColumn("lease_expires_at", "bigint")
    .addColumn("cancel_requested", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("progress", "text")
    .addColumn("result", "text")
    .addColumn("error", "text")
    .addColumn("schedule", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("started_at", "bigint")
    .addColumn("finished_at", "bigint")
    .execute();
  await db.schema.createIndex("jobs_claim").on("jobs").columns(["state", "run_after"]).execute();
  await db.schema.createIndex("jobs_kind").on("jobs").columns(["kind", "id"]).execute();

  await withId(db.schema.createTable("job_logs"), dialect)
    .addColumn("job_id", "bigint", (c) => c.notNull().references("jobs.id").onDelete("cascade"))
    .addColumn("at", "bigint", (c) => c.notNull())
    .addColumn("level", "text", (c) => c.notNull())
    .addColumn("message", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("job_logs_job").on("job_logs").columns(["job_id", "id"]).execute();

  await db.schema
    .createTable("schedules")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("cron", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("next_run_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();

  await withId(db.schema.createTable("outbox"), dialect)
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("repository", "text", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("outbox_cursors")
    .addColumn("consumer", "text", (c) => c.primaryKey())
    .addColumn("position", "bigint", (c) => c.notNull())
    .addColumn("lease_owner", "text")
    .addColumn("lease_expires_at", "bigint")
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema.alterTable("blobs").addColumn("pinned_until", "bigint").execute();
  await db.schema.alterTable("blobs").addColumn("deleting_at", "bigint").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("blobs").dropColumn("deleting_at").execute();
  await db.schema.alterTable("blobs").dropColumn("pinned_until").execute();
  for (const table of ["outbox_cursors", "outbox", "schedules", "job_logs", "jobs"]) {
    await db.schema.dropTable(table).execute();
  }
}
