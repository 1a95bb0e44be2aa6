// Opens the metadata database and brings its schema up to date. The dialect is chosen here
// and only here: SQLite through better-sqlite3 today, PostgreSQL (kysely's PostgresDialect
// over `pg`) as a second driver later. Every query elsewhere goes through Kysely's builder
// with portable SQL.
//
// SQLite settings and why:
// - WAL: readers never block the writer, so manifest GETs keep flowing during pushes.
// - synchronous=FULL: in WAL mode NORMAL can lose the last commits on power loss; FULL
//   fsyncs the WAL on every commit, so a 201 the registry sent is never lost. Commits are
//   per push (not per byte), so the cost is small; pull bookkeeping is batched (pull-times.ts).
// - Prepared statements are cached by SQL text (kysely prepares on every call otherwise),
//   which keeps manifest GET and blob HEAD cheap.
// Never: run SQL that only SQLite understands outside this file and the migrations.
import BetterSqlite3 from "better-sqlite3";
import { Kysely, type Migration, type MigrationProvider, Migrator, SqliteDialect, sql } from "kysely";
import type { SqlDialect } from "./dialect.js";
import { MIGRATIONS } from "./migrations/index.js";
import type { RegistryTables } from "./schema.js";

/**
 * The whole database as Kysely sees it: an intersection of table groups. Another module
 * adds its tables as `RegistryTables & AuthTables` (its own schema file + migration).
 */
export type Database = RegistryTables;

export interface DatabaseSettings {
  driver: "sqlite";
  /** SQLite file (":memory:" for tests). */
  path: string;
}

export interface MetaDatabase {
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialect;
  /** Throws when the database is not usable (for /readyz). */
  check(): Promise<void>;
  close(): Promise<void>;
}

export async function openDatabase(settings: DatabaseSettings): Promise<MetaDatabase> {
  const sqlite = new BetterSqlite3(settings.path);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = FULL");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("foreign_keys = ON");
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
  });
  await migrateToLatest(db);
  return {
    db,
    dialect: "sqlite",
    async check() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}

const STATEMENT_CACHE_LIMIT = 512;

/** A better-sqlite3 handle whose prepare() reuses statements by SQL text. */
function withStatementCache(sqlite: BetterSqlite3.Database) {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      let statement = cache.get(text);
      if (!statement) {
        statement = sqlite.prepare(text);
        if (cache.size >= STATEMENT_CACHE_LIMIT) {
          cache.delete(cache.keys().next().value as string);
        }
        cache.set(text, statement);
      }
      return statement;
    },
  };
}

class ListedMigrations implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return Object.fromEntries(MIGRATIONS);
  }
}

/** Applies every pending migration in order; throws naming the migration that failed. */
export async function migrateToLatest(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: new ListedMigrations() });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`database migration ${failed} failed: ${reason}`);
  }
}
