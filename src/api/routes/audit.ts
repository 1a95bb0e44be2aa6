// The audit log: system-wide for system administrators, per project for members whose role
// may read logs. Filterable by actor, action, resource, outcome and time range.
import type { FastifyInstance } from "fastify";
import type { AuditFilter } from "../../auth/store.js";
import { requireAdmin } from "../authn.js";
import { type ApiContext, callerOf, requireProjectAction } from "../context.js";
import { PAGE_QUERY, pageRequest, pageSchema, sendPage } from "../pagination.js";
import { AuditEntrySchema, errors } from "../schemas.js";

const filters = {
  actor: { type: "string", description: "account name" },
  action: {
    type: "string",
    description: "push, pull, delete, login, project.create, member.add, …",
  },
  resource: { type: "string", description: "resource name contains" },
  resource_type: {
    type: "string",
    description: "repository, artifact, tag, project, member, robot, user, account",
  },
  outcome: { type: "string", enum: ["success", "failure"] },
  since: { type: "string", format: "date-time" },
  until: { type: "string", format: "date-time" },
} as const;

type Query = {
  sort?: string;
  actor?: string;
  action?: string;
  resource?: string;
  resource_type?: string;
  outcome?: string;
  since?: string;
  until?: string;
  project?: string;
};

function filterOf(q: Query): AuditFilter {
  return {
    actor: q.actor,
    action: q.action,
    resource: q.resource,
    resourceType: q.resource_type,
    outcome: q.outcome,
    since: q.since,
    until: q.until,
    project: q.project,
  };
}

export async function auditRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.get(
    "/audit",
    {
      schema: {
        summary: "Query the audit log (system administrators); newest first by default",
        tags: ["audit"],
        querystring: {
          type: "object",
          properties: { ...PAGE_QUERY, ...filters, project: { type: "string" } },
        },
        response: {
          200: { description: "a page of audit entries", ...pageSchema(AuditEntrySchema) },
          ...errors(400, 401, 403),
        },
      },
    },
    async (request, reply) => {
      requireAdmin(await callerOf(request, ctx));
      const query = request.query as Query;
      const page = pageRequest(query, ["at", "actor", "action"] as const, "at", true);
      // Batched pull records of this process first, so a pull is visible right after it.
      await ctx.auth.audit.flush();
      return sendPage(request, reply, page, await ctx.auth.store.listAudit(page, filterOf(query)));
    },
  );

  app.get(
    "/projects/:project/audit",
    {
      schema: {
        summary: "Query a project's audit log",
        tags: ["audit"],
        params: {
          type: "object",
          required: ["project"],
          properties: { project: { type: "string" } },
        },
        querystring: { type: "object", properties: { ...PAGE_QUERY, ...filters } },
        response: {
          200: { description: "a page of audit entries", ...pageSchema(AuditEntrySchema) },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      await requireProjectAction(ctx, caller, project, "log:list");
      const query = request.query as Query;
      const page = pageRequest(query, ["at", "actor", "action"] as const, "at", true);
      await ctx.auth.audit.flush();
      return sendPage(
        request,
        reply,
        page,
        await ctx.auth.store.listAudit(page, { ...filterOf(query), project }),
      );
    },
  );
}
