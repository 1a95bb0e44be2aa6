// Management API routes of webhooks (registered inside the management API plugin, so they
// are in the OpenAPI document):
//   GET/POST /projects/{project}/webhooks            list, add (the secret is answered once)
//   GET/PATCH/DELETE /projects/{project}/webhooks/{id}  show, enable/disable, remove
//   POST /projects/{project}/webhooks/{id}/test      queue a TEST event
//   GET  /projects/{project}/webhooks/{id}/deliveries  the delivery log, newest first
// Project administrators only (`project:update`, like the rest of a project's configuration;
// system administrators too). Every change is audited without the secret or header values;
// custom header values are never answered back (they may be credentials), only their names.
import type { FastifyInstance } from "fastify";
import { auditorOf } from "../api/audited-routes.js";
import type { Caller } from "../api/authn.js";
import { type ApiContext, callerOf, requireProjectAction } from "../api/context.js";
import { badRequest, notFound } from "../api/errors.js";
import { errors } from "../api/schemas.js";
import type { WebhookDelivery, WebhookTarget } from "../meta/webhooks.js";
import { EVENT_NAMES } from "./events.js";
import { WebhookInputError, type WebhookService } from "./service.js";

const TargetSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    project: { type: "string" },
    url: { type: "string" },
    events: { type: "array", items: { type: "string", enum: [...EVENT_NAMES] } },
    format: { type: "string", enum: ["default", "cloudevents"] },
    headers: { type: "array", items: { type: "string" }, description: "custom header names" },
    enabled: { type: "boolean" },
    consecutiveFailures: { type: "integer" },
    disabledReason: { type: ["string", "null"] },
    createdBy: { type: "string" },
    createdAt: { type: "string" },
    secret: { type: "string", description: "only in the answer to the creation" },
  },
} as const;

const DeliverySchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    eventType: { type: "string" },
    eventKey: { type: "string" },
    state: { type: "string", enum: ["pending", "succeeded", "failed", "skipped"] },
    attempts: { type: "integer" },
    statusCode: { type: ["integer", "null"] },
    durationMs: { type: ["integer", "null"] },
    error: { type: ["string", "null"] },
    createdAt: { type: "string" },
    deliveredAt: { type: ["string", "null"] },
  },
} as const;

export interface WebhookView {
  id: string;
  project: string;
  url: string;
  events: string[];
  format: string;
  headers: string[];
  enabled: boolean;
  consecutiveFailures: number;
  disabledReason: string | null;
  createdBy: string;
  createdAt: string;
  secret?: string;
}

