// User accounts: system administrators manage everyone; users may read themselves and
// change their own password (proving the current one: that check is throttled and audited
// like a login). A password change ends the user's other sessions, refresh tokens and
// access tokens; users (and admins) can list and end a user's sessions.
import type { FastifyInstance } from "fastify";
import { isSystemAdmin } from "../../auth/authorizer.js";
import type { User } from "../../auth/store.js";
import { actorOf, type Caller, requireAdmin, requireSignedIn } from "../authn.js";
import { type ApiContext, callerOf } from "../context.js";
import { forbidden, tooManyLogins } from "../errors.js";
import { PAGE_QUERY, pageRequest, pageSchema, sendPage } from "../pagination.js";
import { errors, NoContent, UserSchema } from "../schemas.js";

const usernameParam = {
  type: "object",
  required: ["username"],
  properties: { username: { type: "string" } },
} as const;

export function userView(user: User) {
  return {
    username: user.username,
    isAdmin: user.isAdmin,
    disabled: user.disabled,
    email: user.email,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
  };
}

const CredentialsSchema = {
  type: "object",
  required: ["sessions", "refreshTokens"],
  properties: {
    sessions: {
      type: "array",
      items: {
        type: "object",
        required: ["createdAt", "expiresAt", "current"],
        properties: {
          createdAt: { type: "string", format: "date-time" },
          expiresAt: { type: "string", format: "date-time" },
          remoteAddress: { type: ["string", "null"] },
          current: { type: "boolean", description: "the session this request came with" },
        },
      },
    },
    refreshTokens: {
      type: "array",
      items: {
        type: "object",
        required: ["createdAt", "expiresAt"],
        properties: {
          createdAt: { type: "string", format: "date-time" },
          expiresAt: { type: "string", format: "date-time" },
          lastUsedAt: { type: ["string", "null"], format: "date-time" },
          remoteAddress: { type: ["string", "null"] },
        },
      },
    },
  },
} as const;

const RevokedSchema = {
  type: "object",
  required: ["sessions", "refreshTokens"],
  properties: {
    sessions: { type: "integer", description: "browser sessions ended" },
    refreshTokens: { type: "integer", description: "refresh tokens revoked" },
  },
} as const;

