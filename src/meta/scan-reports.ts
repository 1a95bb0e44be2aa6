// Persistence of registry scans (tables `scan_reports` and `scan_findings`, migration 0010):
// one report per manifest digest with its status (pending, running, done, failed,
// unsupported), counts by severity, fixable counts, the vulnerability database's version and
// time, timings, the whole result (JSON, for SBOM downloads) and the SBOM referrer's digest;
// one row per finding for filtered, paginated listings.
//
// Requesting a scan inserts the `scan` job and marks the report pending IN ONE TRANSACTION,
// keyed by a request key (the outbox event id for scan on push): a redelivered event finds
// its key (or a scan already pending, running or done) and enqueues nothing, so scan on push
// is idempotent however often the outbox delivers. Queries only: no scanning, no decisions.
import { type Kysely, sql } from "kysely";
import type { Database } from "./database.js";
import { insertJob } from "./jobs.js";

export const SCAN_STATUSES = ["pending", "running", "done", "failed", "unsupported"] as const;
export type ScanStatus = (typeof SCAN_STATUSES)[number];

export const SCAN_JOB_KIND = "scan";

export interface ScanReportsTable {
  digest: string;
  repository: string;
  status: ScanStatus;
  job_id: number | null;
  request_key: string | null;
  db_version: string | null;
  db_updated_at: string | null;
  counts: string | null;
  fixable: string | null;
  total: number;
  fixable_total: number;
  packages: number;
  result: string | null;
  sbom_digest: string | null;
  error: string | null;
  requested_at: number;
  started_at: number | null;
  finished_at: number | null;
  duration_ms: number | null;
  cpu_ms: number | null;
}

export interface ScanFindingsTable {
  digest: string;
  position: number;
  vulnerability_id: string;
  aliases: string;
  severity: string;
  severity_rank: number;
  package: string;
  version: string;
  ecosystem: string;
  purl: string;
  installed_version: string;
  fixed_version: string | null;
  summary: string | null;
  target: string;
}

interface Tables {
  scan_reports: ScanReportsTable;
  scan_findings: ScanFindingsTable;
}

function tables(db: Kysely<Database>): Kysely<Tables & Database> {
  return db as unknown as Kysely<Tables & Database>;
}

export type Counts = Record<string, number>;

export interface ScanReport {
  digest: string;
  repository: string;
  status: ScanStatus;
  jobId: number | null;
  dbVersion: string | null;
  dbUpdatedAt: string | null;
  counts: Counts;
  fixable: Counts;
  total: number;
  fixableTotal: number;
  packages: number;
  sbomDigest: string | null;
  error: string | null;
  requestedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  durationMs: number | null;
  cpuMs: number | null;
}

/** The payload of a `scan` job. */
export interface ScanJobPayload {
  repository: string;
  digest: string;
  reason: "push" | "manual" | "rescan";
}

function toReport(r: ScanReportsTable): ScanReport {
  const num = (v: number | null) => (v === null ? null : Number(v));
  return {
    digest: r.digest,
    repository: r.repository,
    status: r.status,
    jobId: num(r.job_id),
    dbVersion: r.db_version,
    dbUpdatedAt: r.db_updated_at,
    counts: r.counts ? (JSON.parse(r.counts) as Counts) : {},
    fixable: r.fixable ? (JSON.parse(r.fixable) as Counts) : {},
    total: Number(r.total),
    fixableTotal: Number(r.fixable_total),
    packages: Number(r.packages),
    sbomDigest: r.sbom_digest,
    error: r.error,
    requestedAt: Number(r.requested_at),
    startedAt: num(r.started_at),
    finishedAt: num(r.finished_at),
    durationMs: num(r.duration_ms),
    cpuMs: num(r.cpu_ms),
  };
}

const REPORT_COLUMNS = [
  "digest",
  "repository",
  "status",
  "job_id",
  "request_key",
  "db_version",
  "db_updated_at",
  "counts",
  "fixable",
  "total",
  "fixable_total",
  "packages",
  "sbom_digest",
  "error",
  "requested_at",
  "started_at",
  "finished_at",
  "duration_ms",
  "cpu_ms",
] as const;

