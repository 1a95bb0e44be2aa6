// Projects (the first path component of repository names) and their quotas. Any signed-in
// user may create a project and becomes its project admin; only system administrators set
// quotas. A project that still holds repositories cannot be deleted.
import type { FastifyInstance } from "fastify";
import { isSystemAdmin } from "../../auth/authorizer.js";
import type { Project } from "../../auth/store.js";
import { MAX_BYTES } from "../../auth/units.js";
import { actorOf, requireAdmin, requireSignedIn } from "../authn.js";
import { type ApiContext, callerOf, requireProjectAction, roleIn } from "../context.js";
import { conflict, forbidden } from "../errors.js";
import { PAGE_QUERY, pageRequest, pageSchema, sendPage, slicePage } from "../pagination.js";
import { errors, NoContent, ProjectSchema, QuotaSchema } from "../schemas.js";

export const projectParam = {
  type: "object",
  required: ["project"],
  properties: { project: { type: "string" } },
} as const;

/** A quota in bytes, `null` = unlimited; bounded so that it is stored exactly. */
const QUOTA_BYTES = {
  type: ["integer", "null"],
  minimum: 0,
  maximum: MAX_BYTES,
} as const;

export function projectView(project: Project, role: string | null = null) {
  return {
    name: project.name,
    public: project.isPublic,
    quotaBytes: project.quotaBytes,
    role,
    createdAt: project.createdAt,
    updatedAt: project.updatedAt,
  };
}

