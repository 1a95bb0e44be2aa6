// Management API routes of registry endpoints (system administrators only, as Harbor's
// registries): GET/POST /registries, GET/PATCH/DELETE /registries/{id}, POST
// /registries/{id}/ping (connection test). `{id}` is the endpoint's id or its name. A password
// is accepted but never answered (only `hasPassword`); every change is audited without it.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { adminCaller, auditorOf } from "../api/audited-routes.js";
import type { Caller } from "../api/authn.js";
import type { ApiContext } from "../api/context.js";
import { badRequest, conflict, notFound } from "../api/errors.js";
import { errors } from "../api/schemas.js";
import { ENDPOINT_TYPES, type StoredEndpoint } from "../meta/endpoints.js";
import {
  EndpointExistsError,
  type EndpointInput,
  EndpointInputError,
  EndpointInUseError,
  type RegistryEndpoints,
} from "./service.js";

export const EndpointSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    type: { type: "string", enum: [...ENDPOINT_TYPES] },
    url: { type: "string" },
    username: { type: ["string", "null"] },
    hasPassword: { type: "boolean" },
    insecure: { type: "boolean", description: "TLS certificate not verified" },
    caCert: { type: ["string", "null"], description: "extra CA certificate (PEM) trusted" },
    description: { type: "string" },
    createdBy: { type: "string" },
    createdAt: { type: "string" },
    updatedAt: { type: "string" },
  },
} as const;

const PingSchema = {
  type: "object",
  properties: {
    ok: { type: "boolean" },
    message: { type: "string" },
    durationMs: { type: "integer" },
  },
} as const;

export interface EndpointView {
  id: string;
  name: string;
  type: string;
  url: string;
  username: string | null;
  hasPassword: boolean;
  insecure: boolean;
  caCert: string | null;
  description: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export function endpointView(e: StoredEndpoint): EndpointView {
  return {
    id: e.id,
    name: e.name,
    type: e.type,
    url: e.url,
    username: e.username,
    hasPassword: e.hasPassword,
    insecure: e.insecure,
    caCert: e.caCert,
    description: e.description,
    createdBy: e.createdBy,
    createdAt: new Date(e.createdAt).toISOString(),
    updatedAt: new Date(e.updatedAt).toISOString(),
  };
}

const inputProperties = {
  name: { type: "string", maxLength: 63 },
  type: { type: "string", maxLength: 32, description: ENDPOINT_TYPES.join(", ") },
  url: { type: "string", maxLength: 2048 },
  username: { type: ["string", "null"], maxLength: 256 },
  password: { type: ["string", "null"], maxLength: 4096 },
  insecure: { type: "boolean" },
  caCert: { type: ["string", "null"], maxLength: 65536 },
  description: { type: "string", maxLength: 1024 },
} as const;

const idParams = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string" } },
} as const;

function translate(err: unknown): never {
  if (err instanceof EndpointInputError) throw badRequest(err.message);
  if (err instanceof EndpointExistsError || err instanceof EndpointInUseError)
    throw conflict(err.message);
  throw err;
}

export function endpointRoutes(endpoints: RegistryEndpoints) {
  return async (app: FastifyInstance, ctx: ApiContext): Promise<void> => {
    const admin = (request: FastifyRequest) => adminCaller(request, ctx);
    const record = auditorOf(ctx, "registry");
    const audit = (
      caller: Caller,
      action: string,
      e: StoredEndpoint,
      detail?: Record<string, unknown>,
    ) => record(caller, action, e.name, detail ? { detail } : {});
    const changes = (body: EndpointInput) => ({
      ...Object.fromEntries(
        Object.entries(body).filter(([k]) => k !== "password" && k !== "caCert"),
      ),
      ...(body.password !== undefined ? { password: "(changed)" } : {}),
      ...(body.caCert !== undefined ? { caCert: body.caCert === null ? null : "(set)" } : {}),
    });

    app.get(
      "/registries",
      {
        schema: {
          summary: "List the registry endpoints (replication peers, proxy-cache upstreams)",
          tags: ["registries"],
          response: { 200: { type: "array", items: EndpointSchema }, ...errors(401, 403) },
        },
      },
      async (request) => {
        await admin(request);
        return (await endpoints.list()).map(endpointView);
      },
    );

    app.post(
      "/registries",
      {
        schema: {
          summary: "Add a registry endpoint; its password is stored encrypted, never answered",
          tags: ["registries"],
          body: {
            type: "object",
            required: ["name", "url"],
            additionalProperties: false,
            properties: inputProperties,
          },
          response: { 201: EndpointSchema, ...errors(400, 401, 403, 409) },
        },
      },
      async (request, reply) => {
        const caller = await admin(request);
        const body = request.body as EndpointInput;
        const made = await endpoints.create(body, caller.principal.name).catch(translate);
        await audit(caller, "registry.create", made, changes(body));
        return reply.code(201).send(endpointView(made));
      },
    );

    app.get(
      "/registries/:id",
      {
        schema: {
          summary: "Show one registry endpoint (by id or name)",
          tags: ["registries"],
          params: idParams,
          response: { 200: EndpointSchema, ...errors(401, 403, 404) },
        },
      },
      async (request) => {
        await admin(request);
        const { id } = request.params as { id: string };
        const found = await endpoints.find(id);
        if (!found) throw notFound(`registry endpoint "${id}" not found`);
        return endpointView(found);
      },
    );

    app.patch(
      "/registries/:id",
      {
        schema: {
          summary:
            "Change a registry endpoint; a password left out stays, username null removes the credentials",
          tags: ["registries"],
          params: idParams,
          body: {
            type: "object",
            additionalProperties: false,
            minProperties: 1,
            properties: inputProperties,
          },
          response: { 200: EndpointSchema, ...errors(400, 401, 403, 404, 409) },
        },
      },
      async (request) => {
        const caller = await admin(request);
        const { id } = request.params as { id: string };
        const body = request.body as EndpointInput;
        const updated = await endpoints.update(id, body).catch(translate);
        if (!updated) throw notFound(`registry endpoint "${id}" not found`);
        await audit(caller, "registry.update", updated, changes(body));
        return endpointView(updated);
      },
    );

    app.delete(
      "/registries/:id",
      {
        schema: {
          summary: "Delete a registry endpoint no proxy project or replication rule uses",
          tags: ["registries"],
          params: idParams,
          response: { 204: { type: "null" }, ...errors(401, 403, 404, 409) },
        },
      },
      async (request, reply) => {
        const caller = await admin(request);
        const { id } = request.params as { id: string };
        const found = await endpoints.find(id);
        if (!found || !(await endpoints.remove(found.id).catch(translate)))
          throw notFound(`registry endpoint "${id}" not found`);
        await audit(caller, "registry.delete", found);
        return reply.code(204).send();
      },
    );

    app.post(
      "/registries/:id/ping",
      {
        schema: {
          summary: "Connection test: GET /v2/ on the endpoint with its credentials and TLS options",
          tags: ["registries"],
          params: idParams,
          response: { 200: PingSchema, ...errors(401, 403, 404) },
        },
      },
      async (request) => {
        await admin(request);
        const { id } = request.params as { id: string };
        const result = await endpoints.ping(id);
        if (!result) throw notFound(`registry endpoint "${id}" not found`);
        return result;
      },
    );
  };
}
