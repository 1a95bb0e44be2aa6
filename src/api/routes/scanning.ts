// Scanning in the registry, over the management API (docs/scan.md):
//   GET  /projects/{p}/repositories/{r}/artifacts/{ref}/scan             the report (per platform for an index)
//   POST /projects/{p}/repositories/{r}/artifacts/{ref}/scan             scan it now (developers and up)
//   GET  /projects/{p}/repositories/{r}/artifacts/{ref}/vulnerabilities  findings, filtered and paginated
//   GET  /projects/{p}/repositories/{r}/artifacts/{ref}/sbom?format=     SBOM (spdx-json | cyclonedx)
//   POST /projects/{p}/repositories/{r}/scan, POST /projects/{p}/scan    scan a repository / a project
//   GET  /projects/{p}/vulnerabilities/summary, GET /system/vulnerabilities/summary
//   GET  /projects/{p}/repositories/{r}/artifact-summaries?digest=a,b      per-row scan + gate verdicts
//   GET  /projects/{p}/vulnerabilities/artifacts                          images with counts, by severity
//   GET|PUT /projects/{p}/scan-policy                                     scan on push, pull prevention
//   GET|POST /projects/{p}/cve-allowlist, DELETE …/cve-allowlist/{cve}     (and /system/cve-allowlist)
// Reading needs artifact:list (policy:read for policies), scanning artifact:push, changing a
// policy or a project allowlist policy:manage, the system list and summary system admin. Every
// change is audited and takes effect at once in this process.
import type { FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import type { ProjectAction } from "../../auth/permissions.js";
import { isValidRepositoryName } from "../../auth/scope.js";
import type { RegistryScanning, ScanRequested } from "../../jobs/scan-jobs.js";
import {
  ARTIFACT_SCAN_SORTS,
  type ArtifactScanSort,
  addAllowlistEntry,
  type Database,
  FINDING_SORTS,
  type FindingSort,
  getManifestByDigest,
  getScanPolicy,
  getScanReport,
  getScanReports,
  getScanResultJson,
  listAllowlist,
  listArtifactScans,
  listFindings,
  projectRepositories,
  removeAllowlistEntry,
  resolveTag,
  type ScanReport,
  scanReportsIn,
  setScanPolicy,
  UnknownProjectError,
} from "../../meta/index.js";
import { isDigest, projectOf } from "../../oci/index.js";
import type { VulnerabilityAdmission } from "../../policy/vulnerability-admission.js";
import { parseSeverityLevel } from "../../policy/vulnerability-gate.js";
import { renderCycloneDx } from "../../scan/report/cyclonedx.js";
import { renderSpdx } from "../../scan/report/spdx.js";
import type { ScanResult } from "../../scan/result.js";
import { SEVERITIES } from "../../scan/severity/index.js";
import { artifactSummaries, MAX_SUMMARY_DIGESTS } from "../artifact-summaries.js";
import { actorOf, type Caller, requireAdmin } from "../authn.js";
import { type ApiContext, callerOf, requireProjectAction } from "../context.js";
import { badRequest, notFound } from "../errors.js";
import { PAGE_QUERY, pageRequest, pageSchema, sendPage } from "../pagination.js";
import { errors, NoContent } from "../schemas.js";

/** What the scanning routes need (given by api/multi-tenancy.ts). */
export interface ScanningApi {
  readonly db: Kysely<Database>;
  readonly scanning: RegistryScanning;
  readonly admission: VulnerabilityAdmission;
}

const countsSchema = {
  type: "object",
  additionalProperties: { type: "integer" },
  description: "by severity: CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN",
} as const;

export const ScanReportSchema = {
  type: "object",
  required: ["digest", "status"],
  properties: {
    digest: { type: "string" },
    status: {
      type: "string",
      enum: ["pending", "running", "done", "failed", "unsupported", "none"],
    },
    repository: { type: "string", description: "the repository it was scanned in" },
    job: { type: ["integer", "null"] },
    counts: countsSchema,
    fixable: countsSchema,
    total: { type: "integer" },
    fixableTotal: { type: "integer" },
    packages: { type: "integer" },
    database: {
      type: "object",
      properties: {
        version: { type: ["string", "null"] },
        updatedAt: { type: ["string", "null"] },
      },
    },
    sbom: { type: ["string", "null"], description: "digest of the CycloneDX SBOM referrer" },
    error: {
      type: ["string", "null"],
      description: "why the scan failed; for a done scan, a note (e.g. the SBOM was not attached)",
    },
    requestedAt: { type: "string" },
    startedAt: { type: ["string", "null"] },
    finishedAt: { type: ["string", "null"] },
    durationMs: { type: ["integer", "null"] },
    cpuMs: { type: ["integer", "null"] },
    platforms: {
      type: "array",
      description: "for an index: the report of each platform image",
      items: { type: "object", additionalProperties: true },
    },
  },
} as const;

const FindingSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    aliases: { type: "array", items: { type: "string" } },
    severity: { type: "string", enum: [...SEVERITIES] },
    package: { type: "string" },
    version: { type: "string" },
    ecosystem: { type: "string" },
    purl: { type: "string" },
    installedVersion: { type: "string" },
    fixedVersion: { type: ["string", "null"] },
    summary: { type: ["string", "null"] },
    target: { type: "string" },
  },
} as const;

