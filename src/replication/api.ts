// Management API routes of replication (inside the management API plugin, so they are in
// the OpenAPI document), Harbor's shape:
//   GET/POST /replication/policies                 list, add a rule
//   GET/PUT/DELETE /replication/policies/{id}      show, change, remove (id or name)
//   POST /replication/executions {policy}           start a manual run (202: the execution)
//   GET  /replication/executions?policy=&limit=     executions, newest first
//   GET  /replication/executions/{id}               one execution with its counters
//   POST /replication/executions/{id}/stop          stop it (running transfers are aborted)
//   GET  /replication/executions/{id}/tasks         per-artifact tasks: state, bytes, error
// System administrators only (rules reach every project and hold an endpoint's rights).
// Every change is audited. Never: answer endpoint credentials.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { adminCaller, auditorOf } from "../api/audited-routes.js";
import type { Caller } from "../api/authn.js";
import type { ApiContext } from "../api/context.js";
import { badRequest, conflict, notFound } from "../api/errors.js";
import { errors } from "../api/schemas.js";
import type { Execution, StoredPolicy, Task } from "../meta/replication.js";
import { RuleInputError, type RuleSettings } from "./rules.js";
import { type ReplicationEndpoint, type ReplicationService, RuleExistsError } from "./service.js";

const Patterns = {
  type: "object",
  additionalProperties: false,
  properties: {
    include: { type: "array", maxItems: 32, items: { type: "string", maxLength: 256 } },
    exclude: { type: "array", maxItems: 32, items: { type: "string", maxLength: 256 } },
  },
} as const;

const RuleBody = {
  type: "object",
  required: ["name", "endpoint", "mode"],
  additionalProperties: false,
  properties: {
    name: { type: "string", maxLength: 64 },
    description: { type: "string", maxLength: 1024 },
    endpoint: { type: "string", maxLength: 128, description: "registry endpoint id or name" },
    mode: { type: "string", enum: ["push", "pull"] },
    repositories: Patterns,
    tags: Patterns,
    labels: { type: "array", maxItems: 16, items: { type: "string", maxLength: 400 } },
    platforms: { type: "array", maxItems: 16, items: { type: "string", maxLength: 64 } },
    destinationNamespace: { type: "string", maxLength: 255 },
    flatten: {
      type: "integer",
      minimum: -1,
      maximum: 16,
      description:
        "leading levels removed (-1: all but the last); default 1 with a namespace, else 0",
    },
    trigger: { type: "string", maxLength: 128, description: "manual, event or cron:EXPR" },
    overwrite: { type: "boolean" },
    replicateDeletion: { type: "boolean" },
    bandwidthKbps: { type: "integer", minimum: 0, maximum: 10_000_000 },
    concurrency: { type: "integer", minimum: 1, maximum: 32 },
    enabled: { type: "boolean" },
  },
} as const;

const PolicySchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    description: { type: "string" },
    endpoint: { type: "string" },
    mode: { type: "string" },
    repositories: Patterns,
    tags: Patterns,
    labels: { type: "array", items: { type: "string" } },
    platforms: { type: "array", items: { type: "string" } },
    destinationNamespace: { type: "string" },
    flatten: { type: "integer" },
    trigger: { type: "string" },
    overwrite: { type: "boolean" },
    replicateDeletion: { type: "boolean" },
    bandwidthKbps: { type: "integer" },
    concurrency: { type: "integer" },
    enabled: { type: "boolean" },
    createdBy: { type: "string" },
    createdAt: { type: "string" },
  },
} as const;

const ExecutionSchema = {
  type: "object",
  properties: {
    id: { type: "integer" },
    policy: { type: "string" },
    policyId: { type: "string" },
    trigger: { type: "string" },
    state: {
      type: "string",
      enum: ["pending", "running", "succeeded", "failed", "stopping", "stopped"],
    },
    jobId: { type: ["integer", "null"] },
    total: { type: "integer" },
    succeeded: { type: "integer" },
    failed: { type: "integer" },
    skipped: { type: "integer" },
    bytes: { type: "integer" },
    error: { type: ["string", "null"] },
    createdBy: { type: "string" },
    createdAt: { type: "string" },
    startedAt: { type: ["string", "null"] },
    finishedAt: { type: ["string", "null"] },
    durationMs: { type: ["integer", "null"] },
  },
} as const;

