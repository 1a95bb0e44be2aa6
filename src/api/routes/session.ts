// Browser sessions for the web UI: sign in with username + password (throttled like every
// login), get an HttpOnly SameSite=Strict cookie and a CSRF token the UI must echo in
// X-CSRF-Token on state-changing requests; sign out deletes the session server-side.
import type { FastifyInstance } from "fastify";
import { newSecret, sha256Hex } from "../../auth/passwords.js";
import { readCookie, SESSION_COOKIE } from "../authn.js";
import { type ApiContext, callerOf } from "../context.js";
import { tooManyLogins, unauthorized } from "../errors.js";
import { errors, NoContent, SessionSchema } from "../schemas.js";

const SESSION_HOURS = 12;

export async function sessionRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.post(
    "/session",
    {
      schema: {
        summary: "Sign in (creates a session cookie)",
        tags: ["session"],
        body: {
          type: "object",
          required: ["username", "password"],
          properties: { username: { type: "string" }, password: { type: "string" } },
        },
        response: { 201: { description: "signed in", ...SessionSchema }, ...errors(400, 401, 429) },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body as { username: string; password: string };
      const login = await ctx.auth.accounts.login(username, password, request.ip);
      if (!login.ok) {
        if (login.reason === "locked") throw tooManyLogins(login.retryAfterSeconds);
        throw unauthorized("invalid username or password");
      }
      if (login.account.kind !== "user")
        throw unauthorized("only user accounts can sign in to the UI");
      const user = login.account.user;
      const token = newSecret();
      const csrfToken = newSecret();
      const expiresAt = new Date(Date.now() + SESSION_HOURS * 3600_000).toISOString();
      await ctx.auth.store.deleteExpiredSessions(new Date().toISOString());
      await ctx.auth.store.createSession({
        idHash: sha256Hex(token),
        userId: user.id,
        csrfToken,
        expiresAt,
        remoteAddress: request.ip,
      });
      reply.header(
        "set-cookie",
        `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_HOURS * 3600}`,
      );
      return reply
        .code(201)
        .send({ username: user.username, isAdmin: user.isAdmin, csrfToken, expiresAt });
    },
  );

  app.get(
    "/session",
    {
      schema: {
        summary: "The current browser session",
        tags: ["session"],
        response: { 200: { description: "the session", ...SessionSchema }, ...errors(401) },
      },
    },
    async (request) => {
      const cookie = readCookie(request.headers.cookie, SESSION_COOKIE);
      const session = cookie ? await ctx.auth.store.findSession(sha256Hex(cookie)) : undefined;
      if (!session || Date.parse(session.expiresAt) <= Date.now())
        throw unauthorized("not signed in");
      return {
        username: session.user.username,
        isAdmin: session.user.isAdmin,
        csrfToken: session.csrfToken,
        expiresAt: session.expiresAt,
      };
    },
  );

  app.delete(
    "/session",
    {
      schema: {
        summary: "Sign out",
        tags: ["session"],
        response: { ...NoContent, ...errors(401, 403) },
      },
    },
    async (request, reply) => {
      await callerOf(request, ctx); // checks the CSRF token
      const cookie = readCookie(request.headers.cookie, SESSION_COOKIE);
      if (cookie) await ctx.auth.store.deleteSession(sha256Hex(cookie));
      reply.header(
        "set-cookie",
        `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`,
      );
      return reply.code(204).send();
    },
  );
}
