// Repositories and artifacts as the UI and scripts see them: list/search/delete
// repositories, list artifacts (tags, size, media type, push/pull times), delete an
// artifact, add/remove a tag. `{repository}` is the full repository name, URL-encoded
// (`team%2Fapp`), and must belong to `{project}`. Deletions go through the registry view,
// which publishes the registry's own events (manifest.deleted, tag.deleted, blob.deleted):
// the audit log records those exactly as for a /v2/ DELETE, with who and from where.
// Deleting a repository is recorded once more as such.
import type { FastifyInstance } from "fastify";
import { isSystemAdmin } from "../../auth/authorizer.js";
import { type ProjectAction, projectOf } from "../../auth/permissions.js";
import { isValidRepositoryName } from "../../auth/scope.js";
import type { Caller } from "../authn.js";
import {
  type Acting,
  type ApiContext,
  callerOf,
  type RepositoryInfo,
  requireProjectAction,
} from "../context.js";
import { badRequest, notFound } from "../errors.js";
import { PAGE_QUERY, pageRequest, pageSchema, sendPage, slicePage } from "../pagination.js";
import { DeletionPlanSchema } from "../policy-schemas.js";
import { ArtifactSchema, errors, NoContent, RepositorySchema } from "../schemas.js";

function acting(caller: Caller): Acting {
  return { principal: caller.principal.name, remoteAddress: caller.remoteAddress };
}

const repoParams = {
  type: "object",
  required: ["project", "repository"],
  properties: {
    project: { type: "string" },
    repository: { type: "string", description: "full name, URL-encoded" },
  },
} as const;
const artifactParams = {
  type: "object",
  required: ["project", "repository", "reference"],
  properties: {
    ...repoParams.properties,
    reference: { type: "string", description: "digest or tag" },
  },
} as const;
const tagParams = {
  type: "object",
  required: ["project", "repository", "reference", "tag"],
  properties: { ...artifactParams.properties, tag: { type: "string" } },
} as const;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

type RepoSort = "name" | "pushedAt" | "pulledAt" | "artifactCount" | "tagCount";
const REPO_SORTS: readonly RepoSort[] = [
  "name",
  "pushedAt",
  "pulledAt",
  "artifactCount",
  "tagCount",
];

