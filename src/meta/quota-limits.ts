// Quota limits per repository and for the whole system (`quota_limits`), and the storage
// usage they are compared with. Usage is never a stored counter: it is recomputed from the
// rows that say what a scope holds (the distinct blobs linked to its repositories plus its
// distinct manifests), so it cannot drift from the content however pushes and deletes
// interleave. A deleted manifest's blobs stay counted while they stay linked (servable) in
// the repository; garbage collection unlinks the ones nothing references.
import type { Kysely } from "kysely";
import type { Database } from "./database.js";
import type { QuotaKind } from "./policy-schema.js";

export async function getQuotaLimit(
  db: Kysely<Database>,
  kind: QuotaKind,
  name: string,
): Promise<number | null> {
  const row = await db
    .selectFrom("quota_limits")
    .select("limit_bytes")
    .where("kind", "=", kind)
    .where("name", "=", name)
    .executeTakeFirst();
  return row ? Number(row.limit_bytes) : null;
}

/** Sets (or with `null` removes) a limit. */
export async function setQuotaLimit(
  db: Kysely<Database>,
  kind: QuotaKind,
  name: string,
  limitBytes: number | null,
): Promise<void> {
  if (limitBytes === null) {
    await db.deleteFrom("quota_limits").where("kind", "=", kind).where("name", "=", name).execute();
    return;
  }
  const now = Date.now();
  await db
    .insertInto("quota_limits")
    .values({ kind, name, limit_bytes: limitBytes, updated_at: now })
    .onConflict((oc) =>
      oc.columns(["kind", "name"]).doUpdateSet({ limit_bytes: limitBytes, updated_at: now }),
    )
    .execute();
}

export async function listQuotaLimits(
  db: Kysely<Database>,
): Promise<{ kind: QuotaKind; name: string; limitBytes: number }[]> {
  const rows = await db
    .selectFrom("quota_limits")
    .select(["kind", "name", "limit_bytes"])
    .orderBy("kind")
    .orderBy("name")
    .execute();
  return rows.map((r) => ({ kind: r.kind, name: r.name, limitBytes: Number(r.limit_bytes) }));
}

/**
 * Bytes held by the repositories `ids` (all repositories when `ids` is undefined): distinct
 * linked blobs plus distinct manifest digests, each counted once however many repositories
 * of the scope hold it.
 */
export async function storageUsage(
  db: Kysely<Database>,
  ids: readonly number[] | undefined,
): Promise<number> {
  if (ids !== undefined && ids.length === 0) return 0;
  let linked = db.selectFrom("repository_blobs").select("digest");
  if (ids) linked = linked.where("repository_id", "in", ids);
  const blobs = await db
    .selectFrom("blobs")
    .select((eb) => eb.fn.sum<number | string>("size").as("total"))
    .where("digest", "in", linked)
    .executeTakeFirst();
  let manifests = db
    .selectFrom("manifests")
    .select(["digest", (eb) => eb.fn.max("size").as("size")])
    .groupBy("digest");
  if (ids) manifests = manifests.where("repository_id", "in", ids);
  const rows = await manifests.execute();
  return Number(blobs?.total ?? 0) + rows.reduce((sum, r) => sum + Number(r.size), 0);
}

/** Whether any of the repositories `ids` (all when undefined) holds this blob or manifest. */
export async function storageHolds(
  db: Kysely<Database>,
  ids: readonly number[] | undefined,
  digest: string,
): Promise<boolean> {
  if (ids !== undefined && ids.length === 0) return false;
  let blob = db.selectFrom("repository_blobs").select("digest").where("digest", "=", digest);
  if (ids) blob = blob.where("repository_id", "in", ids);
  if (await blob.executeTakeFirst()) return true;
  let manifest = db.selectFrom("manifests").select("digest").where("digest", "=", digest);
  if (ids) manifest = manifest.where("repository_id", "in", ids);
  return (await manifest.executeTakeFirst()) !== undefined;
}

/** A project's storage limit (`projects.quota_bytes`); undefined when the project is unknown. */
export async function projectQuotaBytes(
  db: Kysely<Database>,
  project: string,
): Promise<number | null | undefined> {
  const row = await db
    .selectFrom("projects")
    .select("quota_bytes")
    .where("name", "=", project)
    .executeTakeFirst();
  if (!row) return undefined;
  return row.quota_bytes === null ? null : Number(row.quota_bytes);
}
