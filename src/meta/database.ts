// Opens the metadata database and brings its schema up to date. The dialect is chosen here
// and only here: SQLite through better-sqlite3 (one machine), or PostgreSQL through `pg`
// (several replicas sharing one database). Every query elsewhere goes through Kysely's
// builder with portable SQL; the same contract suite runs against both.
//
// SQLite settings and why:
// - WAL: readers never block the writer, so manifest GETs keep flowing during pushes.
// - synchronous=FULL: in WAL mode NORMAL can lose the last commits on power loss; FULL
//   fsyncs the WAL on every commit, so a 201 the registry sent is never lost. Commits are
//   per push (not per byte), so the cost is small; pull bookkeeping is batched (pull-times.ts).
// - Relaxed commits (executeRelaxed): a write whose loss on power failure is harmless (the
//   rows of uploads in flight, reconciled with the bytes on disk after a restart: see
//   uploads.ts) commits with synchronous=NORMAL: no fsync, but in the WAL, so it survives a
//   killed process and becomes durable with the next FULL commit. A chunked upload otherwise
//   fsynced the WAL on every PATCH, and on a disk busy writing the blob back each fsync
//   blocked the event loop for tens of milliseconds. PostgreSQL: synchronous_commit = off.
// - Prepared statements are cached by SQL text (kysely prepares on every call otherwise),
//   which keeps manifest GET and blob HEAD cheap.
//
// PostgreSQL: int8 columns are parsed to JS numbers (sizes and millisecond times stay far
// below 2^53) by a per-pool type parser, so rows look the same as SQLite's; name columns
// use COLLATE "C" (see the migration) so listings sort in byte order as the spec wants.
// Never: run SQL that only one dialect understands outside this file and the migrations.
import { randomUUID } from "node:crypto";
import { open } from "node:fs/promises";
import BetterSqlite3 from "better-sqlite3";
import {
  type Compilable,
  Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  sql,
} from "kysely";
import type { AuthTables } from "./auth-schema.js";
import { PostgresCluster, registerCluster } from "./cluster.js";
import type { SqlDialect } from "./dialect.js";
import type { EndpointTables } from "./endpoints.js";
import type { JobsTables } from "./jobs-schema.js";
import { MIGRATIONS } from "./migrations/index.js";
import type { PolicyTables } from "./policy-schema.js";
import type { ProxyTables } from "./proxy-projects.js";
import type { ReplicationTables } from "./replication.js";
import type { RegistryTables } from "./schema.js";
import type { TrashTables } from "./trash.js";
import type { TrustTables } from "./trust-policies.js";
import type { WebhookTables } from "./webhooks.js";

/**
 * The whole database as Kysely sees it: an intersection of table groups. Another module
 * adds its tables as `RegistryTables & AuthTables` (its own schema file + migration).
 */
export type Database = RegistryTables &
  AuthTables &
  JobsTables &
  PolicyTables &
  TrustTables &
  TrashTables &
  WebhookTables &
  EndpointTables &
  ProxyTables &
  ReplicationTables;

export type DatabaseSettings =
  | {
      driver: "sqlite";
      /** SQLite file (":memory:" for tests). */
      path: string;
    }
  | {
      driver: "postgres";
      /** `postgres://user:password@host:port/database` */
      url: string;
      /** Connections in the pool (default 10). */
      poolSize?: number;
    };

export interface MetaDatabase {
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialect;
  /** Throws when the database is not usable (for /readyz). */
  check(): Promise<void>;
  close(): Promise<void>;
}

export async function openDatabase(settings: DatabaseSettings): Promise<MetaDatabase> {
  return settings.driver === "postgres"
    ? openPostgres(settings.url, settings.poolSize ?? 10)
    : openSqlite(settings.path);
}

async function openSqlite(path: string): Promise<MetaDatabase> {
  if (path !== ":memory:" && !path.startsWith("file:")) {
    // The database holds password hashes: create it owner-only whatever the umask. SQLite
    // gives its -wal and -shm files the database file's mode, so they are 0600 too.
    await (await open(path, "a", 0o600)).close();
  }
  const sqlite = new BetterSqlite3(path);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = FULL");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("foreign_keys = ON");
  const statements = withStatementCache(sqlite);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: statements }) });
  RELAXED_EXECUTORS.set(db, (query) => executeRelaxedSqlite(sqlite, statements, db, query));
  RELAXED_RETURNING.set(db, (query) => returningRelaxedSqlite(sqlite, statements, db, query));
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

