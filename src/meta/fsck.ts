// The queries of fsck (the check and its repair rules are in src/jobs/fsck.ts): what the
// metadata says exists, rows that point at rows which do not, and the few repairs that are
// safe while the registry keeps serving. Each repair is one short transaction that locks
// the blob row and re-checks its condition live, like GC's deletions (src/meta/gc.ts); the
// removal of bytes goes through GC's claim protocol (deleting_at), so an upload of the same
// digest waits for it and then stores its bytes again.
// Never: delete a manifest or a tag (fsck reports those; only people decide), or delete
// bytes without holding a claim on their row.
import type { Kysely } from "kysely";
import { lockBlobRow } from "./blobs.js";
import type { Database } from "./database.js";

export interface FsckBlobRow {
  digest: string;
  size: number;
  pinnedUntil: number | null;
  deletingAt: number | null;
}

/** A manifest in a repository, as fsck names it: `repository@digest`. */
export interface FsckDanglingReference {
  repository: string;
  manifest: string;
  digest: string;
}

export async function fsckBlobRows(db: Kysely<Database>): Promise<FsckBlobRow[]> {
  const rows = await db
    .selectFrom("blobs")
    .select(["digest", "size", "pinned_until", "deleting_at"])
    .execute();
  return rows.map((r) => ({
    digest: r.digest,
    size: Number(r.size),
    pinnedUntil: r.pinned_until === null ? null : Number(r.pinned_until),
    deletingAt: r.deleting_at === null ? null : Number(r.deleting_at),
  }));
}

/** The blob row now (not locked), or undefined. */
export async function fsckBlobRow(
  db: Kysely<Database>,
  digest: string,
): Promise<FsckBlobRow | undefined> {
  const r = await db
    .selectFrom("blobs")
    .select(["digest", "size", "pinned_until", "deleting_at"])
    .where("digest", "=", digest)
    .executeTakeFirst();
  if (!r) return undefined;
  return {
    digest: r.digest,
    size: Number(r.size),
    pinnedUntil: r.pinned_until === null ? null : Number(r.pinned_until),
    deletingAt: r.deleting_at === null ? null : Number(r.deleting_at),
  };
}

/** Repository links whose blob row does not exist (the foreign key forbids it; checked anyway). */
export async function fsckDanglingLinks(
  db: Kysely<Database>,
): Promise<{ repository: string; digest: string }[]> {
  const rows = await db
    .selectFrom("repository_blobs as rb")
    .innerJoin("repositories as r", "r.id", "rb.repository_id")
    .leftJoin("blobs as b", "b.digest", "rb.digest")
    .select(["r.name", "rb.digest"])
    .where("b.digest", "is", null)
    .execute();
  return rows.map((r) => ({ repository: r.name, digest: r.digest }));
}

/** Blob references of manifests whose repository does not link (or no longer stores) the blob. */
export async function fsckManifestsMissingBlobs(
  db: Kysely<Database>,
): Promise<FsckDanglingReference[]> {
  const rows = await db
    .selectFrom("manifest_references as mr")
    .innerJoin("manifests as m", "m.id", "mr.manifest_id")
    .innerJoin("repositories as r", "r.id", "m.repository_id")
    .leftJoin("repository_blobs as rb", (j) =>
      j.onRef("rb.repository_id", "=", "m.repository_id").onRef("rb.digest", "=", "mr.digest"),
    )
    .select(["r.name", "m.digest as manifest", "mr.digest"])
    .where("mr.kind", "=", "blob")
    .where("rb.digest", "is", null)
    .execute();
  return rows.map((r) => ({ repository: r.name, manifest: r.manifest, digest: r.digest }));
}

