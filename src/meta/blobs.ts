// Blob metadata: which blobs exist in storage and which repositories may serve them. A blob
// is readable in a repository only through a repository_blobs link, so a guessed digest
// never reads another repository's data.
import type { Kysely } from "kysely";
import { type Database, executeRelaxedReturning } from "./database.js";
import { dialectOf } from "./dialect.js";
import { digestIn, type GcOutcome } from "./gc.js";
import { appendOutbox, type OutboxActor, SYSTEM_ACTOR } from "./outbox.js";
import { PreparedQuery } from "./prepared.js";
import { ensureRepository } from "./repositories.js";

/** A link or mount refused because garbage collection is deleting the blob's bytes. */
export class BlobDeletingError extends Error {
  constructor(readonly digest: string) {
    super(`blob ${digest} is being garbage-collected`);
    this.name = "BlobDeletingError";
  }
}

/**
 * Records a committed blob and links it to the repository, in one transaction, with a
 * `blob.committed` outbox event. Call only after the bytes are durable in storage and the
 * row was pinned (pinBlob) before they were committed: the pin is what keeps garbage
 * collection from claiming the row meanwhile (see src/jobs/gc.ts). Re-recording refreshes
 * the link's time, so a re-uploaded blob gets a fresh grace period.
 */
export async function recordBlobInRepository(
  db: Kysely<Database>,
  repository: string,
  digest: string,
  size: number,
  actor: OutboxActor = SYSTEM_ACTOR,
  /** The `until` this upload pinned the row with: the pin is released (if still its own). */
  pinnedUntil?: number,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const now = Date.now();
    await trx
      .insertInto("blobs")
      .values({ digest, size, created_at: now })
      .onConflict((oc) => oc.column("digest").doNothing())
      .execute();
    await requireLiveBlob(trx, digest);
    const repositoryId = await ensureRepository(trx, repository);
    await upsertLink(trx, repositoryId, digest, now);
    if (pinnedUntil !== undefined) {
      // The link protects the row now; another upload's pin (another value) stays.
      await trx
        .updateTable("blobs")
        .set({ pinned_until: null })
        .where("digest", "=", digest)
        .where("pinned_until", "=", pinnedUntil)
        .execute();
    }
    await appendOutbox(trx, "blob.committed", repository, actor, { digest, size, mounted: false });
  });
}

/**
 * Links an already-known blob to another repository (cross-repository mount), with a
 * `blob.committed` outbox event. False when the blob is unknown or being garbage-collected
 * (the client then uploads it, as the spec allows).
 */
export async function linkBlob(
  db: Kysely<Database>,
  repository: string,
  digest: string,
  actor: OutboxActor = SYSTEM_ACTOR,
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const blob = await lockBlobRow(trx, digest, "share");
    if (!blob || blob.deleting_at !== null) return false;
    const repositoryId = await ensureRepository(trx, repository);
    await upsertLink(trx, repositoryId, digest, Date.now());
    await appendOutbox(trx, "blob.committed", repository, actor, {
      digest,
      size: Number(blob.size),
      mounted: true,
    });
    return true;
  });
}

/** Creates or refreshes a repository link (its time starts a new GC grace period). */
export async function upsertLink(
  trx: Kysely<Database>,
  repositoryId: number,
  digest: string,
  now: number,
): Promise<void> {
  await trx
    .insertInto("repository_blobs")
    .values({ repository_id: repositoryId, digest, created_at: now })
    .onConflict((oc) => oc.columns(["repository_id", "digest"]).doUpdateSet({ created_at: now }))
    .execute();
}

async function requireLiveBlob(trx: Kysely<Database>, digest: string): Promise<void> {
  const blob = await lockBlobRow(trx, digest, "share");
  if (!blob || blob.deleting_at !== null) throw new BlobDeletingError(digest);
}

/**
 * The blob row, locked against GC's claim (`share`) or against links (`update`) until the
 * transaction ends. SQLite serialises whole transactions, so it needs no row locks.
 */
export async function lockBlobRow(
  trx: Kysely<Database>,
  digest: string,
  mode: "share" | "update",
): Promise<{ size: number; deleting_at: number | null; pinned_until: number | null } | undefined> {
  const query = trx
    .selectFrom("blobs")
    .select(["size", "deleting_at", "pinned_until"])
    .where("digest", "=", digest);
  if (dialectOf(trx) !== "postgres") return query.executeTakeFirst();
  return (mode === "share" ? query.forShare() : query.forUpdate()).executeTakeFirst();
}

export type PinResult = { pinned: true } | { pinned: false; deletingSince: number };

/**
 * Before an upload commits its bytes under `digest`: creates the blob row if needed and pins
 * it until `until` (ms), so GC cannot claim it while the bytes are being committed. One
 * statement, a relaxed commit (losing it on power failure only loses an unacknowledged
 * upload). When GC has already claimed the row the pin is refused: the caller waits until
 * the row is gone (finishBlobDeletion) and pins again.
 */
