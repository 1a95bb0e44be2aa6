// Berth's server configuration: one YAML/JSON file plus `BERTH_*` environment overrides plus
// command-line flags (flag > env > file > default), validated at start-up. A bad setting
// becomes a ConfigError whose message is one sentence naming the key (and its environment
// variable) and the problem. Pure apart from reading the file; never starts anything.
//
// Settings are declared once in SETTINGS (key path in the file, environment variable,
// parser); unknown keys in the file are rejected so a typo never silently falls back to a
// default. Another module needing settings adds entries to SETTINGS (a minimal additive edit)
// and a field to BerthConfig.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, resolve } from "node:path";
import { Cron } from "croner";
import { parseImageReference } from "../oci/index.js";

/** The YAML parser is loaded only when a config file is read: most servers run on env alone. */
const requireOnDemand = createRequire(import.meta.url);
function parseYaml(text: string): unknown {
  return (requireOnDemand("yaml") as typeof import("yaml")).parse(text);
}

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** `auto`: pretty when stdout is a terminal, JSON otherwise (src/logging/logger.ts). */
export type LogFormat = "auto" | "json" | "pretty";

const LOG_FORMATS: readonly LogFormat[] = ["auto", "json", "pretty"];

export interface BerthConfig {
  /** `host:port` the HTTP server binds. */
  listen: string;
  /** Root of everything Berth stores (absolute path). */
  dataDir: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  storage: {
    driver: "filesystem" | "s3";
    path: string;
    /** fsync blob data before acknowledging (survives power loss, costs write-back time). */
    fsync: boolean;
    /** The S3-compatible driver (src/storage/s3/; docs/scale-out.md). */
    s3: {
      endpoint: string;
      region: string;
      bucket: string;
      prefix: string;
      forcePathStyle: boolean;
      accessKeyId: string;
      secretAccessKey: string;
      redirect: boolean;
      redirectExpiryMs: number;
      storageClass: string;
      serverSideEncryption: string;
      sseKmsKeyId: string;
      caFile: string;
    };
  };
  database: {
    driver: "sqlite" | "postgres";
    /** SQLite file (driver sqlite). */
    path: string;
    /** `postgres://…` connection URL (driver postgres). */
    url: string;
    poolSize: number;
  };
  uploads: {
    /** Upload sessions untouched for this long (ms) are purged. */
    purgeAfterMs: number;
    /** How often (ms) the purge runs. */
    purgeIntervalMs: number;
  };
  manifests: {
    maxBytes: number;
    /** Entries in the by-digest manifest LRU (0 disables it). */
    cacheEntries: number;
  };
  /** Whether DELETE of manifests, tags and blobs is allowed (405 UNSUPPORTED when not). */
  deleteEnabled: boolean;
  /** How long (ms) SIGTERM waits for in-flight requests before closing connections. */
  drainTimeoutMs: number;
  /** How long (ms) an idle keep-alive connection is held open. */
  keepAliveTimeoutMs: number;
  /** Multi-tenancy (src/auth, src/api; docs/auth.md): token auth, users, projects, robots. */
  auth: {
    /** `token`: Docker token auth with users and projects; `none`: an open registry. */
    mode: "token" | "none";
    /** `service` in challenges and the tokens' audience. */
    service: string;
    /** Base URL clients use, for the token realm; "" = from the request's Host header. */
    publicUrl: string;
    /** Lifetime (ms) of registry access tokens. */
    tokenTtlMs: number;
    /** System administrators' pushes create projects that do not exist yet. */
    autoCreateProjects: boolean;
    /** An htpasswd file (bcrypt) as an extra user source; "" = none. */
    htpasswdPath: string;
    /** Pull audit records are written in batches this often (ms); 0 = one insert per pull. */
    pullAuditFlushMs: number;
    /** Base64 of 32 bytes sealing the shared token signing keys in the database; "" = key file. */
    secretKey: string;
  };
  /** HTTPS (HTTP/1.1 and HTTP/2) when both are set: PEM file paths, "" = plain HTTP. */
  tls: {
    cert: string;
    key: string;
  };
  /** Background jobs (src/jobs; docs/lifecycle.md). */
  jobs: {
    /** Jobs this process runs at once; 0 = it runs no jobs, schedules or outbox delivery. */
    workers: number;
    /** How often (ms) idle workers look for due jobs. */
    pollIntervalMs: number;
    /** How long (ms) a running job's lease lasts without a heartbeat (a dead worker's job waits this long). */
    leaseMs: number;
    /** First retry delay (ms) of a failed job; doubled per attempt, at most 1 h. */
    retryBackoffMs: number;
  };
  /** Online garbage collection (src/jobs/gc.ts; docs/lifecycle.md). */
  gc: {
    /** Unreferenced links and untagged manifests younger than this (ms) are kept. */
    graceMs: number;
    /** Cron expression for scheduled GC runs; "" = no schedule. */
    schedule: string;
  };
  /** The server's vulnerability database and scanning in the registry (src/scan/db-artifact.ts, src/jobs/scan-jobs.ts, src/jobs/vulndb-updater.ts; docs/scan.md). */
  scan: {
    /** The server's vulnerability database directory; "" = DATA/vulndb. */
    dbDir: string;
    /** Cron expression for the rescan check (reports matched against an older database); "" = none. */
    rescanSchedule: string;
    /** `REGISTRY/REPO:TAG` of a database pushed with `berth db push`; "" = none. */
    dbRepository: string;
    /** How often (ms) the database is checked for updates (and once at start); 0 = only at start. */
    dbUpdateIntervalMs: number;
    /** Credentials file for the database's registry; "" = the standard docker/podman files. */
    dbRepositoryAuthFile: string;
    /** Cosign public key file the database artifact must be signed with; "" = no check. */
    dbRepositoryKey: string;
    /** Extra CA certificate (PEM file) trusted for the database's registry; "" = none. */
    dbRepositoryCaFile: string;
    /** Skip TLS verification (and allow plain HTTP) for the database's registry. */
    dbRepositoryInsecure: boolean;
  };
  /** Prometheus metrics (src/metrics; docs/monitoring.md). */
  metrics: {
    enabled: boolean;
    /** A second listener serving /metrics without authentication; "" = none. */
    listen: string;
  };
  /** Webhook deliveries (src/webhooks; docs/webhooks.md). */
  webhooks: {
    timeoutMs: number;
    maxAttempts: number;
    /** Consecutive failed attempts after which a target is disabled; 0 = never. */
    disableAfter: number;
    /** Allow targets on loopback/private addresses (SSRF guard off). */
    allowPrivateTargets: boolean;
    /** Base64 of 32 bytes sealing target secrets; "" = DATA/webhook-secrets.key. */
    secretKey: string;
  };
  /** Proxy-cache projects (src/proxy; docs/registries.md). */
  proxy: {
    /** How long an upstream may take to connect and answer before cached copies are served. */
    upstreamTimeoutMs: number;
  };
  /** The trash of deleted artifacts and tags (src/meta/trash.ts, src/jobs/trash-purge.ts; docs/lifecycle.md). */
  trash: {
    /** How long (ms) deleted artifacts and tags stay restorable; 0 = no trash (deletes are final). */
    keepMs: number;
  };
  /** Scheduled fsck without repair (src/jobs/fsck.ts; docs/lifecycle.md). */
  scrub: {
    /** Cron expression for scrub runs; "" = no schedule (the default). */
    schedule: string;
  };
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

interface Setting {
  /** Dotted key in the config file. */
  key: string;
  env: string;
  parse(value: unknown): unknown;
  apply(config: BerthConfig, value: unknown): void;
  /** One sentence for the generated configuration reference (docs/configuration.md). */
  description: string;
}

const LOG_LEVELS: readonly LogLevel[] = [
  "fatal",
  "error",
  "warn",
  "info",
  "debug",
  "trace",
  "silent",
];

function setting<T>(
  key: string,
  env: string,
  parse: (value: unknown) => T,
  apply: (config: BerthConfig, value: T) => void,
  description: string,
): Setting {
  return { key, env, parse, apply: (c, v) => apply(c, v as T), description };
}

export const SETTINGS: readonly Setting[] = [
  setting(
    "listen",
    "BERTH_LISTEN",
    parseListen,
    (c, v) => {
      c.listen = v;
    },
    "Address the HTTP server binds: `host:port`, `[::1]:port`, `:port` (all interfaces) or a bare port (loopback).",
  ),
  setting(
    "data",
    "BERTH_DATA",
    parseNonEmptyString,
    (c, v) => {
      c.dataDir = v;
    },
    "Data directory holding the database, blobs and uploads; a relative path is resolved against the working directory.",
  ),
  setting(
    "logLevel",
    "BERTH_LOG_LEVEL",
    parseLogLevel,
    (c, v) => {
      c.logLevel = v;
    },
    "Least severe level logged: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent` (the access log is written at `info`, so `warn` turns it off).",
  ),
  setting(
    "log.format",
    "BERTH_LOG_FORMAT",
    oneOf(LOG_FORMATS),
    (c, v) => {
      c.logFormat = v;
    },
    "Format of the log on stdout: `json` (one JSON object per line), `pretty` (for people) or `auto` (pretty when stdout is a terminal, else JSON).",
  ),
  setting(
    "storage.driver",
    "BERTH_STORAGE_DRIVER",
    oneOf(["filesystem", "s3"] as const),
    (c, v) => {
      c.storage.driver = v;
    },
    "Blob storage driver: `filesystem` (under `storage.path`) or `s3` (an S3-compatible bucket, `storage.s3.*`, which several replicas can share).",
  ),
  ...s3Settings(),
  setting(
    "storage.path",
    "BERTH_STORAGE_PATH",
    parseNonEmptyString,
    (c, v) => {
      c.storage.path = v;
    },
    "Root of the filesystem driver, holding `blobs/` and `uploads/`; unset means the data directory.",
  ),
  setting(
    "storage.fsync",
    "BERTH_STORAGE_FSYNC",
    parseBoolean,
    (c, v) => {
      c.storage.fsync = v;
    },
    "Fsync every blob before acknowledging it; `false` still survives a killed process (the kernel keeps the written data) but not a power loss.",
  ),
  setting(
    "database.driver",
    "BERTH_DATABASE_DRIVER",
    oneOf(["sqlite", "postgres"] as const),
    (c, v) => {
      c.database.driver = v;
    },
    "Metadata database: `sqlite` (one file in the data directory) or `postgres` (which several replicas can share).",
  ),
  setting(
    "database.url",
    "BERTH_DATABASE_URL",
    parsePostgresUrl,
    (c, v) => {
      c.database.url = v;
    },
    "PostgreSQL connection URL such as `postgres://user:password@host:5432/berth`, required when `database.driver` is `postgres`.",
  ),
  setting(
    "database.poolSize",
    "BERTH_DATABASE_POOL_SIZE",
    parseCount,
    (c, v) => {
      c.database.poolSize = v;
    },
    "Most PostgreSQL connections one server process keeps open.",
  ),
  setting(
    "database.path",
    "BERTH_DATABASE_PATH",
    parseNonEmptyString,
    (c, v) => {
      c.database.path = v;
    },
    "SQLite database file; unset means `berth.db` in the data directory.",
  ),
  setting(
    "uploads.purgeAfter",
    "BERTH_UPLOAD_PURGE_AFTER",
    parseDuration,
    (c, v) => {
      c.uploads.purgeAfterMs = v;
    },
    "Upload sessions untouched for this long are deleted with their data.",
  ),
  setting(
    "uploads.purgeInterval",
    "BERTH_UPLOAD_PURGE_INTERVAL",
    parseDuration,
    (c, v) => {
      c.uploads.purgeIntervalMs = v;
    },
    "How often the purge of abandoned upload sessions runs.",
  ),
  setting(
    "manifests.maxBytes",
    "BERTH_MAX_MANIFEST_BYTES",
    parseByteSize,
    (c, v) => {
      c.manifests.maxBytes = v;
    },
    "Largest manifest accepted; a larger PUT gets `413 SIZE_INVALID`.",
  ),
  setting(
    "manifests.cacheEntries",
    "BERTH_MANIFEST_CACHE_ENTRIES",
    parseCount,
    (c, v) => {
      c.manifests.cacheEntries = v;
    },
    "Entries in the in-memory LRU of manifests by digest (`0` disables it; do so when several replicas share one database and manifests are deleted).",
  ),
  setting(
    "delete.enabled",
    "BERTH_DELETE_ENABLED",
    parseBoolean,
    (c, v) => {
      c.deleteEnabled = v;
    },
    "Allow `DELETE` of manifests, tags and blobs (`405 UNSUPPORTED` when off).",
  ),
  setting(
    "shutdown.drainTimeout",
    "BERTH_DRAIN_TIMEOUT",
    parseDuration,
    (c, v) => {
      c.drainTimeoutMs = v;
    },
    "On SIGTERM, how long in-flight requests may take before their connections are closed.",
  ),
  setting(
    "http.keepAliveTimeout",
    "BERTH_KEEPALIVE_TIMEOUT",
    parseDuration,
    (c, v) => {
      c.keepAliveTimeoutMs = v;
    },
    "How long an idle keep-alive connection is held open.",
  ),
  setting(
    "auth.mode",
    "BERTH_AUTH",
    oneOf(["token", "none"] as const),
    (c, v) => {
      c.auth.mode = v;
    },
    "`token`: users, projects and Docker token authentication; `none`: an open registry without accounts.",
  ),
  setting(
    "auth.service",
    "BERTH_AUTH_SERVICE",
    parseNonEmptyString,
    (c, v) => {
      c.auth.service = v;
    },
    "The `service` named in authentication challenges and the tokens' audience.",
  ),
  setting(
    "auth.publicUrl",
    "BERTH_PUBLIC_URL",
    parseNonEmptyString,
    (c, v) => {
      c.auth.publicUrl = v;
    },
    "Base URL clients use (`https://registry.example.com`), for the token realm; unset means derived from each request's `Host` header.",
  ),
  setting(
    "auth.tokenTtl",
    "BERTH_TOKEN_TTL",
    parseDuration,
    (c, v) => {
      c.auth.tokenTtlMs = v;
    },
    "Lifetime of registry access tokens.",
  ),
  setting(
    "auth.autoCreateProjects",
    "BERTH_AUTO_CREATE_PROJECTS",
    parseBoolean,
    (c, v) => {
      c.auth.autoCreateProjects = v;
    },
    "Let system administrators' pushes create projects that do not exist yet.",
  ),
  setting(
    "auth.secretKey",
    "BERTH_AUTH_SECRET_KEY",
    parseSecretKey,
    (c, v) => {
      c.auth.secretKey = v;
    },
    "Base64 of 32 random bytes (`openssl rand -base64 32`), the same on every replica: the token signing keys are then kept in the database, sealed with it, so a token issued by one replica is accepted by all; empty keeps one key in DATA/auth/token-signing-key.pem.",
  ),
  setting(
    "auth.htpasswd",
    "BERTH_AUTH_HTPASSWD_PATH",
    parseNonEmptyString,
    (c, v) => {
      c.auth.htpasswdPath = v;
    },
    "An htpasswd file (bcrypt entries) used as an extra source of users; unset means none.",
  ),
  setting(
    "auth.pullAuditFlushInterval",
    "BERTH_PULL_AUDIT_FLUSH_INTERVAL",
    (value) => {
      const ms = parseDuration(value);
      if (ms > 3600_000) throw new Error(`must be at most 1h, got ${JSON.stringify(value)}`);
      return ms;
    },
    (c, v) => {
      c.auth.pullAuditFlushMs = v;
    },
    "Pull audit records (one per manifest GET) are kept in memory and written together this often, or once 500 are waiting; at most 20,000 wait (a stalled database drops the newest, logged). Shutdown (SIGTERM/SIGINT) writes them; a killed process (SIGKILL) or power failure loses at most this interval of pull records. Push, delete, login and management records are always written at once. `0` writes each pull record on its own.",
  ),
  setting(
    "tls.cert",
    "BERTH_TLS_CERT",
    parseNonEmptyString,
    (c, v) => {
      c.tls.cert = v;
    },
    "PEM certificate chain (server certificate first) to serve HTTPS with; reloaded on SIGHUP.",
  ),
  setting(
    "tls.key",
    "BERTH_TLS_KEY",
    parseNonEmptyString,
    (c, v) => {
      c.tls.key = v;
    },
    "PEM private key of tls.cert; reloaded on SIGHUP.",
  ),
  setting(
    "jobs.workers",
    "BERTH_JOBS_WORKERS",
    parseCount,
    (c, v) => {
      c.jobs.workers = v;
    },
    "How many background jobs (GC, …) this process runs at once; 0 makes it run none.",
  ),
  setting(
    "jobs.pollInterval",
    "BERTH_JOBS_POLL_INTERVAL",
    parseDuration,
    (c, v) => {
      c.jobs.pollIntervalMs = v;
    },
    "How often idle workers look for due jobs in the database.",
  ),
  setting(
    "jobs.lease",
    "BERTH_JOBS_LEASE",
    parseDuration,
    (c, v) => {
      c.jobs.leaseMs = v;
    },
    "How long a running job stays claimed without a heartbeat; a killed worker's job is retried after it.",
  ),
  setting(
    "scan.dbDir",
    "BERTH_DB_DIR",
    parseNonEmptyString,
    (c, v) => {
      c.scan.dbDir = v;
    },
    "The server's vulnerability database directory (what `berth db import --db-dir` writes); default DATA/vulndb.",
  ),
  setting(
    "scan.rescanSchedule",
    "BERTH_SCAN_RESCAN_SCHEDULE",
    parseCronOrEmpty,
    (c, v) => {
      c.scan.rescanSchedule = v;
    },
    "Cron expression for rescanning artifacts whose report was made with an older vulnerability database; empty means never.",
  ),
  setting(
    "gc.grace",
    "BERTH_GC_GRACE",
    parseDuration,
    (c, v) => {
      c.gc.graceMs = v;
    },
    "Garbage collection keeps unreferenced blob links and untagged manifests younger than this (0 for tests).",
  ),
  setting(
    "trash.keep",
    "BERTH_TRASH_KEEP",
    parseDuration,
    (c, v) => {
      c.trash.keepMs = v;
    },
    "How long deleted artifacts and tags stay in the trash, restorable, before the hourly purge removes them for good (their blobs then go at the next garbage collection); 0 disables the trash: deletes are final at once.",
  ),
  setting(
    "gc.schedule",
    "BERTH_GC_SCHEDULE",
    parseCronOrEmpty,
    (c, v) => {
      c.gc.schedule = v;
    },
    'Cron expression (e.g. "0 3 * * *") for scheduled garbage collection; empty means no schedule.',
  ),
  setting(
    "scan.dbRepository",
    "BERTH_SCAN_DB_REPOSITORY",
    parseRepositoryReference,
    (c, v) => {
      c.scan.dbRepository = v;
    },
    "`REGISTRY/REPO:TAG` of a vulnerability database pushed with `berth db push`: the server fetches it at start and every `scan.dbUpdateInterval` into `scan.dbDir`, verified and atomically replaced; empty means none.",
  ),
  setting(
    "scan.dbUpdateInterval",
    "BERTH_SCAN_DB_UPDATE_INTERVAL",
    parseDuration,
    (c, v) => {
      c.scan.dbUpdateIntervalMs = v;
    },
    "How often the server checks `scan.dbRepository` for a new database (a HEAD request; the download happens only when the digest changed); 0 means only at start.",
  ),
  setting(
    "scan.dbRepositoryAuthFile",
    "BERTH_SCAN_DB_REPOSITORY_AUTH_FILE",
    parseNonEmptyString,
    (c, v) => {
      c.scan.dbRepositoryAuthFile = v;
    },
    "Credentials file (docker/podman `auth.json` format) for the registry of `scan.dbRepository`; unset means the standard docker and podman files.",
  ),
  setting(
    "scan.dbRepositoryKey",
    "BERTH_SCAN_DB_REPOSITORY_KEY",
    parseNonEmptyString,
    (c, v) => {
      c.scan.dbRepositoryKey = v;
    },
    "A cosign public key file (`berth key generate`): the database fetched from `scan.dbRepository` must carry a signature by it (`berth db push --key`), or it is refused and the current database stays; unset means no signature check.",
  ),
  setting(
    "scan.dbRepositoryCaFile",
    "BERTH_SCAN_DB_REPOSITORY_CA_FILE",
    parseNonEmptyString,
    (c, v) => {
      c.scan.dbRepositoryCaFile = v;
    },
    "An extra CA certificate (PEM file) trusted for the registry of `scan.dbRepository`; unset means the system CAs only.",
  ),
  setting(
    "scan.dbRepositoryInsecure",
    "BERTH_SCAN_DB_REPOSITORY_INSECURE",
    parseBoolean,
    (c, v) => {
      c.scan.dbRepositoryInsecure = v;
    },
    "Skip TLS verification (and fall back to plain HTTP) for the registry of `scan.dbRepository`; loopback hosts always allow plain HTTP.",
  ),
  setting(
    "jobs.retryBackoff",
    "BERTH_JOBS_RETRY_BACKOFF",
    parseDuration,
    (c, v) => {
      c.jobs.retryBackoffMs = v;
    },
    "First delay before a failed job (e.g. a webhook delivery) runs again; doubled per attempt, at most 1 h.",
  ),
  setting(
    "metrics.enabled",
    "BERTH_METRICS_ENABLED",
    parseBoolean,
    (c, v) => {
      c.metrics.enabled = v;
    },
    "Serve Prometheus metrics at /metrics (system administrators on the main listener).",
  ),
  setting(
    "metrics.listen",
    "BERTH_METRICS_LISTEN",
    parseListenOrEmpty,
    (c, v) => {
      c.metrics.listen = v;
    },
    "The host:port of a second listener serving /metrics to anyone who can reach it (no authentication); empty means none.",
  ),
  setting(
    "webhooks.timeout",
    "BERTH_WEBHOOKS_TIMEOUT",
    parseDuration,
    (c, v) => {
      c.webhooks.timeoutMs = v;
    },
    "How long a webhook delivery waits for the receiver's answer before the attempt fails.",
  ),
  setting(
    "webhooks.maxAttempts",
    "BERTH_WEBHOOKS_MAX_ATTEMPTS",
    parsePositiveCount,
    (c, v) => {
      c.webhooks.maxAttempts = v;
    },
    "Attempts per webhook delivery (retried with the jobs' backoff) before it is marked failed.",
  ),
  setting(
    "webhooks.disableAfter",
    "BERTH_WEBHOOKS_DISABLE_AFTER",
    parseCount,
    (c, v) => {
      c.webhooks.disableAfter = v;
    },
    "Consecutive failed delivery attempts after which a webhook target is disabled; 0 never disables.",
  ),
  setting(
    "webhooks.allowPrivateTargets",
    "BERTH_WEBHOOKS_ALLOW_PRIVATE_TARGETS",
    parseBoolean,
    (c, v) => {
      c.webhooks.allowPrivateTargets = v;
    },
    "Allow webhook URLs that resolve to loopback, private or link-local addresses (off: SSRF guard).",
  ),
  setting(
    "webhooks.secretKey",
    "BERTH_WEBHOOKS_SECRET_KEY",
    parseSecretKey,
    (c, v) => {
      c.webhooks.secretKey = v;
    },
    "Base64 of 32 random bytes sealing webhook secrets in the database (same on every replica); empty uses DATA/webhook-secrets.key.",
  ),
  setting(
    "proxy.upstreamTimeout",
    "BERTH_PROXY_UPSTREAM_TIMEOUT",
    parseDuration,
    (c, v) => {
      c.proxy.upstreamTimeoutMs = v;
    },
    "How long a proxy-cache project waits for its upstream to connect and answer before it serves the cached copy (marked stale).",
  ),
  setting(
    "scrub.schedule",
    "BERTH_SCRUB_SCHEDULE",
    parseCronOrEmpty,
    (c, v) => {
      c.scrub.schedule = v;
    },
    'Cron expression (e.g. "0 4 * * 0") for the scrub, a scheduled fsck that reads every blob and repairs nothing; empty (the default) means no schedule.',
  ),
];

/** The `storage.s3.*` settings (each also `BERTH_S3_*`). */
function s3Settings(): Setting[] {
  type S3 = BerthConfig["storage"]["s3"];
  const text = <K extends keyof S3>(
    name: K & string,
    env: string,
    description: string,
    parse: (value: unknown) => S3[K] = parseStringOrEmpty as (value: unknown) => S3[K],
  ) =>
    setting(
      `storage.s3.${name}`,
      `BERTH_S3_${env}`,
      parse,
      (c, v) => {
        c.storage.s3[name] = v;
      },
      description,
    );
  return [
    text(
      "endpoint",
      "ENDPOINT",
      "S3 endpoint URL such as `https://s3.example.com` or `http://127.0.0.1:7480` (Ceph RGW, MinIO); empty means AWS's endpoint for `storage.s3.region`.",
      parseHttpUrlOrEmpty,
    ),
    text(
      "region",
      "REGION",
      "S3 region (signing region; any value for most S3-compatible engines).",
    ),
    text(
      "bucket",
      "BUCKET",
      "Bucket holding blobs and uploads; required when `storage.driver` is `s3`. It must exist.",
    ),
    text(
      "prefix",
      "PREFIX",
      "Key prefix inside the bucket, so several registries can share one bucket; empty means the bucket's root.",
    ),
    text(
      "forcePathStyle",
      "FORCE_PATH_STYLE",
      "Address the bucket as `endpoint/bucket/key` instead of `bucket.endpoint/key` (needed by most S3-compatible engines).",
      parseBoolean,
    ),
    text(
      "accessKeyId",
      "ACCESS_KEY_ID",
      "Static access key; empty (with an empty secret) means the AWS SDK's default chain: `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, shared profile, web identity, instance role.",
    ),
    text(
      "secretAccessKey",
      "SECRET_ACCESS_KEY",
      "Static secret key, set together with `storage.s3.accessKeyId`; never logged. Prefer the environment variable over the config file.",
    ),
    text(
      "redirect",
      "REDIRECT",
      "Answer blob GETs with a 307 redirect to a presigned URL, so the bytes go from the bucket to the client without passing through Berth (the client must reach the endpoint).",
      parseBoolean,
    ),
    setting(
      "storage.s3.redirectExpiry",
      "BERTH_S3_REDIRECT_EXPIRY",
      parseDuration,
      (c, v) => {
        c.storage.s3.redirectExpiryMs = v;
      },
      "Lifetime of a presigned redirect URL (`storage.s3.redirect`).",
    ),
    text(
      "storageClass",
      "STORAGE_CLASS",
      "Storage class of new objects (`STANDARD`, `STANDARD_IA`, …); empty means the bucket's default.",
    ),
    text(
      "serverSideEncryption",
      "SSE",
      "Server-side encryption of new objects: `AES256` or `aws:kms`; empty requests none (the bucket's default applies).",
      oneOf(["", "AES256", "aws:kms"] as const),
    ),
    text(
      "sseKmsKeyId",
      "SSE_KMS_KEY_ID",
      "KMS key id for `aws:kms`; empty means the account's default key.",
    ),
    text(
      "caFile",
      "CA_FILE",
      "PEM file of an extra CA certificate trusted for an `https` endpoint; empty means the system's CAs.",
    ),
  ];
}

function parseStringOrEmpty(value: unknown): string {
  if (typeof value !== "string") throw new Error("must be a string");
  return value.trim();
}

function parseHttpUrlOrEmpty(value: unknown): string {
  const text = parseStringOrEmpty(value);
  if (text === "") return "";
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error("must be a URL such as https://s3.example.com");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new Error("must be an http:// or https:// URL");
  if (url.username || url.password) throw new Error("must not carry credentials (use accessKeyId)");
  return text.replace(/\/+$/, "");
}

/** A listen address, or "" for none. */
function parseListenOrEmpty(value: unknown): string {
  if (value === "") return "";
  return parseListen(value);
}

function parsePositiveCount(value: unknown): number {
  const n = parseCount(value);
  if (n < 1) throw new Error("must be at least 1");
  return n;
}

function parseSecretKey(value: unknown): string {
  if (typeof value !== "string") throw new Error("must be base64 of 32 bytes");
  if (value === "") return "";
  if (Buffer.from(value, "base64").length !== 32) throw new Error("must be base64 of 32 bytes");
  return value;
}

/** `REGISTRY/REPO:TAG` or `REGISTRY/REPO@DIGEST`, or "" for none. */
function parseRepositoryReference(value: unknown): string {
  if (typeof value !== "string")
    throw new Error("must be a reference such as registry.example/db/osv:latest");
  const text = value.trim();
  if (text === "") return "";
  try {
    parseImageReference(text);
  } catch (err) {
    throw new Error(
      `must be a reference such as registry.example/db/osv:latest (${(err as Error).message})`,
    );
  }
  return text;
}

/** A cron expression for croner (5 or 6 fields), or "" for none. */
function parseCronOrEmpty(value: unknown): string {
  if (typeof value !== "string") throw new Error("must be a cron expression such as 0 3 * * *");
  const text = value.trim();
  if (text === "") return "";
  try {
    new Cron(text, { paused: true, mode: "5-or-6-parts" }).stop();
  } catch (err) {
    throw new Error(
      `must be a cron expression such as 0 3 * * * (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  return text;
}

export const MiB = 1024 * 1024;

/** The defaults, with data under `dataDir`. Paths left empty are derived from dataDir. */
export function defaultConfig(): BerthConfig {
  return {
    listen: "127.0.0.1:5000",
    dataDir: "./data",
    logLevel: "info",
    logFormat: "auto",
    storage: {
      driver: "filesystem",
      path: "",
      fsync: true,
      s3: {
        endpoint: "",
        region: "us-east-1",
        bucket: "",
        prefix: "",
        forcePathStyle: false,
        accessKeyId: "",
        secretAccessKey: "",
        redirect: false,
        redirectExpiryMs: 20 * 60_000,
        storageClass: "",
        serverSideEncryption: "",
        sseKmsKeyId: "",
        caFile: "",
      },
    },
    database: { driver: "sqlite", path: "", url: "", poolSize: 10 },
    uploads: { purgeAfterMs: 24 * 3600_000, purgeIntervalMs: 3600_000 },
    manifests: { maxBytes: 4 * MiB, cacheEntries: 2048 },
    deleteEnabled: true,
    drainTimeoutMs: 30_000,
    keepAliveTimeoutMs: 75_000,
    auth: {
      mode: "token",
      service: "berth",
      publicUrl: "",
      tokenTtlMs: 300_000,
      autoCreateProjects: false,
      htpasswdPath: "",
      pullAuditFlushMs: 1000,
      secretKey: "",
    },
    tls: { cert: "", key: "" },
    jobs: { workers: 2, pollIntervalMs: 1000, leaseMs: 60_000, retryBackoffMs: 5000 },
    gc: { graceMs: 2 * 3600_000, schedule: "" },
    scan: {
      dbDir: "",
      rescanSchedule: "*/10 * * * *",
      dbRepository: "",
      dbUpdateIntervalMs: 3600_000,
      dbRepositoryAuthFile: "",
      dbRepositoryKey: "",
      dbRepositoryCaFile: "",
      dbRepositoryInsecure: false,
    },
    metrics: { enabled: true, listen: "" },
    webhooks: {
      timeoutMs: 10_000,
      maxAttempts: 8,
      disableAfter: 20,
      allowPrivateTargets: false,
      secretKey: "",
    },
    proxy: { upstreamTimeoutMs: 10_000 },
    trash: { keepMs: 7 * 24 * 3600_000 },
    scrub: { schedule: "" },
  };
}

export interface LoadConfigOptions {
  /** Path of a YAML or JSON config file. */
  file?: string;
  /** Environment to read `BERTH_*` overrides from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Highest-precedence overrides by dotted key (command-line flags), e.g. `{ listen }`. */
  overrides?: Record<string, unknown>;
  /** Base for relative paths (default process.cwd()). */
  cwd?: string;
}

/** Loads, merges and validates the configuration; throws ConfigError on any bad setting. */
export function loadConfig(options: LoadConfigOptions = {}): BerthConfig {
  const env = options.env ?? process.env;
  const config = defaultConfig();
  const fileValues = options.file ? readConfigFile(options.file) : new Map<string, unknown>();
  for (const s of SETTINGS) {
    let raw: unknown;
    let source = "";
    if (options.overrides && options.overrides[s.key] !== undefined) {
      raw = options.overrides[s.key];
      source = `--${s.key}`;
    } else if (env[s.env] !== undefined && env[s.env] !== "") {
      raw = env[s.env];
      source = s.env;
    } else if (fileValues.has(s.key)) {
      raw = fileValues.get(s.key);
      source = `${s.key} in ${options.file}`;
    } else {
      continue;
    }
    try {
      s.apply(config, s.parse(raw));
    } catch (err) {
      const problem = err instanceof Error ? err.message : String(err);
      throw new ConfigError(`invalid setting ${s.key} (${source}): ${problem}`);
    }
  }
  checkCombinations(config);
  return resolvePaths(config, options.cwd ?? process.cwd());
}

/** Rules that involve more than one setting. */
function checkCombinations(config: BerthConfig): void {
  if (config.database.driver === "postgres" && !config.database.url) {
    throw new ConfigError(
      "invalid setting database.url (BERTH_DATABASE_URL): required when database.driver is postgres",
    );
  }
  const s3 = config.storage.s3;
  if (config.storage.driver === "s3" && !s3.bucket) {
    throw new ConfigError(
      "invalid setting storage.s3.bucket (BERTH_S3_BUCKET): required when storage.driver is s3",
    );
  }
  if ((s3.accessKeyId === "") !== (s3.secretAccessKey === "")) {
    const missing =
      s3.accessKeyId === ""
        ? "storage.s3.accessKeyId (BERTH_S3_ACCESS_KEY_ID)"
        : "storage.s3.secretAccessKey (BERTH_S3_SECRET_ACCESS_KEY)";
    throw new ConfigError(
      `invalid setting ${missing}: storage.s3.accessKeyId and storage.s3.secretAccessKey must be set together`,
    );
  }
  if ((config.tls.cert === "") !== (config.tls.key === "")) {
    const missing =
      config.tls.cert === "" ? "tls.cert (BERTH_TLS_CERT)" : "tls.key (BERTH_TLS_KEY)";
    throw new ConfigError(`invalid setting ${missing}: tls.cert and tls.key must be set together`);
  }
}

function resolvePaths(config: BerthConfig, cwd: string): BerthConfig {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  config.dataDir = abs(config.dataDir);
  config.storage.path = config.storage.path ? abs(config.storage.path) : config.dataDir;
  config.database.path = config.database.path
    ? abs(config.database.path)
    : resolve(config.dataDir, "berth.db");
  config.scan.dbDir = config.scan.dbDir
    ? abs(config.scan.dbDir)
    : resolve(config.dataDir, "vulndb");
  if (config.scan.dbRepositoryAuthFile)
    config.scan.dbRepositoryAuthFile = abs(config.scan.dbRepositoryAuthFile);
  if (config.storage.s3.caFile) config.storage.s3.caFile = abs(config.storage.s3.caFile);
  if (config.tls.cert) config.tls.cert = abs(config.tls.cert);
  if (config.tls.key) config.tls.key = abs(config.tls.key);
  return config;
}

function readConfigFile(file: string): Map<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
    throw new ConfigError(`cannot read config file ${file} (${code})`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message.split("\n")[0] : "syntax error";
    throw new ConfigError(`config file ${file} is not valid YAML or JSON: ${reason}`);
  }
  if (doc === null || doc === undefined) return new Map();
  if (!isPlainObject(doc)) throw new ConfigError(`config file ${file} must contain a mapping`);
  const values = new Map<string, unknown>();
  flatten(doc, "", values);
  const known = new Set(SETTINGS.map((s) => s.key));
  for (const key of values.keys()) {
    if (!known.has(key)) throw new ConfigError(`unknown setting ${key} in config file ${file}`);
  }
  return values;
}

function flatten(obj: Record<string, unknown>, prefix: string, out: Map<string, unknown>): void {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isPlainObject(v)) flatten(v, key, out);
    else out.set(key, v);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// --- parsers: each throws an Error whose message completes "invalid setting K: …" ---------

function parseNonEmptyString(value: unknown): string {
  if (typeof value !== "string" || value.trim() === "")
    throw new Error("must be a non-empty string");
  return value;
}

function oneOf<T extends string>(choices: readonly T[]): (value: unknown) => T {
  return (value) => {
    if (typeof value === "string" && (choices as readonly string[]).includes(value)) {
      return value as T;
    }
    throw new Error(`must be one of ${choices.join(", ")}, got ${JSON.stringify(value)}`);
  };
}

function parseLogLevel(value: unknown): LogLevel {
  return oneOf(LOG_LEVELS)(value);
}

/** `host:port`, `[v6]:port`, `:port` (all interfaces) or a bare port. */
export function parseListen(value: unknown): string {
  const text = typeof value === "number" ? String(value) : value;
  if (typeof text !== "string") throw new Error("must be host:port");
  const { port } = splitListen(text);
  if (!/^\d+$/.test(port) || Number(port) > 65535) {
    throw new Error(`must be host:port with a port from 0 to 65535, got "${text}"`);
  }
  return text;
}

export function splitListen(listen: string): { host: string; port: string } {
  if (/^\d+$/.test(listen)) return { host: "127.0.0.1", port: listen };
  const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(listen);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2]! };
  const colon = listen.lastIndexOf(":");
  if (colon === -1) return { host: listen, port: "" };
  return { host: listen.slice(0, colon) || "0.0.0.0", port: listen.slice(colon + 1) };
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3600_000,
  d: 86400_000,
};

/** `1500` (ms), `30s`, `15m`, `24h`, `7d`, or combinations such as `1h30m`. */
export function parseDuration(value: unknown): number {
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === "string") {
    if (/^\d+$/.test(value)) return Number(value);
    const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
    if (parts.length > 0 && parts.map((p) => p[0]).join("") === value) {
      return Math.round(parts.reduce((t, p) => t + Number(p[1]) * DURATION_UNITS[p[2]!]!, 0));
    }
  }
  throw new Error(`must be a duration such as 30s, 15m or 24h, got ${JSON.stringify(value)}`);
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1000,
  kb: 1000,
  kib: 1024,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1000 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/** A positive byte count: `4194304`, `4MiB`, `512kB`. */
export function parseByteSize(value: unknown): number {
  let bytes = Number.NaN;
  if (typeof value === "number") bytes = value;
  else if (typeof value === "string") {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
    const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
    if (m && unit !== undefined) bytes = Math.floor(Number(m[1]) * unit);
  }
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new Error(`must be a positive size such as 4MiB, got ${JSON.stringify(value)}`);
  }
  return bytes;
}

function parsePostgresUrl(value: unknown): string {
  const text = parseNonEmptyString(value);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error("must be a URL such as postgres://user:password@host:5432/berth");
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new Error("must be a postgres:// URL");
  }
  return text;
}

function parseCount(value: unknown): number {
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw new Error(`must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return n;
}

function parseBoolean(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new Error(`must be true or false, got ${JSON.stringify(value)}`);
}