const TaskSchema = {
  type: "object",
  properties: {
    id: { type: "integer" },
    operation: { type: "string", enum: ["copy", "referrers", "delete"] },
    sourceRepository: { type: "string" },
    reference: { type: "string" },
    destinationRepository: { type: "string" },
    digest: { type: ["string", "null"] },
    state: {
      type: "string",
      enum: ["pending", "running", "succeeded", "failed", "skipped", "stopped"],
    },
    attempts: { type: "integer" },
    bytes: { type: "integer" },
    referrers: { type: "integer" },
    error: { type: ["string", "null"] },
    startedAt: { type: ["string", "null"] },
    finishedAt: { type: ["string", "null"] },
    durationMs: { type: ["integer", "null"] },
  },
} as const;

export interface PolicyView {
  id: string;
  name: string;
  description: string;
  endpoint: string;
  mode: string;
  repositories: { include: string[]; exclude: string[] };
  tags: { include: string[]; exclude: string[] };
  labels: string[];
  platforms: string[];
  destinationNamespace: string;
  flatten: number;
  trigger: string;
  overwrite: boolean;
  replicateDeletion: boolean;
  bandwidthKbps: number;
  concurrency: number;
  enabled: boolean;
  createdBy: string;
  createdAt: string;
}

export interface ExecutionView {
  id: number;
  policy: string;
  policyId: string;
  trigger: string;
  state: string;
  jobId: number | null;
  total: number;
  succeeded: number;
  failed: number;
  skipped: number;
  bytes: number;
  error: string | null;
  createdBy: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
}

export interface TaskView {
  id: number;
  operation: string;
  sourceRepository: string;
  reference: string;
  destinationRepository: string;
  digest: string | null;
  state: string;
  attempts: number;
  bytes: number;
  referrers: number;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const duration = (a: number | null, b: number | null) => (a !== null && b !== null ? b - a : null);

export function taskView(t: Task): TaskView {
  return {
    id: t.id,
    operation: t.operation,
    sourceRepository: t.sourceRepository,
    reference: t.reference,
    destinationRepository: t.destinationRepository,
    digest: t.digest,
    state: t.state,
    attempts: t.attempts,
    bytes: t.bytes,
    referrers: t.referrers,
    error: t.error,
    startedAt: iso(t.startedAt),
    finishedAt: iso(t.finishedAt),
    durationMs: duration(t.startedAt, t.finishedAt),
  };
}

function executionView(e: Execution, policy: string): ExecutionView {
  return {
    id: e.id,
    policy,
    policyId: e.policyId,
    trigger: e.trigger,
    state: e.state,
    jobId: e.jobId,
    total: e.total,
    succeeded: e.succeeded,
    failed: e.failed,
    skipped: e.skipped,
    bytes: e.bytes,
    error: e.error,
    createdBy: e.createdBy,
    createdAt: new Date(e.createdAt).toISOString(),
    startedAt: iso(e.startedAt),
    finishedAt: iso(e.finishedAt),
    durationMs: duration(e.startedAt, e.finishedAt),
  };
}

type RuleInput = {
  name: string;
  description?: string;
  endpoint: string;
  mode: "push" | "pull";
  repositories?: { include?: string[]; exclude?: string[] };
  tags?: { include?: string[]; exclude?: string[] };
  labels?: string[];
  platforms?: string[];
  destinationNamespace?: string;
  flatten?: number;
  trigger?: string;
  overwrite?: boolean;
  replicateDeletion?: boolean;
  bandwidthKbps?: number;
  concurrency?: number;
  enabled?: boolean;
};

/** The API body as rule settings (defaults filled; validated by the service). */
export function ruleFromBody(b: RuleInput): RuleSettings {
  const trigger = b.trigger ?? "manual";
  const cron = trigger.startsWith("cron:") ? trigger.slice(5).trim() : null;
  const namespace = b.destinationNamespace ?? "";
  return {
    name: b.name,
    description: b.description ?? "",
    endpoint: b.endpoint,
    mode: b.mode,
    filters: {
      repositories: {
        include: b.repositories?.include ?? [],
        exclude: b.repositories?.exclude ?? [],
      },
      tags: { include: b.tags?.include ?? [], exclude: b.tags?.exclude ?? [] },
      labels: b.labels ?? [],
      platforms: b.platforms ?? [],
    },
    destination: { namespace, flatten: b.flatten ?? (namespace ? 1 : 0) },
    trigger: (cron !== null ? "cron" : trigger) as RuleSettings["trigger"],
    cron,
    overwrite: b.overwrite ?? true,
    replicateDeletion: b.replicateDeletion ?? false,
    bandwidthKbps: b.bandwidthKbps ?? 0,
    concurrency: b.concurrency ?? 2,
    enabled: b.enabled ?? true,
  };
}

async function policyView<E extends ReplicationEndpoint>(
  service: ReplicationService<E>,
  p: StoredPolicy,
): Promise<PolicyView> {
  const s = await service.settingsOf(p);
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    endpoint: s.endpointName || p.endpointId,
    mode: p.mode,
    repositories: {
      include: [...s.filters.repositories.include],
      exclude: [...s.filters.repositories.exclude],
    },
    tags: { include: [...s.filters.tags.include], exclude: [...s.filters.tags.exclude] },
    labels: [...s.filters.labels],
    platforms: [...s.filters.platforms],
    destinationNamespace: s.destination.namespace,
    flatten: s.destination.flatten,
    trigger: p.trigger === "cron" ? `cron:${p.cron}` : p.trigger,
    overwrite: p.overwrite,
    replicateDeletion: p.replicateDeletion,
    bandwidthKbps: p.bandwidthKbps,
    concurrency: p.concurrency,
    enabled: p.enabled,
    createdBy: p.createdBy,
    createdAt: new Date(p.createdAt).toISOString(),
  };
}