export async function projectRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  type QuotaView = { project: string; limitBytes: number | null; usedBytes: number };
  async function quotaView(project: Project): Promise<QuotaView> {
    return {
      project: project.name,
      limitBytes: project.quotaBytes,
      usedBytes: await ctx.registry.projectUsage(project.name),
    };
  }

  app.get(
    "/projects",
    {
      schema: {
        summary: "List the projects the caller can see (public ones and those they belong to)",
        tags: ["projects"],
        querystring: {
          type: "object",
          properties: { ...PAGE_QUERY, q: { type: "string", description: "name contains" } },
        },
        response: {
          200: { description: "a page of projects", ...pageSchema(ProjectSchema) },
          ...errors(400, 401),
        },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const query = request.query as {
        page?: number;
        page_size?: number;
        sort?: string;
        q?: string;
      };
      const page = pageRequest(query, ["name", "createdAt"] as const, "name");
      const account = caller.account;
      let options: { visibleTo?: string | null; names?: string[]; query?: string } = {
        query: query.q,
      };
      if (!isSystemAdmin(account)) {
        if (account?.kind === "user") options = { ...options, visibleTo: account.user.id };
        else if (account?.kind === "robot") {
          options = {
            ...options,
            visibleTo: null,
            names: account.robot.permissions.map((p) => p.project),
          };
        } else options = { ...options, visibleTo: null };
      }
      const result = await ctx.auth.store.listProjects(page, options);
      const items = [];
      for (const p of result.items) items.push(projectView(p, await roleIn(ctx, account, p.name)));
      return sendPage(request, reply, page, { items, total: result.total });
    },
  );

  app.post(
    "/projects",
    {
      schema: {
        summary: "Create a project (the creator becomes its project admin)",
        tags: ["projects"],
        body: {
          type: "object",
          required: ["name"],
          properties: {
            name: { type: "string" },
            public: { type: "boolean", default: false },
            quotaBytes: {
              ...QUOTA_BYTES,
              default: null,
              description: "system administrators only",
            },
          },
        },
        response: {
          201: { description: "created", ...ProjectSchema },
          ...errors(400, 401, 403, 409),
        },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const account = requireSignedIn(caller);
      if (account.kind === "robot") throw forbidden("robot accounts cannot create projects");
      const body = request.body as { name: string; public: boolean; quotaBytes: number | null };
      if (body.quotaBytes !== null && !isSystemAdmin(account))
        throw forbidden("only system administrators set quotas");
      const owner =
        account.kind === "user" && !account.user.isAdmin ? account.user.username : undefined;
      const project = await ctx.management.createProject(
        actorOf(caller),
        { name: body.name, isPublic: body.public, quotaBytes: body.quotaBytes },
        owner,
      );
      return reply.code(201).send(projectView(project, owner ? "projectAdmin" : null));
    },
  );

  app.get(
    "/projects/:project",
    {
      schema: {
        summary: "Get a project",
        tags: ["projects"],
        params: projectParam,
        response: { 200: { description: "the project", ...ProjectSchema }, ...errors(401, 404) },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      const found = await requireProjectAction(ctx, caller, project, "project:read");
      return projectView(found, await roleIn(ctx, caller.account, project));
    },
  );

  app.patch(
    "/projects/:project",
    {
      schema: {
        summary: "Change a project's visibility (project admins) or quota (system administrators)",
        tags: ["projects"],
        params: projectParam,
        body: {
          type: "object",
          properties: { public: { type: "boolean" }, quotaBytes: QUOTA_BYTES },
        },
        response: {
          200: { description: "the updated project", ...ProjectSchema },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      const body = request.body as { public?: boolean; quotaBytes?: number | null };
      await requireProjectAction(ctx, caller, project, "project:update");
      if (body.quotaBytes !== undefined) requireAdmin(caller);
      const updated = await ctx.management.updateProject(actorOf(caller), project, {
        isPublic: body.public,
        quotaBytes: body.quotaBytes,
      });
      return projectView(updated, await roleIn(ctx, caller.account, project));
    },
  );

  app.delete(
    "/projects/:project",
    {
      schema: {
        summary: "Delete an empty project (project admins)",
        tags: ["projects"],
        params: projectParam,
        response: { ...NoContent, ...errors(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      await requireProjectAction(ctx, caller, project, "project:delete");
      const repositories = await ctx.registry.listRepositories(project);
      if (repositories.length > 0) {
        throw conflict(
          `project "${project}" still has ${repositories.length} repositories; delete them first`,
        );
      }
      await ctx.management.deleteProject(actorOf(caller), project);
      return reply.code(204).send();
    },
  );

  app.get(
    "/projects/:project/quota",
    {
      schema: {
        summary: "A project's storage quota and usage",
        tags: ["quotas"],
        params: projectParam,
        response: {
          200: { description: "quota and usage", ...QuotaSchema },
          ...errors(401, 403, 404),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      return quotaView(await requireProjectAction(ctx, caller, project, "quota:read"));
    },
  );

  app.put(
    "/projects/:project/quota",
    {
      schema: {
        summary: "Set a project's storage quota (system administrators; null = unlimited)",
        tags: ["quotas"],
        params: projectParam,
        body: {
          type: "object",
          required: ["limitBytes"],
          properties: { limitBytes: QUOTA_BYTES },
        },
        response: {
          200: { description: "quota and usage", ...QuotaSchema },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      requireAdmin(caller);
      const { project } = request.params as { project: string };
      const { limitBytes } = request.body as { limitBytes: number | null };
      return quotaView(
        await ctx.management.updateProject(actorOf(caller), project, { quotaBytes: limitBytes }),
      );
    },
  );

  app.get(
    "/quotas",
    {
      schema: {
        summary: "Quotas and usage of every project (system administrators)",
        tags: ["quotas"],
        querystring: { type: "object", properties: { ...PAGE_QUERY } },
        response: {
          200: { description: "a page of quotas", ...pageSchema(QuotaSchema) },
          ...errors(400, 401, 403),
        },
      },
    },
    async (request, reply) => {
      requireAdmin(await callerOf(request, ctx));
      const page = pageRequest(
        request.query as { sort?: string },
        ["project", "limitBytes", "usedBytes"] as const,
        "project",
      );
      // Usage is not a column: every project's quota view is built, then sorted and sliced.
      const all = await ctx.auth.store.listProjects(
        { page: 1, pageSize: 1_000_000_000, sort: "name", descending: false },
        {},
      );
      const views: QuotaView[] = [];
      for (const p of all.items) views.push(await quotaView(p));
      const key = (v: QuotaView): string | number =>
        page.sort === "project" ? v.project : (v[page.sort] ?? Number.POSITIVE_INFINITY);
      views.sort((a, b) => {
        const x = key(a);
        const y = key(b);
        const order = x < y ? -1 : x > y ? 1 : a.project < b.project ? -1 : 1;
        return page.descending ? -order : order;
      });
      return sendPage(request, reply, page, slicePage(views, page));
    },
  );
}