export async function getScanReport(
  db: Kysely<Database>,
  digest: string,
): Promise<ScanReport | undefined> {
  const row = await tables(db)
    .selectFrom("scan_reports")
    .select(REPORT_COLUMNS)
    .where("digest", "=", digest)
    .executeTakeFirst();
  return row && toReport({ ...row, result: null } as ScanReportsTable);
}

/** Reports of several digests (digest → report). */
export async function getScanReports(
  db: Kysely<Database>,
  digests: readonly string[],
): Promise<Map<string, ScanReport>> {
  const out = new Map<string, ScanReport>();
  for (let i = 0; i < digests.length; i += 500) {
    const batch = digests.slice(i, i + 500);
    if (batch.length === 0) break;
    const rows = await tables(db)
      .selectFrom("scan_reports")
      .select(REPORT_COLUMNS)
      .where("digest", "in", batch)
      .execute();
    for (const r of rows) out.set(r.digest, toReport({ ...r, result: null } as ScanReportsTable));
  }
  return out;
}

/** The stored scan result (JSON text), for SBOM downloads. */
export async function getScanResultJson(
  db: Kysely<Database>,
  digest: string,
): Promise<string | undefined> {
  const row = await tables(db)
    .selectFrom("scan_reports")
    .select("result")
    .where("digest", "=", digest)
    .executeTakeFirst();
  return row?.result ?? undefined;
}

export interface ScanRequest {
  repository: string;
  digest: string;
  reason: ScanJobPayload["reason"];
  /** Idempotency key (e.g. `event:42`); a request with a key already recorded enqueues nothing. */
  requestKey: string;
  /** Scan even when a report is pending, running or done (manual scans, rescans). */
  force: boolean;
  maxAttempts?: number;
}

/**
 * Enqueues a `scan` job and marks the report pending, atomically; returns the job id, or
 * undefined when nothing was enqueued (same key seen, or a scan already pending/running/done
 * and `force` is not set).
 */
export async function requestScan(
  db: Kysely<Database>,
  request: ScanRequest,
): Promise<number | undefined> {
  return tables(db)
    .transaction()
    .execute(async (trx) => {
      const existing = await trx
        .selectFrom("scan_reports")
        .select(["status", "request_key"])
        .where("digest", "=", request.digest)
        .executeTakeFirst();
      if (existing) {
        if (existing.request_key === request.requestKey) return undefined;
        if (!request.force && existing.status !== "failed") return undefined;
        if (request.force && (existing.status === "pending" || existing.status === "running"))
          return undefined;
      }
      const payload: ScanJobPayload = {
        repository: request.repository,
        digest: request.digest,
        reason: request.reason,
      };
      const job = await insertJob(trx as unknown as Kysely<Database>, {
        kind: SCAN_JOB_KIND,
        payload,
        maxAttempts: request.maxAttempts ?? 3,
        runAfter: Date.now(),
      });
      const now = Date.now();
      await trx
        .insertInto("scan_reports")
        .values({
          digest: request.digest,
          repository: request.repository,
          status: "pending",
          job_id: job.id,
          request_key: request.requestKey,
          total: 0,
          fixable_total: 0,
          packages: 0,
          requested_at: now,
        })
        .onConflict((oc) =>
          oc.column("digest").doUpdateSet({
            repository: request.repository,
            status: "pending",
            job_id: job.id,
            request_key: request.requestKey,
            error: null,
            requested_at: now,
          }),
        )
        .execute();
      return job.id;
    });
}

/** Records that a manifest is not something the scanner reads (signature, SBOM, artifact). */
export async function markScanUnsupported(
  db: Kysely<Database>,
  repository: string,
  digest: string,
  reason: string,
): Promise<void> {
  const now = Date.now();
  await tables(db)
    .insertInto("scan_reports")
    .values({
      digest,
      repository,
      status: "unsupported",
      error: reason,
      total: 0,
      fixable_total: 0,
      packages: 0,
      requested_at: now,
      finished_at: now,
    })
    .onConflict((oc) => oc.column("digest").doNothing())
    .execute();
}

export async function markScanRunning(
  db: Kysely<Database>,
  digest: string,
  jobId: number,
): Promise<void> {
  await tables(db)
    .updateTable("scan_reports")
    .set({ status: "running", started_at: Date.now(), job_id: jobId })
    .where("digest", "=", digest)
    .execute();
}

