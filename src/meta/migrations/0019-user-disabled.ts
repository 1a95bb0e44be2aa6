// Migration 0019: `users.disabled` (types in ../auth-schema.ts). A disabled user keeps their
// memberships and audit trail but cannot sign in, and every credential they held ends when
// they are disabled (src/auth/management.ts). Portable across SQLite and PostgreSQL (an
// integer 0/1 as `is_admin` is); never drops data on up.
import type { Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("users")
    .addColumn("disabled", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("users").dropColumn("disabled").execute();
}
