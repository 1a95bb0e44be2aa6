// Test support for auth tests: a fresh SQLite metadata database (temp file) with the auth
// migration applied, and a full AuthSystem on top of it. Everything lives under os.tmpdir().
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import {
  type AuthSettings,
  type AuthSystem,
  createAuthSystem,
  DEFAULT_AUTH_SETTINGS,
} from "../../src/auth/system.js";
import type { AuthTables } from "../../src/meta/auth-schema.js";
import { up } from "../../src/meta/migrations/0002-auth.js";
import { up as up0003 } from "../../src/meta/migrations/0003-credential-revocation.js";
import { up as up0019 } from "../../src/meta/migrations/0019-user-disabled.js";

export interface TestAuth {
  readonly dir: string;
  readonly db: Kysely<AuthTables>;
  readonly auth: AuthSystem;
  close(): Promise<void>;
}

export const quietLog = { info() {}, warn() {}, error() {} };

export async function openTestAuth(settings: Partial<AuthSettings> = {}): Promise<TestAuth> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "berth-auth-"));
  const db = new Kysely<AuthTables>({
    dialect: new SqliteDialect({ database: new Database(path.join(dir, "meta.db")) }),
  });
  await up(db as unknown as Kysely<unknown>);
  await up0003(db as unknown as Kysely<unknown>);
  await up0019(db as unknown as Kysely<unknown>);
  const auth = await createAuthSystem({
    db,
    dataDir: dir,
    settings: { ...DEFAULT_AUTH_SETTINGS, ...settings },
    log: quietLog,
    adminPassword: "admin-password-1",
  });
  return {
    dir,
    db,
    auth,
    async close() {
      await db.destroy();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