const ScanPolicySchema = {
  type: "object",
  required: ["project", "scanOnPush", "preventSeverity", "preventUnscanned"],
  properties: {
    project: { type: "string" },
    scanOnPush: { type: "boolean" },
    preventSeverity: {
      type: ["string", "null"],
      enum: ["LOW", "MEDIUM", "HIGH", "CRITICAL", null],
    },
    preventUnscanned: { type: "boolean" },
    updatedBy: { type: ["string", "null"] },
    updatedAt: { type: ["string", "null"] },
  },
} as const;

const AllowlistEntrySchema = {
  type: "object",
  properties: {
    cve: { type: "string" },
    project: { type: ["string", "null"], description: "null for the system-wide list" },
    expiresAt: { type: ["string", "null"] },
    expired: { type: "boolean" },
    reason: { type: ["string", "null"] },
    createdBy: { type: "string" },
    createdAt: { type: "string" },
  },
} as const;

const ScanRequestedSchema = {
  type: "object",
  properties: {
    jobs: {
      type: "array",
      items: {
        type: "object",
        properties: {
          digest: { type: "string" },
          repository: { type: "string", description: "the repository it is scanned in" },
          job: { type: "integer" },
        },
      },
    },
    unsupported: {
      type: "array",
      items: {
        type: "object",
        properties: { digest: { type: "string" }, reason: { type: "string" } },
      },
    },
    alreadyQueued: { type: "array", items: { type: "string" } },
    waiting: {
      type: "array",
      description: "the already queued ones still pending or running, with their jobs",
      items: {
        type: "object",
        properties: {
          digest: { type: "string" },
          repository: { type: "string" },
          job: { type: "integer" },
        },
      },
    },
  },
} as const;

const SummarySchema = {
  type: "object",
  properties: {
    artifacts: { type: "integer" },
    byStatus: countsSchema,
    counts: countsSchema,
    fixable: countsSchema,
    vulnerableArtifacts: { type: "integer" },
    database: { type: ["object", "null"], additionalProperties: true },
  },
} as const;

const projectParams = {
  type: "object",
  required: ["project"],
  properties: { project: { type: "string" } },
} as const;
const repoParams = {
  type: "object",
  required: ["project", "repository"],
  properties: {
    project: { type: "string" },
    repository: { type: "string", description: "full name, URL-encoded" },
  },
} as const;
const artifactParams = {
  type: "object",
  required: ["project", "repository", "reference"],
  properties: {
    ...repoParams.properties,
    reference: { type: "string", description: "digest or tag" },
  },
} as const;

const ArtifactSummarySchema = {
  type: "object",
  required: ["digest", "scan", "push", "pull"],
  properties: {
    digest: { type: "string" },
    scan: {
      type: "object",
      properties: {
        status: {
          type: "string",
          enum: ["none", "pending", "running", "done", "failed", "unsupported", "partial"],
        },
        counts: countsSchema,
        total: { type: "integer" },
        fixableTotal: { type: "integer" },
        images: {
          type: "object",
          properties: { scanned: { type: "integer" }, of: { type: "integer" } },
        },
      },
    },
    push: {
      type: ["object", "null"],
      description: "the verdict recorded at push; null: no gate policy then",
      properties: {
        verdict: { type: "string", enum: ["pass", "fail"] },
        evaluatedAt: { type: "string" },
      },
    },
    pull: {
      type: "object",
      description: "what a pull meets now under the scan policy and the gate's scan rules",
      properties: {
        verdict: { type: "string", enum: ["pass", "fail", "not-gated"] },
        reasons: { type: "array", items: { type: "string" } },
        undecided: { type: "boolean", description: "gate rules wait for a finished scan" },
      },
    },
  },
} as const;

