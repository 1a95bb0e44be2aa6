// Migration 0017: `token_signing_keys`, the ES256 keys registry tokens are signed with when
// several replicas share one database (auth.secretKey set): every replica signs with the newest
// and verifies with any, so a token issued by one is accepted by all, and a new key can be
// added without invalidating tokens signed by the previous one. The private key is stored
// sealed (AES-256-GCM with auth.secretKey), never in the clear.
// Portable across SQLite and PostgreSQL; never drops data on up.
import type { Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("token_signing_keys")
    .ifNotExists()
    .addColumn("kid", "text", (c) => c.primaryKey())
    .addColumn("sealed_private_key", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("token_signing_keys").ifExists().execute();
}
