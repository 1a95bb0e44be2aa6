// Background jobs and garbage collection (system administrators only): list and filter
// jobs (the history of GC runs is the `gc` jobs), show one with its log, cancel, retry,
// and start a GC run (docs/lifecycle.md). Audit entries for every change.
import type { FastifyInstance } from "fastify";
import { GC_JOB_KIND } from "../../jobs/gc.js";
import type { JobQueue } from "../../jobs/index.js";
import type { JobLogLine, JobRow } from "../../meta/index.js";
import { requireAdmin } from "../authn.js";
import { type ApiContext, callerOf } from "../context.js";
import { badRequest, conflict, notFound } from "../errors.js";
import { PAGE_QUERY, pageRequest, pageSchema, sendPage } from "../pagination.js";
import { errors } from "../schemas.js";

const JOB_STATES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
const nullableTimestamp = { type: ["string", "null"], format: "date-time" } as const;
const anyJson = {} as const;

export const JobSchema = {
  type: "object",
  required: ["id", "kind", "state", "attempts", "maxAttempts", "createdAt"],
  properties: {
    id: { type: "integer" },
    kind: { type: "string", description: "what the job does, e.g. gc" },
    state: { type: "string", enum: JOB_STATES },
    payload: anyJson,
    attempts: { type: "integer" },
    maxAttempts: { type: "integer" },
    runAfter: { type: "string", format: "date-time" },
    cancelRequested: { type: "boolean" },
    progress: anyJson,
    result: anyJson,
    error: { type: ["string", "null"] },
    schedule: { type: ["string", "null"], description: "the cron schedule that enqueued it" },
    leaseOwner: { type: ["string", "null"], description: "the worker running it" },
    createdAt: { type: "string", format: "date-time" },
    startedAt: nullableTimestamp,
    finishedAt: nullableTimestamp,
  },
} as const;

