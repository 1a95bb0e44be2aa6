// What multi-tenancy adds to the registry's data path: push admission (the project must
// exist — system administrators may have it created when `autoCreateProjects` is on — and
// the project's storage quota must not be exceeded; a blob already stored in the project
// costs nothing more) and the audit trail of registry events (push, pull, delete).
// Refusals are the spec's DENIED with a message naming the project and the quota.
//
// Concurrency: the registry commits a blob or manifest only after the admission hook has
// returned, so two pushes checked at the same moment would both see the old usage and could
// together exceed the quota. QuotaReservations closes that window: the check runs one at a
// time per project, and bytes it admits stay reserved (counted as used) until the registry
// reports the commit (`blob.committed` / `manifest.pushed`), when the metadata counts them.
// A digest reserved by one push costs nothing more to a concurrent push of the same digest
// (a shared blob counts once). A reservation whose commit never comes (the commit failed
// after admission) lapses after RESERVATION_TTL_MS. Reservations live in this process: with
// several replicas behind a load balancer, pushes to one project that land on different
// replicas at the same instant can still overshoot by up to one push each (see docs/auth.md).
import type { Admission, BlobCommitRequest, ManifestPutRequest } from "../registry/admission.js";
import { RegistryError } from "../registry/errors.js";
import type { RegistryEvents } from "../registry/events.js";
import type { Principal } from "./access.js";
import type { AuditLog } from "./audit.js";
import type { Authorizer } from "./authorizer.js";
import { projectOf } from "./permissions.js";
import type { AuthStore, Project } from "./store.js";

/** How much of a project's storage is used, and whether it already holds some content. */
export interface ProjectUsage {
  projectUsage(project: string): Promise<number>;
  /** Whether any repository of the project holds this blob or manifest digest. */
  projectHolds(project: string, digest: string): Promise<boolean>;
}

export function formatQuotaBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** How long admitted-but-uncommitted bytes stay reserved if no commit is reported. */
export const RESERVATION_TTL_MS = 10 * 60 * 1000;

interface Reservation {
  readonly digest: string;
  readonly bytes: number;
  readonly expires: number;
}

/** Per-project serialization of quota checks and the bytes admitted but not yet committed. */
export class QuotaReservations {
  private readonly queues = new Map<string, Promise<void>>();
  private readonly held = new Map<string, Reservation[]>();

  constructor(
    private readonly ttlMs = RESERVATION_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Runs `fn` after every earlier call for the same project has finished. */
  async exclusive<T>(project: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(project) ?? Promise.resolve();
    let done: () => void = () => {};
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    const tail = previous.then(() => mine);
    this.queues.set(project, tail);
    await previous;
    try {
      return await fn();
    } finally {
      done();
      if (this.queues.get(project) === tail) this.queues.delete(project);
    }
  }

  /** Live reservations of a project (expired ones are dropped). */
  private live(project: string): Reservation[] {
    const now = this.now();
    const list = (this.held.get(project) ?? []).filter((r) => r.expires > now);
    if (list.length === 0) this.held.delete(project);
    else this.held.set(project, list);
    return list;
  }

  /** Whether some in-flight push of the project already reserved this digest. */
  has(project: string, digest: string): boolean {
    return this.live(project).some((r) => r.digest === digest);
  }

  /** The project's reserved digests with their sizes, each digest once. */
  pending(project: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of this.live(project)) out.set(r.digest, r.bytes);
    return out;
  }

  /** Drops every reservation of `digest`: the metadata counts it now. */
  forget(project: string, digest: string): void {
    const list = this.live(project).filter((r) => r.digest !== digest);
    if (list.length === 0) this.held.delete(project);
    else this.held.set(project, list);
  }

  reserve(project: string, digest: string, bytes: number): void {
    const list = this.live(project);
    list.push({ digest, bytes, expires: this.now() + this.ttlMs });
    this.held.set(project, list);
  }

  /** One reservation of `digest` has been committed (or abandoned). */
  release(project: string, digest: string): void {
    const list = this.held.get(project);
    if (!list) return;
    const i = list.findIndex((r) => r.digest === digest);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.held.delete(project);
  }
}

export class PushAdmission implements Admission {
  private readonly reservations = new QuotaReservations();

  constructor(
    private readonly store: AuthStore,
    private readonly usage: ProjectUsage,
    private readonly authorizer: Authorizer,
    private readonly audit: AuditLog,
    private readonly autoCreateProjects: boolean,
  ) {}

  /**
   * Releases reservations as the registry reports commits. Must be called with the events of
   * the registry this admission serves; without it reservations only lapse by time.
   */
  releaseOnCommit(events: RegistryEvents): this {
    events.on("blob.committed", (e) =>
      this.reservations.release(projectOf(e.repository), e.digest),
    );
    events.on("manifest.pushed", (e) =>
      this.reservations.release(projectOf(e.repository), e.digest),
    );
    return this;
  }

