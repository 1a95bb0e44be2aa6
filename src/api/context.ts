// What the management API's routes share: the auth system, the management operations, the
// view onto registry contents (repositories, artifacts, usage), and the per-request caller.

import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Kysely } from "kysely";
import type { Account } from "../auth/accounts.js";
import type { Management } from "../auth/management.js";
import type { ProjectAction } from "../auth/permissions.js";
import type { Project } from "../auth/store.js";
import type { AuthSystem } from "../auth/system.js";
import type { JobQueue } from "../jobs/index.js";
import type { Database } from "../meta/index.js";
import type { QuotaScope } from "../policy/quotas.js";
import type { PolicyService } from "../policy/service.js";
import type { DeletionPlan } from "../registry/deletion.js";
import type { AttachmentReader } from "../sign/discover.js";
import { type Caller, identify } from "./authn.js";
import type { BrowseView } from "./browse-view.js";
import { forbidden, notFound, unauthorized } from "./errors.js";
import type { GatePolicies } from "./routes/gate.js";
import type { ScanningApi } from "./routes/scanning.js";
import type { TrashApi } from "./routes/trash.js";

export interface RepositoryInfo {
  readonly name: string;
  readonly artifactCount: number;
  readonly tagCount: number;
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
  /** Bytes held by a repository, a project or the whole registry. */
  usage(scope: QuotaScope): Promise<number>;
  /** What deleting the manifest `reference` (digest or tag) points at would remove. */
  planArtifactDeletion(repository: string, reference: string): Promise<DeletionPlan | undefined>;
  /**
   * Delete the manifest `reference` (digest or tag) points at, with all its tags and its
   * referrers (registry/deletion.ts); undefined when unknown. Throws a RegistryError when
   * refused (immutable tag; an index lists it and `force` is not set).
   */
  deleteArtifact(
    repository: string,
    reference: string,
    who: Acting,
    force?: boolean,
  ): Promise<DeletionPlan | undefined>;
  /** Point `tag` at the manifest `reference` names; false when the reference is unknown. */
  addTag(repository: string, reference: string, tag: string): Promise<boolean>;
  /** Remove `tag` if it points at the manifest `reference` names; false otherwise. */
  removeTag(repository: string, reference: string, tag: string, who: Acting): Promise<boolean>;
}

/** What the trust routes need of the registry's trust enforcement (policy/trust-admission.ts). */
export interface TrustService {
  readonly db: Kysely<Database>;
  invalidate(project: string): void;
  reader(repository: string): AttachmentReader;
}

export interface ApiContext {
  readonly auth: AuthSystem;
  readonly management: Management;
  readonly registry: RegistryView;
  /** Quotas, immutability and retention rules (policy/service.ts). */
  readonly policies: PolicyService;
  readonly version: string;
  /** Signature enforcement; absent when the server runs without it. */
  readonly trust?: TrustService;
  /** The job queue (jobs routes, GC); absent where no server runs. */
  readonly jobs?: JobQueue;
  /** Project quality-gate policies; the gate routes exist only when given. */
  readonly gatePolicies?: GatePolicies;
  /** Scanning in the registry (reports, scan policies, allowlists); routes exist only when given. */
  readonly scanning?: ScanningApi;
  /** The trash of deleted artifacts and tags; the trash routes answer 404 without it. */
  readonly trash?: TrashApi;
  /** What the web UI's browsing routes read (tag rows, artifact detail); absent: not served. */
  readonly browse?: BrowseView;
  /** More route plugins the server composes in (webhooks, …), inside the API's scope. */
  readonly routes?: readonly ((app: FastifyInstance, ctx: ApiContext) => Promise<void>)[];
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
 * see answer exactly as projects that do not exist (their existence is not revealed): 401
 * to anonymous callers, 404 to signed-in ones. Visible ones without the right: 403 (401
 * when anonymous).
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
    if (!caller.account) throw unauthorized();
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