export async function pinBlob(
  db: Kysely<Database>,
  digest: string,
  size: number,
  until: number,
): Promise<PinResult> {
  const rows = await executeRelaxedReturning<{ deleting_at: number | null }>(
    db,
    db
      .insertInto("blobs")
      .values({ digest, size, created_at: Date.now(), pinned_until: until })
      .onConflict((oc) =>
        oc
          .column("digest")
          .doUpdateSet({ pinned_until: until })
          .where("blobs.deleting_at", "is", null),
      )
      .returning("deleting_at"),
  );
  if (rows.length > 0) return { pinned: true };
  const row = await db
    .selectFrom("blobs")
    .select("deleting_at")
    .where("digest", "=", digest)
    .executeTakeFirst();
  // Gone in between (GC finished): pinning again will insert a fresh row.
  if (!row || row.deleting_at === null) return { pinned: false, deletingSince: 0 };
  return { pinned: false, deletingSince: Number(row.deleting_at) };
}

/**
 * GC's claim on a blob (phase "mark"), within `trx`: sets `deleting_at` if the blob has no
 * repository link and no live pin, holding the row lock, so no link can appear in between.
 * `deleted` when claimed (or already claimed earlier by a GC that died).
 */
export async function claimBlobForDeletion(
  trx: Kysely<Database>,
  digest: string,
  now: number,
): Promise<GcOutcome> {
  const blob = await lockBlobRow(trx, digest, "update");
  if (!blob) return "kept";
  if (blob.deleting_at !== null) return "deleted"; // claimed earlier by a GC that died
  if (blob.pinned_until !== null && Number(blob.pinned_until) > now) return "kept";
  const link = await trx
    .selectFrom("repository_blobs")
    .select("digest")
    .where("digest", "=", digest)
    .limit(1)
    .executeTakeFirst();
  if (link) return "kept";
  // After the links (see meta/gc.ts): a trash entry keeps the bytes of what it holds.
  const trashed = await trx
    .selectFrom("trash_references")
    .select("trash_id")
    .where("digest", "=", digest)
    .where("kind", "=", "blob")
    .limit(1)
    .executeTakeFirst();
  if (trashed) return "kept";
  await trx.updateTable("blobs").set({ deleting_at: now }).where("digest", "=", digest).execute();
  return "deleted";
}

/**
 * Phase "sweep" of one claimed blob, within `trx`: with the row locked and still claimed,
 * runs `removeBytes` and deletes the row. `kept` when the row is gone or not claimed. Safe
 * to run twice (a GC that resumes after a takeover): the second finds nothing to do.
 */
export async function finishBlobDeletionIn(
  trx: Kysely<Database>,
  digest: string,
  removeBytes: () => Promise<void>,
): Promise<GcOutcome> {
  const blob = await lockBlobRow(trx, digest, "update");
  if (!blob || blob.deleting_at === null) return "kept";
  await removeBytes();
  await trx
    .deleteFrom("blobs")
    .where("digest", "=", digest)
    .where("deleting_at", "is not", null)
    .execute();
  return "deleted";
}

/** Of a batch's blob rows: those locked now (PostgreSQL SKIP LOCKED), and those busy. */
async function lockBlobsForGc(
  trx: Kysely<Database>,
  digests: readonly string[],
): Promise<{
  locked: Map<string, { deletingAt: number | null; pinnedUntil: number | null }>;
  busy: Set<string>;
}> {
  const postgres = dialectOf(trx) === "postgres";
  const select = trx
    .selectFrom("blobs")
    .select(["digest", "deleting_at", "pinned_until"])
    .where(digestIn("digest", digests));
  const rows = await (postgres ? select.forUpdate().skipLocked() : select).execute();
  const locked = new Map(
    rows.map((r) => [
      r.digest,
      {
        deletingAt: r.deleting_at === null ? null : Number(r.deleting_at),
        pinnedUntil: r.pinned_until === null ? null : Number(r.pinned_until),
      },
    ]),
  );
  const busy = new Set<string>();
  const missing = digests.filter((d) => !locked.has(d));
  if (postgres && missing.length > 0) {
    const exist = await trx
      .selectFrom("blobs")
      .select("digest")
      .where(digestIn("digest", missing))
      .execute();
    for (const r of exist) busy.add(r.digest);
  }
  return { locked, busy };
}

/**
 * The batch form of claimBlobForDeletion, in at most four statements whatever the batch
 * size: lock the rows, then (a new statement, seeing every link committed before the locks
 * were granted) find the linked ones, then claim the rest that no live pin holds. One
 * outcome per digest, in order (`deleted` = claimed).
 */
