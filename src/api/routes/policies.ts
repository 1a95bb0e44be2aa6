// Policy routes: storage quotas per repository and for the whole registry (the per-project
// quota routes are in projects.ts), tag immutability rules and the retention policy of a
// project, and retention runs (dry or real). Project admins and maintainers manage their
// project's rules (policy:manage), project admins its repository quotas (project:update),
// system administrators the system quota. Every change is audited (policy/service.ts).
import type { FastifyInstance } from "fastify";
import { projectOf } from "../../auth/permissions.js";
import { isValidRepositoryName } from "../../auth/scope.js";
import { actorOf, requireAdmin } from "../authn.js";
import { type ApiContext, callerOf, requireProjectAction } from "../context.js";
import { notFound } from "../errors.js";
import {
  ImmutableRuleSchema,
  QuotaBody,
  RetentionBody,
  RetentionPolicySchema,
  RetentionReportSchema,
  ScopedQuotaSchema,
} from "../policy-schemas.js";
import { errors, NoContent } from "../schemas.js";
import { projectParam } from "./projects.js";

const repoParams = {
  type: "object",
  required: ["project", "repository"],
  properties: {
    project: { type: "string" },
    repository: { type: "string", description: "full name, URL-encoded" },
  },
} as const;

const ruleParams = {
  type: "object",
  required: ["project", "id"],
  properties: { project: { type: "string" }, id: { type: "string" } },
} as const;

