// What multi-tenancy adds to the registry's data path: push admission (the project must
// exist — system administrators may have it created when `autoCreateProjects` is on — and
// the project's storage quota must not be exceeded; a blob already stored in the project
// costs nothing more) and the audit trail of registry events (push, pull, delete).
// Refusals are the spec's DENIED with a message naming the project and the quota.
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

export class PushAdmission implements Admission {
  constructor(
    private readonly store: AuthStore,
    private readonly usage: ProjectUsage,
    private readonly authorizer: Authorizer,
    private readonly audit: AuditLog,
    private readonly autoCreateProjects: boolean,
  ) {}

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
    if (project.quotaBytes === null) return;
    if (await this.usage.projectHolds(project.name, digest)) return;
    const used = await this.usage.projectUsage(project.name);
    if (used + size > project.quotaBytes) {
      throw new RegistryError(
        "DENIED",
        `quota exceeded: project "${project.name}" may store ${formatQuotaBytes(project.quotaBytes)} ` +
          `(${project.quotaBytes} bytes); ${used} bytes are used and this push needs ${size} more`,
      );
    }
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
