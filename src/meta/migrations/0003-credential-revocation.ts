// Migration 0003: what credential revocation needs (types in ../auth-schema.ts).
// - `credential_generation` on users and robots: stamped into every access token and
//   checked on each request; bumping it (password reset, secret rotation, disable, demotion)
//   makes every token issued before the bump useless at once.
// - `refresh_tokens`: one row per refresh token issued, bound to the account's id (not its
//   name), so a token can be listed, revoked one by one, and dies with its account.
// - `sessions.remote_address`: where a browser session was opened from (for listings).
// Portable across SQLite and PostgreSQL; never drops data on up.
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("users")
    .addColumn("credential_generation", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable("robots")
    .addColumn("credential_generation", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable("sessions").addColumn("remote_address", "text").execute();
  await db.schema
    .createTable("refresh_tokens")
    .ifNotExists()
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("account_kind", "text", (c) => c.notNull())
    .addColumn("account_id", "text", (c) => c.notNull())
    .addColumn("account_name", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("last_used_at", "text")
    .addColumn("remote_address", "text")
    .execute();
  await sql`create index if not exists refresh_tokens_account on refresh_tokens (account_kind, account_id)`.execute(
    db,
  );
  await sql`create index if not exists sessions_user on sessions (user_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("refresh_tokens").ifExists().execute();
  await sql`drop index if exists sessions_user`.execute(db);
  await db.schema.alterTable("sessions").dropColumn("remote_address").execute();
  await db.schema.alterTable("robots").dropColumn("credential_generation").execute();
  await db.schema.alterTable("users").dropColumn("credential_generation").execute();
}