export async function userRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  /** The user `username`, if the caller is a system administrator or that user. */
  async function selfOrAdmin(caller: Caller, username: string): Promise<User> {
    const account = requireSignedIn(caller);
    if (!isSystemAdmin(account) && !(account.kind === "user" && account.user.username === username))
      throw forbidden();
    return ctx.management.requireUser(username);
  }

  app.get(
    "/users",
    {
      schema: {
        summary: "List users (system administrators)",
        tags: ["users"],
        querystring: {
          type: "object",
          properties: { ...PAGE_QUERY, q: { type: "string", description: "name contains" } },
        },
        response: {
          200: { description: "a page of users", ...pageSchema(UserSchema) },
          ...errors(400, 401, 403),
        },
      },
    },
    async (request, reply) => {
      requireAdmin(await callerOf(request, ctx));
      const query = request.query as {
        page?: number;
        page_size?: number;
        sort?: string;
        q?: string;
      };
      const page = pageRequest(query, ["username", "createdAt"] as const, "username");
      const result = await ctx.auth.store.listUsers(page, query.q);
      return sendPage(request, reply, page, {
        items: result.items.map(userView),
        total: result.total,
      });
    },
  );

  app.post(
    "/users",
    {
      schema: {
        summary: "Create a user (system administrators)",
        tags: ["users"],
        body: {
          type: "object",
          required: ["username", "password"],
          properties: {
            username: { type: "string" },
            password: { type: "string" },
            isAdmin: { type: "boolean", default: false },
            email: { type: ["string", "null"] },
          },
        },
        response: { 201: { description: "created", ...UserSchema }, ...errors(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      requireAdmin(caller);
      const body = request.body as {
        username: string;
        password: string;
        isAdmin: boolean;
        email?: string | null;
      };
      const user = await ctx.management.createUser(actorOf(caller), body);
      return reply.code(201).send(userView(user));
    },
  );

  app.get(
    "/users/:username",
    {
      schema: {
        summary: "Get a user (administrators, or the user themself)",
        tags: ["users"],
        params: usernameParam,
        response: { 200: { description: "the user", ...UserSchema }, ...errors(401, 403, 404) },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const account = requireSignedIn(caller);
      const { username } = request.params as { username: string };
      if (!isSystemAdmin(account) && caller.principal.name !== username) throw forbidden();
      return userView(await ctx.management.requireUser(username));
    },
  );

  app.patch(
    "/users/:username",
    {
      schema: {
        summary:
          "Change a user's administrator flag, e-mail or disabled flag (system administrators; disabling ends every credential the user holds)",
        tags: ["users"],
        params: usernameParam,
        body: {
          type: "object",
          properties: {
            isAdmin: { type: "boolean" },
            email: { type: ["string", "null"] },
            disabled: { type: "boolean", description: "a disabled user cannot sign in" },
          },
        },
        response: {
          200: { description: "the updated user", ...UserSchema },
          ...errors(400, 401, 403, 404, 409),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      requireAdmin(caller);
      const { username } = request.params as { username: string };
      const body = request.body as { isAdmin?: boolean; email?: string | null; disabled?: boolean };
      return userView(await ctx.management.updateUser(actorOf(caller), username, body));
    },
  );

  app.put(
    "/users/:username/password",
    {
      schema: {
        summary:
          "Set a user's password (administrators; users for themselves with currentPassword)",
        tags: ["users"],
        params: usernameParam,
        body: {
          type: "object",
          required: ["password"],
          properties: { password: { type: "string" }, currentPassword: { type: "string" } },
        },
        response: { ...NoContent, ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const account = requireSignedIn(caller);
      const { username } = request.params as { username: string };
      const body = request.body as { password: string; currentPassword?: string };
      let verifiedCurrentPassword = false;
      if (!isSystemAdmin(account)) {
        if (caller.principal.name !== username || account.kind !== "user") throw forbidden();
        const check = await ctx.auth.accounts.login(
          username,
          body.currentPassword ?? "",
          caller.remoteAddress,
          "password-change",
        );
        if (!check.ok) {
          if (check.reason === "locked") throw tooManyLogins(check.retryAfterSeconds);
          throw forbidden("currentPassword is wrong");
        }
        verifiedCurrentPassword = true;
      }
      // The caller's own session survives a change of its own password; every other ends.
      const own = caller.via === "session" && caller.principal.name === username;
      await ctx.management.setPassword(actorOf(caller), username, body.password, {
        verifiedCurrentPassword,
        ...(own && caller.sessionIdHash ? { keepSessionIdHash: caller.sessionIdHash } : {}),
      });
      return reply.code(204).send();
    },
  );

  app.get(
    "/users/:username/sessions",
    {
      schema: {
        summary: "A user's browser sessions and refresh tokens (administrators, or the user)",
        tags: ["users"],
        params: usernameParam,
        response: {
          200: { description: "what is signed in", ...CredentialsSchema },
          ...errors(401, 403, 404),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const user = await selfOrAdmin(caller, (request.params as { username: string }).username);
      const sessions = await ctx.auth.store.listSessions(user.id);
      const refresh = await ctx.auth.store.listRefreshTokens("user", user.id);
      const now = Date.now();
      return {
        sessions: sessions
          .filter((s) => Date.parse(s.expiresAt) > now)
          .map((s) => ({
            createdAt: s.createdAt,
            expiresAt: s.expiresAt,
            remoteAddress: s.remoteAddress,
            current: s.idHash === caller.sessionIdHash,
          })),
        refreshTokens: refresh
          .filter((t) => Date.parse(t.expiresAt) > now)
          .map((t) => ({
            createdAt: t.createdAt,
            expiresAt: t.expiresAt,
            lastUsedAt: t.lastUsedAt,
            remoteAddress: t.remoteAddress,
          })),
      };
    },
  );

  app.delete(
    "/users/:username/sessions",
    {
      schema: {
        summary:
          "Sign a user out everywhere: end sessions (but the caller's own), refresh and access tokens",
        tags: ["users"],
        params: usernameParam,
        response: {
          200: { description: "what ended", ...RevokedSchema },
          ...errors(401, 403, 404),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const user = await selfOrAdmin(caller, (request.params as { username: string }).username);
      return ctx.management.revokeUserCredentials(actorOf(caller), user, "signed out everywhere", {
        endAccessTokens: true,
        ...(caller.sessionIdHash ? { keepSessionIdHash: caller.sessionIdHash } : {}),
      });
    },
  );

  app.delete(
    "/users/:username",
    {
      schema: {
        summary: "Delete a user (system administrators)",
        tags: ["users"],
        params: usernameParam,
        response: { ...NoContent, ...errors(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      requireAdmin(caller);
      const { username } = request.params as { username: string };
      await ctx.management.deleteUser(actorOf(caller), username);
      return reply.code(204).send();
    },
  );
}