/** Index children that are not in the index's repository. */
export async function fsckIndexesMissingChildren(
  db: Kysely<Database>,
): Promise<FsckDanglingReference[]> {
  const rows = await db
    .selectFrom("manifest_references as mr")
    .innerJoin("manifests as m", "m.id", "mr.manifest_id")
    .innerJoin("repositories as r", "r.id", "m.repository_id")
    .leftJoin("manifests as c", (j) =>
      j.onRef("c.repository_id", "=", "m.repository_id").onRef("c.digest", "=", "mr.digest"),
    )
    .select(["r.name", "m.digest as manifest", "mr.digest"])
    .where("mr.kind", "=", "manifest")
    .where("c.id", "is", null)
    .execute();
  return rows.map((r) => ({ repository: r.name, manifest: r.manifest, digest: r.digest }));
}

/** Tags whose manifest row does not exist (the foreign key forbids it; checked anyway). */
export async function fsckDanglingTags(
  db: Kysely<Database>,
): Promise<{ repository: string; tag: string }[]> {
  const rows = await db
    .selectFrom("tags as t")
    .innerJoin("repositories as r", "r.id", "t.repository_id")
    .leftJoin("manifests as m", "m.id", "t.manifest_id")
    .select(["r.name", "t.name as tag"])
    .where("m.id", "is", null)
    .execute();
  return rows.map((r) => ({ repository: r.name, tag: r.tag }));
}

/** Manifests in pages of `limit` by id (their stored bytes included, for re-hashing). */
export async function fsckManifestPage(
  db: Kysely<Database>,
  afterId: number,
  limit: number,
): Promise<{ id: number; repository: string; digest: string; content: Buffer }[]> {
  const rows = await db
    .selectFrom("manifests as m")
    .innerJoin("repositories as r", "r.id", "m.repository_id")
    .select(["m.id", "r.name", "m.digest", "m.content"])
    .where("m.id", ">", afterId)
    .orderBy("m.id")
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: Number(r.id),
    repository: r.name,
    digest: r.digest,
    content: Buffer.from(r.content),
  }));
}

export async function fsckUploadSessionIds(db: Kysely<Database>): Promise<Set<string>> {
  const rows = await db.selectFrom("upload_sessions").select("id").execute();
  return new Set(rows.map((r) => r.id));
}

/** The manifests (`repository@digest`) that reference a blob: what a lost blob breaks. */
export async function manifestsReferencingBlob(
  db: Kysely<Database>,
  digest: string,
): Promise<string[]> {
  const rows = await db
    .selectFrom("manifest_references as mr")
    .innerJoin("manifests as m", "m.id", "mr.manifest_id")
    .innerJoin("repositories as r", "r.id", "m.repository_id")
    .select(["r.name", "m.digest"])
    .where("mr.kind", "=", "blob")
    .where("mr.digest", "=", digest)
    .execute();
  return rows.map((r) => `${r.name}@${r.digest}`);
}

/**
 * Claims a blob whose bytes are bad (corrupt, or missing) for removal whatever links it:
 * with the row locked and not pinned by an upload in flight, drops every repository link
 * (so HEAD answers 404 and clients upload the blob again) and sets `deleting_at`. The
 * caller then finishes with finishBlobDeletion, which moves or removes the bytes and the
 * row. False when the row is gone, pinned, or claimed by GC.
 */
export async function claimBadBlob(
  db: Kysely<Database>,
  digest: string,
  now: number,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const blob = await lockBlobRow(trx, digest, "update");
    if (!blob || blob.deleting_at !== null) return false;
    if (blob.pinned_until !== null && Number(blob.pinned_until) > now) return false;
    await trx.deleteFrom("repository_blobs").where("digest", "=", digest).execute();
    await trx.updateTable("blobs").set({ deleting_at: now }).where("digest", "=", digest).execute();
    return true;
  });
}

/**
 * Claims bytes that have no row: inserts the row already claimed (`deleting_at`), so an
 * upload of the digest that starts now waits for the removal. False when a row appeared
 * meanwhile (an upload pinned it: the bytes are wanted).
 */
export async function claimOrphanBytes(
  db: Kysely<Database>,
  digest: string,
  size: number,
  now: number,
): Promise<boolean> {
  const result = await db
    .insertInto("blobs")
    .values({ digest, size, created_at: now, pinned_until: null, deleting_at: now })
    .onConflict((oc) => oc.column("digest").doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}
