// Routes the web UI browses with, beside the resource routes: the caller's actions in a
// project (so menus show only what the server would allow), a repository's tags as rows
// (filter, sort and pagination in SQL, for repositories with 10,000 tags), and one
// artifact's detail (config overview, layers with the command that made each, platforms,
// annotations, and the attachments tree by both cosign schemes and OCI referrers).
// Every route checks the caller's project rights exactly as the resource routes do.
import type { FastifyInstance } from "fastify";
import { isSystemAdmin } from "../../auth/authorizer.js";
import { PROJECT_ACTIONS, projectOf } from "../../auth/permissions.js";
import { isValidRepositoryName } from "../../auth/scope.js";
import type { TagRowSort } from "../../meta/tag-rows.js";
import { artifactKind } from "../../oci/artifact-kind.js";
import { type ImageConfig, isDigest, parseManifest } from "../../oci/index.js";
import { type AttachmentReader, listAttachments } from "../../sign/discover.js";
import { artifactOverview } from "../artifact-overview.js";
import type { Caller } from "../authn.js";
import { type ApiContext, callerOf, requireProjectAction, roleIn } from "../context.js";
import { notFound } from "../errors.js";
import { PAGE_QUERY, pageRequest, pageSchema, sendPage } from "../pagination.js";
import { errors } from "../schemas.js";

const stringMap = { type: "object", additionalProperties: { type: "string" } } as const;
const nullableStrings = { type: ["array", "null"], items: { type: "string" } } as const;
const KIND = {
  type: "string",
  enum: ["image", "index", "signature", "attestation", "sbom", "other"],
} as const;

const TagRowSchema = {
  type: "object",
  required: ["name", "digest", "mediaType", "kind", "size", "pushedAt"],
  properties: {
    name: { type: "string" },
    digest: { type: "string" },
    mediaType: { type: "string" },
    artifactType: { type: ["string", "null"] },
    kind: KIND,
    size: { type: "integer", description: "manifest plus referenced blobs, in bytes" },
    pushedAt: { type: "string", format: "date-time" },
    pulledAt: { type: ["string", "null"], format: "date-time" },
  },
} as const;

const AttachmentSchema = {
  type: "object",
  required: ["scheme", "kind", "reference", "digest", "children"],
  properties: {
    scheme: { type: "string", enum: ["tag", "referrer"] },
    kind: KIND,
    reference: { type: "string", description: "the tag (tag scheme) or the referrer's digest" },
    digest: { type: "string" },
    artifactType: { type: ["string", "null"] },
    annotations: stringMap,
    children: {
      type: "array",
      description: "what is attached to this attachment, same shape",
      items: { type: "object", additionalProperties: true },
    },
  },
} as const;

const ArtifactDetailSchema = {
  type: "object",
  required: ["digest", "mediaType", "kind", "tags", "annotations", "platforms", "layers"],
  properties: {
    repository: { type: "string" },
    digest: { type: "string" },
    mediaType: { type: "string" },
    artifactType: { type: ["string", "null"] },
    kind: KIND,
    tags: { type: "array", items: { type: "string" } },
    annotations: stringMap,
    subject: { type: ["string", "null"] },
    platforms: {
      type: "array",
      items: {
        type: "object",
        properties: {
          digest: { type: "string" },
          platform: { type: ["string", "null"] },
          size: { type: "integer" },
        },
      },
    },
    config: {
      type: ["object", "null"],
      properties: {
        created: { type: ["string", "null"] },
        platform: { type: "string" },
        entrypoint: nullableStrings,
        cmd: nullableStrings,
        env: { type: "array", items: { type: "string" } },
        labels: stringMap,
        user: { type: "string" },
        workingDir: { type: "string" },
        exposedPorts: { type: "array", items: { type: "string" } },
      },
    },
    layers: {
      type: "array",
      items: {
        type: "object",
        properties: {
          digest: { type: "string" },
          mediaType: { type: "string" },
          size: { type: "integer" },
          createdBy: { type: ["string", "null"] },
          command: { type: ["string", "null"] },
        },
      },
    },
    history: {
      type: "array",
      items: {
        type: "object",
        properties: {
          createdBy: { type: ["string", "null"] },
          created: { type: ["string", "null"] },
          emptyLayer: { type: "boolean" },
        },
      },
    },
    warnings: { type: "array", items: { type: "string" } },
    attachments: { type: "array", items: AttachmentSchema },
  },
} as const;

const repoParams = {
  type: "object",
  required: ["project", "repository"],
  properties: {
    project: { type: "string" },
    repository: { type: "string", description: "full name, URL-encoded" },
  },
} as const;

interface AttachmentNode {
  scheme: "tag" | "referrer";
  kind: ReturnType<typeof artifactKind>;
  reference: string;
  digest: string;
  artifactType: string | null;
  annotations: Record<string, string>;
  children: AttachmentNode[];
}

/** How deep the attachments tree goes (a signature of an SBOM of an image is depth 2). */
const MAX_DEPTH = 3;
const MAX_NODES = 200;

