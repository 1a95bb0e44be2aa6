// The trash (docs/lifecycle.md): list what deletions moved there (filters, pagination), show
// one entry, restore it (the artifact with its tags and referrers, all or nothing), and purge
// now (a `trash-purge` job). Who: system administrators everywhere; in a project, whoever may
// delete artifacts there (`artifact:delete`) may list and restore its entries (a restore
// undoes a delete). Purging is for system administrators only. Audit entries for restores and
// purge requests (each purged entry is audited by the purge job).
import type { FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import { isSystemAdmin } from "../../auth/authorizer.js";
import { projectOf } from "../../auth/permissions.js";
import type { JobQueue } from "../../jobs/index.js";
import { TRASH_PURGE_JOB_KIND, type TrashPurgePayload } from "../../jobs/trash-purge.js";
import {
  type Database,
  getTrashEntry,
  listTrash,
  restoreTrash,
  type TrashEntry,
  TrashRestoreError,
} from "../../meta/index.js";
import { requireAdmin, requireSignedIn } from "../authn.js";
import { type ApiContext, callerOf, requireProjectAction } from "../context.js";
import { badRequest, conflict, notFound } from "../errors.js";
import { PAGE_QUERY, pageRequest, pageSchema, sendPage } from "../pagination.js";
import { errors } from "../schemas.js";
import { JobSchema, jobView } from "./jobs.js";

/** What the trash routes need from the server. */
export interface TrashApi {
  readonly db: Kysely<Database>;
  /** `trash.keep` in ms (0: the trash is off; entries already there stay listable). */
  readonly keepMs: number;
  readonly jobs?: JobQueue;
  /** Drops restored manifests from the manifest cache. */
  evict(repository: string, digest: string): void;
}

export const TrashEntrySchema = {
  type: "object",
  required: ["id", "repository", "kind", "digest", "tags", "deletedAt", "expiresAt"],
  properties: {
    id: { type: "integer" },
    repository: { type: "string" },
    kind: {
      type: "string",
      enum: ["artifact", "tag"],
      description: "an artifact (with its referrers) or one tag",
    },
    digest: {
      type: "string",
      description: "the deleted manifest, or the manifest the deleted tag pointed at",
    },
    tag: { type: ["string", "null"], description: "the deleted tag (kind tag)" },
    tags: { type: "array", items: { type: "string" }, description: "every tag removed" },
    manifests: { type: "integer", description: "manifests held (the artifact and its referrers)" },
    size: { type: "integer", description: "bytes of the manifests and the blobs they reference" },
    reason: { type: "string", description: "deleted, retention or repository deleted" },
    deletedBy: { type: "string" },
    deletedAt: { type: "string", format: "date-time" },
    expiresAt: {
      type: "string",
      format: "date-time",
      description: "when the hourly purge may remove it (deletedAt + trash.keep)",
    },
  },
} as const;

const TrashDetailSchema = {
  ...TrashEntrySchema,
  properties: {
    ...TrashEntrySchema.properties,
    contents: {
      type: "array",
      items: {
        type: "object",
        properties: {
          digest: { type: "string" },
          mediaType: { type: "string" },
          artifactType: { type: ["string", "null"] },
          subjectDigest: { type: ["string", "null"] },
          tags: { type: "array", items: { type: "string" } },
        },
      },
    },
  },
} as const;

const RestoredSchema = {
  type: "object",
  required: ["entry", "manifests"],
  properties: {
    entry: TrashEntrySchema,
    manifests: {
      type: "array",
      items: {
        type: "object",
        properties: {
          digest: { type: "string" },
          tags: { type: "array", items: { type: "string" } },
        },
      },
    },
  },
} as const;

const idParams = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "integer", minimum: 1, description: "trash entry id" } },
} as const;

export function trashView(e: TrashEntry, keepMs: number) {
  return {
    id: e.id,
    repository: e.repository,
    kind: e.kind,
    digest: e.digest,
    tag: e.tag,
    tags: e.tags,
    manifests: e.manifests,
    size: e.size,
    reason: e.reason,
    deletedBy: e.deletedBy,
    deletedAt: new Date(e.deletedAt).toISOString(),
    expiresAt: new Date(e.deletedAt + keepMs).toISOString(),
  };
}

export type TrashEntryView = ReturnType<typeof trashView>;

