// Composition root of the Berth server: builds storage, metadata, the registry's services
// and one node:http server, and starts listening. Nothing else wires these pieces.
//
// Request flow: `/v2/…`, `/healthz` and `/readyz` are handled by the registry's hand-written
// router on the raw request/response streams (no framework buffering on the data path).
// Every other path goes to a Fastify instance, which other modules fill through plugins.
// One pino access-log line per request (method, path, status, duration, request id; never
// headers, so never Authorization). `X-Request-Id` is honoured when sane, else generated,
// and echoed on the response.
//
// Extension points (for auth/, api/, policy/, jobs/):
//   startServer(config, {
//     access:    AccessController | (ctx) => AccessController,   // default OpenAccess
//     admission: Admission | (ctx) => Admission,                 // default admit all
//     plugins:   [async (app: FastifyInstance, ctx: ServerContext) => { app.get(...) }],
//   })
// Plugins run at Fastify's root scope before the server listens (use app.register inside
// for encapsulation). ctx.events is the RegistryEvents emitter (blob.committed,
// manifest.pushed, …); ctx.db is the Kysely database; ctx.store the BlobStore.
//
// TLS (tls.cert/tls.key): the same handler behind one HTTP/2 + HTTP/1.1 secure server
// (src/tls-server.ts); reloadTls() swaps the certificate for new handshakes (SIGHUP).
//
// Shutdown (close()): stop accepting, answer new requests on open connections with
// `Connection: close`, let in-flight requests finish for up to drainTimeout, then close the
// remaining connections, stop timers, flush pull times and close the database.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname } from "node:path";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import { type AccessController, OpenAccess } from "./auth/access.js";
import { type BerthConfig, splitListen } from "./config/config.js";
import { answerFrameworkError, errorBody, installFallbacks, pathOf } from "./http/fallback.js";
import { createJobs, type Jobs } from "./jobs/index.js";
import { registerLifecycleJobs } from "./jobs/lifecycle.js";
import { startVulnDbUpdater } from "./jobs/vulndb-updater.js";
import { createLogger as createOperatorLog } from "./logging/logger.js";
import {
  type Cluster,
  clusterOf,
  type DatabaseSettings,
  type MetaDatabase,
  openDatabase,
  PullTimes,
} from "./meta/index.js";
import { handleMetricsRequest, startMetricsListener } from "./metrics/endpoint.js";
import { measureRequest, tagRoute } from "./metrics/http.js";
import { bindMetricsDatabase, countRegistryEvents, observeJob } from "./metrics/registry.js";
import {
  ADMIT_ALL,
  type Admission,
  handleRegistryRequest,
  ManifestCache,
  type RegistryContext,
  RegistryEvents,
  UploadSessions,
} from "./registry/index.js";
import type { PullThrough } from "./registry/pull-through.js";
import { ensurePrivateDir, formatMode, looseModes } from "./storage/fs/data-dir.js";
import { createBlobStore } from "./storage/index.js";
import { createSecureHttpServer, type SecureHttpServer } from "./tls-server.js";

/** Everything a plugin or hook factory may use. */
export interface ServerContext extends RegistryContext {
  readonly meta: MetaDatabase;
  /** Background jobs: queue, workers, scheduler, outbox (src/jobs, docs/lifecycle.md). */
  readonly jobs: Jobs;
}

/** The services available before access and admission are chosen. */
export type ServerBase = Omit<ServerContext, "access" | "admission" | "pullThrough">;

export type ServerPlugin = (app: FastifyInstance, ctx: ServerContext) => Promise<void> | void;

export interface StartServerOptions {
  access?: AccessController | ((ctx: ServerBase) => AccessController | Promise<AccessController>);
  admission?: Admission | ((ctx: ServerBase) => Admission | Promise<Admission>);
  /** Proxy-cache projects' pull-through (src/proxy); none by default. */
  pullThrough?: (ctx: ServerBase) => PullThrough | Promise<PullThrough>;
  plugins?: ServerPlugin[];
  /** A logger to use instead of one built from config.logLevel (tests pass a silent one). */
  logger?: Logger;
}

