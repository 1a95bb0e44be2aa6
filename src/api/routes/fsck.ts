// Starting fsck (system administrators only; docs/lifecycle.md): POST /fsck queues a job of
// kind fsck (`repair` for the safe repairs); its result, progress and log are read like any
// job's (GET /jobs/{id}). Audit entry for every start.
import type { FastifyInstance } from "fastify";
import { FSCK_JOB_KIND } from "../../jobs/fsck.js";
import { requireAdmin } from "../authn.js";
import { type ApiContext, callerOf } from "../context.js";
import { badRequest, notFound } from "../errors.js";
import { errors } from "../schemas.js";
import { JobSchema, jobView } from "./jobs.js";

export async function fsckRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  app.post(
    "/fsck",
    {
      schema: {
        summary:
          "Check every blob's bytes and every metadata row (a job of kind fsck); see docs/lifecycle.md",
        tags: ["jobs"],
        body: {
          type: ["object", "null"],
          additionalProperties: false,
          properties: {
            repair: {
              type: "boolean",
              description:
                "also do the safe repairs: quarantine corrupt bytes, forget rows without bytes, remove orphans",
            },
          },
        },
        response: {
          202: { description: "the queued job", ...JobSchema },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      requireAdmin(caller);
      if (!ctx.jobs) throw notFound("background jobs are not available on this server");
      const body = (request.body ?? {}) as { repair?: boolean };
      if (typeof body !== "object") throw badRequest("the body must be a JSON object");
      const repair = body.repair === true;
      const job = await ctx.jobs.enqueue(FSCK_JOB_KIND, { repair }, { maxAttempts: 2 });
      await ctx.auth.audit.record({
        actor: caller.principal,
        remoteAddress: caller.remoteAddress,
        action: repair ? "fsck.repair" : "fsck.start",
        resourceType: "job",
        resource: `${job.kind}#${job.id}`,
        detail: { id: job.id, kind: job.kind, repair },
      });
      return reply.code(202).send(jobView(job));
    },
  );
}