export async function trashRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const trash = (): TrashApi => {
    if (!ctx.trash) throw notFound("the trash is not available on this server");
    return ctx.trash;
  };
  /** System admins anywhere; others only inside one project they may delete in. */
  const mayActOn = async (request: Parameters<typeof callerOf>[0], project: string | undefined) => {
    const caller = await callerOf(request, ctx);
    const account = requireSignedIn(caller);
    if (isSystemAdmin(account)) return caller;
    if (project === undefined)
      throw badRequest(
        "say which project (?project=NAME): only system administrators see every project's trash",
      );
    await requireProjectAction(ctx, caller, project, "artifact:delete");
    return caller;
  };

  app.get(
    "/trash",
    {
      schema: {
        summary: "List the trash: deleted artifacts and tags that can be restored, newest first",
        tags: ["trash"],
        querystring: {
          type: "object",
          properties: {
            ...PAGE_QUERY,
            project: { type: "string", description: "only this project's repositories" },
            repository: { type: "string", description: "only this repository" },
            kind: { type: "string", enum: ["artifact", "tag"] },
            q: { type: "string", description: "substring of the repository, digest or a tag" },
          },
        },
        response: {
          200: { description: "a page of trash entries", ...pageSchema(TrashEntrySchema) },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const q = request.query as {
        page?: number;
        page_size?: number;
        sort?: string;
        project?: string;
        repository?: string;
        kind?: "artifact" | "tag";
        q?: string;
      };
      const project =
        q.project ?? (q.repository !== undefined ? projectOf(q.repository) : undefined);
      await mayActOn(request, project);
      const page = pageRequest(q, ["deletedAt", "repository", "size"] as const, "deletedAt", true);
      const t = trash();
      const result = await listTrash(
        t.db,
        { project, repository: q.repository, kind: q.kind, q: q.q },
        page,
      );
      return sendPage(request, reply, page, {
        items: result.items.map((e) => trashView(e, t.keepMs)),
        total: result.total,
      });
    },
  );

  app.get(
    "/trash/:id",
    {
      schema: {
        summary: "Show one trash entry with the manifests it holds",
        tags: ["trash"],
        params: idParams,
        response: {
          200: { description: "the entry", ...TrashDetailSchema },
          ...errors(401, 403, 404),
        },
      },
    },
    async (request) => {
      const { id } = request.params as { id: number };
      const t = trash();
      const entry = await getTrashEntry(t.db, id);
      const caller = await callerOf(request, ctx);
      if (!entry) {
        requireSignedIn(caller);
        throw notFound(`trash entry ${id} not found`);
      }
      await mayActOn(request, projectOf(entry.repository));
      return { ...trashView(entry, t.keepMs), contents: entry.contents };
    },
  );

  app.post(
    "/trash/:id/restore",
    {
      schema: {
        summary:
          "Restore a trash entry: the artifact with its tags and referrers (or the tag), all or nothing",
        tags: ["trash"],
        params: idParams,
        response: {
          200: { description: "what is back", ...RestoredSchema },
          ...errors(401, 403, 404, 409),
        },
      },
    },
    async (request) => {
      const { id } = request.params as { id: number };
      const t = trash();
      const entry = await getTrashEntry(t.db, id);
      const caller = await callerOf(request, ctx);
      if (!entry) {
        requireSignedIn(caller);
        throw notFound(`trash entry ${id} not found`);
      }
      await mayActOn(request, projectOf(entry.repository));
      let restored: Awaited<ReturnType<typeof restoreTrash>>;
      try {
        restored = await restoreTrash(t.db, id, {
          principal: caller.principal.name,
          remoteAddress: caller.remoteAddress,
        });
      } catch (err) {
        if (err instanceof TrashRestoreError) {
          await ctx.auth.audit.record({
            actor: caller.principal,
            remoteAddress: caller.remoteAddress,
            action: "trash.restore",
            resourceType: "trash",
            resource: resourceOf(entry),
            project: projectOf(entry.repository),
            outcome: "failure",
            detail: { id, reason: err.message },
          });
          throw conflict(err.message);
        }
        throw err;
      }
      if (!restored) throw notFound(`trash entry ${id} not found (restored or purged meanwhile)`);
      for (const m of restored.manifests) t.evict(entry.repository, m.digest);
      await ctx.auth.audit.record({
        actor: caller.principal,
        remoteAddress: caller.remoteAddress,
        action: "trash.restore",
        resourceType: "trash",
        resource: resourceOf(entry),
        project: projectOf(entry.repository),
        detail: { id, manifests: restored.manifests },
      });
      return { entry: trashView(restored.entry, t.keepMs), manifests: restored.manifests };
    },
  );

  app.post(
    "/trash/purge",
    {
      schema: {
        summary:
          "Purge now (system administrators): a trash-purge job for the expired entries, every entry (all) or chosen ones (ids)",
        tags: ["trash"],
        body: {
          type: ["object", "null"],
          additionalProperties: false,
          properties: {
            all: { type: "boolean", description: "every entry, expired or not" },
            ids: {
              type: "array",
              items: { type: "integer", minimum: 1 },
              minItems: 1,
              maxItems: 1000,
              description: "exactly these entries",
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
      const t = trash();
      if (!t.jobs) throw notFound("background jobs are not available on this server");
      const body = (request.body ?? {}) as { all?: boolean; ids?: number[] };
      if (body.all === true && body.ids !== undefined)
        throw badRequest("give either all or ids, not both");
      const payload: TrashPurgePayload = {
        ...(body.all === true ? { all: true } : {}),
        ...(body.ids !== undefined ? { ids: [...new Set(body.ids)] } : {}),
        requestedBy: caller.principal.name,
      };
      const job = await t.jobs.enqueue(TRASH_PURGE_JOB_KIND, payload, { maxAttempts: 3 });
      await ctx.auth.audit.record({
        actor: caller.principal,
        remoteAddress: caller.remoteAddress,
        action: "trash.purge",
        resourceType: "job",
        resource: `${job.kind}#${job.id}`,
        detail: {
          id: job.id,
          ...(payload.all ? { all: true } : {}),
          ...(payload.ids ? { ids: payload.ids } : {}),
        },
      });
      return reply.code(202).send(jobView(job));
    },
  );
}

function resourceOf(e: TrashEntry): string {
  return e.kind === "tag" ? `${e.repository}:${e.tag}` : `${e.repository}@${e.digest}`;
}
