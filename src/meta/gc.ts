// The queries of online garbage collection (the algorithm and its race analysis are in
// src/jobs/gc.ts): a snapshot of what refers to what, for planning, and one conditional
// deletion per item, each in its own short transaction that locks the row and re-checks
// that nothing refers to it any more. Never deletes on the strength of the snapshot alone.
// The trash (meta/trash.ts) counts as a referrer: `trash_references` keeps the blobs, the
// repository links and the child manifests a trashed artifact or tag needs. Each re-check
// reads the live references before the trash's, so a deletion moving references into the
// trash (one transaction) is seen on one side or the other, never on neither.
import type { Kysely } from "kysely";
import type { Database } from "./database.js";
import { dialectOf } from "./dialect.js";
import { appendOutbox, type OutboxActor } from "./outbox.js";

export interface GcManifestRow {
  id: number;
  repositoryId: number;
  repository: string;
  digest: string;
  size: number;
  subjectDigest: string | null;
  pushedAt: number;
  tagged: boolean;
}

export interface GcSnapshot {
  manifests: GcManifestRow[];
  /** (manifest id, referenced digest, kind) */
  references: { manifestId: number; digest: string; kind: "blob" | "manifest" }[];
  links: { repositoryId: number; repository: string; digest: string; createdAt: number }[];
  blobs: {
    digest: string;
    size: number;
    pinnedUntil: number | null;
    deletingAt: number | null;
  }[];
  /** What trash entries need kept: (repository name, kind, digest). */
  trashReferences: { repository: string; kind: "blob" | "manifest"; digest: string }[];
}

/** Everything GC plans from, read in one transaction (one consistent view). */
export async function readGcSnapshot(db: Kysely<Database>): Promise<GcSnapshot> {
  return db.transaction().execute(async (trx) => {
    const manifests = await trx
      .selectFrom("manifests as m")
      .innerJoin("repositories as r", "r.id", "m.repository_id")
      .select((eb) => [
        "m.id",
        "m.repository_id",
        "r.name",
        "m.digest",
        "m.size",
        "m.subject_digest",
        "m.pushed_at",
        eb
          .exists(
            eb.selectFrom("tags as t").select("t.name").whereRef("t.manifest_id", "=", "m.id"),
          )
          .as("tagged"),
      ])
      .execute();
    const references = await trx
      .selectFrom("manifest_references")
      .select(["manifest_id", "digest", "kind"])
      .execute();
    const links = await trx
      .selectFrom("repository_blobs as rb")
      .innerJoin("repositories as r", "r.id", "rb.repository_id")
      .select(["rb.repository_id", "r.name", "rb.digest", "rb.created_at"])
      .execute();
    const blobs = await trx
      .selectFrom("blobs")
      .select(["digest", "size", "pinned_until", "deleting_at"])
      .execute();
    const trashReferences = await trx
      .selectFrom("trash_references")
      .select(["repository", "kind", "digest"])
      .distinct()
      .execute();
    return {
      trashReferences,
      manifests: manifests.map((m) => ({
        id: Number(m.id),
        repositoryId: Number(m.repository_id),
        repository: m.name,
        digest: m.digest,
        size: Number(m.size),
        subjectDigest: m.subject_digest,
        pushedAt: Number(m.pushed_at),
        tagged: Boolean(m.tagged),
      })),
      references: references.map((r) => ({
        manifestId: Number(r.manifest_id),
        digest: r.digest,
        kind: r.kind,
      })),
      links: links.map((l) => ({
        repositoryId: Number(l.repository_id),
        repository: l.name,
        digest: l.digest,
        createdAt: Number(l.created_at),
      })),
      blobs: blobs.map((b) => ({
        digest: b.digest,
        size: Number(b.size),
        pinnedUntil: b.pinned_until === null ? null : Number(b.pinned_until),
        deletingAt: b.deleting_at === null ? null : Number(b.deleting_at),
      })),
    };
  });
}

