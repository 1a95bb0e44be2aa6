// Push admission for multi-tenancy: the project must exist (system administrators may have
// it created when `autoCreateProjects` is on) and no storage quota of the repository, the
// project or the registry may be exceeded (policy/quotas.ts; a blob a scope already holds
// costs nothing more there). Refusals are the spec's DENIED with a message naming the scope
// and its limit.
import type { Principal } from "../auth/access.js";
import type { AuditLog } from "../auth/audit.js";
import type { Authorizer } from "../auth/authorizer.js";
import { projectOf } from "../auth/permissions.js";
import type { AuthStore, Project } from "../auth/store.js";
import type { Admission, BlobCommitRequest, ManifestPutRequest } from "../registry/admission.js";
import { RegistryError } from "../registry/errors.js";
import type { RegistryEvents } from "../registry/events.js";
import { QuotaGate, type StorageAccounting } from "./quotas.js";

export class PushAdmission implements Admission {
  private readonly quotas: QuotaGate;

  constructor(
    private readonly store: AuthStore,
    accounting: StorageAccounting,
    private readonly authorizer: Authorizer,
    private readonly audit: AuditLog,
    private readonly autoCreateProjects: boolean,
  ) {
    this.quotas = new QuotaGate(accounting);
  }

  /**
   * Releases reservations as the registry reports commits. Must be called with the events of
   * the registry this admission serves; without it reservations only lapse by time.
   */
  releaseOnCommit(events: RegistryEvents): this {
    events.on("blob.committed", (e) =>
      this.quotas.committed(projectOf(e.repository), e.repository, e.digest),
    );
    events.on("manifest.pushed", (e) =>
      this.quotas.committed(projectOf(e.repository), e.repository, e.digest),
    );
    return this;
  }

  async beforeBlobCommit(request: BlobCommitRequest): Promise<void> {
    const project = await this.projectForPush(request.repository, request.principal);
    await this.checkQuota(project, request.repository, request.digest, request.size);
  }

  async beforeManifestPut(request: ManifestPutRequest): Promise<void> {
    const project = await this.projectForPush(request.repository, request.principal);
    await this.checkQuota(project, request.repository, request.digest, request.bytes.length);
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

  private async checkQuota(
    project: Project,
    repository: string,
    digest: string,
    size: number,
  ): Promise<void> {
    await this.quotas.admit(
      project,
      repository,
      digest,
      size,
      (message) => new RegistryError("DENIED", message),
    );
  }
}
