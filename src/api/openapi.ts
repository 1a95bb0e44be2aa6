// Builds the OpenAPI 3.1 document from the routes themselves: every management route
// declares its JSON Schemas (params, query, body, responses) for Fastify, and this module
// collects them as routes register, so the document cannot drift from what is served.
import type { RouteOptions } from "fastify";

export interface CollectedRoute {
  readonly method: string;
  readonly url: string;
  readonly schema: Record<string, unknown>;
}

type JsonSchema = {
  type?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  description?: string;
  [k: string]: unknown;
};

export function collectRoute(routes: CollectedRoute[], route: RouteOptions): void {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const schema = route.schema as Record<string, unknown> | undefined;
  if (!schema?.summary) return;
  for (const method of methods) {
    if (method === "HEAD") continue;
    routes.push({ method: method.toLowerCase(), url: route.url, schema });
  }
}

function parameters(schema: JsonSchema | undefined, where: "path" | "query") {
  if (!schema?.properties) return [];
  return Object.entries(schema.properties).map(([name, s]) => {
    const { description, ...rest } = s;
    return {
      name,
      in: where,
      required: where === "path" || (schema.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

function responses(schema: Record<string, JsonSchema> | undefined) {
  const out: Record<string, unknown> = {};
  for (const [status, s] of Object.entries(schema ?? {})) {
    const { description, ...body } = s;
    out[status] =
      status === "204"
        ? { description: description ?? "no content" }
        : {
            description: description ?? "response",
            content: { "application/json": { schema: body } },
          };
  }
  return out;
}

export function buildOpenApi(routes: readonly CollectedRoute[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    const s = route.schema as {
      summary: string;
      tags?: string[];
      params?: JsonSchema;
      querystring?: JsonSchema;
      body?: JsonSchema;
      response?: Record<string, JsonSchema>;
    };
    paths[path] ??= {};
    paths[path][route.method] = {
      summary: s.summary,
      operationId: `${route.method}${path.replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
      ...(s.tags ? { tags: s.tags } : {}),
      parameters: [...parameters(s.params, "path"), ...parameters(s.querystring, "query")],
      ...(s.body
        ? { requestBody: { required: true, content: { "application/json": { schema: s.body } } } }
        : {}),
      responses: responses(s.response),
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Berth management API",
      version,
      description:
        "Users, projects, members, robot accounts, quotas, repositories, artifacts and the audit log. " +
        'Errors are {"errors":[{"code","message"}]}. Lists take page, page_size and sort (-field = descending).',
    },
    servers: [{ url: "/" }],
    components: {
      securitySchemes: {
        basic: { type: "http", scheme: "basic" },
        session: { type: "apiKey", in: "cookie", name: "berth_session" },
      },
    },
    security: [{ basic: [] }, { session: [] }, {}],
    paths,
  };
}