/**
 * Deletes an untagged manifest if, with its row locked, it is still untagged, pushed before
 * `cutoff`, listed by no other manifest of its repository, and its subject (if any) is not
 * in the repository. Writes a `manifest.deleted` outbox event. False when kept.
 */
export async function deleteManifestIfCollectable(
  db: Kysely<Database>,
  id: number,
  cutoff: number,
  actor: OutboxActor,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const lock = trx
      .selectFrom("manifests as m")
      .innerJoin("repositories as r", "r.id", "m.repository_id")
      .select(["m.repository_id", "m.digest", "m.subject_digest", "m.pushed_at", "r.name"])
      .where("m.id", "=", id);
    const row = await (dialectOf(trx) === "postgres"
      ? lock.forUpdate("m")
      : lock
    ).executeTakeFirst();
    if (!row || Number(row.pushed_at) >= cutoff) return false;
    const tag = await trx
      .selectFrom("tags")
      .select("name")
      .where("manifest_id", "=", id)
      .limit(1)
      .executeTakeFirst();
    if (tag) return false;
    const parent = await trx
      .selectFrom("manifest_references as mr")
      .innerJoin("manifests as p", "p.id", "mr.manifest_id")
      .select("p.id")
      .where("p.repository_id", "=", row.repository_id)
      .where("mr.kind", "=", "manifest")
      .where("mr.digest", "=", row.digest)
      .limit(1)
      .executeTakeFirst();
    if (parent) return false;
    const trashed = await trx
      .selectFrom("trash_references")
      .select("trash_id")
      .where("repository", "=", row.name)
      .where("kind", "=", "manifest")
      .where("digest", "=", row.digest)
      .limit(1)
      .executeTakeFirst();
    if (trashed) return false;
    if (row.subject_digest !== null) {
      const subject = await trx
        .selectFrom("manifests")
        .select("id")
        .where("repository_id", "=", row.repository_id)
        .where("digest", "=", row.subject_digest)
        .executeTakeFirst();
      if (subject) return false;
    }
    await trx.deleteFrom("manifest_references").where("manifest_id", "=", id).execute();
    await trx.deleteFrom("manifests").where("id", "=", id).execute();
    await appendOutbox(trx, "manifest.deleted", row.name, actor, { digest: row.digest, tags: [] });
    return true;
  });
}

/**
 * Deletes a repository's link to a blob if, with the link locked, it is still older than
 * `cutoff` (a re-upload or mount refreshes it) and no manifest of the repository, nor a trash
 * entry of it, references the blob. False when kept.
 */
export async function deleteLinkIfUnreferenced(
  db: Kysely<Database>,
  repositoryId: number,
  digest: string,
  cutoff: number,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const lock = trx
      .selectFrom("repository_blobs")
      .select("created_at")
      .where("repository_id", "=", repositoryId)
      .where("digest", "=", digest);
    const link = await (dialectOf(trx) === "postgres" ? lock.forUpdate() : lock).executeTakeFirst();
    if (!link || Number(link.created_at) >= cutoff) return false;
    const reference = await trx
      .selectFrom("manifest_references as mr")
      .innerJoin("manifests as m", "m.id", "mr.manifest_id")
      .select("m.id")
      .where("m.repository_id", "=", repositoryId)
      .where("mr.kind", "=", "blob")
      .where("mr.digest", "=", digest)
      .limit(1)
      .executeTakeFirst();
    if (reference) return false;
    const trashed = await trx
      .selectFrom("trash_references as t")
      .innerJoin("repositories as r", "r.name", "t.repository")
      .select("t.trash_id")
      .where("r.id", "=", repositoryId)
      .where("t.kind", "=", "blob")
      .where("t.digest", "=", digest)
      .limit(1)
      .executeTakeFirst();
    if (trashed) return false;
    await trx
      .deleteFrom("repository_blobs")
      .where("repository_id", "=", repositoryId)
      .where("digest", "=", digest)
      .execute();
    return true;
  });
}
