// Test support: the management API and token endpoint on a real Fastify server bound to
// 127.0.0.1 (free port), over a real SQLite metadata database in a temp dir. Used by the API
// tests that do not need the registry data path.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import { managementApi } from "../../src/api/index.js";
import { auditRegistryEvents } from "../../src/api/registry-audit.js";
import { MetaRegistryView } from "../../src/api/registry-view.js";
import { basicHeader } from "../../src/auth/credentials.js";
import { Management } from "../../src/auth/management.js";
import {
  type AuthSettings,
  type AuthSystem,
  createAuthSystem,
  DEFAULT_AUTH_SETTINGS,
} from "../../src/auth/system.js";
import { JobQueue } from "../../src/jobs/index.js";
import type { AuthTables } from "../../src/meta/auth-schema.js";
import { gatePolicyStore } from "../../src/meta/gate-policies.js";
import { type MetaDatabase, openDatabase } from "../../src/meta/index.js";
import { up } from "../../src/meta/migrations/0002-auth.js";
import { MIGRATIONS } from "../../src/meta/migrations/index.js";
import { PolicyService } from "../../src/policy/service.js";
import { ManifestCache, RegistryEvents } from "../../src/registry/index.js";

export const ADMIN = { username: "admin", password: "admin-password-1" };
export const quietLog = { info() {}, warn() {}, error() {} };

export interface ApiHarness {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly auth: AuthSystem;
  readonly meta: MetaDatabase;
  readonly management: Management;
  close(): Promise<void>;
}

export async function startApi(settings: Partial<AuthSettings> = {}): Promise<ApiHarness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "berth-api-"));
  const meta = await openDatabase({ driver: "sqlite", path: path.join(dir, "meta.db") });
  if (!MIGRATIONS.some(([name]) => name === "0002-auth"))
    await up(meta.db as unknown as Kysely<unknown>);
  const db = meta.db as unknown as Kysely<AuthTables>;
  const auth = await createAuthSystem({
    db,
    dataDir: dir,
    settings: { ...DEFAULT_AUTH_SETTINGS, ...settings },
    log: quietLog,
    adminPassword: ADMIN.password,
  });
  const management = new Management(auth.store, auth.audit, auth.authorizer);
  const events = new RegistryEvents();
  auditRegistryEvents(events, auth.audit);
  const app = Fastify({ logger: false });
  await app.register(auth.tokenRoutes);
  const registry = new MetaRegistryView(meta.db, {
    events,
    manifestCache: new ManifestCache(0),
    config: { trash: { keepMs: 7 * 24 * 3600_000 } },
  });
  await app.register(managementApi, {
    auth,
    management,
    registry,
    policies: new PolicyService(meta.db, management, auth.audit, registry.deletionServices()),
    version: "test",
    jobs: new JobQueue(meta.db),
    gatePolicies: gatePolicyStore(meta.db),
    trash: {
      db: meta.db,
      keepMs: 7 * 24 * 3600_000,
      jobs: new JobQueue(meta.db),
      evict: () => {},
    },
  });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return {
    url,
    app,
    auth,
    meta,
    management,
    async close() {
      await app.close();
      await meta.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function basic(user: { username: string; password: string }): Record<string, string> {
  return { authorization: basicHeader(user.username, user.password) };
}

export async function api(
  base: string,
  method: string,
  pathname: string,
  options: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(`${base}${pathname}`, {
    method,
    headers: {
      ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
      ...options.headers,
    },
    body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (e.g. the docs page)
  }
  return { status: res.status, body, headers: res.headers };
}
