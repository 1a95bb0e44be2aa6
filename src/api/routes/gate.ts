// The quality-gate policy attached to a project: GET (anyone who may read the project's
// policies), PUT and DELETE (project admins: the `project:update` permission). The body of a
// PUT is the policy file's text (YAML or JSON); it is parsed with the gate's own parser
// before it is stored, so a stored policy always parses, and a bad one answers 400 naming the
// key. Every change is audited. The registry enforces the policy at push
// (src/policy/gate-admission.ts).
import type { FastifyInstance } from "fastify";
import { GATE_RULES, GatePolicyError, PUSH_DECIDABLE, parseGatePolicy } from "../../policy/gate.js";
import { actorOf } from "../authn.js";
import { type ApiContext, callerOf, requireProjectAction } from "../context.js";
import { badRequest, notFound } from "../errors.js";
import { errors, NoContent } from "../schemas.js";
import { projectParam } from "./projects.js";

export interface GatePolicyRecord {
  project: string;
  policy: string;
  updatedBy: string;
  updatedAt: string;
}

/** Where project gate policies are kept (src/meta/gate-policies.ts). */
export interface GatePolicies {
  get(project: string): Promise<GatePolicyRecord | undefined>;
  set(project: string, policy: string, updatedBy: string): Promise<boolean>;
  delete(project: string): Promise<boolean>;
}

export const GatePolicySchema = {
  type: "object",
  required: ["project", "policy", "rules", "pushRules", "updatedBy", "updatedAt"],
  properties: {
    project: { type: "string" },
    policy: { type: "string", description: "the policy file as given (YAML or JSON)" },
    rules: { type: "array", items: { type: "string", enum: [...GATE_RULES] } },
    pushRules: {
      type: "array",
      description: "the rules the registry enforces at push; the others need a scan or signature",
      items: { type: "string" },
    },
    updatedBy: { type: "string" },
    updatedAt: { type: "string", format: "date-time" },
  },
} as const;

function view(record: GatePolicyRecord) {
  const rules = GATE_RULES.filter((r) => parseGatePolicy(record.policy)[r] !== undefined);
  return { ...record, rules, pushRules: rules.filter((r) => PUSH_DECIDABLE.has(r)) };
}

export async function gateRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const policies = ctx.gatePolicies;
  if (!policies) return;
  const path = "/projects/:project/gate-policy";

  app.get(
    path,
    {
      schema: {
        summary: "The project's quality-gate policy",
        tags: ["gate"],
        params: projectParam,
        response: {
          200: { description: "the policy", ...GatePolicySchema },
          ...errors(401, 403, 404),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      await requireProjectAction(ctx, caller, project, "policy:read");
      const record = await policies.get(project);
      if (!record) throw notFound(`project "${project}" has no gate policy`);
      return view(record);
    },
  );

  app.put(
    path,
    {
      schema: {
        summary: "Attach (or replace) the project's quality-gate policy (project admins)",
        tags: ["gate"],
        params: projectParam,
        body: {
          type: "object",
          required: ["policy"],
          properties: { policy: { type: "string", description: "the policy file (YAML or JSON)" } },
        },
        response: {
          200: { description: "the stored policy", ...GatePolicySchema },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      await requireProjectAction(ctx, caller, project, "project:update");
      const { policy } = request.body as { policy: string };
      let rules: string[];
      try {
        const parsed = parseGatePolicy(policy);
        rules = GATE_RULES.filter((r) => parsed[r] !== undefined);
      } catch (err) {
        if (err instanceof GatePolicyError) throw badRequest(err.message);
        throw err;
      }
      if (!(await policies.set(project, policy, caller.principal.name))) {
        throw notFound(`project "${project}" not found`);
      }
      await ctx.auth.audit.record({
        actor: actorOf(caller),
        action: "gate.set",
        resourceType: "gate-policy",
        resource: project,
        project,
        remoteAddress: caller.remoteAddress,
        detail: { rules },
      });
      return view((await policies.get(project))!);
    },
  );

  app.delete(
    path,
    {
      schema: {
        summary: "Detach the project's quality-gate policy (project admins)",
        tags: ["gate"],
        params: projectParam,
        response: { ...NoContent, ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      await requireProjectAction(ctx, caller, project, "project:update");
      if (!(await policies.delete(project))) {
        throw notFound(`project "${project}" has no gate policy`);
      }
      await ctx.auth.audit.record({
        actor: actorOf(caller),
        action: "gate.delete",
        resourceType: "gate-policy",
        resource: project,
        project,
        remoteAddress: caller.remoteAddress,
      });
      return reply.code(204).send();
    },
  );
}
