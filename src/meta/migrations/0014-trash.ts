// Migration 0014: the trash (types and queries in ../trash.ts). A deletion with the trash on
// (`trash.keep` > 0) moves what it removes here instead of dropping it: `trash` holds one row
// per deletion (an artifact with its referrers, or one tag), `trash_manifests` the removed
// manifests byte for byte with the tags that pointed at them, and `trash_references` every
// blob and child manifest they named, by repository name, so garbage collection keeps those
// blobs (and the repository links to them) until the entry is restored or purged. Rows name
// their repository by text, not id: a trashed artifact outlives a deleted repository.
// Portable across SQLite and PostgreSQL; child rows go with their entry (ON DELETE CASCADE).
import { type Kysely, sql } from "kysely";
import { columnTypes, dialectOf } from "../dialect.js";

export async function up(db: Kysely<unknown>): Promise<void> {
  const dialect = dialectOf(db);
  const trash =
    dialect === "postgres"
      ? db.schema.createTable("trash").addColumn("id", sql`bigserial`, (c) => c.primaryKey())
      : db.schema
          .createTable("trash")
          .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());
  await trash
    .addColumn("repository", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("digest", "text", (c) => c.notNull())
    .addColumn("tag", "text")
    .addColumn("tags", "text", (c) => c.notNull())
    .addColumn("manifests", "integer", (c) => c.notNull())
    .addColumn("size", "bigint", (c) => c.notNull())
    .addColumn("reason", "text", (c) => c.notNull())
    .addColumn("deleted_by", "text", (c) => c.notNull())
    .addColumn("deleted_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("trash_deleted_at").on("trash").column("deleted_at").execute();
  await db.schema
    .createIndex("trash_repository")
    .on("trash")
    .columns(["repository", "digest"])
    .execute();
  await db.schema
    .createTable("trash_manifests")
    .addColumn("trash_id", "bigint", (c) => c.notNull().references("trash.id").onDelete("cascade"))
    .addColumn("position", "integer", (c) => c.notNull())
    .addColumn("digest", "text", (c) => c.notNull())
    .addColumn("media_type", "text", (c) => c.notNull())
    .addColumn("artifact_type", "text")
    .addColumn("subject_digest", "text")
    .addColumn("annotations", "text")
    .addColumn("content", columnTypes(dialect).bytes, (c) => c.notNull())
    .addColumn("tags", "text", (c) => c.notNull())
    .addColumn("refs", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("pushed_at", "bigint", (c) => c.notNull())
    .addColumn("pulled_at", "bigint")
    .addPrimaryKeyConstraint("trash_manifests_pk", ["trash_id", "position"])
    .execute();
  await db.schema
    .createTable("trash_references")
    .addColumn("trash_id", "bigint", (c) => c.notNull().references("trash.id").onDelete("cascade"))
    .addColumn("repository", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("digest", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("trash_references_pk", ["trash_id", "kind", "digest"])
    .execute();
  await db.schema
    .createIndex("trash_references_digest")
    .on("trash_references")
    .columns(["digest", "repository"])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ["trash_references", "trash_manifests", "trash"]) {
    await db.schema.dropTable(table).execute();
  }
}
