// Migration 0013: the quality-gate verdict of each pushed manifest (table `gate_results`):
// the push-time evaluation of the project's gate policy, recorded whether the manifest was
// accepted or refused, so the API can show why. One row per (repository, digest); a new
// evaluation (a re-push) replaces it. Keyed by repository name (a refused manifest of a new
// repository has no repository row). Portable across SQLite and PostgreSQL.
import type { Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("gate_results")
    .ifNotExists()
    .addColumn("repository", "text", (c) => c.notNull())
    .addColumn("digest", "text", (c) => c.notNull())
    .addColumn("verdict", "text", (c) => c.notNull())
    .addColumn("rules", "text", (c) => c.notNull())
    .addColumn("policy_updated_at", "text", (c) => c.notNull())
    .addColumn("evaluated_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("gate_results_pk", ["repository", "digest"])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("gate_results").ifExists().execute();
}
