// Berth's Prometheus metrics: one prom-client registry per process, the metric objects the
// rest of Berth increments (counters are cheap: a label lookup and an add; nothing here
// allocates per request beyond that), and gauges computed at scrape time from the metadata
// database (storage by project, open upload sessions, job queue depth, GC totals). Scrapes
// are served by endpoint.ts. Label values are bounded: route templates, never raw paths;
// projects (an administrator-made set), job kinds, HTTP methods and status codes.
// Never: label with a repository, a tag, a digest, a user name or a raw URL.
import type { Kysely } from "kysely";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Database } from "../meta/index.js";
import { projectOf } from "../oci/index.js";
import type { RegistryEvents } from "../registry/events.js";

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: "berth_" });

export const httpRequests = new Counter({
  name: "berth_http_requests_total",
  help: "HTTP requests answered, by route template, method and status code.",
  labelNames: ["route", "method", "status"] as const,
  registers: [registry],
});

export const httpDuration = new Histogram({
  name: "berth_http_request_duration_seconds",
  help: "Time from the request's arrival to the end of its response, by route template and method.",
  labelNames: ["route", "method"] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

export const httpBytesIn = new Counter({
  name: "berth_http_request_bytes_total",
  help: "Bytes received in request bodies, by route template.",
  labelNames: ["route"] as const,
  registers: [registry],
});

export const httpBytesOut = new Counter({
  name: "berth_http_response_bytes_total",
  help: "Bytes sent in responses (headers included), by route template.",
  labelNames: ["route"] as const,
  registers: [registry],
});

export const pushes = new Counter({
  name: "berth_pushes_total",
  help: "Manifests pushed, by project.",
  labelNames: ["project"] as const,
  registers: [registry],
});

export const pulls = new Counter({
  name: "berth_pulls_total",
  help: "Manifests pulled (GET), by project.",
  labelNames: ["project"] as const,
  registers: [registry],
});

export const jobDuration = new Histogram({
  name: "berth_job_duration_seconds",
  help: "Run time of background job attempts in this process, by kind and outcome.",
  labelNames: ["kind", "outcome"] as const,
  buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800, 3600],
  registers: [registry],
});

export const webhookDeliveries = new Counter({
  name: "berth_webhook_deliveries_total",
  help: "Webhook delivery attempts by outcome (succeeded, retried, failed, skipped).",
  labelNames: ["outcome"] as const,
  registers: [registry],
});

export const replicationBytes = new Counter({
  name: "berth_replication_bytes_total",
  help: "Blob bytes transferred by replication, by direction (push: to a remote, pull: from one).",
  labelNames: ["direction"] as const,
  registers: [registry],
});

export const replicationTasks = new Counter({
  name: "berth_replication_artifacts_total",
  help: "Artifacts handled by replication, by direction and outcome (succeeded, skipped, failed).",
  labelNames: ["direction", "outcome"] as const,
  registers: [registry],
});

let database: Kysely<Database> | undefined;

/** Where the scrape-time gauges read from (the server calls this once at start). */
export function bindMetricsDatabase(db: Kysely<Database>): void {
  database = db;
}

new Gauge({
  name: "berth_storage_bytes",
  help: "Bytes of distinct blobs referenced by each project's repositories.",
  labelNames: ["project"] as const,
  registers: [registry],
  async collect() {
    this.reset();
    if (!database) return;
    for (const [project, bytes] of await storageByProject(database)) this.set({ project }, bytes);
  },
});

new Gauge({
  name: "berth_upload_sessions_open",
  help: "Blob upload sessions started and not yet finished or purged.",
  registers: [registry],
  async collect() {
    if (!database) return;
    const row = await database
      .selectFrom("upload_sessions")
      .select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirst();
    this.set(Number(row?.n ?? 0));
  },
});

new Gauge({
  name: "berth_jobs",
  help: "Background jobs in the queue, by kind and state (queued, running, failed…).",
  labelNames: ["kind", "state"] as const,
  registers: [registry],
  async collect() {
    this.reset();
    if (!database) return;
    const rows = await database
      .selectFrom("jobs")
      .select((eb) => ["kind", "state", eb.fn.countAll().as("n")])
      .groupBy(["kind", "state"])
      .execute();
    for (const r of rows) this.set({ kind: r.kind, state: r.state }, Number(r.n));
  },
});

new Gauge({
  name: "berth_gc_runs",
  help: "Garbage collection runs recorded in the job table, by state.",
  labelNames: ["state"] as const,
  registers: [registry],
  async collect() {
    this.reset();
    if (!database) return;
    const rows = await database
      .selectFrom("jobs")
      .select((eb) => ["state", eb.fn.countAll().as("n")])
      .where("kind", "=", "gc")
      .groupBy("state")
      .execute();
    for (const r of rows) this.set({ state: r.state }, Number(r.n));
  },
});

new Gauge({
  name: "berth_gc_freed_bytes",
  help: "Bytes freed by the garbage collection runs still recorded in the job table.",
  registers: [registry],
  async collect() {
    if (!database) return;
    const rows = await database
      .selectFrom("jobs")
      .select("result")
      .where("kind", "=", "gc")
      .where("state", "=", "succeeded")
      .execute();
    let total = 0;
    for (const r of rows) total += freedBytesOf(r.result);
    this.set(total);
  },
});

function freedBytesOf(result: string | null): number {
  if (!result) return 0;
  try {
    const parsed = JSON.parse(result) as {
      dryRun?: boolean;
      bytesFreed?: number;
      freedBytes?: number;
    };
    if (parsed.dryRun) return 0;
    return Number(parsed.bytesFreed ?? parsed.freedBytes ?? 0) || 0;
  } catch {
    return 0;
  }
}

const STORAGE_CACHE_MS = 60_000;
let storageCache: { at: number; value: Map<string, number> } | undefined;

/** Distinct blob bytes per project, recomputed at most once a minute (a full link scan). */
async function storageByProject(db: Kysely<Database>): Promise<Map<string, number>> {
  if (storageCache && Date.now() - storageCache.at < STORAGE_CACHE_MS) return storageCache.value;
  const rows = await db
    .selectFrom("repository_blobs as l")
    .innerJoin("repositories as r", "r.id", "l.repository_id")
    .innerJoin("blobs as b", "b.digest", "l.digest")
    .select(["r.name", "b.digest", "b.size"])
    .execute();
  const seen = new Map<string, Set<string>>();
  const value = new Map<string, number>();
  for (const r of rows) {
    const project = projectOf(r.name);
    let digests = seen.get(project);
    if (!digests) {
      digests = new Set();
      seen.set(project, digests);
    }
    if (digests.has(r.digest)) continue;
    digests.add(r.digest);
    value.set(project, (value.get(project) ?? 0) + Number(r.size));
  }
  storageCache = { at: Date.now(), value };
  return value;
}

/** Counts pushes and pulls by project from the registry's in-process events. */
export function countRegistryEvents(events: RegistryEvents): void {
  events.on("manifest.pushed", (e) => pushes.labels(projectOf(e.repository)).inc());
  events.on("manifest.pulled", (e) => pulls.labels(projectOf(e.repository)).inc());
}

/** The workers' onFinished hook. */
export function observeJob(kind: string, outcome: string, ms: number): void {
  jobDuration.labels(kind, outcome).observe(ms / 1000);
}

export const proxyCacheRequests = new Counter({
  name: "berth_proxy_cache_requests_total",
  help: "Proxy-cache answers by result: hit (served from the cache), miss (fetched from the upstream), stale (cached copy served while the upstream was unavailable), unavailable (neither).",
  labelNames: ["result"] as const,
  registers: [registry],
});