const idParams = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string", maxLength: 128 } },
} as const;
const executionParams = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "integer", minimum: 1 } },
} as const;

function inputErrors<T>(run: () => Promise<T>): Promise<T> {
  return run().catch((err: unknown) => {
    if (err instanceof RuleInputError) throw badRequest(err.message);
    if (err instanceof RuleExistsError) throw conflict(err.message);
    throw err;
  });
}

export function replicationRoutes<E extends ReplicationEndpoint>(service: ReplicationService<E>) {
  return async (app: FastifyInstance, ctx: ApiContext): Promise<void> => {
    const admin = (request: FastifyRequest) => adminCaller(request, ctx);
    const record = auditorOf(ctx, "replication");
    const audit = (
      caller: Caller,
      action: string,
      resource: string,
      detail?: Record<string, unknown>,
    ) => record(caller, action, resource, detail ? { detail } : {});
    const policy = async (id: string) => {
      const p = await service.get(id);
      if (!p) throw notFound(`replication rule "${id}" not found`);
      return p;
    };
    const namesById = async () => new Map((await service.list()).map((p) => [p.id, p.name]));

    app.get(
      "/replication/policies",
      {
        schema: {
          summary: "List replication rules",
          tags: ["replication"],
          response: { 200: { type: "array", items: PolicySchema }, ...errors(401, 403) },
        },
      },
      async (request) => {
        await admin(request);
        return Promise.all((await service.list()).map((p) => policyView(service, p)));
      },
    );

    app.post(
      "/replication/policies",
      {
        schema: {
          summary: "Add a replication rule (push to or pull from a registry endpoint)",
          tags: ["replication"],
          body: RuleBody,
          response: { 201: PolicySchema, ...errors(400, 401, 403, 409) },
        },
      },
      async (request, reply) => {
        const caller = await admin(request);
        const rule = ruleFromBody(request.body as RuleInput);
        const made = await inputErrors(() => service.create(rule, caller.principal.name));
        await audit(caller, "replication.create", made.name, { mode: made.mode });
        return reply.code(201).send(await policyView(service, made));
      },
    );

    app.get(
      "/replication/policies/:id",
      {
        schema: {
          summary: "Show one replication rule (by id or name)",
          tags: ["replication"],
          params: idParams,
          response: { 200: PolicySchema, ...errors(401, 403, 404) },
        },
      },
      async (request) => {
        await admin(request);
        return policyView(service, await policy((request.params as { id: string }).id));
      },
    );

    app.put(
      "/replication/policies/:id",
      {
        schema: {
          summary: "Replace a replication rule's settings",
          tags: ["replication"],
          params: idParams,
          body: RuleBody,
          response: { 200: PolicySchema, ...errors(400, 401, 403, 404, 409) },
        },
      },
      async (request) => {
        const caller = await admin(request);
        const { id } = request.params as { id: string };
        const rule = ruleFromBody(request.body as RuleInput);
        const updated = await inputErrors(() => service.update(id, rule));
        if (!updated) throw notFound(`replication rule "${id}" not found`);
        await audit(caller, "replication.update", updated.name);
        return policyView(service, updated);
      },
    );

    app.delete(
      "/replication/policies/:id",
      {
        schema: {
          summary: "Remove a replication rule (its running executions are stopped)",
          tags: ["replication"],
          params: idParams,
          response: { 204: { type: "null" }, ...errors(401, 403, 404) },
        },
      },
      async (request, reply) => {
        const caller = await admin(request);
        const p = await policy((request.params as { id: string }).id);
        await service.remove(p.id);
        await audit(caller, "replication.delete", p.name);
        return reply.code(204).send();
      },
    );

    app.post(
      "/replication/executions",
      {
        schema: {
          summary: "Run a replication rule now",
          tags: ["replication"],
          body: {
            type: "object",
            required: ["policy"],
            additionalProperties: false,
            properties: { policy: { type: "string", maxLength: 128 } },
          },
          response: { 202: ExecutionSchema, ...errors(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        const caller = await admin(request);
        const p = await policy((request.body as { policy: string }).policy);
        const execution = await inputErrors(() => service.run(p, caller.principal.name));
        await audit(caller, "replication.run", p.name, { execution: execution.id });
        return reply.code(202).send(executionView(execution, p.name));
      },
    );

    app.get(
      "/replication/executions",
      {
        schema: {
          summary: "Replication executions, newest first",
          tags: ["replication"],
          querystring: {
            type: "object",
            additionalProperties: false,
            properties: {
              policy: { type: "string", maxLength: 128 },
              limit: { type: "integer", minimum: 1, maximum: 500, default: 50 },
            },
          },
          response: {
            200: { type: "array", items: ExecutionSchema },
            ...errors(400, 401, 403, 404),
          },
        },
      },
      async (request) => {
        await admin(request);
        const q = request.query as { policy?: string; limit: number };
        const policyId = q.policy ? (await policy(q.policy)).id : undefined;
        const names = await namesById();
        const list = await service.executions({
          limit: q.limit,
          ...(policyId ? { policyId } : {}),
        });
        return list.map((e) => executionView(e, names.get(e.policyId) ?? ""));
      },
    );

    app.get(
      "/replication/executions/:id",
      {
        schema: {
          summary: "One replication execution",
          tags: ["replication"],
          params: executionParams,
          response: { 200: ExecutionSchema, ...errors(400, 401, 403, 404) },
        },
      },
      async (request) => {
        await admin(request);
        const { id } = request.params as { id: number };
        const e = await service.execution(id);
        if (!e) throw notFound(`replication execution ${id} not found`);
        return executionView(e, (await namesById()).get(e.policyId) ?? "");
      },
    );

    app.post(
      "/replication/executions/:id/stop",
      {
        schema: {
          summary: "Stop a pending or running execution",
          tags: ["replication"],
          params: executionParams,
          response: { 202: ExecutionSchema, ...errors(400, 401, 403, 404, 409) },
        },
      },
      async (request, reply) => {
        const caller = await admin(request);
        const { id } = request.params as { id: number };
        const e = await service.execution(id);
        if (!e) throw notFound(`replication execution ${id} not found`);
        if (!(await service.stop(id)))
          throw conflict(`replication execution ${id} has finished (${e.state})`);
        await audit(caller, "replication.stop", String(id));
        const now = (await service.execution(id)) ?? e;
        return reply.code(202).send(executionView(now, (await namesById()).get(e.policyId) ?? ""));
      },
    );

    app.get(
      "/replication/executions/:id/tasks",
      {
        schema: {
          summary: "The execution's per-artifact tasks",
          tags: ["replication"],
          params: executionParams,
          querystring: {
            type: "object",
            additionalProperties: false,
            properties: {
              state: {
                type: "string",
                enum: ["pending", "running", "succeeded", "failed", "skipped", "stopped"],
              },
              limit: { type: "integer", minimum: 1, maximum: 5000, default: 500 },
            },
          },
          response: { 200: { type: "array", items: TaskSchema }, ...errors(400, 401, 403, 404) },
        },
      },
      async (request) => {
        await admin(request);
        const { id } = request.params as { id: number };
        if (!(await service.execution(id))) throw notFound(`replication execution ${id} not found`);
        const q = request.query as { state?: Task["state"]; limit: number };
        return (await service.tasks(id, q)).map(taskView);
      },
    );
  };
}