/** A failed attempt: `final` marks the report failed, else it is pending its retry. */
export async function markScanFailed(
  db: Kysely<Database>,
  digest: string,
  error: string,
  final: boolean,
): Promise<void> {
  await tables(db)
    .updateTable("scan_reports")
    .set({
      status: final ? "failed" : "pending",
      error: error.slice(0, 2000),
      finished_at: final ? Date.now() : null,
    })
    .where("digest", "=", digest)
    .execute();
}

export interface StoredFinding {
  vulnerabilityId: string;
  aliases: readonly string[];
  severity: string;
  severityRank: number;
  package: string;
  version: string;
  ecosystem: string;
  purl: string;
  installedVersion: string;
  fixedVersion?: string;
  summary?: string;
  target: string;
}

export interface FinishedScan {
  dbVersion: string;
  dbUpdatedAt: string | null;
  counts: Counts;
  fixable: Counts;
  packages: number;
  result: string;
  sbomDigest: string | null;
  /** A note on a done scan (why the SBOM was not attached), kept in the `error` column. */
  note?: string;
  startedAt: number;
  durationMs: number;
  cpuMs: number;
  findings: readonly StoredFinding[];
}

/** Stores a finished scan: the findings replace the previous ones, in one transaction. */
export async function finishScan(
  db: Kysely<Database>,
  digest: string,
  scan: FinishedScan,
): Promise<void> {
  await tables(db)
    .transaction()
    .execute(async (trx) => {
      await trx.deleteFrom("scan_findings").where("digest", "=", digest).execute();
      const rows = scan.findings.map((f, position) => ({
        digest,
        position,
        vulnerability_id: f.vulnerabilityId,
        aliases: JSON.stringify(f.aliases),
        severity: f.severity,
        severity_rank: f.severityRank,
        package: f.package,
        version: f.version,
        ecosystem: f.ecosystem,
        purl: f.purl,
        installed_version: f.installedVersion,
        fixed_version: f.fixedVersion ?? null,
        summary: f.summary?.slice(0, 1000) ?? null,
        target: f.target,
      }));
      for (let i = 0; i < rows.length; i += 200) {
        await trx
          .insertInto("scan_findings")
          .values(rows.slice(i, i + 200))
          .execute();
      }
      const sum = (c: Counts) => Object.values(c).reduce((a, b) => a + b, 0);
      await trx
        .updateTable("scan_reports")
        .set({
          status: "done",
          error: scan.note ?? null,
          db_version: scan.dbVersion,
          db_updated_at: scan.dbUpdatedAt,
          counts: JSON.stringify(scan.counts),
          fixable: JSON.stringify(scan.fixable),
          total: sum(scan.counts),
          fixable_total: sum(scan.fixable),
          packages: scan.packages,
          result: scan.result,
          sbom_digest: scan.sbomDigest,
          started_at: scan.startedAt,
          finished_at: Date.now(),
          duration_ms: scan.durationMs,
          cpu_ms: scan.cpuMs,
        })
        .where("digest", "=", digest)
        .execute();
    });
}

export interface FindingFilter {
  /** Only these severities (upper case). */
  severities?: readonly string[];
  /** true: only findings with a fixed version; false: only those without. */
  fixable?: boolean;
  /** Package name (exact). */
  package?: string;
}

export interface FindingRow extends StoredFinding {}

function filtered(db: Kysely<Database>, digest: string, filter: FindingFilter) {
  let q = tables(db).selectFrom("scan_findings").where("digest", "=", digest);
  if (filter.severities?.length) q = q.where("severity", "in", [...filter.severities]);
  if (filter.fixable === true) q = q.where("fixed_version", "is not", null);
  if (filter.fixable === false) q = q.where("fixed_version", "is", null);
  if (filter.package !== undefined) q = q.where("package", "=", filter.package);
  return q;
}

export const FINDING_SORTS = ["severity", "package", "id"] as const;
export type FindingSort = (typeof FINDING_SORTS)[number];

