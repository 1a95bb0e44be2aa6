// Management API routes of proxy-cache projects: GET /proxy-projects (system administrators),
// GET/PUT/DELETE /projects/{project}/proxy (reading: anyone who may read the project;
// binding and unbinding: system administrators, since the endpoint's credentials are used).
// Audited as proxy.set / proxy.remove.
import type { FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import { requireAdmin } from "../api/authn.js";
import { type ApiContext, callerOf, requireProjectAction } from "../api/context.js";
import { badRequest, notFound } from "../api/errors.js";
import { errors } from "../api/schemas.js";
import type { RegistryEndpoints } from "../endpoints/index.js";
import type { Database } from "../meta/index.js";
import {
  findProxyProject,
  listProxyProjects,
  type ProxyProject,
  removeProxyProject,
  setProxyProject,
} from "../meta/proxy-projects.js";
import type { ProxyCache } from "./cache.js";

export const DEFAULT_PROXY_TTL_SECONDS = 300;

const ProxySchema = {
  type: "object",
  properties: {
    project: { type: "string" },
    endpoint: { type: "string", description: "the registry endpoint's name" },
    endpointId: { type: "string" },
    ttlSeconds: { type: "integer", description: "tags are revalidated upstream after this" },
    createdAt: { type: "string" },
  },
} as const;

export interface ProxyView {
  project: string;
  endpoint: string;
  endpointId: string;
  ttlSeconds: number;
  createdAt: string;
}

export const proxyView = (p: ProxyProject): ProxyView => ({
  project: p.project,
  endpoint: p.endpointName,
  endpointId: p.endpointId,
  ttlSeconds: p.ttlSeconds,
  createdAt: new Date(p.createdAt).toISOString(),
});

const params = {
  type: "object",
  required: ["project"],
  properties: { project: { type: "string" } },
} as const;

export function proxyRoutes(db: Kysely<Database>, endpoints: RegistryEndpoints, cache: ProxyCache) {
  return async (app: FastifyInstance, ctx: ApiContext): Promise<void> => {
    app.get(
      "/proxy-projects",
      {
        schema: {
          summary: "List the proxy-cache projects and their upstream endpoints",
          tags: ["registries"],
          response: { 200: { type: "array", items: ProxySchema }, ...errors(401, 403) },
        },
      },
      async (request) => {
        requireAdmin(await callerOf(request, ctx));
        return (await listProxyProjects(db)).map(proxyView);
      },
    );

    app.get(
      "/projects/:project/proxy",
      {
        schema: {
          summary: "The project's proxy-cache binding (404 when it is not a proxy project)",
          tags: ["registries"],
          params,
          response: { 200: ProxySchema, ...errors(401, 403, 404) },
        },
      },
      async (request) => {
        const caller = await callerOf(request, ctx);
        const { project } = request.params as { project: string };
        await requireProjectAction(ctx, caller, project, "project:read");
        const found = await findProxyProject(db, project);
        if (!found) throw notFound(`project "${project}" is not a proxy-cache project`);
        return proxyView(found);
      },
    );

    app.put(
      "/projects/:project/proxy",
      {
        schema: {
          summary: "Make the project a proxy cache of a registry endpoint (or change its binding)",
          tags: ["registries"],
          params,
          body: {
            type: "object",
            required: ["endpoint"],
            additionalProperties: false,
            properties: {
              endpoint: { type: "string", maxLength: 64, description: "endpoint name or id" },
              ttlSeconds: { type: "integer", minimum: 0, maximum: 31_536_000 },
            },
          },
          response: { 200: ProxySchema, ...errors(400, 401, 403, 404) },
        },
      },
      async (request) => {
        const caller = await callerOf(request, ctx);
        requireAdmin(caller);
        const { project } = request.params as { project: string };
        const body = request.body as { endpoint: string; ttlSeconds?: number };
        const endpoint = await endpoints.find(body.endpoint);
        if (!endpoint) throw badRequest(`registry endpoint "${body.endpoint}" not found`);
        const ttl = body.ttlSeconds ?? DEFAULT_PROXY_TTL_SECONDS;
        if (!(await setProxyProject(db, project, endpoint.id, ttl)))
          throw notFound(`project "${project}" not found`);
        cache.invalidate(project);
        await ctx.auth.audit.record({
          actor: caller.principal,
          action: "proxy.set",
          resourceType: "project",
          resource: project,
          project,
          remoteAddress: caller.remoteAddress,
          detail: { endpoint: endpoint.name, ttlSeconds: ttl },
        });
        const found = await findProxyProject(db, project);
        if (!found) throw notFound(`project "${project}" not found`);
        return proxyView(found);
      },
    );

    app.delete(
      "/projects/:project/proxy",
      {
        schema: {
          summary: "Stop proxying: the project keeps what it cached and becomes a normal project",
          tags: ["registries"],
          params,
          response: { 204: { type: "null" }, ...errors(401, 403, 404) },
        },
      },
      async (request, reply) => {
        const caller = await callerOf(request, ctx);
        requireAdmin(caller);
        const { project } = request.params as { project: string };
        if (!(await removeProxyProject(db, project)))
          throw notFound(`project "${project}" is not a proxy-cache project`);
        cache.invalidate(project);
        await ctx.auth.audit.record({
          actor: caller.principal,
          action: "proxy.remove",
          resourceType: "project",
          resource: project,
          project,
          remoteAddress: caller.remoteAddress,
        });
        return reply.code(204).send();
      },
    );
  };
}
