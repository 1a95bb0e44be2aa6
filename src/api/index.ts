// The management API as one Fastify plugin: /api/v1/* resources, the OpenAPI document at
// /api/v1/openapi.json and the browsable reference at /api/docs. Register it on the server
// with the context (auth system, management operations, registry view). Errors are
// rendered as {"errors":[{"code","message"}]} and responses are never cached. A Bearer
// (registry) token is refused on every route before anything else runs (docs/security.md).
import type { FastifyInstance } from "fastify";
import { answerUnmatched } from "../http/fallback.js";
import { refuseRegistryTokens } from "./authn.js";
import type { ApiContext } from "./context.js";
import { DOCS_PAGE } from "./docs-page.js";
import { apiErrorHandler } from "./errors.js";
import { buildOpenApi, type CollectedRoute, collectRoute } from "./openapi.js";
import { auditRoutes } from "./routes/audit.js";
import { browseRoutes } from "./routes/browse.js";
import { fsckRoutes } from "./routes/fsck.js";
import { gateRoutes } from "./routes/gate.js";
import { jobRoutes } from "./routes/jobs.js";
import { memberRoutes } from "./routes/members.js";
import { policyRoutes } from "./routes/policies.js";
import { projectRoutes } from "./routes/projects.js";
import { repositoryRoutes } from "./routes/repositories.js";
import { robotRoutes } from "./routes/robots.js";
import { scanningRoutes } from "./routes/scanning.js";
import { sessionRoutes } from "./routes/session.js";
import { systemRoutes } from "./routes/system.js";
import { trashRoutes } from "./routes/trash.js";
import { trustRoutes } from "./routes/trust.js";
import { userRoutes } from "./routes/users.js";
import { dropBrowserChallenge } from "./ui-requests.js";

export const API_PREFIX = "/api/v1";

export type { ApiContext, RegistryView } from "./context.js";

export async function managementApi(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const routes: CollectedRoute[] = [];
  let document: ReturnType<typeof buildOpenApi> | undefined;

  await app.register(
    async (api) => {
      api.addHook("onRoute", (route) => collectRoute(routes, route));
      api.setErrorHandler(apiErrorHandler);
      api.addHook("onRequest", async (request) => refuseRegistryTokens(request));
      api.setNotFoundHandler(answerUnmatched);
      api.addHook("onSend", async (_request, reply, payload) => {
        reply.header("cache-control", "no-store");
        return payload;
      });
      api.addHook("onSend", dropBrowserChallenge);
      api.get("/openapi.json", async () => {
        document ??= buildOpenApi(routes, ctx.version);
        return document;
      });
      for (const plugin of [
        systemRoutes,
        sessionRoutes,
        userRoutes,
        projectRoutes,
        memberRoutes,
        robotRoutes,
        repositoryRoutes,
        auditRoutes,
        trustRoutes,
        policyRoutes,
        jobRoutes,
        fsckRoutes,
        trashRoutes,
        gateRoutes,
        scanningRoutes,
        browseRoutes,
      ]) {
        await plugin(api, ctx);
      }
      for (const plugin of ctx.routes ?? []) await plugin(api, ctx);
    },
    { prefix: API_PREFIX },
  );

  app.get("/api/docs", async (_request, reply) =>
    reply
      .header("content-type", "text/html; charset=utf-8")
      .header("content-security-policy", "default-src 'self' 'unsafe-inline'")
      .send(DOCS_PAGE),
  );
}