/** `critical,high` → ["CRITICAL", "HIGH"]; a word that is not a severity answers 400. */
function parseSeverities(text: string | undefined): string[] | undefined {
  try {
    return text
      ?.split(",")
      .filter((s) => s.trim() !== "")
      .map((s) => (s.trim().toUpperCase() === "UNKNOWN" ? "UNKNOWN" : parseSeverityLevel(s)));
  } catch (err) {
    throw badRequest(`severity: ${(err as Error).message}`);
  }
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function reportView(r: ScanReport) {
  return {
    digest: r.digest,
    status: r.status,
    repository: r.repository,
    job: r.jobId,
    counts: r.counts,
    fixable: r.fixable,
    total: r.total,
    fixableTotal: r.fixableTotal,
    packages: r.packages,
    database: { version: r.dbVersion, updatedAt: r.dbUpdatedAt },
    sbom: r.sbomDigest,
    error: r.error,
    requestedAt: new Date(r.requestedAt).toISOString(),
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    durationMs: r.durationMs,
    cpuMs: r.cpuMs,
  };
}

function summarize(reports: readonly ScanReport[]) {
  const byStatus: Record<string, number> = {};
  const counts: Record<string, number> = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
  const fixable: Record<string, number> = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
  let vulnerable = 0;
  for (const r of reports) {
    byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    if (r.total > 0) vulnerable++;
    for (const s of SEVERITIES) {
      counts[s] = (counts[s] ?? 0) + (r.counts[s] ?? 0);
      fixable[s] = (fixable[s] ?? 0) + (r.fixable[s] ?? 0);
    }
  }
  return { artifacts: reports.length, byStatus, counts, fixable, vulnerableArtifacts: vulnerable };
}

function allowlistView(e: {
  cve: string;
  project: string | null;
  expiresAt: number | null;
  reason: string | null;
  createdBy: string;
  createdAt: number;
}) {
  return {
    cve: e.cve,
    project: e.project,
    expiresAt: iso(e.expiresAt),
    expired: e.expiresAt !== null && e.expiresAt <= Date.now(),
    reason: e.reason,
    createdBy: e.createdBy,
    createdAt: new Date(e.createdAt).toISOString(),
  };
}

const CVE_PATTERN = /^[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9:._-]{1,120}$/;

function parseAllowlistBody(body: { cve: string; expires?: string | null; reason?: string }) {
  const cve = body.cve.trim();
  if (!CVE_PATTERN.test(cve))
    throw badRequest(`"${body.cve}" is not a vulnerability id such as CVE-2023-1234`);
  let expiresAt: number | null = null;
  if (body.expires) {
    expiresAt = Date.parse(body.expires);
    if (Number.isNaN(expiresAt))
      throw badRequest(`expires: "${body.expires}" is not a date such as 2026-12-31`);
  }
  return { cve, expiresAt, reason: body.reason?.trim() || null };
}

export async function scanningRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const api = ctx.scanning;
  if (!api) return;
  const { scanning, admission } = api;
  const db = () => api.db;

  async function requireRepository(
    caller: Caller,
    params: { project: string; repository: string },
    action: ProjectAction,
  ): Promise<string> {
    if (
      !isValidRepositoryName(params.repository) ||
      projectOf(params.repository) !== params.project
    )
      throw notFound(`repository "${params.repository}" is not in project "${params.project}"`);
    await requireProjectAction(ctx, caller, params.project, action);
    return params.repository;
  }

  async function resolveArtifact(repository: string, reference: string) {
    const digest = isDigest(reference) ? reference : await resolveTag(db(), repository, reference);
    const stored = digest ? await getManifestByDigest(db(), repository, digest) : undefined;
    if (!stored) throw notFound(`artifact ${repository}:${reference} not found`);
    return stored;
  }

  async function reportOf(repository: string, reference: string) {
    const stored = await resolveArtifact(repository, reference);
    const parsed = JSON.parse(stored.content.toString("utf8")) as {
      manifests?: { digest: string; platform?: { os?: string; architecture?: string } }[];
    };
    const report = await getScanReport(db(), stored.digest);
    if (Array.isArray(parsed.manifests) && !report) {
      const children = parsed.manifests.filter((m) => m.platform?.os !== "unknown");
      const reports = await getScanReports(
        db(),
        children.map((m) => m.digest),
      );
      return {
        digest: stored.digest,
        status: children.every((m) => reports.get(m.digest)?.status === "done") ? "done" : "none",
        platforms: children.map((m) => {
          const r = reports.get(m.digest);
          const platform = m.platform
            ? `${m.platform.os ?? "?"}/${m.platform.architecture ?? "?"}`
            : null;
          return r
            ? { platform, ...reportView(r) }
            : { platform, digest: m.digest, status: "none" };
        }),
      };
    }
    if (!report) return { digest: stored.digest, status: "none" };
    return reportView(report);
  }

  app.get(
    "/projects/:project/repositories/:repository/artifacts/:reference/scan",
    {
      schema: {
        summary: "The artifact's scan report: status, counts by severity, database, timings",
        tags: ["scanning"],
        params: artifactParams,
        response: { 200: ScanReportSchema, ...errors(401, 403, 404) },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const p = request.params as { project: string; repository: string; reference: string };
      const repository = await requireRepository(caller, p, "artifact:list");
      return reportOf(repository, p.reference);
    },
  );

  app.get(
    "/projects/:project/repositories/:repository/artifact-summaries",
    {
      schema: {
        summary:
          "Per artifact of a page: scan status and counts by severity, the gate verdict recorded at push, and what a pull meets now",
        tags: ["scanning", "gate"],
        params: repoParams,
        querystring: {
          type: "object",
          required: ["digest"],
          properties: {
            digest: {
              type: "string",
              description: `comma-separated manifest digests (at most ${MAX_SUMMARY_DIGESTS})`,
            },
          },
        },
        response: {
          200: {
            description: "the summaries of the digests stored in the repository, in order",
            type: "object",
            properties: { items: { type: "array", items: ArtifactSummarySchema } },
          },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const p = request.params as { project: string; repository: string };
      const repository = await requireRepository(caller, p, "artifact:list");
      const digests = (request.query as { digest: string }).digest
        .split(",")
        .map((d) => d.trim())
        .filter((d) => d !== "");
      if (digests.length > MAX_SUMMARY_DIGESTS)
        throw badRequest(`at most ${MAX_SUMMARY_DIGESTS} digests at once, not ${digests.length}`);
      const bad = digests.find((d) => !isDigest(d));
      if (bad !== undefined) throw badRequest(`"${bad}" is not a digest such as sha256:…`);
      return { items: await artifactSummaries(db(), admission, repository, digests) };
    },
  );

  async function audited(caller: Caller, project: string, resource: string, out: ScanRequested) {
    await ctx.auth.audit.record({
      actor: actorOf(caller),
      action: "scan.request",
      resourceType: "artifact",
      resource,
      project,
      remoteAddress: caller.remoteAddress,
      detail: { jobs: out.jobs.length, unsupported: out.unsupported.length },
    });
    return out;
  }

  app.post(
    "/projects/:project/repositories/:repository/artifacts/:reference/scan",
    {
      schema: {
        summary: "Scan the artifact now (each platform image of an index)",
        tags: ["scanning"],
        params: artifactParams,
        response: { 202: ScanRequestedSchema, ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const p = request.params as { project: string; repository: string; reference: string };
      const repository = await requireRepository(caller, p, "artifact:push");
      const stored = await resolveArtifact(repository, p.reference);
      const out = await scanning.scanArtifact(repository, stored.digest);
      await audited(caller, p.project, `${repository}@${stored.digest}`, out);
      return reply.code(202).send(out);
    },
  );

  app.post(
    "/projects/:project/repositories/:repository/scan",
    {
      schema: {
        summary: "Scan every image of the repository now",
        tags: ["scanning"],
        params: repoParams,
        response: { 202: ScanRequestedSchema, ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const p = request.params as { project: string; repository: string };
      const repository = await requireRepository(caller, p, "artifact:push");
      const out = await scanning.scanRepository(repository);
      await audited(caller, p.project, repository, out);
      return reply.code(202).send(out);
    },
  );

  app.post(
    "/projects/:project/scan",
    {
      schema: {
        summary: "Scan every image of every repository of the project now",
        tags: ["scanning"],
        params: projectParams,
        response: { 202: ScanRequestedSchema, ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      await requireProjectAction(ctx, caller, project, "artifact:push");
      const out = await scanning.scanProject(project);
      await audited(caller, project, project, out);
      return reply.code(202).send(out);
    },
  );

  app.get(
    "/projects/:project/repositories/:repository/artifacts/:reference/vulnerabilities",
    {
      schema: {
        summary: "The artifact's vulnerabilities, filtered by severity, fixable and package",
        tags: ["scanning"],
        params: artifactParams,
        querystring: {
          type: "object",
          properties: {
            ...PAGE_QUERY,
            severity: {
              type: "string",
              description: "comma-separated severities, e.g. critical,high",
            },
            fixable: { type: "boolean", description: "only findings with (or without) a fix" },
            package: { type: "string", description: "package name" },
          },
        },
        response: {
          200: { description: "a page of findings", ...pageSchema(FindingSchema) },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const p = request.params as { project: string; repository: string; reference: string };
      const repository = await requireRepository(caller, p, "artifact:list");
      const stored = await resolveArtifact(repository, p.reference);
      const q = request.query as {
        page?: number;
        page_size?: number;
        sort?: string;
        severity?: string;
        fixable?: boolean;
        package?: string;
      };
      const page = pageRequest(q, FINDING_SORTS, "severity" as FindingSort, true);
      const severities = parseSeverities(q.severity);
      const report = await getScanReport(db(), stored.digest);
      if (report?.status !== "done")
        throw notFound(
          `${repository}@${stored.digest} has no scan results (${report?.status ?? "not scanned"})`,
        );
      const result = await listFindings(
        db(),
        stored.digest,
        { severities, fixable: q.fixable, package: q.package },
        page,
      );
      return sendPage(request, reply, page, {
        total: result.total,
        items: result.items.map((f) => ({
          id: f.vulnerabilityId,
          aliases: f.aliases,
          severity: f.severity,
          package: f.package,
          version: f.version,
          ecosystem: f.ecosystem,
          purl: f.purl,
          installedVersion: f.installedVersion,
          fixedVersion: f.fixedVersion ?? null,
          summary: f.summary ?? null,
          target: f.target,
        })),
      });
    },
  );

  app.get(
    "/projects/:project/repositories/:repository/artifacts/:reference/sbom",
    {
      schema: {
        summary: "The artifact's SBOM from its last scan, as SPDX 2.3 JSON or CycloneDX 1.5",
        tags: ["scanning"],
        params: artifactParams,
        querystring: {
          type: "object",
          properties: {
            format: { type: "string", enum: ["spdx-json", "cyclonedx"], default: "spdx-json" },
          },
        },
        response: {
          200: { description: "the SBOM document", type: "object", additionalProperties: true },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const p = request.params as { project: string; repository: string; reference: string };
      const repository = await requireRepository(caller, p, "artifact:list");
      const stored = await resolveArtifact(repository, p.reference);
      const json = await getScanResultJson(db(), stored.digest);
      if (!json) throw notFound(`${repository}@${stored.digest} has not been scanned`);
      const result = JSON.parse(json) as ScanResult;
      const format = (request.query as { format?: string }).format ?? "spdx-json";
      const text =
        format === "cyclonedx"
          ? renderCycloneDx(result, { withVulnerabilities: false })
          : renderSpdx(result);
      return reply
        .header(
          "content-type",
          format === "cyclonedx" ? "application/vnd.cyclonedx+json" : "application/spdx+json",
        )
        .send(text);
    },
  );

  app.get(
    "/projects/:project/vulnerabilities/summary",
    {
      schema: {
        summary: "Scan status and vulnerability counts over the project's artifacts",
        tags: ["scanning"],
        params: projectParams,
        response: { 200: SummarySchema, ...errors(401, 403, 404) },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      await requireProjectAction(ctx, caller, project, "artifact:list");
      const reports = await scanReportsIn(db(), await projectRepositories(db(), project));
      return { ...summarize(reports), database: scanning.dbInfo() ?? null };
    },
  );

  app.get(
    "/projects/:project/vulnerabilities/artifacts",
    {
      schema: {
        summary: "The project's scanned images with their counts, worst first; filter by severity",
        tags: ["scanning"],
        params: projectParams,
        querystring: {
          type: "object",
          properties: {
            ...PAGE_QUERY,
            severity: {
              type: "string",
              description: "comma-separated severities: only images with a finding of one of them",
            },
          },
        },
        response: {
          200: {
            description: "a page of images with their scan reports",
            ...pageSchema({
              ...ScanReportSchema,
              properties: {
                ...ScanReportSchema.properties,
                repository: { type: "string", description: "the repository it is stored in" },
                tags: { type: "array", items: { type: "string" } },
              },
            }),
          },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      await requireProjectAction(ctx, caller, project, "artifact:list");
      const q = request.query as {
        page?: number;
        page_size?: number;
        sort?: string;
        severity?: string;
      };
      const page = pageRequest(q, ARTIFACT_SCAN_SORTS, "severity" as ArtifactScanSort, true);
      const severities = parseSeverities(q.severity);
      const result = await listArtifactScans(
        db(),
        await projectRepositories(db(), project),
        { severities },
        page,
      );
      return sendPage(request, reply, page, {
        total: result.total,
        items: result.items.map((r) => ({
          ...reportView(r),
          repository: r.storedIn,
          tags: r.tags,
        })),
      });
    },
  );

  app.get(
    "/system/vulnerabilities/summary",
    {
      schema: {
        summary: "Scan status and vulnerability counts over every artifact (system admins)",
        tags: ["scanning"],
        response: { 200: SummarySchema, ...errors(401, 403) },
      },
    },
    async (request) => {
      requireAdmin(await callerOf(request, ctx));
      const reports = await scanReportsIn(db(), undefined);
      return { ...summarize(reports), database: scanning.dbInfo() ?? null };
    },
  );

  async function policyView(project: string) {
    const policy = await getScanPolicy(db(), project);
    if (!policy) throw notFound(`project "${project}" not found`);
    return { ...policy, updatedAt: iso(policy.updatedAt) };
  }

  app.get(
    "/projects/:project/scan-policy",
    {
      schema: {
        summary: "The project's scan policy (scan on push, pull prevention)",
        tags: ["scanning"],
        params: projectParams,
        response: { 200: ScanPolicySchema, ...errors(401, 403, 404) },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      await requireProjectAction(ctx, caller, project, "policy:read");
      return policyView(project);
    },
  );

  app.put(
    "/projects/:project/scan-policy",
    {
      schema: {
        summary: "Set the project's scan policy",
        tags: ["scanning"],
        params: projectParams,
        body: {
          type: "object",
          additionalProperties: false,
          properties: {
            scanOnPush: { type: "boolean" },
            preventSeverity: {
              type: ["string", "null"],
              description: "low, medium, high or critical; null for none",
            },
            preventUnscanned: { type: "boolean" },
          },
        },
        response: { 200: ScanPolicySchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      await requireProjectAction(ctx, caller, project, "policy:manage");
      const body = request.body as {
        scanOnPush?: boolean;
        preventSeverity?: string | null;
        preventUnscanned?: boolean;
      };
      const current = await getScanPolicy(db(), project);
      if (!current) throw notFound(`project "${project}" not found`);
      let preventSeverity = current.preventSeverity;
      if (body.preventSeverity !== undefined) {
        try {
          preventSeverity =
            body.preventSeverity === null ? null : parseSeverityLevel(body.preventSeverity);
        } catch (err) {
          throw badRequest(`preventSeverity: ${(err as Error).message}`);
        }
      }
      const next = {
        scanOnPush: body.scanOnPush ?? current.scanOnPush,
        preventSeverity,
        preventUnscanned: body.preventUnscanned ?? current.preventUnscanned,
      };
      await setScanPolicy(db(), project, next, caller.principal.name);
      admission.invalidate(project);
      await ctx.auth.audit.record({
        actor: actorOf(caller),
        action: "scan-policy.update",
        resourceType: "project",
        resource: project,
        project,
        remoteAddress: caller.remoteAddress,
        detail: next,
      });
      return policyView(project);
    },
  );

  const allowlistBody = {
    type: "object",
    required: ["cve"],
    additionalProperties: false,
    properties: {
      cve: { type: "string", maxLength: 128 },
      expires: { type: ["string", "null"], description: "date (ISO 8601) after which it stops" },
      reason: { type: "string", maxLength: 1000 },
    },
  } as const;

  /** The allowlist routes of one scope: a project (`:project`) or the system (admins). */
  function allowlistRoutes(base: string, scope: "project" | "system") {
    const params = scope === "project" ? { params: projectParams } : {};
    const authorize = async (caller: Caller, project: string | null, write: boolean) => {
      if (project === null) requireAdmin(caller);
      else
        await requireProjectAction(ctx, caller, project, write ? "policy:manage" : "policy:read");
    };
    const projectOfRequest = (request: { params: unknown }) =>
      scope === "project" ? (request.params as { project: string }).project : null;

    app.get(
      base,
      {
        schema: {
          summary: `The ${scope === "project" ? "project's" : "system-wide"} CVE allowlist`,
          tags: ["scanning"],
          ...params,
          response: {
            200: { type: "array", items: AllowlistEntrySchema },
            ...errors(401, 403, 404),
          },
        },
      },
      async (request) => {
        const caller = await callerOf(request, ctx);
        const project = projectOfRequest(request);
        await authorize(caller, project, false);
        return (await listAllowlist(db(), project)).map(allowlistView);
      },
    );

    app.post(
      base,
      {
        schema: {
          summary: `Allowlist a vulnerability id (${scope}), optionally until a date`,
          tags: ["scanning"],
          ...params,
          body: allowlistBody,
          response: { 201: AllowlistEntrySchema, ...errors(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        const caller = await callerOf(request, ctx);
        const project = projectOfRequest(request);
        await authorize(caller, project, true);
        const entry = parseAllowlistBody(
          request.body as { cve: string; expires?: string; reason?: string },
        );
        let added: Awaited<ReturnType<typeof addAllowlistEntry>>;
        try {
          added = await addAllowlistEntry(db(), {
            project,
            ...entry,
            createdBy: caller.principal.name,
          });
        } catch (err) {
          if (err instanceof UnknownProjectError) throw notFound(err.message);
          throw err;
        }
        admission.invalidate(project ?? undefined);
        await ctx.auth.audit.record({
          actor: actorOf(caller),
          action: "allowlist.add",
          resourceType: "cve-allowlist",
          resource: project ?? "system",
          project,
          remoteAddress: caller.remoteAddress,
          detail: { cve: entry.cve, expiresAt: iso(entry.expiresAt) },
        });
        return reply.code(201).send(allowlistView(added));
      },
    );

    app.delete(
      `${base}/:cve`,
      {
        schema: {
          summary: `Remove a vulnerability id from the ${scope} allowlist`,
          tags: ["scanning"],
          params: {
            type: "object",
            required: scope === "project" ? ["project", "cve"] : ["cve"],
            properties: {
              ...(scope === "project" ? { project: { type: "string" } } : {}),
              cve: { type: "string" },
            },
          },
          response: { ...NoContent, ...errors(401, 403, 404) },
        },
      },
      async (request, reply) => {
        const caller = await callerOf(request, ctx);
        const project = projectOfRequest(request);
        await authorize(caller, project, true);
        const { cve } = request.params as { cve: string };
        let removed: boolean;
        try {
          removed = await removeAllowlistEntry(db(), project, cve);
        } catch (err) {
          if (err instanceof UnknownProjectError) throw notFound(err.message);
          throw err;
        }
        if (!removed) throw notFound(`${cve} is not in the ${project ?? "system"} allowlist`);
        admission.invalidate(project ?? undefined);
        await ctx.auth.audit.record({
          actor: actorOf(caller),
          action: "allowlist.remove",
          resourceType: "cve-allowlist",
          resource: project ?? "system",
          project,
          remoteAddress: caller.remoteAddress,
          detail: { cve },
        });
        return reply.code(204).send();
      },
    );
  }

  allowlistRoutes("/projects/:project/cve-allowlist", "project");
  allowlistRoutes("/system/cve-allowlist", "system");
}