function sortRepositories(
  items: RepositoryInfo[],
  sort: RepoSort,
  descending: boolean,
): RepositoryInfo[] {
  const sorted = [...items].sort((a, b) => {
    const x = a[sort] ?? "";
    const y = b[sort] ?? "";
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return descending ? sorted.reverse() : sorted;
}

export async function repositoryRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  /** A listed repository with its project and size (counted for the page shown only). */
  async function repoView(r: RepositoryInfo) {
    return {
      ...r,
      project: projectOf(r.name),
      sizeBytes: await ctx.registry.usage({ kind: "repository", repository: r.name }),
    };
  }

  async function requireRepository(
    caller: Caller,
    params: { project: string; repository: string },
    action: ProjectAction,
  ) {
    if (
      !isValidRepositoryName(params.repository) ||
      projectOf(params.repository) !== params.project
    ) {
      throw notFound(`repository "${params.repository}" is not in project "${params.project}"`);
    }
    await requireProjectAction(ctx, caller, params.project, action);
    return params.repository;
  }

  app.get(
    "/repositories",
    {
      schema: {
        summary: "Search repositories across the projects the caller can see",
        tags: ["repositories"],
        querystring: {
          type: "object",
          properties: { ...PAGE_QUERY, q: { type: "string", description: "name contains" } },
        },
        response: {
          200: { description: "a page of repositories", ...pageSchema(RepositorySchema) },
          ...errors(400, 401),
        },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const query = request.query as { sort?: string; q?: string };
      const page = pageRequest(query, REPO_SORTS, "name");
      const all = await ctx.registry.listRepositories(undefined, query.q);
      const visible: RepositoryInfo[] = [];
      const readable = new Map<string, boolean>();
      for (const repo of all) {
        const project = projectOf(repo.name);
        if (!readable.has(project)) {
          readable.set(
            project,
            isSystemAdmin(caller.account) ||
              (await ctx.auth.authorizer.can(caller.account, project, "repository:list")),
          );
        }
        if (readable.get(project)) visible.push(repo);
      }
      const result = slicePage(sortRepositories(visible, page.sort, page.descending), page);
      return sendPage(request, reply, page, {
        items: await Promise.all(result.items.map(repoView)),
        total: result.total,
      });
    },
  );

  app.get(
    "/projects/:project/repositories",
    {
      schema: {
        summary: "List a project's repositories",
        tags: ["repositories"],
        params: {
          type: "object",
          required: ["project"],
          properties: { project: { type: "string" } },
        },
        querystring: {
          type: "object",
          properties: { ...PAGE_QUERY, q: { type: "string", description: "name contains" } },
        },
        response: {
          200: { description: "a page of repositories", ...pageSchema(RepositorySchema) },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const { project } = request.params as { project: string };
      await requireProjectAction(ctx, caller, project, "repository:list");
      const query = request.query as { sort?: string; q?: string };
      const page = pageRequest(query, REPO_SORTS, "name");
      const items = await ctx.registry.listRepositories(project, query.q);
      const result = slicePage(sortRepositories(items, page.sort, page.descending), page);
      return sendPage(request, reply, page, {
        items: await Promise.all(result.items.map(repoView)),
        total: result.total,
      });
    },
  );

  app.delete(
    "/projects/:project/repositories/:repository",
    {
      schema: {
        summary: "Delete a repository with all its artifacts and tags",
        tags: ["repositories"],
        params: repoParams,
        response: { ...NoContent, ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const params = request.params as { project: string; repository: string };
      const repository = await requireRepository(caller, params, "repository:delete");
      if (!(await ctx.registry.deleteRepository(repository, acting(caller))))
        throw notFound(`repository "${repository}" not found`);
      await ctx.auth.audit.record({
        actor: caller.principal,
        action: "delete",
        resourceType: "repository",
        resource: repository,
        project: params.project,
        remoteAddress: caller.remoteAddress,
      });
      return reply.code(204).send();
    },
  );

  app.get(
    "/projects/:project/repositories/:repository/artifacts",
    {
      schema: {
        summary: "List a repository's artifacts with tags, size, media type and push/pull times",
        tags: ["artifacts"],
        params: repoParams,
        querystring: { type: "object", properties: { ...PAGE_QUERY } },
        response: {
          200: { description: "a page of artifacts", ...pageSchema(ArtifactSchema) },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const repository = await requireRepository(
        caller,
        request.params as { project: string; repository: string },
        "artifact:list",
      );
      const page = pageRequest(
        request.query as { sort?: string },
        ["pushedAt", "pulledAt", "size", "digest"] as const,
        "pushedAt",
        true,
      );
      const artifacts = await ctx.registry.listArtifacts(repository);
      if (!artifacts) throw notFound(`repository "${repository}" not found`);
      const sorted = [...artifacts].sort((a, b) => {
        const x = a[page.sort] ?? "";
        const y = b[page.sort] ?? "";
        return x < y ? -1 : x > y ? 1 : 0;
      });
      if (page.descending) sorted.reverse();
      return sendPage(request, reply, page, slicePage(sorted, page));
    },
  );

  app.delete(
    "/projects/:project/repositories/:repository/artifacts/:reference",
    {
      schema: {
        summary:
          "Delete an artifact (by digest or tag) with every tag pointing at it and its referrers",
        description:
          "Refused (409) when an index in the repository lists the manifest, unless force=true; " +
          "refused (403 DENIED) when it carries an immutable tag. dryRun=true only answers the plan.",
        tags: ["artifacts"],
        params: artifactParams,
        querystring: {
          type: "object",
          properties: {
            force: {
              type: "boolean",
              default: false,
              description: "delete even if an index lists it",
            },
            dryRun: { type: "boolean", default: false, description: "only report what would go" },
          },
        },
        response: {
          200: { description: "the plan (dry run)", ...DeletionPlanSchema },
          ...NoContent,
          ...errors(400, 401, 403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const params = request.params as { project: string; repository: string; reference: string };
      const query = request.query as { force?: boolean; dryRun?: boolean };
      const repository = await requireRepository(caller, params, "artifact:delete");
      if (query.dryRun) {
        const plan = await ctx.registry.planArtifactDeletion(repository, params.reference);
        if (!plan) throw notFound(`artifact "${params.reference}" not found in "${repository}"`);
        return reply.code(200).send(plan);
      }
      // Audited through the manifest.deleted events it publishes, as a /v2/ DELETE is.
      const deleted = await ctx.registry.deleteArtifact(
        repository,
        params.reference,
        acting(caller),
        query.force === true,
      );
      if (!deleted) throw notFound(`artifact "${params.reference}" not found in "${repository}"`);
      return reply.code(204).send();
    },
  );

  app.post(
    "/projects/:project/repositories/:repository/artifacts/:reference/tags",
    {
      schema: {
        summary: "Add a tag to an artifact",
        tags: ["artifacts"],
        params: artifactParams,
        body: { type: "object", required: ["name"], properties: { name: { type: "string" } } },
        response: {
          201: {
            description: "tagged",
            type: "object",
            required: ["name"],
            properties: { name: { type: "string" } },
          },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const params = request.params as { project: string; repository: string; reference: string };
      const repository = await requireRepository(caller, params, "tag:create");
      const { name } = request.body as { name: string };
      if (!TAG.test(name)) throw badRequest(`"${name}" is not a valid tag`);
      if (!(await ctx.registry.addTag(repository, params.reference, name))) {
        throw notFound(`artifact "${params.reference}" not found in "${repository}"`);
      }
      await ctx.auth.audit.record({
        actor: caller.principal,
        action: "tag.create",
        resourceType: "tag",
        resource: `${repository}:${name}`,
        project: params.project,
        remoteAddress: caller.remoteAddress,
        detail: { reference: params.reference },
      });
      return reply.code(201).send({ name });
    },
  );

  app.delete(
    "/projects/:project/repositories/:repository/artifacts/:reference/tags/:tag",
    {
      schema: {
        summary: "Remove a tag",
        tags: ["artifacts"],
        params: tagParams,
        response: { ...NoContent, ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const caller = await callerOf(request, ctx);
      const params = request.params as {
        project: string;
        repository: string;
        reference: string;
        tag: string;
      };
      const repository = await requireRepository(caller, params, "tag:delete");
      // Audited through the tag.deleted event it publishes, as a /v2/ DELETE is.
      const who = acting(caller);
      if (!(await ctx.registry.removeTag(repository, params.reference, params.tag, who))) {
        throw notFound(
          `tag "${params.tag}" does not point at "${params.reference}" in "${repository}"`,
        );
      }
      return reply.code(204).send();
    },
  );
}