export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:5000`. */
  readonly url: string;
  readonly port: number;
  readonly context: ServerContext;
  close(): Promise<void>;
  /** Re-reads tls.cert/tls.key for new handshakes (SIGHUP); false when TLS is off. */
  reloadTls(): Promise<boolean>;
}

/** The operator's log (src/logging/logger.ts): one format on stdout, flushed every second. */
export function createLogger(
  level: BerthConfig["logLevel"],
  format: BerthConfig["logFormat"] = "json",
): Logger {
  return createOperatorLog(level, format);
}

export async function startServer(
  config: BerthConfig,
  options: StartServerOptions = {},
): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel, config.logFormat);
  await ensurePrivateDir(config.dataDir);
  const store = createBlobStore(config.storage);
  await store.init();
  const meta = await openDatabase(await databaseSettings(config));
  await warnAboutLooseModes(config, logger);
  const events = new RegistryEvents((err) => logger.error({ err }, "event listener failed"));
  const pullTimes = new PullTimes(meta.db, 5000, (err) =>
    logger.error({ err }, "recording pull times failed"),
  );
  const base: ServerBase = {
    config,
    meta,
    db: meta.db,
    store,
    events,
    logger,
    manifestCache: joinedManifestCache(config.manifests.cacheEntries, clusterOf(meta.db)),
    uploads: new UploadSessions(meta.db, store, logger),
    pullTimes,
    jobs: createJobs(meta.db, logger, {
      run: config.jobs.workers > 0,
      workers: {
        concurrency: config.jobs.workers,
        pollMs: config.jobs.pollIntervalMs,
        leaseMs: config.jobs.leaseMs,
        backoffMs: config.jobs.retryBackoffMs,
        onFinished: observeJob,
      },
    }),
  };
  if (config.metrics.enabled) {
    bindMetricsDatabase(meta.db);
    countRegistryEvents(events);
  }
  await registerLifecycleJobs({
    ...base,
    evictManifest: (repository, digest) => base.manifestCache.evict(repository, digest),
  });
  const access = await resolveHook(options.access, base, () => new OpenAccess());
  const admission = await resolveHook(options.admission, base, () => ADMIT_ALL);
  const pullThrough = options.pullThrough ? await options.pullThrough(base) : undefined;
  const ctx: ServerContext = {
    ...base,
    access,
    admission,
    ...(pullThrough ? { pullThrough } : {}),
  };

  let closing = false;
  let fastifyHandler: (req: IncomingMessage, res: ServerResponse) => void = () => {};
  // HTTPS (HTTP/2 + HTTP/1.1) when tls.cert/tls.key are set (src/tls-server.ts), else HTTP.
  const secure = config.tls.cert
    ? await createSecureHttpServer(config.tls, (req, res) => dispatch(req, res))
    : undefined;
  const server =
    (secure?.server as unknown as Server | undefined) ??
    createServer({ keepAlive: true, highWaterMark: 1024 * 1024 }, (req, res) => {
      dispatch(req, res);
    });
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  // Node requires headersTimeout > keepAliveTimeout for reused connections to be safe.
  server.headersTimeout = config.keepAliveTimeoutMs + 5_000;
  // Large blobs over slow links take long; the header timeout guards against slowloris.
  server.requestTimeout = 0;

  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // The access log is written once per request in dispatch(), for every path.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: "x-request-id",
    frameworkErrors: answerFrameworkError,
    serverFactory: (handler) => {
      fastifyHandler = handler;
      return server;
    },
  });
  installFallbacks(app);
  if (config.metrics.enabled)
    app.addHook("onRequest", async (request) => tagRoute(request.raw, request.routeOptions.url));
  for (const plugin of options.plugins ?? []) await plugin(app, ctx);
  await app.ready();

  function dispatch(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const requestId = requestIdOf(req);
    const remoteAddress = req.socket.remoteAddress ?? "";
    res.setHeader("X-Request-Id", requestId);
    // HTTP/2 has no Connection header (a closing server sends GOAWAY instead).
    if (closing && req.httpVersionMajor < 2) res.setHeader("Connection", "close");
    if (logger.isLevelEnabled("info")) {
      res.once("close", () => {
        logger.info(
          {
            reqId: requestId,
            method: req.method,
            url: req.url,
            status: res.statusCode,
            ms: Math.round((performance.now() - started) * 10) / 10,
            remote: remoteAddress,
            aborted: !res.writableFinished || undefined,
          },
          "request",
        );
      });
    }
    // HTTP/2 names the host `:authority`; everything downstream reads `host`.
    const authority = req.headers[":authority"];
    if (req.headers.host === undefined && typeof authority === "string") {
      req.headers.host = authority;
    }
    // Routing looks at the path only: a query string never changes which handler answers.
    const path = pathOf(req.url ?? "/");
    if (config.metrics.enabled) measureRequest(req, res, path);
    if (path === "/v2" || path.startsWith("/v2/")) {
      void handleRegistryRequest(ctx, req, res, { requestId, remoteAddress });
    } else if (path === "/metrics" && config.metrics.enabled) {
      void handleMetricsRequest(req, res, ctx.access);
    } else if ((path === "/healthz" || path === "/readyz") && !isReadMethod(req.method)) {
      sendStatus(res, 405, errorBody("METHOD_NOT_ALLOWED", `${path} answers GET and HEAD only`), {
        Allow: "GET, HEAD",
      });
    } else if (path === "/healthz") {
      sendStatus(res, 200, { status: "ok" });
    } else if (path === "/readyz") {
      void readiness(res);
    } else {
      req.headers["x-request-id"] = requestId;
      fastifyHandler(req, res);
    }
  }

  async function readiness(res: ServerResponse): Promise<void> {
    if (closing) {
      sendStatus(res, 503, { status: "shutting down" });
      return;
    }
    try {
      await meta.check();
      await store.check();
      sendStatus(res, 200, { status: "ready" });
    } catch (err) {
      logger.warn({ err }, "readiness check failed");
      sendStatus(res, 503, { status: "not ready" });
    }
  }

  const { host, port } = splitListen(config.listen);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port: Number(port) }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const metricsServer =
    config.metrics.enabled && config.metrics.listen
      ? await startMetricsListener(
          splitListen(config.metrics.listen).host,
          Number(splitListen(config.metrics.listen).port),
        )
      : undefined;
  base.uploads.startPurging(config.uploads.purgeAfterMs, config.uploads.purgeIntervalMs);
  pullTimes.start();
  base.jobs.start();
  // scan.dbRepository: keep this process's vulnerability database current (per replica).
  const vulnDbUpdater = startVulnDbUpdater(config.scan, logger);
  const address = server.address() as AddressInfo;
  const url = `${secure ? "https" : "http"}://${formatHost(address.address)}:${address.port}`;
  logger.info(
    { url, data: config.dataDir, tls: secure !== undefined },
    `berth registry listening on ${url}`,
  );
  // Start-up lines (warnings included) reach the operator now, not when the buffer fills.
  logger.flush();

  let closed: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    context: ctx,
    close() {
      closing = true;
      vulnDbUpdater?.stop();
      secure?.closeSessions();
      metricsServer?.close();
      metricsServer?.closeAllConnections();
      closed ??= shutdown(server, app, ctx, config.drainTimeoutMs, secure);
      return closed;
    },
    async reloadTls() {
      if (!secure) return false;
      await secure.reload();
      logger.info({ cert: config.tls.cert }, "TLS certificate reloaded");
      return true;
    },
  };
}

