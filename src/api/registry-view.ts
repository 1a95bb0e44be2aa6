// The management API's view onto registry contents, over the registry's metadata tables
// (src/meta): repository and artifact listings, project storage usage for quotas, and
// deletions/tagging. Blob bytes are never touched here: unlinked blobs are reclaimed by
// garbage collection. Artifact and tag deletions go through registry/deletion.ts, the code
// the /v2/ DELETE route runs (immutable tags refused, indexes protected, referrers deleted
// with their subject, cache evicted, registry events published for the audit log and any
// other subscriber). Retags ask the same immutability rules as a manifest PUT.
import type { Kysely } from "kysely";
import { projectOf } from "../auth/permissions.js";
import type { Database } from "../meta/database.js";
import { deleteManifests, repositoryFacts, resolveTag, unlinkBlob } from "../meta/index.js";
import { ImmutableTags } from "../policy/immutable-tags.js";
import { MetaStorageAccounting, type QuotaScope } from "../policy/quotas.js";
import {
  type Admission,
  type DeletionPlan,
  executeDeletion,
  type ManifestCache,
  planDeletion,
  planFromFacts,
  type RegistryEvents,
} from "../registry/index.js";
import type { Acting, ArtifactInfo, RegistryView, RepositoryInfo } from "./context.js";

/** The registry services a deletion must keep in step. */
export interface RegistryServices {
  readonly events: RegistryEvents;
  readonly manifestCache: ManifestCache;
  /** `trash.keepMs` > 0: deletions go to the trash (meta/trash.ts). */
  readonly config: { readonly trash: { readonly keepMs: number } };
}

function acting(who: Acting) {
  return { principal: who.principal, remoteAddress: who.remoteAddress, at: Date.now() };
}

const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

function isoOrNull(ms: number | string | null): string | null {
  return ms === null ? null : new Date(Number(ms)).toISOString();
}

/** SQL LIKE pattern matching the repositories of a project. */
function projectFilter(project: string): { like?: string; exactSingle: boolean } {
  return project === "library"
    ? { like: "library/%", exactSingle: true }
    : { like: `${project}/%`, exactSingle: false };
}