const INT8_OID = 20;

async function openPostgres(url: string, poolSize: number): Promise<MetaDatabase> {
  // Loaded only for PostgreSQL: a single-machine registry on SQLite never pays for it.
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === INT8_OID
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format ?? "text")) as typeof pg.types.getTypeParser,
    },
  });
  // An idle pooled connection that the server ends (restart, failover, shutdown) reports an
  // error on the pool; unheard, it would crash the process. The pool drops that connection
  // and the next query opens a new one.
  pool.on("error", () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  RELAXED_EXECUTORS.set(db, (query) => executeRelaxedPostgres(db, query));
  RELAXED_RETURNING.set(db, (query) =>
    db.transaction().execute(async (trx) => {
      await sql`set local synchronous_commit = off`.execute(trx);
      return (await trx.executeQuery(query.compile())).rows;
    }),
  );
  const cluster = new PostgresCluster(
    db,
    () => new pg.Client({ connectionString: url }),
    randomUUID(),
  );
  try {
    await migrateToLatest(db);
    await cluster.start();
  } catch (err) {
    await cluster.close();
    await db.destroy();
    throw err;
  }
  registerCluster(db, cluster);
  return {
    db,
    dialect: "postgres",
    async check() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await cluster.close();
      await db.destroy();
    },
  };
}

type RelaxedExecutor = (query: Compilable) => Promise<void>;
type RelaxedReturningExecutor = (query: Compilable) => Promise<unknown[]>;

const RELAXED_RETURNING = new WeakMap<Kysely<Database>, RelaxedReturningExecutor>();

/** How each open database runs a relaxed commit; a Kysely made elsewhere runs it normally. */
const RELAXED_EXECUTORS = new WeakMap<Kysely<Database>, RelaxedExecutor>();

/**
 * Runs one write whose commit may be lost on power failure (never on a killed process):
 * see "Relaxed commits" above. Only for state that is reconciled after a restart.
 */
export async function executeRelaxed(db: Kysely<Database>, query: Compilable): Promise<void> {
  const relaxed = RELAXED_EXECUTORS.get(db);
  if (relaxed) await relaxed(query);
  else await db.executeQuery(query.compile());
}

/**
 * SQLite's safety level cannot change inside a transaction, and a change must not leak to
 * other writers: so the pragma, the write and the pragma back run synchronously, with no
 * await in between, and only when no transaction is open (else the write waits its turn
 * through Kysely and commits as usual).
 */
async function executeRelaxedSqlite(
  sqlite: BetterSqlite3.Database,
  statements: ReturnType<typeof withStatementCache>,
  db: Kysely<Database>,
  query: Compilable,
): Promise<void> {
  const compiled = query.compile();
  if (sqlite.inTransaction) {
    await db.executeQuery(compiled);
    return;
  }
  sqlite.pragma("synchronous = NORMAL");
  try {
    statements.prepare(compiled.sql).run(...(compiled.parameters as unknown[]));
  } finally {
    sqlite.pragma("synchronous = FULL");
  }
}

/** executeRelaxed for a write with RETURNING: the returned rows. */
export async function executeRelaxedReturning<Row>(
  db: Kysely<Database>,
  query: Compilable<Row>,
): Promise<Row[]> {
  const relaxed = RELAXED_RETURNING.get(db);
  if (relaxed) return (await relaxed(query)) as Row[];
  return (await db.executeQuery(query.compile())).rows;
}

/** As executeRelaxedSqlite, returning the statement's rows. */
async function returningRelaxedSqlite(
  sqlite: BetterSqlite3.Database,
  statements: ReturnType<typeof withStatementCache>,
  db: Kysely<Database>,
  query: Compilable,
): Promise<unknown[]> {
  const compiled = query.compile();
  if (sqlite.inTransaction) return (await db.executeQuery(compiled)).rows;
  sqlite.pragma("synchronous = NORMAL");
  try {
    return statements.prepare(compiled.sql).all(...(compiled.parameters as unknown[]));
  } finally {
    sqlite.pragma("synchronous = FULL");
  }
}

async function executeRelaxedPostgres(db: Kysely<Database>, query: Compilable): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`set local synchronous_commit = off`.execute(trx);
    await trx.executeQuery(query.compile());
  });
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