async function attachmentTree(
  reader: AttachmentReader,
  digest: string,
  depth: number,
  budget: { left: number },
): Promise<AttachmentNode[]> {
  if (depth > MAX_DEPTH || budget.left <= 0) return [];
  const nodes: AttachmentNode[] = [];
  for (const a of await listAttachments(reader, digest)) {
    if (budget.left-- <= 0) break;
    const tagKind = a.kind === "sig" ? "signature" : a.kind === "att" ? "attestation" : "sbom";
    nodes.push({
      scheme: a.scheme,
      kind:
        a.kind === "referrer"
          ? artifactKind({ mediaType: "", artifactType: a.artifactType ?? null })
          : tagKind,
      reference: a.reference,
      digest: a.manifestDigest,
      artifactType: a.artifactType ?? null,
      annotations: a.annotations ?? {},
      children: await attachmentTree(reader, a.manifestDigest, depth + 1, budget),
    });
  }
  return nodes;
}

export async function browseRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const browse = ctx.browse;

  app.get(
    "/projects/:project/permissions",
    {
      schema: {
        summary: "What the caller may do in a project (its role and the allowed actions)",
        tags: ["projects"],
        params: {
          type: "object",
          required: ["project"],
          properties: { project: { type: "string" } },
        },
        response: {
          200: {
            type: "object",
            required: ["project", "actions", "isAdmin"],
            properties: {
              project: { type: "string" },
              role: { type: ["string", "null"] },
              isAdmin: { type: "boolean" },
              actions: { type: "array", items: { type: "string", enum: [...PROJECT_ACTIONS] } },
            },
          },
          ...errors(401, 404),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      await requireProjectAction(ctx, caller, project, "project:read");
      const actions = await ctx.auth.authorizer.projectActions(caller.account, project);
      return {
        project,
        role: await roleIn(ctx, caller.account, project),
        isAdmin: isSystemAdmin(caller.account),
        actions: PROJECT_ACTIONS.filter((a) => actions.has(a)),
      };
    },
  );

  if (!browse) return;

  async function requireRepository(
    caller: Caller,
    params: { project: string; repository: string },
  ): Promise<string> {
    if (
      !isValidRepositoryName(params.repository) ||
      projectOf(params.repository) !== params.project
    ) {
      throw notFound(`repository "${params.repository}" is not in project "${params.project}"`);
    }
    await requireProjectAction(ctx, caller, params.project, "artifact:list");
    return params.repository;
  }

  app.get(
    "/projects/:project/repositories/:repository/tags",
    {
      schema: {
        summary: "A repository's tags with their artifact (digest, kind, size, push/pull times)",
        tags: ["artifacts"],
        params: repoParams,
        querystring: {
          type: "object",
          properties: { ...PAGE_QUERY, q: { type: "string", description: "tag name contains" } },
        },
        response: {
          200: { description: "a page of tags", ...pageSchema(TagRowSchema) },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const repository = await requireRepository(
        caller,
        request.params as { project: string; repository: string },
      );
      const query = request.query as { q?: string; sort?: string };
      const page = pageRequest<TagRowSort>(
        request.query as { sort?: string },
        ["name", "pushedAt", "pulledAt", "size"],
        "name",
      );
      const result = await browse.tagRows(repository, {
        contains: query.q,
        sort: page.sort,
        descending: page.descending,
        offset: (page.page - 1) * page.pageSize,
        limit: page.pageSize,
      });
      if (!result) throw notFound(`repository "${repository}" not found`);
      return sendPage(request, reply, page, {
        total: result.total,
        items: result.items.map((row) => ({
          ...row,
          kind: artifactKind({ ...row, tags: [row.name] }),
        })),
      });
    },
  );

  app.get(
    "/projects/:project/repositories/:repository/artifacts/:reference",
    {
      schema: {
        summary:
          "One artifact: config overview, layers with the command that made each, platforms, annotations, attachments",
        tags: ["artifacts"],
        params: {
          type: "object",
          required: ["project", "repository", "reference"],
          properties: {
            ...repoParams.properties,
            reference: { type: "string", description: "digest or tag" },
          },
        },
        response: {
          200: { description: "the artifact", ...ArtifactDetailSchema },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const caller = await callerOf(request, ctx);
      const params = request.params as { project: string; repository: string; reference: string };
      const repository = await requireRepository(caller, params);
      const reader = browse.reader(repository);
      const stored = await reader.manifest(params.reference);
      if (!stored || (isDigest(params.reference) && stored.digest !== params.reference)) {
        throw notFound(`artifact ${repository}:${params.reference} not found`);
      }
      const parsed = parseManifest(stored.bytes, stored.mediaType);
      const config = await imageConfigOf(reader, parsed);
      const tags = await browse.tagsOf(repository, stored.digest);
      return {
        repository,
        ...artifactOverview(stored.digest, parsed, config, tags),
        tags,
        attachments: await attachmentTree(reader, stored.digest, 1, { left: MAX_NODES }),
      };
    },
  );
}

const IMAGE_CONFIG_TYPES = new Set([
  "application/vnd.oci.image.config.v1+json",
  "application/vnd.docker.container.image.v1+json",
]);

/** The image config of an image manifest (undefined for indexes and other artifacts). */
async function imageConfigOf(
  reader: AttachmentReader,
  parsed: ReturnType<typeof parseManifest>,
): Promise<ImageConfig | undefined> {
  if (parsed.kind !== "image" || !IMAGE_CONFIG_TYPES.has(parsed.image.config.mediaType)) {
    return undefined;
  }
  const bytes = await reader.blob(parsed.image.config);
  try {
    return JSON.parse(bytes.toString("utf8")) as ImageConfig;
  } catch {
    return undefined;
  }
}