export class MetaRegistryView implements RegistryView {
  readonly accounting: MetaStorageAccounting;
  /** The hooks deletions and retags ask (immutable tags). */
  private readonly guard: Admission;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly registry: RegistryServices,
  ) {
    this.accounting = new MetaStorageAccounting(db);
    this.guard = new ImmutableTags(db);
  }

  async projectUsage(project: string): Promise<number> {
    return this.accounting.usage({ kind: "project", project });
  }

  async usage(scope: QuotaScope): Promise<number> {
    return this.accounting.usage(scope);
  }

  async listRepositories(project: string | undefined, query?: string): Promise<RepositoryInfo[]> {
    let q = this.db
      .selectFrom("repositories as r")
      .leftJoin("manifests as m", "m.repository_id", "r.id")
      .select((eb) => [
        "r.name",
        eb.fn.count<number | string>("m.id").as("artifacts"),
        eb
          .selectFrom("tags as t")
          .select((sub) => sub.fn.countAll<number | string>().as("n"))
          .whereRef("t.repository_id", "=", "r.id")
          .as("tags"),
        eb.fn.max("m.pushed_at").as("pushed"),
        eb.fn.max("m.pulled_at").as("pulled"),
      ])
      .groupBy(["r.name", "r.id"]);
    if (project !== undefined) {
      const f = projectFilter(project);
      q = q.where((eb) =>
        f.exactSingle
          ? eb.or([eb("r.name", "like", f.like ?? ""), eb("r.name", "not like", "%/%")])
          : eb("r.name", "like", f.like ?? ""),
      );
    }
    if (query) q = q.where("r.name", "like", `%${query.replace(/[%_\\]/g, "")}%`);
    const rows = await q.orderBy("r.name").execute();
    return rows
      .filter((r) => project === undefined || projectOf(r.name) === project)
      .map((r) => ({
        name: r.name,
        artifactCount: Number(r.artifacts),
        tagCount: Number(r.tags ?? 0),
        pushedAt: isoOrNull(r.pushed as number | null),
        pulledAt: isoOrNull(r.pulled as number | null),
      }));
  }

  async deleteRepository(repository: string, who: Acting): Promise<boolean> {
    const repo = await this.db
      .selectFrom("repositories")
      .select("id")
      .where("name", "=", repository)
      .executeTakeFirst();
    if (!repo) return false;
    const tags = await this.db
      .selectFrom("tags")
      .select("name")
      .where("repository_id", "=", repo.id)
      .execute();
    // A repository holding an immutable tag cannot be deleted (nothing is removed).
    await this.guard.beforeDelete?.({ repository, tags: tags.map((t) => t.name), manifests: [] });
    await this.removeManifests(repository, who);
    const blobs = await this.db
      .selectFrom("repository_blobs")
      .select("digest")
      .where("repository_id", "=", repo.id)
      .execute();
    for (const b of blobs) {
      if (await unlinkBlob(this.db, repository, b.digest)) {
        this.registry.events.publish("blob.deleted", {
          repository,
          digest: b.digest,
          ...acting(who),
        });
      }
    }
    await this.db.deleteFrom("repositories").where("id", "=", repo.id).execute();
    return true;
  }

  async listArtifacts(repository: string): Promise<ArtifactInfo[] | undefined> {
    const repo = await this.db
      .selectFrom("repositories")
      .select("id")
      .where("name", "=", repository)
      .executeTakeFirst();
    if (!repo) return undefined;
    const manifests = await this.db
      .selectFrom("manifests")
      .select(["id", "digest", "media_type", "artifact_type", "size", "pushed_at", "pulled_at"])
      .where("repository_id", "=", repo.id)
      .execute();
    const tags = await this.db
      .selectFrom("tags")
      .select(["name", "manifest_id"])
      .where("repository_id", "=", repo.id)
      .execute();
    const out: ArtifactInfo[] = [];
    for (const m of manifests) {
      const referenced = await this.db
        .selectFrom("manifest_references as r")
        .innerJoin("blobs as b", "b.digest", "r.digest")
        .select((eb) => eb.fn.sum<number | string>("b.size").as("total"))
        .where("r.manifest_id", "=", m.id)
        .where("r.kind", "=", "blob")
        .executeTakeFirst();
      out.push({
        digest: m.digest,
        mediaType: m.media_type,
        artifactType: m.artifact_type,
        size: Number(m.size) + Number(referenced?.total ?? 0),
        tags: tags
          .filter((t) => t.manifest_id === m.id)
          .map((t) => t.name)
          .sort(),
        pushedAt: new Date(Number(m.pushed_at)).toISOString(),
        pulledAt: isoOrNull(m.pulled_at),
      });
    }
    return out;
  }

  async planArtifactDeletion(
    repository: string,
    reference: string,
  ): Promise<DeletionPlan | undefined> {
    const digest = await this.digestOf(repository, reference);
    if (!digest) return undefined;
    return planDeletion(this.db, repository, { digest });
  }

  async deleteArtifact(
    repository: string,
    reference: string,
    who: Acting,
    force = false,
  ): Promise<DeletionPlan | undefined> {
    const plan = await this.planArtifactDeletion(repository, reference);
    if (!plan) return undefined;
    await executeDeletion(this.deletionServices(), plan, who, force);
    return plan;
  }

  /** What registry/deletion.ts needs to delete as this view does (retention uses it). */
  deletionServices() {
    return {
      db: this.db,
      config: this.registry.config,
      events: this.registry.events,
      manifestCache: this.registry.manifestCache,
      admission: this.guard,
    };
  }

  /**
   * Deletes every manifest of the repository: with the trash on, one trash entry per artifact
   * (a manifest with its referrers, restorable together), referrers whose subject is not in
   * the repository on their own.
   */
  private async removeManifests(repository: string, who: Acting): Promise<void> {
    const trash =
      this.registry.config.trash.keepMs > 0 ? { reason: "repository deleted" } : undefined;
    for (;;) {
      const facts = await repositoryFacts(this.db, repository);
      if (!facts || facts.manifests.length === 0) return;
      const present = new Set(facts.manifests.map((m) => m.digest));
      const root =
        facts.manifests.find((m) => m.subjectDigest === null || !present.has(m.subjectDigest)) ??
        facts.manifests[0]!;
      const plan = planFromFacts(facts, { digest: root.digest });
      const digests = plan ? plan.manifests.map((m) => m.digest) : [root.digest];
      const result = await deleteManifests(this.db, repository, digests, false, who, trash);
      if (result.deleted.length === 0) return;
      for (const m of [...result.deleted].reverse()) {
        await this.registry.manifestCache.evict(repository, m.digest);
        this.registry.events.publish("manifest.deleted", {
          repository,
          digest: m.digest,
          tags: m.tags,
          ...acting(who),
          ...(result.trashId !== undefined ? { trash: result.trashId } : {}),
        });
      }
    }
  }

  async addTag(repository: string, reference: string, tag: string): Promise<boolean> {
    const digest = await this.digestOf(repository, reference);
    if (!digest) return false;
    const row = await this.db
      .selectFrom("manifests as m")
      .innerJoin("repositories as r", "r.id", "m.repository_id")
      .select(["m.id", "r.id as repositoryId"])
      .where("r.name", "=", repository)
      .where("m.digest", "=", digest)
      .executeTakeFirst();
    if (!row) return false;
    await this.guard.beforeTagMove?.({ repository, tag, digest });
    const now = Date.now();
    await this.db
      .insertInto("tags")
      .values({
        repository_id: row.repositoryId,
        name: tag,
        manifest_id: row.id,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc.columns(["repository_id", "name"]).doUpdateSet({ manifest_id: row.id, updated_at: now }),
      )
      .execute();
    return true;
  }

  async removeTag(
    repository: string,
    reference: string,
    tag: string,
    who: Acting,
  ): Promise<boolean> {
    const target = await this.digestOf(repository, reference);
    if (!target || (await resolveTag(this.db, repository, tag)) !== target) return false;
    const plan = await planDeletion(this.db, repository, { tag });
    if (!plan) return false;
    await executeDeletion(this.deletionServices(), plan, who);
    return true;
  }

  private async digestOf(repository: string, reference: string): Promise<string | undefined> {
    return DIGEST.test(reference) ? reference : resolveTag(this.db, repository, reference);
  }
}