async function shutdown(
  server: Server,
  app: FastifyInstance,
  ctx: ServerContext,
  drainTimeoutMs: number,
  secure?: SecureHttpServer,
): Promise<void> {
  const drained = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const sweeper = setInterval(() => server.closeIdleConnections(), 100);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      ctx.logger.warn("drain timeout reached; closing remaining connections");
      if (secure) secure.closeAllConnections();
      else server.closeAllConnections();
      resolve();
    }, drainTimeoutMs);
  });
  await Promise.race([drained, timedOut]);
  clearInterval(sweeper);
  clearTimeout(timer);
  ctx.uploads.stopPurging();
  await ctx.jobs.stop();
  await ctx.pullTimes.stop();
  await app.close();
  await ctx.meta.close();
  ctx.logger.info("berth registry stopped");
  ctx.logger.flush();
}

async function databaseSettings(config: BerthConfig): Promise<DatabaseSettings> {
  const { driver, path, url, poolSize } = config.database;
  if (driver === "postgres") return { driver, url, poolSize };
  if (path !== ":memory:") await ensurePrivateDir(dirname(path));
  return { driver, path };
}

/** One warning per data path (directory or top-level entry) other local users may open. */
async function warnAboutLooseModes(config: BerthConfig, logger: Logger): Promise<void> {
  const dirs = new Set([config.dataDir, config.storage.path]);
  for (const dir of dirs) {
    for (const { path, mode } of await looseModes(dir)) {
      logger.warn(
        { path, mode: formatMode(mode) },
        `${path} has mode ${formatMode(mode)}: other local users may read it (chmod go-rwx)`,
      );
    }
  }
}

async function resolveHook<T extends object>(
  option: T | ((ctx: ServerBase) => T | Promise<T>) | undefined,
  base: ServerBase,
  fallback: () => T,
): Promise<T> {
  if (option === undefined) return fallback();
  if (typeof option === "function") return (option as (ctx: ServerBase) => T | Promise<T>)(base);
  return option;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function requestIdOf(req: IncomingMessage): string {
  const given = req.headers["x-request-id"];
  return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
}

function isReadMethod(method: string | undefined): boolean {
  return method === "GET" || method === "HEAD";
}

function sendStatus(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(text);
}

function formatHost(address: string): string {
  if (address === "0.0.0.0" || address === "::") return "127.0.0.1";
  return address.includes(":") ? `[${address}]` : address;
}

function joinedManifestCache(entries: number, cluster: Cluster): ManifestCache {
  const cache = new ManifestCache(entries);
  cache.join(cluster);
  return cache;
}
