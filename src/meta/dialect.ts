// Which SQL dialect a Kysely instance speaks, and the few column types that differ between
// SQLite and PostgreSQL. Migrations use this so one migration file serves both dialects;
// queries elsewhere use only portable SQL through Kysely's builder.
import { type Kysely, PostgresAdapter, type RawBuilder, SqliteAdapter, sql } from "kysely";

export type SqlDialect = "sqlite" | "postgres";

export function dialectOf(db: Kysely<unknown>): SqlDialect {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof SqliteAdapter) return "sqlite";
  if (adapter instanceof PostgresAdapter) return "postgres";
  throw new Error("unsupported SQL dialect");
}

/** Column types whose spelling differs per dialect. */
export function columnTypes(dialect: SqlDialect): { bytes: RawBuilder<unknown> } {
  return { bytes: dialect === "postgres" ? sql`bytea` : sql`blob` };
}
