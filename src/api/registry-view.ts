// The management API's view onto registry contents, over the registry's metadata tables
// (src/meta): repository and artifact listings, project storage usage for quotas, and
// deletions/tagging through meta's own functions. Blob bytes are never touched here:
// unlinked blobs are reclaimed by garbage collection. Deletions do what the /v2/ DELETE
// route does besides the metadata change: evict the manifest cache and publish the registry
// event (manifest.deleted, tag.deleted, blob.deleted), which is what the audit log, and any
// other subscriber (webhooks, replication), records.
import type { Kysely } from "kysely";
import { projectOf } from "../auth/permissions.js";
import type { ProjectUsage } from "../auth/registry-hooks.js";
import type { Database } from "../meta/database.js";
import { deleteManifest, deleteTag, resolveTag, unlinkBlob } from "../meta/index.js";
import type { ManifestCache, RegistryEvents } from "../registry/index.js";
import type { Acting, ArtifactInfo, RegistryView, RepositoryInfo } from "./context.js";

/** The registry services a deletion must keep in step. */
export interface RegistryServices {
  readonly events: RegistryEvents;
  readonly manifestCache: ManifestCache;
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

export class MetaRegistryView implements RegistryView, ProjectUsage {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly registry: RegistryServices,
  ) {}

  async projectUsage(project: string): Promise<number> {
    const ids = await this.repositoryIds(project);
    if (ids.length === 0) return 0;
    const blobs = await this.db
      .selectFrom("blobs")
      .select((eb) => eb.fn.sum<number | string>("size").as("total"))
      .where("digest", "in", (eb) =>
        eb.selectFrom("repository_blobs").select("digest").where("repository_id", "in", ids),
      )
      .executeTakeFirst();
    const manifestRows = await this.db
      .selectFrom("manifests")
      .select(["digest", "size"])
      .where("repository_id", "in", ids)
      .execute();
    const manifests = new Map(manifestRows.map((m) => [m.digest, Number(m.size)]));
    return Number(blobs?.total ?? 0) + [...manifests.values()].reduce((a, b) => a + b, 0);
  }

  async projectHolds(project: string, digest: string): Promise<boolean> {
    const ids = await this.repositoryIds(project);
    if (ids.length === 0) return false;
    const blob = await this.db
      .selectFrom("repository_blobs")
      .select("digest")
      .where("repository_id", "in", ids)
      .where("digest", "=", digest)
      .executeTakeFirst();
    if (blob) return true;
    const manifest = await this.db
      .selectFrom("manifests")
      .select("digest")
      .where("repository_id", "in", ids)
      .where("digest", "=", digest)
      .executeTakeFirst();
    return manifest !== undefined;
  }

  async listRepositories(project: string | undefined, query?: string): Promise<RepositoryInfo[]> {
    let q = this.db
      .selectFrom("repositories as r")
      .leftJoin("manifests as m", "m.repository_id", "r.id")
      .select((eb) => [
        "r.name",
        eb.fn.count<number | string>("m.id").as("artifacts"),
        eb.fn.max("m.pushed_at").as("pushed"),
        eb.fn.max("m.pulled_at").as("pulled"),
      ])
      .groupBy("r.name");
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
    const manifests = await this.db
      .selectFrom("manifests")
      .select("digest")
      .where("repository_id", "=", repo.id)
      .execute();
    for (const m of manifests) await this.removeManifest(repository, m.digest, who);
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

  async deleteArtifact(repository: string, reference: string, who: Acting): Promise<boolean> {
    const digest = await this.digestOf(repository, reference);
    if (!digest) return false;
    return this.removeManifest(repository, digest, who);
  }

  private async removeManifest(repository: string, digest: string, who: Acting) {
    const deleted = await deleteManifest(this.db, repository, digest, who);
    if (!deleted) return false;
    this.registry.manifestCache.evict(repository, digest);
    this.registry.events.publish("manifest.deleted", {
      repository,
      digest,
      tags: deleted.tags,
      ...acting(who),
    });
    return true;
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
    if (!(await deleteTag(this.db, repository, tag, who))) return false;
    this.registry.events.publish("tag.deleted", { repository, tag, ...acting(who) });
    return true;
  }

  private async digestOf(repository: string, reference: string): Promise<string | undefined> {
    return DIGEST.test(reference) ? reference : resolveTag(this.db, repository, reference);
  }

  private async repositoryIds(project: string): Promise<number[]> {
    const rows = await this.listRepositories(project);
    if (rows.length === 0) return [];
    const ids = await this.db
      .selectFrom("repositories")
      .select("id")
      .where(
        "name",
        "in",
        rows.map((r) => r.name),
      )
      .execute();
    return ids.map((r) => r.id);
  }
}
