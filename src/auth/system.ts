// Composition of the auth pieces for one server process: store, token service (key kept in
// the data directory), account directory (users, robots, optional htpasswd), authorizer,
// audit log, the registry AccessController and the token endpoint plugin. The server
// (src/server.ts) builds one AuthSystem and hands its parts to the registry and the API.
import path from "node:path";
import type { FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import type { AuthTables } from "../meta/auth-schema.js";
import { clusterOf } from "../meta/cluster.js";
import { AccountDirectory } from "./accounts.js";
import { AuditLog } from "./audit.js";
import { Authorizer } from "./authorizer.js";
import { type BootstrapLog, type BootstrapOptions, bootstrapAuth } from "./bootstrap.js";
import { shareInvalidations } from "./cluster-invalidation.js";
import { TokenAccessController } from "./controller.js";
import { HtpasswdFile } from "./htpasswd.js";
import { LoginThrottle } from "./rate-limit.js";
import { SharedSigningKeys } from "./signing-keys.js";
import { AuthStore } from "./store.js";
import { TOKEN_PATH, tokenEndpoint } from "./token-endpoint.js";
import { SigningKey, TokenService } from "./tokens.js";

export interface AuthSettings {
  /** `service` in challenges and the tokens' audience. */
  readonly service: string;
  readonly issuer: string;
  /** Public base URL (https://registry.example.com); default: from the request's Host header. */
  readonly publicUrl?: string;
  /** Scheme of a realm derived from the Host header: `https` when Berth serves TLS itself. */
  readonly scheme?: "http" | "https";
  readonly tokenTtlSeconds: number;
  readonly refreshTtlSeconds: number;
  /** Use an htpasswd file (bcrypt) as an extra user source, as registry:2 does. */
  readonly htpasswdPath?: string;
  /** Let system administrators push to projects that do not exist yet (created on push). */
  readonly autoCreateProjects: boolean;
  /** Pull audit records are written in batches this often (ms); 0 = one insert per pull. */
  readonly pullAuditFlushMs: number;
  /**
   * Base64 of 32 bytes: keep the token signing keys in the database, sealed with it, shared by
   * every replica (src/auth/signing-keys.ts). Unset: one key in DATA/auth/.
   */
  readonly secretKey?: string;
}

export const DEFAULT_AUTH_SETTINGS: AuthSettings = {
  service: "berth",
  issuer: "berth",
  tokenTtlSeconds: 300,
  refreshTtlSeconds: 7 * 24 * 3600,
  autoCreateProjects: false,
  pullAuditFlushMs: 1000,
};

/** The `auth` section of the server configuration (src/config). */
export interface AuthConfigSection {
  readonly service: string;
  /** "" = derive from the request's Host header. */
  readonly publicUrl: string;
  readonly tokenTtlMs: number;
  readonly autoCreateProjects: boolean;
  /** "" = no htpasswd user source. */
  readonly htpasswdPath: string;
  /** See AuthSettings.pullAuditFlushMs. */
  readonly pullAuditFlushMs: number;
  /** See AuthSettings.secretKey ("" = none). */
  readonly secretKey: string;
}

/**
 * Auth settings from the configuration, plus registry:2's environment for drop-in use:
 * `REGISTRY_AUTH=htpasswd` with `REGISTRY_AUTH_HTPASSWD_PATH`.
 */
export function authSettingsFrom(section: AuthConfigSection, env: NodeJS.ProcessEnv): AuthSettings {
  let htpasswdPath = section.htpasswdPath || undefined;
  if (env.REGISTRY_AUTH === "htpasswd") {
    if (!env.REGISTRY_AUTH_HTPASSWD_PATH) {
      throw new Error("REGISTRY_AUTH=htpasswd needs REGISTRY_AUTH_HTPASSWD_PATH");
    }
    htpasswdPath = env.REGISTRY_AUTH_HTPASSWD_PATH;
  }
  return {
    ...DEFAULT_AUTH_SETTINGS,
    service: section.service,
    ...(section.publicUrl ? { publicUrl: section.publicUrl } : {}),
    tokenTtlSeconds: Math.max(30, Math.round(section.tokenTtlMs / 1000)),
    autoCreateProjects: section.autoCreateProjects,
    pullAuditFlushMs: section.pullAuditFlushMs,
    ...(section.secretKey ? { secretKey: section.secretKey } : {}),
    ...(htpasswdPath ? { htpasswdPath } : {}),
  };
}

export interface AuthSystem {
  readonly settings: AuthSettings;
  readonly store: AuthStore;
  readonly tokens: TokenService;
  readonly accounts: AccountDirectory;
  readonly authorizer: Authorizer;
  readonly audit: AuditLog;
  readonly controller: TokenAccessController;
  /** Fastify plugin serving the token endpoint (register it on the server). */
  readonly tokenRoutes: (app: FastifyInstance) => Promise<void>;
  /** The token endpoint's absolute URL as clients should see it for a request. */
  realmFor(headers: Record<string, string | string[] | undefined>): string;
}

export interface AuthLog extends BootstrapLog {
  error(obj: object, msg: string): void;
}

export async function createAuthSystem(options: {
  db: Kysely<AuthTables>;
  dataDir: string;
  settings: AuthSettings;
  log: AuthLog;
  adminPassword?: string;
  /** Where a generated admin password is kept and how it is shown (src/auth/bootstrap.ts). */
  bootstrap?: BootstrapOptions;
}): Promise<AuthSystem> {
  const { settings } = options;
  const store = new AuthStore(options.db);
  await bootstrapAuth(store, options.log, options.adminPassword, options.bootstrap);
  const key = settings.secretKey
    ? await SharedSigningKeys.open(options.db, settings.secretKey)
    : await SigningKey.loadOrCreate(path.join(options.dataDir, "auth"));
  const tokens = new TokenService(key, {
    issuer: settings.issuer,
    service: settings.service,
    accessTtlSeconds: settings.tokenTtlSeconds,
    refreshTtlSeconds: settings.refreshTtlSeconds,
  });
  const audit = new AuditLog(store, options.log, { pullFlushMs: settings.pullAuditFlushMs });
  const htpasswd = settings.htpasswdPath ? new HtpasswdFile(settings.htpasswdPath) : undefined;
  const accounts = new AccountDirectory(store, new LoginThrottle(), htpasswd, (failure) =>
    audit.note({
      actor: {
        name: failure.username,
        kind: failure.username.startsWith("robot$") ? "robot" : "user",
      },
      action: failure.purpose === "login" ? "login" : "password.verify",
      resourceType: "account",
      resource: failure.username,
      remoteAddress: failure.remoteAddress,
      outcome: "failure",
      detail: { reason: failure.reason },
    }),
  );
  const authorizer = new Authorizer(store);
  // Every account, credential or permission change clears both caches at once.
  authorizer.onInvalidate(() => accounts.invalidate());
  // ...on this replica and, through the database, on every other one.
  shareInvalidations(authorizer, clusterOf(options.db));
  const realmFor = (headers: Record<string, string | string[] | undefined>): string => {
    if (settings.publicUrl) return `${settings.publicUrl.replace(/\/+$/, "")}${TOKEN_PATH}`;
    const raw = typeof headers.host === "string" ? headers.host : "";
    const host = /^[A-Za-z0-9.\-:[\]]+$/.test(raw) ? raw : "localhost";
    return `${settings.scheme ?? "http"}://${host}${TOKEN_PATH}`;
  };
  const controller = new TokenAccessController(tokens, accounts, authorizer, {
    realm: realmFor,
    service: settings.service,
  });
  return {
    settings,
    store,
    tokens,
    accounts,
    authorizer,
    audit,
    controller,
    realmFor,
    tokenRoutes: (app) => tokenEndpoint(app, { store, tokens, accounts, authorizer }),
  };
}
