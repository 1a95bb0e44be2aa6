// Robot accounts: system robots (system administrators; permissions over any projects or
// `*`) and project robots (project admins; permissions on their own project). The secret
// is in the creation and refresh responses only; the database keeps its sha256.
import type { FastifyInstance } from "fastify";
import { isSystemAdmin } from "../../auth/authorizer.js";
import { ManagementError } from "../../auth/management.js";
import type { Robot } from "../../auth/store.js";
import { DURATION_HINT, parseDuration } from "../../auth/units.js";
import { actorOf, type Caller, requireAdmin, requireSignedIn } from "../authn.js";
import { type ApiContext, callerOf, requireProjectAction } from "../context.js";
import { ApiError, badRequest, notFound } from "../errors.js";
import { PAGE_QUERY, pageRequest, pageSchema, sendPage } from "../pagination.js";
import {
  errors,
  NoContent,
  RobotPermissionSchema,
  RobotSchema,
  RobotWithSecretSchema,
} from "../schemas.js";

const idParam = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string" } },
} as const;
const expiry = {
  expiresAt: { type: ["string", "null"], format: "date-time", description: "null = never expires" },
  expiresIn: { type: "string", description: "alternative to expiresAt: 30d, 12h, never" },
} as const;

export function robotView(robot: Robot) {
  return {
    id: robot.id,
    name: robot.name,
    level: robot.level,
    project: robot.project,
    description: robot.description,
    disabled: robot.disabled,
    expiresAt: robot.expiresAt,
    permissions: robot.permissions,
    createdAt: robot.createdAt,
  };
}

function expiresAtFrom(body: { expiresAt?: string | null; expiresIn?: string }): string | null {
  if (body.expiresIn !== undefined) {
    const ms = parseDuration(body.expiresIn);
    if (ms === undefined)
      throw badRequest(`cannot read expiresIn "${body.expiresIn.slice(0, 40)}" (${DURATION_HINT})`);
    return ms === null ? null : new Date(Date.now() + ms).toISOString();
  }
  return body.expiresAt ?? null;
}

