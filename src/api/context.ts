// What the management API's routes share: the auth system, the management operations, the
// view onto registry contents (repositories, artifacts, usage), and the per-request caller.

import type { FastifyRequest } from "fastify";
import type { Account } from "../auth/accounts.js";
import type { Management } from "../auth/management.js";
import type { ProjectAction } from "../auth/permissions.js";
import type { Project } from "../auth/store.js";
import type { AuthSystem } from "../auth/system.js";
import { type Caller, identify } from "./authn.js";
import { forbidden, notFound, unauthorized } from "./errors.js";
import type { GatePolicies } from "./routes/gate.js";

export interface RepositoryInfo {
  readonly name: string;
  readonly artifactCount: number;
  readonly pushedAt: string | null;
  readonly pulledAt: string | null;
}

export interface ArtifactInfo {
  readonly digest: string;
  readonly mediaType: string;
  readonly artifactType: string | null;
  readonly size: number;
  readonly tags: string[];
  readonly pushedAt: string;
  readonly pulledAt: string | null;
}

/** Who changes registry contents through the API (for registry events and the audit log). */
export interface Acting {
  /** The principal's name, as the registry names it in its events. */
  readonly principal: string;
  readonly remoteAddress: string;
}

/**
 * Read/write access to registry contents, provided by the server's composition root.
 * Deletions publish the same registry events as the /v2/ API (manifest.deleted,
 * tag.deleted, blob.deleted), so the audit log, caches and other subscribers see them.
 */
export interface RegistryView {
  /** Bytes of distinct blobs and manifests stored in the project's repositories. */
  projectUsage(project: string): Promise<number>;
  /** Repositories of one project, or of all when `project` is undefined. */
  listRepositories(project: string | undefined, query?: string): Promise<RepositoryInfo[]>;
  deleteRepository(repository: string, who: Acting): Promise<boolean>;
  listArtifacts(repository: string): Promise<ArtifactInfo[] | undefined>;
  /** Delete the manifest `reference` (digest or tag) points at, with all its tags. */
  deleteArtifact(repository: string, reference: string, who: Acting): Promise<boolean>;
  /** Point `tag` at the manifest `reference` names; false when the reference is unknown. */
  addTag(repository: string, reference: string, tag: string): Promise<boolean>;
  /** Remove `tag` if it points at the manifest `reference` names; false otherwise. */
  removeTag(repository: string, reference: string, tag: string, who: Acting): Promise<boolean>;
}

export interface ApiContext {
  readonly auth: AuthSystem;
  readonly management: Management;
  readonly registry: RegistryView;
  readonly version: string;
  /** Project quality-gate policies; the gate routes exist only when given. */
  readonly gatePolicies?: GatePolicies;
}

const callers = new WeakMap<FastifyRequest, Caller>();

export async function callerOf(request: FastifyRequest, ctx: ApiContext): Promise<Caller> {
  let caller = callers.get(request);
  if (!caller) {
    caller = await identify(request, ctx.auth);
    callers.set(request, caller);
  }
  return caller;
}

/**
 * The project, if the caller may perform `action` in it. Projects the caller cannot even
 * see answer 404 (their existence is not revealed); visible ones without the right, 403.
 */
export async function requireProjectAction(
  ctx: ApiContext,
  caller: Caller,
  projectName: string,
  action: ProjectAction,
): Promise<Project> {
  const project = await ctx.auth.store.findProject(projectName);
  const actions = await ctx.auth.authorizer.projectActions(caller.account, projectName);
  if (!project || !actions.has("project:read")) {
    if (!caller.account && project) throw unauthorized();
    throw notFound(`project "${projectName}" not found`);
  }
  if (!actions.has(action)) {
    if (!caller.account) throw unauthorized();
    throw forbidden(`your role in project "${projectName}" does not allow this (${action})`);
  }
  return project;
}

export async function roleIn(
  ctx: ApiContext,
  account: Account | undefined,
  project: string,
): Promise<string | null> {
  if (account?.kind !== "user") return null;
  return (await ctx.auth.store.roleOf(project, account.user.username)) ?? null;
}