export async function policyRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  function repositoryIn(params: { project: string; repository: string }): string {
    if (
      !isValidRepositoryName(params.repository) ||
      projectOf(params.repository) !== params.project
    )
      throw notFound(`repository "${params.repository}" is not in project "${params.project}"`);
    return params.repository;
  }

  app.get(
    "/system/quota",
    {
      schema: {
        summary: "The registry-wide storage quota and usage (system administrators)",
        tags: ["quotas"],
        response: {
          200: { description: "quota and usage", ...ScopedQuotaSchema },
          ...errors(401, 403),
        },
      },
    },
    async (request) => {
      requireAdmin(await callerOf(request, ctx));
      return ctx.policies.quota({ kind: "system" });
    },
  );

  app.put(
    "/system/quota",
    {
      schema: {
        summary: "Set the registry-wide storage quota (system administrators; null = unlimited)",
        tags: ["quotas"],
        body: QuotaBody,
        response: {
          200: { description: "quota and usage", ...ScopedQuotaSchema },
          ...errors(400, 401, 403),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      requireAdmin(caller);
      const { limitBytes } = request.body as { limitBytes: number | null };
      return ctx.policies.setQuota(actorOf(caller), { kind: "system" }, limitBytes);
    },
  );

  app.get(
    "/projects/:project/repositories/:repository/quota",
    {
      schema: {
        summary: "A repository's storage quota and usage",
        tags: ["quotas"],
        params: repoParams,
        response: {
          200: { description: "quota and usage", ...ScopedQuotaSchema },
          ...errors(401, 403, 404),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const params = request.params as { project: string; repository: string };
      const repository = repositoryIn(params);
      await requireProjectAction(ctx, caller, params.project, "quota:read");
      return ctx.policies.quota({ kind: "repository", repository });
    },
  );

  app.put(
    "/projects/:project/repositories/:repository/quota",
    {
      schema: {
        summary: "Set a repository's storage quota (project admins; null = unlimited)",
        tags: ["quotas"],
        params: repoParams,
        body: QuotaBody,
        response: {
          200: { description: "quota and usage", ...ScopedQuotaSchema },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const params = request.params as { project: string; repository: string };
      const repository = repositoryIn(params);
      await requireProjectAction(ctx, caller, params.project, "project:update");
      const { limitBytes } = request.body as { limitBytes: number | null };
      return ctx.policies.setQuota(actorOf(caller), { kind: "repository", repository }, limitBytes);
    },
  );

  app.get(
    "/projects/:project/immutable-rules",
    {
      schema: {
        summary: "A project's tag immutability rules",
        tags: ["policies"],
        params: projectParam,
        response: {
          200: { description: "the rules", type: "array", items: ImmutableRuleSchema },
          ...errors(401, 403, 404),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      await requireProjectAction(ctx, caller, project, "policy:read");
      return ctx.policies.immutableRules(project);
    },
  );

  app.post(
    "/projects/:project/immutable-rules",
    {
      schema: {
        summary: "Add a tag immutability rule (an identical rule is returned, not duplicated)",
        tags: ["policies"],
        params: projectParam,
        body: {
          type: "object",
          required: ["repositoryPattern", "tagPattern"],
          properties: {
            repositoryPattern: { type: "string", description: "e.g. ** or app/**" },
            tagPattern: { type: "string", description: "e.g. v* or {1..9}.*" },
          },
        },
        response: {
          200: { description: "the identical rule that already existed", ...ImmutableRuleSchema },
          201: { description: "created", ...ImmutableRuleSchema },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      await requireProjectAction(ctx, caller, project, "policy:manage");
      const body = request.body as { repositoryPattern: string; tagPattern: string };
      const result = await ctx.policies.addImmutableRule(
        actorOf(caller),
        project,
        body.repositoryPattern,
        body.tagPattern,
      );
      return reply.code(result.created ? 201 : 200).send(result.rule);
    },
  );

  app.delete(
    "/projects/:project/immutable-rules/:id",
    {
      schema: {
        summary: "Remove a tag immutability rule",
        tags: ["policies"],
        params: ruleParams,
        response: { ...NoContent, ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const { project, id } = request.params as { project: string; id: string };
      await requireProjectAction(ctx, caller, project, "policy:manage");
      await ctx.policies.removeImmutableRule(actorOf(caller), project, id);
      return reply.code(204).send();
    },
  );

  app.get(
    "/projects/:project/retention",
    {
      schema: {
        summary: "A project's retention policy",
        tags: ["policies"],
        params: projectParam,
        response: {
          200: { description: "the policy", ...RetentionPolicySchema },
          ...errors(401, 403, 404),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      await requireProjectAction(ctx, caller, project, "policy:read");
      const policy = await ctx.policies.retentionPolicy(project);
      if (!policy) throw notFound(`project "${project}" has no retention policy`);
      return policy;
    },
  );

  app.put(
    "/projects/:project/retention",
    {
      schema: {
        summary: "Set a project's retention policy (rules and schedule; see docs/policies.md)",
        tags: ["policies"],
        params: projectParam,
        body: RetentionBody,
        response: {
          200: { description: "the stored policy", ...RetentionPolicySchema },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      await requireProjectAction(ctx, caller, project, "policy:manage");
      return ctx.policies.setRetentionPolicy(actorOf(caller), project, request.body);
    },
  );

  app.delete(
    "/projects/:project/retention",
    {
      schema: {
        summary: "Remove a project's retention policy",
        tags: ["policies"],
        params: projectParam,
        response: { ...NoContent, ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      await requireProjectAction(ctx, caller, project, "policy:manage");
      await ctx.policies.deleteRetentionPolicy(actorOf(caller), project);
      return reply.code(204).send();
    },
  );

  app.post(
    "/projects/:project/retention/runs",
    {
      schema: {
        summary: "Run the project's retention policy now (dryRun: only report what would go)",
        tags: ["policies"],
        params: projectParam,
        body: {
          type: "object",
          properties: { dryRun: { type: "boolean", default: false } },
        },
        response: {
          200: { description: "what was (or would be) deleted and why", ...RetentionReportSchema },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      const { dryRun } = (request.body ?? {}) as { dryRun?: boolean };
      await requireProjectAction(ctx, caller, project, dryRun ? "policy:read" : "policy:manage");
      return ctx.policies.runRetention(actorOf(caller), project, { dryRun: dryRun === true });
    },
  );
}
