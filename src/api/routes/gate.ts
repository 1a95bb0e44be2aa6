// The quality-gate policy attached to a project: GET (anyone who may read the project's
// policies), PUT and DELETE (project admins: the `project:update` permission). The body of a
// PUT is the policy file's text (YAML or JSON); it is parsed with the gate's own parser
// before it is stored, so a stored policy always parses, and a bad one answers 400 naming the
// key. Every change is audited. The registry enforces the policy at push
// (src/policy/gate-admission.ts) and records each verdict; GET
// /projects/{project}/repositories/{repository}/artifacts/{reference}/gate shows the push-time
// verdict of one manifest (accepted or refused; a refused one by its digest).
import type { FastifyInstance } from "fastify";
import { isValidRepositoryName } from "../../auth/scope.js";
import { projectOf } from "../../oci/index.js";
import {
  GATE_RULES,
  GatePolicyError,
  PULL_DECIDABLE,
  PUSH_DECIDABLE,
  parseGatePolicy,
} from "../../policy/gate.js";
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
  /** The push-time verdict of a manifest (digest or tag), when one was recorded. */
  result(repository: string, reference: string): Promise<GateResultRecord | undefined>;
}

export interface GateResultRecord {
  repository: string;
  digest: string;
  verdict: "pass" | "fail";
  rules: unknown[];
  policyUpdatedAt: string;
  evaluatedAt: string;
}

export const GateResultSchema = {
  type: "object",
  required: ["repository", "digest", "verdict", "rules", "policyUpdatedAt", "evaluatedAt"],
  properties: {
    repository: { type: "string" },
    digest: { type: "string" },
    verdict: { type: "string", enum: ["pass", "fail"] },
    rules: {
      type: "array",
      description: "each rule of the policy: pass, fail or undecided (not decidable at push)",
      items: {
        type: "object",
        required: ["rule", "status", "message", "evidence"],
        properties: {
          rule: { type: "string", enum: [...GATE_RULES] },
          status: { type: "string", enum: ["pass", "fail", "undecided"] },
          message: { type: "string" },
          evidence: { type: "array", items: { type: "string" } },
        },
      },
    },
    policyUpdatedAt: {
      type: "string",
      format: "date-time",
      description: "the version (update time) of the policy that judged it",
    },
    evaluatedAt: { type: "string", format: "date-time" },
  },
} as const;

export const GatePolicySchema = {
  type: "object",
  required: ["project", "policy", "rules", "pushRules", "pullRules", "updatedBy", "updatedAt"],
  properties: {
    project: { type: "string" },
    policy: { type: "string", description: "the policy file as given (YAML or JSON)" },
    rules: { type: "array", items: { type: "string", enum: [...GATE_RULES] } },
    pushRules: {
      type: "array",
      description: "the rules the registry enforces at push; the others need a scan or signature",
      items: { type: "string" },
    },
    pullRules: {
      type: "array",
      description:
        "the rules the registry enforces at pull from the stored scan (findings and SBOM packages)",
      items: { type: "string" },
    },
    updatedBy: { type: "string" },
    updatedAt: { type: "string", format: "date-time" },
  },
} as const;

function view(record: GatePolicyRecord) {
  const rules = GATE_RULES.filter((r) => parseGatePolicy(record.policy)[r] !== undefined);
  return {
    ...record,
    rules,
    pushRules: rules.filter((r) => PUSH_DECIDABLE.has(r)),
    pullRules: rules.filter((r) => PULL_DECIDABLE.has(r)),
  };
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

  app.get(
    "/projects/:project/repositories/:repository/artifacts/:reference/gate",
    {
      schema: {
        summary: "The quality-gate verdict recorded when the artifact was pushed (or refused)",
        tags: ["artifacts", "gate"],
        params: {
          type: "object",
          required: ["project", "repository", "reference"],
          properties: {
            project: { type: "string" },
            repository: { type: "string", description: "full name, URL-encoded" },
            reference: { type: "string", description: "digest or tag" },
          },
        },
        response: {
          200: { description: "the push-time verdict", ...GateResultSchema },
          ...errors(401, 403, 404),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const { project, repository, reference } = request.params as {
        project: string;
        repository: string;
        reference: string;
      };
      if (!isValidRepositoryName(repository) || projectOf(repository) !== project) {
        throw notFound(`repository "${repository}" not found in project "${project}"`);
      }
      await requireProjectAction(ctx, caller, project, "artifact:list");
      const result = await policies.result(repository, reference);
      if (!result) {
        throw notFound(`no gate verdict is recorded for ${repository}:${reference}`);
      }
      return result;
    },
  );
}
