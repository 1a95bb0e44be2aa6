// Migration 0001: the registry's tables (see ../schema.ts for what each column means).
// Portable across SQLite and PostgreSQL: generated ids and byte columns are spelled per
// dialect; everything else is standard SQL. Migrations are append-only: never edit a
// migration that has shipped, add the next NNNN file instead.
import { type ColumnDefinitionBuilder, type CreateTableBuilder, type Kysely, sql } from "kysely";
import { columnTypes, dialectOf, type SqlDialect } from "../dialect.js";

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
  const types = columnTypes(dialect);
  // Names sort in byte order on both dialects (SQLite's default BINARY collation).
  const byteOrder = (c: ColumnDefinitionBuilder) =>
    dialect === "postgres" ? c.modifyFront(sql`collate "C"`) : c;

  await withId(db.schema.createTable("repositories"), dialect)
    .addColumn("name", "text", (c) => byteOrder(c).notNull().unique())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("blobs")
    .addColumn("digest", "text", (c) => c.primaryKey())
    .addColumn("size", "bigint", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("repository_blobs")
    .addColumn("repository_id", "bigint", (c) =>
      c.notNull().references("repositories.id").onDelete("cascade"),
    )
    .addColumn("digest", "text", (c) => c.notNull().references("blobs.digest"))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("repository_blobs_pk", ["repository_id", "digest"])
    .execute();
  await db.schema
    .createIndex("repository_blobs_digest")
    .on("repository_blobs")
    .column("digest")
    .execute();

  await withId(db.schema.createTable("manifests"), dialect)
    .addColumn("repository_id", "bigint", (c) =>
      c.notNull().references("repositories.id").onDelete("cascade"),
    )
    .addColumn("digest", "text", (c) => c.notNull())
    .addColumn("media_type", "text", (c) => c.notNull())
    .addColumn("size", "bigint", (c) => c.notNull())
    .addColumn("artifact_type", "text")
    .addColumn("subject_digest", "text")
    .addColumn("annotations", "text")
    .addColumn("content", types.bytes, (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("pushed_at", "bigint", (c) => c.notNull())
    .addColumn("pulled_at", "bigint")
    .addUniqueConstraint("manifests_repository_digest", ["repository_id", "digest"])
    .execute();
  await db.schema
    .createIndex("manifests_subject")
    .on("manifests")
    .columns(["repository_id", "subject_digest"])
    .execute();
  await db.schema.createIndex("manifests_digest").on("manifests").column("digest").execute();

  await db.schema
    .createTable("manifest_references")
    .addColumn("manifest_id", "bigint", (c) =>
      c.notNull().references("manifests.id").onDelete("cascade"),
    )
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("digest", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("manifest_references_pk", ["manifest_id", "kind", "digest"])
    .execute();
  await db.schema
    .createIndex("manifest_references_digest")
    .on("manifest_references")
    .column("digest")
    .execute();

  await db.schema
    .createTable("tags")
    .addColumn("repository_id", "bigint", (c) =>
      c.notNull().references("repositories.id").onDelete("cascade"),
    )
    .addColumn("name", "text", (c) => byteOrder(c).notNull())
    .addColumn("manifest_id", "bigint", (c) =>
      c.notNull().references("manifests.id").onDelete("cascade"),
    )
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("tags_pk", ["repository_id", "name"])
    .execute();
  await db.schema.createIndex("tags_manifest").on("tags").column("manifest_id").execute();

  await db.schema
    .createTable("upload_sessions")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("repository", "text", (c) => c.notNull())
    .addColumn("received_bytes", "bigint", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("upload_sessions_updated")
    .on("upload_sessions")
    .column("updated_at")
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    "upload_sessions",
    "tags",
    "manifest_references",
    "manifests",
    "repository_blobs",
    "blobs",
    "repositories",
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