export async function robotRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  /**
   * The robot, if the caller may manage (or, with `read`, list) it. A robot the caller may
   * not even list answers exactly as one that does not exist (401 anonymous, 404 signed in),
   * so its existence is not revealed; one it may list but not manage, 403.
   */
  async function robotFor(caller: Caller, id: string, read: boolean): Promise<Robot> {
    requireSignedIn(caller);
    const robot = await ctx.management.requireRobot(id).catch((err: unknown) => {
      if (err instanceof ManagementError && err.code === "NOT_FOUND") return undefined;
      throw err;
    });
    const hidden = () => notFound(`robot "${id.slice(0, 200)}" not found`);
    if (isSystemAdmin(caller.account)) {
      if (!robot) throw hidden();
      return robot;
    }
    if (robot?.level !== "project" || !robot.project) throw hidden();
    try {
      await requireProjectAction(ctx, caller, robot.project, "robot:list");
    } catch (err) {
      if (err instanceof ApiError && (err.status === 403 || err.status === 404)) throw hidden();
      throw err;
    }
    if (!read) await requireProjectAction(ctx, caller, robot.project, "robot:manage");
    return robot;
  }

  app.get(
    "/robots",
    {
      schema: {
        summary: "List robot accounts (system administrators)",
        tags: ["robots"],
        querystring: {
          type: "object",
          properties: { ...PAGE_QUERY, level: { type: "string", enum: ["system", "project"] } },
        },
        response: {
          200: { description: "a page of robots", ...pageSchema(RobotSchema) },
          ...errors(400, 401, 403),
        },
      },
    },
    async (request, reply) => {
      requireAdmin(await callerOf(request, ctx));
      const query = request.query as { sort?: string; level?: "system" | "project" };
      const page = pageRequest(query, ["name", "createdAt"] as const, "name");
      const result = await ctx.auth.store.listRobots(page, { level: query.level });
      return sendPage(request, reply, page, {
        items: result.items.map(robotView),
        total: result.total,
      });
    },
  );

  app.post(
    "/robots",
    {
      schema: {
        summary: "Create a system robot account (system administrators); the secret is shown once",
        tags: ["robots"],
        body: {
          type: "object",
          required: ["name", "permissions"],
          properties: {
            name: { type: "string" },
            description: { type: ["string", "null"] },
            permissions: { type: "array", items: RobotPermissionSchema, minItems: 1 },
            ...expiry,
          },
        },
        response: {
          201: { description: "created", ...RobotWithSecretSchema },
          ...errors(400, 401, 403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      requireAdmin(caller);
      const body = request.body as {
        name: string;
        description?: string | null;
        permissions: { project: string; actions: string[] }[];
        expiresAt?: string | null;
        expiresIn?: string;
      };
      const created = await ctx.management.createRobot(actorOf(caller), {
        name: body.name,
        description: body.description ?? null,
        permissions: body.permissions,
        expiresAt: expiresAtFrom(body),
      });
      return reply.code(201).send({ robot: robotView(created.robot), secret: created.secret });
    },
  );

  app.get(
    "/projects/:project/robots",
    {
      schema: {
        summary: "List a project's robot accounts",
        tags: ["robots"],
        params: {
          type: "object",
          required: ["project"],
          properties: { project: { type: "string" } },
        },
        querystring: { type: "object", properties: { ...PAGE_QUERY } },
        response: {
          200: { description: "a page of robots", ...pageSchema(RobotSchema) },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      await requireProjectAction(ctx, caller, project, "robot:list");
      const page = pageRequest(
        request.query as { sort?: string },
        ["name", "createdAt"] as const,
        "name",
      );
      const result = await ctx.auth.store.listRobots(page, { projectName: project });
      return sendPage(request, reply, page, {
        items: result.items.map(robotView),
        total: result.total,
      });
    },
  );

  app.post(
    "/projects/:project/robots",
    {
      schema: {
        summary: "Create a project robot account (project admins); the secret is shown once",
        tags: ["robots"],
        params: {
          type: "object",
          required: ["project"],
          properties: { project: { type: "string" } },
        },
        body: {
          type: "object",
          required: ["name", "actions"],
          properties: {
            name: { type: "string" },
            description: { type: ["string", "null"] },
            actions: {
              type: "array",
              items: { type: "string", enum: ["pull", "push", "delete"] },
              minItems: 1,
            },
            ...expiry,
          },
        },
        response: {
          201: { description: "created", ...RobotWithSecretSchema },
          ...errors(400, 401, 403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      await requireProjectAction(ctx, caller, project, "robot:manage");
      const body = request.body as {
        name: string;
        description?: string | null;
        actions: string[];
        expiresAt?: string | null;
        expiresIn?: string;
      };
      const created = await ctx.management.createRobot(actorOf(caller), {
        name: body.name,
        project,
        description: body.description ?? null,
        permissions: [{ project, actions: body.actions }],
        expiresAt: expiresAtFrom(body),
      });
      return reply.code(201).send({ robot: robotView(created.robot), secret: created.secret });
    },
  );

  app.get(
    "/robots/:id",
    {
      schema: {
        summary: "Get a robot account (by id or full name)",
        tags: ["robots"],
        params: idParam,
        response: { 200: { description: "the robot", ...RobotSchema }, ...errors(401, 403, 404) },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      return robotView(await robotFor(caller, (request.params as { id: string }).id, true));
    },
  );

  app.patch(
    "/robots/:id",
    {
      schema: {
        summary: "Disable or enable a robot account",
        tags: ["robots"],
        params: idParam,
        body: {
          type: "object",
          required: ["disabled"],
          properties: { disabled: { type: "boolean" } },
        },
        response: {
          200: { description: "the robot", ...RobotSchema },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const robot = await robotFor(caller, (request.params as { id: string }).id, false);
      const { disabled } = request.body as { disabled: boolean };
      return robotView(await ctx.management.setRobotDisabled(actorOf(caller), robot, disabled));
    },
  );

  app.post(
    "/robots/:id/refresh",
    {
      schema: {
        summary: "Replace a robot's secret (the new secret is shown once)",
        tags: ["robots"],
        params: idParam,
        response: {
          200: { description: "the new secret", ...RobotWithSecretSchema },
          ...errors(401, 403, 404),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const robot = await robotFor(caller, (request.params as { id: string }).id, false);
      const refreshed = await ctx.management.refreshRobotSecret(actorOf(caller), robot);
      return { robot: robotView(refreshed.robot), secret: refreshed.secret };
    },
  );

  app.delete(
    "/robots/:id",
    {
      schema: {
        summary: "Delete a robot account",
        tags: ["robots"],
        params: idParam,
        response: { ...NoContent, ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const robot = await robotFor(caller, (request.params as { id: string }).id, false);
      await ctx.management.deleteRobot(actorOf(caller), robot);
      return reply.code(204).send();
    },
  );
}
