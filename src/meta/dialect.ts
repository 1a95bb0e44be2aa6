// Which SQL dialect a Kysely instance speaks, and the few column types that differ between
// SQLite and PostgreSQL, and the one aggregate spelled differently (a JSON array of a text
// column, which lets a 10,000-tag listing leave the database as one string instead of
// 10,000 row objects). Migrations use this so one migration file serves both dialects;
// queries elsewhere use only portable SQL through Kysely's builder.
import {
  type Expression,
  type Kysely,
  PostgresAdapter,
  type RawBuilder,
  SqliteAdapter,
  sql,
} from "kysely";

export type SqlDialect = "sqlite" | "postgres";

export function dialectOf<DB>(db: Kysely<DB>): SqlDialect {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof SqliteAdapter) return "sqlite";
  if (adapter instanceof PostgresAdapter) return "postgres";
  throw new Error("unsupported SQL dialect");
}

/** Column types whose spelling differs per dialect. */
export function columnTypes(dialect: SqlDialect): { bytes: RawBuilder<unknown> } {
  return { bytes: dialect === "postgres" ? sql`bytea` : sql`blob` };
}

/** `[…]` of `column`'s values in `column` order as JSON text (`[]` for no rows). */
export function jsonTextArray(dialect: SqlDialect, column: Expression<string>): RawBuilder<string> {
  return dialect === "postgres"
    ? sql<string>`coalesce(json_agg(${column} order by ${column}), '[]'::json)::text`
    : sql<string>`json_group_array(${column} order by ${column})`;
}