const JobWithLogSchema = {
  ...JobSchema,
  properties: {
    ...JobSchema.properties,
    log: {
      type: "array",
      items: {
        type: "object",
        properties: {
          at: { type: "string", format: "date-time" },
          level: { type: "string", enum: ["info", "warn", "error"] },
          message: { type: "string" },
        },
      },
    },
  },
} as const;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export interface JobView {
  id: number;
  kind: string;
  state: JobRow["state"];
  payload: unknown;
  attempts: number;
  maxAttempts: number;
  runAfter: string;
  cancelRequested: boolean;
  progress: unknown;
  result: unknown;
  error: string | null;
  schedule: string | null;
  leaseOwner: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export function jobView(job: JobRow): JobView {
  return {
    id: job.id,
    kind: job.kind,
    state: job.state,
    payload: job.payload,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    runAfter: new Date(job.runAfter).toISOString(),
    cancelRequested: job.cancelRequested,
    progress: job.progress,
    result: job.result,
    error: job.error,
    schedule: job.schedule,
    leaseOwner: job.leaseOwner,
    createdAt: new Date(job.createdAt).toISOString(),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
  };
}

const logView = (l: JobLogLine) => ({
  at: new Date(l.at).toISOString(),
  level: l.level,
  message: l.message,
});

const idParams = {
  type: "object",
  required: ["job"],
  properties: { job: { type: "integer", minimum: 1, description: "job id" } },
} as const;

export async function jobRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const queue = (): JobQueue => {
    if (!ctx.jobs) throw notFound("background jobs are not available on this server");
    return ctx.jobs;
  };
  const admin = async (request: Parameters<typeof callerOf>[0]) => {
    const caller = await callerOf(request, ctx);
    requireAdmin(caller);
    return caller;
  };
  const audit = async (caller: Awaited<ReturnType<typeof admin>>, action: string, job: JobRow) => {
    await ctx.auth.audit.record({
      actor: caller.principal,
      remoteAddress: caller.remoteAddress,
      action,
      resourceType: "job",
      resource: `${job.kind}#${job.id}`,
      detail: { id: job.id, kind: job.kind },
    });
  };

  app.get(
    "/jobs",
    {
      schema: {
        summary: "List jobs, newest first (system administrators)",
        tags: ["jobs"],
        querystring: {
          type: "object",
          properties: {
            ...PAGE_QUERY,
            kind: { type: "string", description: "only this kind, e.g. gc" },
            state: { type: "string", enum: JOB_STATES },
          },
        },
        response: {
          200: { description: "a page of jobs", ...pageSchema(JobSchema) },
          ...errors(400, 401, 403),
        },
      },
    },
    async (request, reply) => {
      await admin(request);
      const q = request.query as {
        page?: number;
        page_size?: number;
        sort?: string;
        kind?: string;
        state?: (typeof JOB_STATES)[number];
      };
      const page = pageRequest(q, ["id", "kind", "state"] as const, "id", true);
      const filter = { kind: q.kind, state: q.state };
      const jobs = await queue().list({
        ...filter,
        limit: page.pageSize,
        offset: (page.page - 1) * page.pageSize,
        sort: page.sort,
        descending: page.descending,
      });
      return sendPage(request, reply, page, {
        items: jobs.map(jobView),
        total: await queue().count(filter),
      });
    },
  );

  app.get(
    "/jobs/:job",
    {
      schema: {
        summary: "Show a job with its log",
        tags: ["jobs"],
        params: idParams,
        response: {
          200: { description: "the job", ...JobWithLogSchema },
          ...errors(401, 403, 404),
        },
      },
    },
    async (request) => {
      await admin(request);
      const { job: id } = request.params as { job: number };
      const job = await queue().get(id);
      if (!job) throw notFound(`job ${id} not found`);
      return { ...jobView(job), log: (await queue().log(id)).map(logView) };
    },
  );

  app.post(
    "/jobs/:job/cancel",
    {
      schema: {
        summary: "Cancel a queued or running job (a running one stops at its next heartbeat)",
        tags: ["jobs"],
        params: idParams,
        response: { 200: { description: "the job", ...JobSchema }, ...errors(401, 403, 404, 409) },
      },
    },
    async (request) => {
      const caller = await admin(request);
      const { job: id } = request.params as { job: number };
      const before = await queue().get(id);
      if (!before) throw notFound(`job ${id} not found`);
      if (before.state !== "queued" && before.state !== "running")
        throw conflict(
          `job ${id} is ${before.state}; only queued or running jobs can be cancelled`,
        );
      const job = (await queue().cancel(id))!;
      await audit(caller, "job.cancel", job);
      return jobView(job);
    },
  );

  app.post(
    "/jobs/:job/retry",
    {
      schema: {
        summary: "Run a failed or cancelled job again",
        tags: ["jobs"],
        params: idParams,
        response: { 200: { description: "the job", ...JobSchema }, ...errors(401, 403, 404, 409) },
      },
    },
    async (request) => {
      const caller = await admin(request);
      const { job: id } = request.params as { job: number };
      const before = await queue().get(id);
      if (!before) throw notFound(`job ${id} not found`);
      const job = await queue().retry(id);
      if (!job)
        throw conflict(
          `job ${id} is ${before.state}; only failed or cancelled jobs can be retried`,
        );
      await audit(caller, "job.retry", job);
      return jobView(job);
    },
  );

  app.post(
    "/gc",
    {
      schema: {
        summary: "Start a garbage collection (a job of kind gc); see docs/lifecycle.md",
        tags: ["jobs"],
        body: {
          type: ["object", "null"],
          additionalProperties: false,
          properties: {
            dryRun: { type: "boolean", description: "report what would go, delete nothing" },
            deleteUntagged: {
              type: "boolean",
              description: "also delete untagged manifests (and their referrers)",
            },
          },
        },
        response: {
          202: { description: "the queued job", ...JobSchema },
          ...errors(400, 401, 403),
        },
      },
    },
    async (request, reply) => {
      const caller = await admin(request);
      const body = (request.body ?? {}) as { dryRun?: boolean; deleteUntagged?: boolean };
      if (typeof body !== "object") throw badRequest("the body must be a JSON object");
      const job = await queue().enqueue(
        GC_JOB_KIND,
        { dryRun: body.dryRun === true, deleteUntagged: body.deleteUntagged === true },
        { maxAttempts: 3 },
      );
      await audit(caller, body.dryRun ? "gc.dry-run" : "gc.start", job);
      return reply.code(202).send(jobView(job));
    },
  );
}
