// Blob metadata: which blobs exist in storage and which repositories may serve them. A blob
// is readable in a repository only through a repository_blobs link, so a guessed digest
// never reads another repository's data.
import type { Kysely } from "kysely";
import type { Database } from "./database.js";
import { PreparedQuery } from "./prepared.js";
import { ensureRepository } from "./repositories.js";

/**
 * Records a committed blob and links it to the repository, in one transaction. Call only
 * after the bytes are durable in storage.
 */
export async function recordBlobInRepository(
  db: Kysely<Database>,
  repository: string,
  digest: string,
  size: number,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const now = Date.now();
    await trx
      .insertInto("blobs")
      .values({ digest, size, created_at: now })
      .onConflict((oc) => oc.column("digest").doNothing())
      .execute();
    const repositoryId = await ensureRepository(trx, repository);
    await trx
      .insertInto("repository_blobs")
      .values({ repository_id: repositoryId, digest, created_at: now })
      .onConflict((oc) => oc.columns(["repository_id", "digest"]).doNothing())
      .execute();
  });
}

/** Links an already-known blob to another repository (cross-repository mount). */
export async function linkBlob(
  db: Kysely<Database>,
  repository: string,
  digest: string,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const repositoryId = await ensureRepository(trx, repository);
    await trx
      .insertInto("repository_blobs")
      .values({ repository_id: repositoryId, digest, created_at: Date.now() })
      .onConflict((oc) => oc.columns(["repository_id", "digest"]).doNothing())
      .execute();
  });
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