/** One page of an artifact's findings (most severe first by default) and the total. */
export async function listFindings(
  db: Kysely<Database>,
  digest: string,
  filter: FindingFilter,
  page: { page: number; pageSize: number; sort: FindingSort; descending: boolean },
): Promise<{ items: FindingRow[]; total: number }> {
  const total = await filtered(db, digest, filter)
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  const direction = page.descending ? "desc" : "asc";
  let q = filtered(db, digest, filter).selectAll();
  if (page.sort === "severity") q = q.orderBy("severity_rank", direction).orderBy("position");
  else if (page.sort === "package") q = q.orderBy("package", direction).orderBy("position");
  else q = q.orderBy("vulnerability_id", direction).orderBy("position");
  const rows = await q
    .limit(page.pageSize)
    .offset((page.page - 1) * page.pageSize)
    .execute();
  return {
    total: Number(total.n),
    items: rows.map((r) => ({
      vulnerabilityId: r.vulnerability_id,
      aliases: JSON.parse(r.aliases) as string[],
      severity: r.severity,
      severityRank: Number(r.severity_rank),
      package: r.package,
      version: r.version,
      ecosystem: r.ecosystem,
      purl: r.purl,
      installedVersion: r.installed_version,
      ...(r.fixed_version !== null ? { fixedVersion: r.fixed_version } : {}),
      ...(r.summary !== null ? { summary: r.summary } : {}),
      target: r.target,
    })),
  };
}

/** Every finding of a report (for the pull gate), minimal columns. */
/** Every finding of several reports, in batched queries (digest → findings in report order). */
export async function allFindingsOfDigests(
  db: Kysely<Database>,
  digests: readonly string[],
): Promise<Map<string, Awaited<ReturnType<typeof allFindingsOf>>>> {
  const out = new Map<string, Awaited<ReturnType<typeof allFindingsOf>>>();
  const unique = [...new Set(digests)];
  for (const d of unique) out.set(d, []);
  for (let i = 0; i < unique.length; i += 200) {
    const rows = await tables(db)
      .selectFrom("scan_findings")
      .select([
        "digest",
        "vulnerability_id",
        "aliases",
        "severity",
        "package",
        "version",
        "fixed_version",
      ])
      .where("digest", "in", unique.slice(i, i + 200))
      .orderBy("digest")
      .orderBy("position")
      .execute();
    for (const r of rows) out.get(r.digest)?.push(toFinding(r));
  }
  return out;
}

function toFinding(r: {
  vulnerability_id: string;
  aliases: string;
  severity: string;
  package: string;
  version: string;
  fixed_version: string | null;
}) {
  return {
    id: r.vulnerability_id,
    aliases: JSON.parse(r.aliases) as string[],
    severity: r.severity,
    package: r.package,
    version: r.version,
    ...(r.fixed_version !== null ? { fixedVersion: r.fixed_version } : {}),
  };
}

export async function allFindingsOf(
  db: Kysely<Database>,
  digest: string,
): Promise<
  {
    id: string;
    aliases: string[];
    severity: string;
    package: string;
    version: string;
    fixedVersion?: string;
  }[]
> {
  const rows = await tables(db)
    .selectFrom("scan_findings")
    .select(["vulnerability_id", "aliases", "severity", "package", "version", "fixed_version"])
    .where("digest", "=", digest)
    .orderBy("position")
    .execute();
  return rows.map(toFinding);
}

/** Done reports matched against another database version (rescan candidates), oldest first. */
export async function outdatedScanReports(
  db: Kysely<Database>,
  dbVersion: string,
  limit: number,
): Promise<{ digest: string; repository: string }[]> {
  return tables(db)
    .selectFrom("scan_reports")
    .select(["digest", "repository"])
    .where("status", "=", "done")
    .where("db_version", "!=", dbVersion)
    .orderBy("finished_at")
    .limit(limit)
    .execute();
}

/** Scan reports of the manifests stored in these repositories (or in all when undefined). */
export async function scanReportsIn(
  db: Kysely<Database>,
  repositories: readonly string[] | undefined,
): Promise<ScanReport[]> {
  if (repositories !== undefined && repositories.length === 0) return [];
  let manifests = tables(db)
    .selectFrom("manifests as m")
    .innerJoin("repositories as r", "r.id", "m.repository_id")
    .select("m.digest");
  if (repositories !== undefined) manifests = manifests.where("r.name", "in", [...repositories]);
  const rows = await tables(db)
    .selectFrom("scan_reports")
    .select(REPORT_COLUMNS)
    .where("digest", "in", manifests)
    .execute();
  return rows.map((r) => toReport({ ...r, result: null } as ScanReportsTable));
}

