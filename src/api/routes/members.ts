// Project members and their roles (projectAdmin, maintainer, developer, guest, limitedGuest;
// the CLI spellings admin and limited-guest are accepted too).
import type { FastifyInstance } from "fastify";
import { actorOf } from "../authn.js";
import { type ApiContext, callerOf, requireProjectAction } from "../context.js";
import { notFound } from "../errors.js";
import { PAGE_QUERY, pageRequest, pageSchema, sendPage } from "../pagination.js";
import { errors, MemberSchema, NoContent } from "../schemas.js";

const memberParams = {
  type: "object",
  required: ["project", "username"],
  properties: { project: { type: "string" }, username: { type: "string" } },
} as const;
const roleText = {
  type: "string",
  description: "projectAdmin|admin, maintainer, developer, guest, limitedGuest|limited-guest",
} as const;

export async function memberRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  async function memberView(project: string, username: string) {
    const page = await ctx.auth.store.listMembers(project, {
      page: 1,
      pageSize: 1000,
      sort: "username",
      descending: false,
    });
    const member = page.items.find((m) => m.username === username);
    if (!member) throw notFound(`"${username}" is not a member of "${project}"`);
    return member;
  }

  app.get(
    "/projects/:project/members",
    {
      schema: {
        summary: "List project members",
        tags: ["members"],
        params: {
          type: "object",
          required: ["project"],
          properties: { project: { type: "string" } },
        },
        querystring: { type: "object", properties: { ...PAGE_QUERY } },
        response: {
          200: { description: "a page of members", ...pageSchema(MemberSchema) },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      await requireProjectAction(ctx, caller, project, "member:list");
      const page = pageRequest(
        request.query as { sort?: string },
        ["username", "role", "createdAt"] as const,
        "username",
      );
      return sendPage(request, reply, page, await ctx.auth.store.listMembers(project, page));
    },
  );

  app.post(
    "/projects/:project/members",
    {
      schema: {
        summary: "Add a member (or change their role)",
        tags: ["members"],
        params: {
          type: "object",
          required: ["project"],
          properties: { project: { type: "string" } },
        },
        body: {
          type: "object",
          required: ["username", "role"],
          properties: { username: { type: "string" }, role: roleText },
        },
        response: { 201: { description: "added", ...MemberSchema }, ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      const body = request.body as { username: string; role: string };
      await requireProjectAction(ctx, caller, project, "member:manage");
      await ctx.management.setMember(actorOf(caller), project, body.username, body.role);
      return reply.code(201).send(await memberView(project, body.username));
    },
  );

  app.patch(
    "/projects/:project/members/:username",
    {
      schema: {
        summary: "Change a member's role",
        tags: ["members"],
        params: memberParams,
        body: { type: "object", required: ["role"], properties: { role: roleText } },
        response: {
          200: { description: "updated", ...MemberSchema },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const { project, username } = request.params as { project: string; username: string };
      await requireProjectAction(ctx, caller, project, "member:manage");
      if (!(await ctx.auth.store.roleOf(project, username)))
        throw notFound(`"${username}" is not a member of "${project}"`);
      await ctx.management.setMember(
        actorOf(caller),
        project,
        username,
        (request.body as { role: string }).role,
      );
      return memberView(project, username);
    },
  );

  app.delete(
    "/projects/:project/members/:username",
    {
      schema: {
        summary: "Remove a member",
        tags: ["members"],
        params: memberParams,
        response: { ...NoContent, ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const { project, username } = request.params as { project: string; username: string };
      await requireProjectAction(ctx, caller, project, "member:manage");
      await ctx.management.removeMember(actorOf(caller), project, username);
      return reply.code(204).send();
    },
  );
}
