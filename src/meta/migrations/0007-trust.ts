// Migration 0007: per-project trust policies (signature enforcement) and their trusted public
// keys (types and queries in ../trust-policies.ts). Portable across SQLite and PostgreSQL;
// rows go with their project (ON DELETE CASCADE). Never drops data on up.
import type { Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("trust_policies")
    .ifNotExists()
    .addColumn("project_id", "text", (c) =>
      c.primaryKey().references("projects.id").onDelete("cascade"),
    )
    .addColumn("mode", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("trust_keys")
    .ifNotExists()
    .addColumn("project_id", "text", (c) =>
      c.notNull().references("projects.id").onDelete("cascade"),
    )
    .addColumn("fingerprint", "text", (c) => c.notNull())
    .addColumn("public_key_pem", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("trust_keys_pk", ["project_id", "fingerprint"])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("trust_keys").ifExists().execute();
  await db.schema.dropTable("trust_policies").ifExists().execute();
}
