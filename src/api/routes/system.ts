// System routes: public system information and "who am I".
import type { FastifyInstance } from "fastify";
import { type ApiContext, callerOf } from "../context.js";
import { CurrentUserSchema, SystemInfoSchema } from "../schemas.js";

export async function systemRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.get(
    "/systeminfo",
    {
      schema: {
        summary: "System information (version, authentication mode, settings)",
        tags: ["system"],
        response: { 200: { description: "system information", ...SystemInfoSchema } },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const settings = ctx.auth.settings;
      return {
        name: "berth",
        version: ctx.version,
        // The value operators configure (`auth.mode`); the API is served only in token mode.
        authMode: "token",
        htpasswd: settings.htpasswdPath !== undefined,
        service: settings.service,
        tokenEndpoint: ctx.auth.realmFor(request.headers),
        autoCreateProjects: settings.autoCreateProjects,
        currentUser: caller.account ? caller.principal.name : null,
      };
    },
  );

  app.get(
    "/users/current",
    {
      schema: {
        summary: "The calling account (anonymous when not signed in)",
        tags: ["users"],
        response: { 200: { description: "the caller", ...CurrentUserSchema } },
      },
    },
    async (request) => {
      const { principal } = await callerOf(request, ctx);
      return {
        name: principal.name,
        kind: principal.kind === "system" ? "user" : principal.kind,
        isAdmin: principal.isAdmin,
      };
    },
  );
}