export async function claimBlobsForDeletion(
  trx: Kysely<Database>,
  digests: readonly string[],
  now: number,
): Promise<GcOutcome[]> {
  const { locked, busy } = await lockBlobsForGc(trx, digests);
  const free = digests.filter((d) => {
    const row = locked.get(d);
    return (
      row !== undefined &&
      row.deletingAt === null &&
      (row.pinnedUntil === null || row.pinnedUntil <= now)
    );
  });
  const linked = new Set<string>();
  if (free.length > 0) {
    const rows = await trx
      .selectFrom("repository_blobs")
      .select("digest")
      .distinct()
      .where(digestIn("digest", free))
      .execute();
    for (const r of rows) linked.add(r.digest);
    // After the links (see meta/gc.ts): a trash entry keeps the bytes of what it holds.
    const trashed = await trx
      .selectFrom("trash_references")
      .select("digest")
      .distinct()
      .where("kind", "=", "blob")
      .where(digestIn("digest", free))
      .execute();
    for (const r of trashed) linked.add(r.digest);
  }
  const claim = free.filter((d) => !linked.has(d));
  if (claim.length > 0) {
    await trx
      .updateTable("blobs")
      .set({ deleting_at: now })
      .where(digestIn("digest", claim))
      .execute();
  }
  const claimed = new Set(claim);
  return digests.map((d) => {
    if (claimed.has(d) || (locked.get(d)?.deletingAt ?? null) !== null) return "deleted";
    return busy.has(d) ? "busy" : "kept";
  });
}

/**
 * The batch form of finishBlobDeletionIn: locks the rows, runs `removeBytes` for each one
 * still claimed (several at a time), then deletes those rows in one statement. One outcome
 * per digest, in order.
 */
export async function finishBlobDeletions(
  trx: Kysely<Database>,
  digests: readonly string[],
  removeBytes: (digest: string) => Promise<void>,
): Promise<GcOutcome[]> {
  const { locked, busy } = await lockBlobsForGc(trx, digests);
  const claimed = digests.filter((d) => (locked.get(d)?.deletingAt ?? null) !== null);
  await Promise.all(claimed.map((d) => removeBytes(d)));
  if (claimed.length > 0) {
    await trx
      .deleteFrom("blobs")
      .where(digestIn("digest", claimed))
      .where("deleting_at", "is not", null)
      .execute();
  }
  const gone = new Set(claimed);
  return digests.map((d) => (gone.has(d) ? "deleted" : busy.has(d) ? "busy" : "kept"));
}

/** finishBlobDeletionIn in a transaction of its own; true when the blob went. */
export async function finishBlobDeletion(
  db: Kysely<Database>,
  digest: string,
  removeBytes: () => Promise<void>,
): Promise<boolean> {
  const outcome = await db
    .transaction()
    .execute((trx) => finishBlobDeletionIn(trx, digest, removeBytes));
  return outcome === "deleted";
}

/** Blobs GC has claimed but not finished (a GC that died, or one running now). */
export async function claimedBlobs(db: Kysely<Database>, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom("blobs")
    .select("digest")
    .where("deleting_at", "is not", null)
    .orderBy("digest")
    .limit(limit)
    .execute();
  return rows.map((r) => r.digest);
}

const REPOSITORY_BLOB = new PreparedQuery<{ size: number }, { repository: string; digest: string }>(
  ["repository", "digest"],
  (db, p) =>
    db
      .selectFrom("repository_blobs as rb")
      .innerJoin("repositories as r", "r.id", "rb.repository_id")
      .innerJoin("blobs as b", "b.digest", "rb.digest")
      .select("b.size")
      .where("r.name", "=", p.repository)
      .where("rb.digest", "=", p.digest),
);

/** The blob's size if `repository` may serve it, else undefined. */
export async function findRepositoryBlob(
  db: Kysely<Database>,
  repository: string,
  digest: string,
): Promise<{ size: number } | undefined> {
  return REPOSITORY_BLOB.first(db, { repository, digest });
}

/** Of `digests`, those linked to the repository, with their stored sizes (digest → bytes). */
export async function linkedBlobDigests(
  db: Kysely<Database>,
  repositoryId: number,
  digests: readonly string[],
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (const batch of batches(digests, 500)) {
    const rows = await db
      .selectFrom("repository_blobs as rb")
      .innerJoin("blobs as b", "b.digest", "rb.digest")
      .select(["rb.digest as digest", "b.size as size"])
      .where("rb.repository_id", "=", repositoryId)
      .where("rb.digest", "in", batch)
      .execute();
    for (const r of rows) found.set(r.digest, Number(r.size));
  }
  return found;
}

/** Removes the repository's link to a blob; false when there was none. */
export async function unlinkBlob(
  db: Kysely<Database>,
  repository: string,
  digest: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom("repository_blobs")
    .where("digest", "=", digest)
    .where("repository_id", "=", (eb) =>
      eb.selectFrom("repositories").select("id").where("name", "=", repository),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export function* batches<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
