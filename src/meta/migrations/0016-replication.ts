// Migration 0016: replication rules, their executions and per-artifact tasks (types and
// queries in ../replication.ts). A rule names its registry endpoint by id (the endpoint table
// is another migration's); executions and tasks go with their rule (ON DELETE CASCADE). A
// task is unique per (execution, source repository, reference), which is what makes a
// resumed execution (its job taken over after a crash) add nothing twice.
// Portable across SQLite and PostgreSQL.
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
  await db.schema
    .createTable("replication_policies")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("endpoint_id", "text", (c) => c.notNull())
    .addColumn("mode", "text", (c) => c.notNull())
    .addColumn("filters", "text", (c) => c.notNull())
    .addColumn("destination", "text", (c) => c.notNull())
    .addColumn("trigger", "text", (c) => c.notNull())
    .addColumn("cron", "text")
    .addColumn("overwrite", "integer", (c) => c.notNull())
    .addColumn("replicate_deletion", "integer", (c) => c.notNull())
    .addColumn("bandwidth_kbps", "integer", (c) => c.notNull())
    .addColumn("concurrency", "integer", (c) => c.notNull())
    .addColumn("enabled", "integer", (c) => c.notNull())
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await withId(db.schema.createTable("replication_executions"), dialect)
    .addColumn("policy_id", "text", (c) =>
      c.notNull().references("replication_policies.id").onDelete("cascade"),
    )
    .addColumn("trigger", "text", (c) => c.notNull())
    .addColumn("scope", "text")
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("job_id", "bigint")
    .addColumn("total", "integer", (c) => c.notNull())
    .addColumn("succeeded", "integer", (c) => c.notNull())
    .addColumn("failed", "integer", (c) => c.notNull())
    .addColumn("skipped", "integer", (c) => c.notNull())
    .addColumn("bytes", "bigint", (c) => c.notNull())
    .addColumn("error", "text")
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("started_at", "bigint")
    .addColumn("finished_at", "bigint")
    .execute();
  await db.schema
    .createIndex("replication_executions_policy")
    .on("replication_executions")
    .columns(["policy_id", "id"])
    .execute();
  await withId(db.schema.createTable("replication_tasks"), dialect)
    .addColumn("execution_id", "bigint", (c) =>
      c.notNull().references("replication_executions.id").onDelete("cascade"),
    )
    .addColumn("operation", "text", (c) => c.notNull())
    .addColumn("source_repository", "text", (c) => c.notNull())
    .addColumn("reference", "text", (c) => c.notNull())
    .addColumn("destination_repository", "text", (c) => c.notNull())
    .addColumn("digest", "text")
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("bytes", "bigint", (c) => c.notNull())
    .addColumn("referrers", "integer", (c) => c.notNull())
    .addColumn("error", "text")
    .addColumn("started_at", "bigint")
    .addColumn("finished_at", "bigint")
    .addUniqueConstraint("replication_tasks_once", [
      "execution_id",
      "operation",
      "source_repository",
      "reference",
    ])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("replication_tasks").ifExists().execute();
  await db.schema.dropTable("replication_executions").ifExists().execute();
  await db.schema.dropTable("replication_policies").ifExists().execute();
}