export interface DeliveryView {
  id: string;
  eventType: string;
  eventKey: string;
  state: string;
  attempts: number;
  statusCode: number | null;
  durationMs: number | null;
  error: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

export function targetView(t: WebhookTarget): WebhookView {
  return {
    id: t.id,
    project: t.project,
    url: t.url,
    events: t.events,
    format: t.format,
    headers: Object.keys(t.headers),
    enabled: t.enabled,
    consecutiveFailures: t.consecutiveFailures,
    disabledReason: t.disabledReason,
    createdBy: t.createdBy,
    createdAt: new Date(t.createdAt).toISOString(),
  };
}

function deliveryView(d: WebhookDelivery): DeliveryView {
  return {
    id: d.id,
    eventType: d.eventType,
    eventKey: d.eventKey,
    state: d.state,
    attempts: d.attempts,
    statusCode: d.statusCode,
    durationMs: d.durationMs,
    error: d.error,
    createdAt: new Date(d.createdAt).toISOString(),
    deliveredAt: d.deliveredAt === null ? null : new Date(d.deliveredAt).toISOString(),
  };
}

const params = {
  type: "object",
  required: ["project"],
  properties: { project: { type: "string" } },
} as const;
const idParams = {
  type: "object",
  required: ["project", "id"],
  properties: { project: { type: "string" }, id: { type: "string" } },
} as const;

export function webhookRoutes(service: WebhookService) {
  return async (app: FastifyInstance, ctx: ApiContext): Promise<void> => {
    async function admin(request: { params: unknown }, req: Parameters<typeof callerOf>[0]) {
      const caller = await callerOf(req, ctx);
      const { project, id } = request.params as { project: string; id?: string };
      await requireProjectAction(ctx, caller, project, "project:update");
      return { caller, project, id: id ?? "" };
    }
    async function target(project: string, id: string): Promise<WebhookTarget> {
      const t = await service.get(project, id);
      if (!t) throw notFound(`webhook ${id} not found in project "${project}"`);
      return t;
    }
    const record = auditorOf(ctx, "webhook");
    const audit = (
      caller: Caller,
      action: string,
      project: string,
      id: string,
      detail?: Record<string, unknown>,
    ) => record(caller, action, `${project}/${id}`, { project, ...(detail ? { detail } : {}) });

    app.get(
      "/projects/:project/webhooks",
      {
        schema: {
          summary: "List the project's webhook targets",
          tags: ["webhooks"],
          params,
          response: { 200: { type: "array", items: TargetSchema }, ...errors(401, 403, 404) },
        },
      },
      async (request) => {
        const { project } = await admin(request, request);
        return (await service.list(project)).map(targetView);
      },
    );

    app.post(
      "/projects/:project/webhooks",
      {
        schema: {
          summary: "Add a webhook target; the answer holds its signing secret, shown only once",
          tags: ["webhooks"],
          params,
          body: {
            type: "object",
            required: ["url", "events"],
            additionalProperties: false,
            properties: {
              url: { type: "string", maxLength: 2048 },
              events: {
                type: "array",
                minItems: 1,
                maxItems: 16,
                items: { type: "string", maxLength: 32 },
                description: `${EVENT_NAMES.join(", ")} or all`,
              },
              format: { type: "string", enum: ["default", "cloudevents"] },
              headers: {
                type: "object",
                additionalProperties: { type: "string" },
                maxProperties: 20,
              },
              secret: { type: "string", minLength: 16, maxLength: 256 },
            },
          },
          response: { 201: TargetSchema, ...errors(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        const { caller, project } = await admin(request, request);
        const body = request.body as Parameters<WebhookService["add"]>[1];
        let made: Awaited<ReturnType<WebhookService["add"]>>;
        try {
          made = await service.add(project, body, caller.principal.name);
        } catch (err) {
          if (err instanceof WebhookInputError) throw badRequest(err.message);
          throw err;
        }
        if (!made) throw notFound(`project "${project}" not found`);
        await audit(caller, "webhook.create", project, made.target.id, {
          url: made.target.url,
          events: made.target.events,
          format: made.target.format,
        });
        return reply.code(201).send({ ...targetView(made.target), secret: made.secret });
      },
    );

    app.get(
      "/projects/:project/webhooks/:id",
      {
        schema: {
          summary: "Show one webhook target",
          tags: ["webhooks"],
          params: idParams,
          response: { 200: TargetSchema, ...errors(401, 403, 404) },
        },
      },
      async (request) => {
        const { project, id } = await admin(request, request);
        return targetView(await target(project, id));
      },
    );

    app.patch(
      "/projects/:project/webhooks/:id",
      {
        schema: {
          summary: "Enable (resetting its failure count) or disable a webhook target",
          tags: ["webhooks"],
          params: idParams,
          body: {
            type: "object",
            required: ["enabled"],
            additionalProperties: false,
            properties: { enabled: { type: "boolean" } },
          },
          response: { 200: TargetSchema, ...errors(400, 401, 403, 404) },
        },
      },
      async (request) => {
        const { caller, project, id } = await admin(request, request);
        const { enabled } = request.body as { enabled: boolean };
        const updated = await service.setEnabled(project, id, enabled);
        if (!updated) throw notFound(`webhook ${id} not found in project "${project}"`);
        await audit(caller, enabled ? "webhook.enable" : "webhook.disable", project, id);
        return targetView(updated);
      },
    );

    app.delete(
      "/projects/:project/webhooks/:id",
      {
        schema: {
          summary: "Remove a webhook target and its delivery log",
          tags: ["webhooks"],
          params: idParams,
          response: { 204: { type: "null" }, ...errors(401, 403, 404) },
        },
      },
      async (request, reply) => {
        const { caller, project, id } = await admin(request, request);
        if (!(await service.remove(project, id)))
          throw notFound(`webhook ${id} not found in project "${project}"`);
        await audit(caller, "webhook.delete", project, id);
        return reply.code(204).send();
      },
    );

    app.post(
      "/projects/:project/webhooks/:id/test",
      {
        schema: {
          summary: "Queue a TEST event to the target (see its deliveries for the outcome)",
          tags: ["webhooks"],
          params: idParams,
          response: {
            202: { type: "object", properties: { deliveryId: { type: "string" } } },
            ...errors(400, 401, 403, 404),
          },
        },
      },
      async (request, reply) => {
        const { caller, project, id } = await admin(request, request);
        let deliveryId: string | undefined;
        try {
          deliveryId = await service.test(project, id, caller.principal.name);
        } catch (err) {
          if (err instanceof WebhookInputError) throw badRequest(err.message);
          throw err;
        }
        if (!deliveryId) throw notFound(`webhook ${id} not found in project "${project}"`);
        await audit(caller, "webhook.test", project, id);
        return reply.code(202).send({ deliveryId });
      },
    );

    app.get(
      "/projects/:project/webhooks/:id/deliveries",
      {
        schema: {
          summary: "The target's delivery log, newest first",
          tags: ["webhooks"],
          params: idParams,
          querystring: {
            type: "object",
            properties: { limit: { type: "integer", minimum: 1, maximum: 500, default: 50 } },
          },
          response: {
            200: { type: "array", items: DeliverySchema },
            ...errors(400, 401, 403, 404),
          },
        },
      },
      async (request) => {
        const { project, id } = await admin(request, request);
        const { limit } = request.query as { limit: number };
        const list = await service.deliveries(project, id, limit);
        if (!list) throw notFound(`webhook ${id} not found in project "${project}"`);
        return list.map(deliveryView);
      },
    );
  };
}
