// The facts about a repository's manifests that lifecycle decisions need (deletion plans,
// retention): every manifest with its tags, push/pull times, subject and the child manifests
// an index lists, read in three queries per repository however many tags it has. And the
// atomic multi-manifest delete those decisions end in.
import type { Kysely } from "kysely";
import { batches } from "./blobs.js";
import type { Database } from "./database.js";
import { appendOutbox, type OutboxActor, SYSTEM_ACTOR } from "./outbox.js";
import { findRepositoryId } from "./repositories.js";
import { type TrashMove, trashManifests } from "./trash.js";

export interface ManifestFacts {
  digest: string;
  mediaType: string;
  size: number;
  subjectDigest: string | null;
  tags: string[];
  /** Digests of the manifests this one lists (an index's children). */
  children: string[];
  /** Milliseconds since the epoch. */
  pushedAt: number;
  pulledAt: number | null;
}

export interface RepositoryFacts {
  repository: string;
  manifests: ManifestFacts[];
}

export async function repositoryFacts(
  db: Kysely<Database>,
  repository: string,
): Promise<RepositoryFacts | undefined> {
  const repositoryId = await findRepositoryId(db, repository);
  if (repositoryId === undefined) return undefined;
  const rows = await db
    .selectFrom("manifests")
    .select(["id", "digest", "media_type", "size", "subject_digest", "pushed_at", "pulled_at"])
    .where("repository_id", "=", repositoryId)
    .orderBy("id")
    .execute();
  const byId = new Map<number, ManifestFacts>();
  for (const r of rows) {
    byId.set(Number(r.id), {
      digest: r.digest,
      mediaType: r.media_type,
      size: Number(r.size),
      subjectDigest: r.subject_digest,
      tags: [],
      children: [],
      pushedAt: Number(r.pushed_at),
      pulledAt: r.pulled_at === null ? null : Number(r.pulled_at),
    });
  }
  const tags = await db
    .selectFrom("tags")
    .select(["name", "manifest_id"])
    .where("repository_id", "=", repositoryId)
    .orderBy("name")
    .execute();
  for (const t of tags) byId.get(Number(t.manifest_id))?.tags.push(t.name);
  const children = await db
    .selectFrom("manifest_references as r")
    .innerJoin("manifests as m", "m.id", "r.manifest_id")
    .select(["r.manifest_id", "r.digest"])
    .where("m.repository_id", "=", repositoryId)
    .where("r.kind", "=", "manifest")
    .execute();
  for (const c of children) byId.get(Number(c.manifest_id))?.children.push(c.digest);
  return { repository, manifests: [...byId.values()] };
}

/**
 * Names of the repositories whose first path component is `project` (or bare names for
 * library). LIKE narrows the scan (`_` in a project name is a wildcard there, and SQLite
 * has no default escape character); the exact filter after it decides.
 */
export async function projectRepositories(
  db: Kysely<Database>,
  project: string,
): Promise<string[]> {
  const rows = await db
    .selectFrom("repositories")
    .select("name")
    .where((eb) =>
      project === "library"
        ? eb.or([eb("name", "like", "library/%"), eb("name", "not like", "%/%")])
        : eb("name", "like", `${project}/%`),
    )
    .orderBy("name")
    .execute();
  return rows
    .map((r) => r.name)
    .filter(
      (name) => (name.includes("/") ? name.slice(0, name.indexOf("/")) : "library") === project,
    );
}

export interface ManifestsDeleted {
  /** The removed manifests with the tags that pointed at them. */
  deleted: { digest: string; tags: string[] }[];
  /** When refused: the manifests outside the set that list one of the set as a child. */
  listedBy: { index: string; child: string }[];
  /** The trash entry that holds them (when deleted with `trash`). */
  trashId?: number;
}

/**
 * Deletes the manifests `digests` of the repository (with their tags and references) in one
 * transaction, with a `manifest.deleted` outbox event per manifest in the same transaction.
 * With `refuseIfListed`, nothing is deleted when a manifest outside the set still lists one
 * of them as a child (checked inside the transaction). With `trash`, the manifests move to a
 * trash entry in the same transaction (meta/trash.ts; `digests[0]` is the requested one).
 */
export async function deleteManifests(
  db: Kysely<Database>,
  repository: string,
  digests: readonly string[],
  refuseIfListed: boolean,
  actor: OutboxActor = SYSTEM_ACTOR,
  trash?: TrashMove,
): Promise<ManifestsDeleted> {
  return db.transaction().execute(async (trx) => {
    const repositoryId = await findRepositoryId(trx, repository);
    if (repositoryId === undefined || digests.length === 0) return { deleted: [], listedBy: [] };
    const rows: { id: number; digest: string }[] = [];
    for (const batch of batches(digests, 500)) {
      rows.push(
        ...(await trx
          .selectFrom("manifests")
          .select(["id", "digest"])
          .where("repository_id", "=", repositoryId)
          .where("digest", "in", batch)
          .execute()),
      );
    }
    const ids = rows.map((r) => r.id);
    if (ids.length === 0) return { deleted: [], listedBy: [] };
    if (refuseIfListed) {
      const listedBy: { index: string; child: string }[] = [];
      for (const batch of batches(digests, 500)) {
        const parents = await trx
          .selectFrom("manifest_references as r")
          .innerJoin("manifests as m", "m.id", "r.manifest_id")
          .select(["m.digest as index", "r.digest as child"])
          .where("m.repository_id", "=", repositoryId)
          .where("r.kind", "=", "manifest")
          .where("r.digest", "in", batch)
          .where("m.id", "not in", ids)
          .execute();
        listedBy.push(...parents);
      }
      if (listedBy.length > 0) return { deleted: [], listedBy };
    }
    const tagsById = new Map<number, string[]>();
    for (const batch of batches(ids, 500)) {
      const tags = await trx
        .selectFrom("tags")
        .select(["name", "manifest_id"])
        .where("manifest_id", "in", batch)
        .orderBy("name")
        .execute();
      for (const t of tags) {
        const list = tagsById.get(Number(t.manifest_id)) ?? [];
        list.push(t.name);
        tagsById.set(Number(t.manifest_id), list);
      }
    }
    const position = new Map(digests.map((d, i) => [d, i]));
    rows.sort((a, b) => (position.get(a.digest) ?? 0) - (position.get(b.digest) ?? 0));
    const trashId =
      trash === undefined
        ? undefined
        : await trashManifests(
            trx,
            repository,
            rows.map((r) => Number(r.id)),
            tagsById,
            trash,
            actor,
          );
    for (const batch of batches(ids, 500)) {
      await trx.deleteFrom("tags").where("manifest_id", "in", batch).execute();
      await trx.deleteFrom("manifest_references").where("manifest_id", "in", batch).execute();
      await trx.deleteFrom("manifests").where("id", "in", batch).execute();
    }
    const deleted = rows.map((r) => ({ digest: r.digest, tags: tagsById.get(Number(r.id)) ?? [] }));
    for (const m of deleted) {
      await appendOutbox(trx, "manifest.deleted", repository, actor, {
        digest: m.digest,
        tags: m.tags,
      });
    }
    return { deleted, listedBy: [], ...(trashId !== undefined ? { trashId } : {}) };
  });
}