export const ARTIFACT_SCAN_SORTS = ["severity", "repository", "total"] as const;
export type ArtifactScanSort = (typeof ARTIFACT_SCAN_SORTS)[number];

/** A scanned (or to-be-scanned) image of a project, as listed in the project's view. */
export interface ArtifactScan extends ScanReport {
  /** The repository the image is stored in (the report's own names where it was scanned). */
  readonly storedIn: string;
  readonly tags: readonly string[];
}

/**
 * One page of the images stored in `repositories` that have a report (signatures, SBOMs and
 * other unsupported artifacts left out), an image stored in two repositories once per
 * repository. `severities` keeps those with at least one finding of one of them. Sorted by
 * "severity" (worst finding, then number of findings), "repository" (then digest) or "total".
 */
export async function listArtifactScans(
  db: Kysely<Database>,
  repositories: readonly string[],
  filter: { severities?: readonly string[] },
  page: { page: number; pageSize: number; sort: ArtifactScanSort; descending: boolean },
): Promise<{ items: ArtifactScan[]; total: number }> {
  if (repositories.length === 0) return { items: [], total: 0 };
  const t = tables(db);
  const base = () => {
    let q = t
      .selectFrom("manifests as m")
      .innerJoin("repositories as r", "r.id", "m.repository_id")
      .innerJoin("scan_reports as s", "s.digest", "m.digest")
      .where("r.name", "in", [...repositories])
      .where("s.status", "!=", "unsupported");
    if (filter.severities?.length) {
      const severities = [...filter.severities];
      q = q.where((eb) =>
        eb.exists(
          eb
            .selectFrom("scan_findings as f")
            .select("f.digest")
            .whereRef("f.digest", "=", "s.digest")
            .where("f.severity", "in", severities),
        ),
      );
    }
    return q;
  };
  const total = await base()
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  const direction = page.descending ? "desc" : "asc";
  let q = base()
    .select(REPORT_COLUMNS.map((c) => `s.${c}` as const))
    .select("r.name as stored_in")
    // -1 without findings (not NULL: SQLite and PostgreSQL order NULLs differently).
    .select(
      sql<number>`coalesce((select max(w.severity_rank) from scan_findings w where w.digest = s.digest), -1)`.as(
        "worst",
      ),
    );
  if (page.sort === "severity")
    q = q
      .orderBy("worst", direction)
      .orderBy("s.total", direction)
      .orderBy("r.name")
      .orderBy("m.digest");
  else if (page.sort === "total")
    q = q.orderBy("s.total", direction).orderBy("r.name").orderBy("m.digest");
  else q = q.orderBy("r.name", direction).orderBy("m.digest");
  const rows = await q
    .limit(page.pageSize)
    .offset((page.page - 1) * page.pageSize)
    .execute();
  const items: ArtifactScan[] = [];
  for (const row of rows) {
    const { stored_in, worst: _worst, ...report } = row;
    const tags = await t
      .selectFrom("tags as tg")
      .innerJoin("manifests as tm", "tm.id", "tg.manifest_id")
      .innerJoin("repositories as tr", "tr.id", "tg.repository_id")
      .select("tg.name")
      .where("tr.name", "=", stored_in)
      .where("tm.digest", "=", report.digest)
      .orderBy("tg.name")
      .execute();
    items.push({
      ...toReport({ ...report, result: null } as ScanReportsTable),
      storedIn: stored_in,
      tags: tags.map((x) => x.name),
    });
  }
  return { items, total: Number(total.n) };
}

/** The manifests of a repository with their bytes (to pick what to scan). */
export async function repositoryManifests(
  db: Kysely<Database>,
  repository: string,
): Promise<{ digest: string; mediaType: string; content: Buffer }[]> {
  const rows = await tables(db)
    .selectFrom("manifests as m")
    .innerJoin("repositories as r", "r.id", "m.repository_id")
    .select(["m.digest", "m.media_type", "m.content"])
    .where("r.name", "=", repository)
    .orderBy("m.id")
    .execute();
  return rows.map((r) => ({ digest: r.digest, mediaType: r.media_type, content: r.content }));
}