  async beforeBlobCommit(request: BlobCommitRequest): Promise<void> {
    const project = await this.projectForPush(request.repository, request.principal);
    await this.checkQuota(project, request.digest, request.size);
  }

  async beforeManifestPut(request: ManifestPutRequest): Promise<void> {
    const project = await this.projectForPush(request.repository, request.principal);
    await this.checkQuota(project, request.digest, request.bytes.length);
  }

  private async projectForPush(repository: string, principal: Principal): Promise<Project> {
    const name = projectOf(repository);
    const existing = await this.store.findProject(name);
    if (existing) return existing;
    if (!principal.isAdmin || !this.autoCreateProjects) {
      throw new RegistryError(
        "DENIED",
        `project "${name}" does not exist; create it first (berth admin project create ${name})`,
      );
    }
    try {
      const created = await this.store.createProject({ name, isPublic: false, quotaBytes: null });
      this.authorizer.invalidate();
      await this.audit.record({
        actor: principal,
        action: "project.create",
        resourceType: "project",
        resource: name,
        project: name,
        detail: { autoCreated: true, repository },
      });
      return created;
    } catch (err) {
      const raced = await this.store.findProject(name);
      if (raced) return raced;
      throw err;
    }
  }

  private async checkQuota(project: Project, digest: string, size: number): Promise<void> {
    const limit = project.quotaBytes;
    if (limit === null) return;
    const name = project.name;
    await this.reservations.exclusive(name, async () => {
      if (await this.usage.projectHolds(name, digest)) return;
      // Already admitted for a concurrent push that has not committed yet: counted once, but
      // this push holds its own reservation so that either commit keeps the bytes counted.
      if (!this.reservations.has(name, digest)) {
        const used = (await this.usage.projectUsage(name)) + (await this.pendingBytes(name));
        if (used + size > limit) {
          throw new RegistryError(
            "DENIED",
            `quota exceeded: project "${name}" may store ${formatQuotaBytes(limit)} ` +
              `(${limit} bytes); ${used} bytes are used and this push needs ${size} more`,
          );
        }
      }
      this.reservations.reserve(name, digest, size);
    });
  }

  /**
   * Bytes admitted but not yet counted by the metadata. A reserved digest the project already
   * holds is committed (its event may not have arrived yet) and counts through the metadata.
   */
  private async pendingBytes(project: string): Promise<number> {
    let total = 0;
    for (const [digest, bytes] of this.reservations.pending(project)) {
      if (await this.usage.projectHolds(project, digest)) this.reservations.forget(project, digest);
      else total += bytes;
    }
    return total;
  }
}

function actorFor(name: string): Pick<Principal, "name" | "kind"> {
  if (name === "anonymous" || name === "") return { name: "anonymous", kind: "anonymous" };
  return { name, kind: name.startsWith("robot$") ? "robot" : "user" };
}

/** Records registry events in the audit log. */
export function auditRegistryEvents(events: RegistryEvents, audit: AuditLog): void {
  events.on("manifest.pushed", (e) =>
    audit.note({
      actor: actorFor(e.principal),
      action: "push",
      resourceType: "artifact",
      resource: `${e.repository}${e.tag ? `:${e.tag}` : ""}@${e.digest}`,
      project: projectOf(e.repository),
      remoteAddress: e.remoteAddress,
      detail: {
        mediaType: e.mediaType,
        size: e.size,
        ...(e.subject ? { subject: e.subject } : {}),
      },
    }),
  );
  events.on("manifest.pulled", (e) =>
    audit.note({
      actor: actorFor(e.principal),
      action: "pull",
      resourceType: "artifact",
      resource: `${e.repository}${e.tag ? `:${e.tag}` : ""}@${e.digest}`,
      project: projectOf(e.repository),
      remoteAddress: e.remoteAddress,
    }),
  );
  events.on("manifest.deleted", (e) =>
    audit.note({
      actor: actorFor(e.principal),
      action: "delete",
      resourceType: "artifact",
      resource: `${e.repository}@${e.digest}`,
      project: projectOf(e.repository),
      remoteAddress: e.remoteAddress,
      detail: { tags: e.tags },
    }),
  );
  events.on("tag.deleted", (e) =>
    audit.note({
      actor: actorFor(e.principal),
      action: "delete",
      resourceType: "tag",
      resource: `${e.repository}:${e.tag}`,
      project: projectOf(e.repository),
      remoteAddress: e.remoteAddress,
    }),
  );
  events.on("blob.deleted", (e) =>
    audit.note({
      actor: actorFor(e.principal),
      action: "delete",
      resourceType: "blob",
      resource: `${e.repository}@${e.digest}`,
      project: projectOf(e.repository),
      remoteAddress: e.remoteAddress,
    }),
  );
}
