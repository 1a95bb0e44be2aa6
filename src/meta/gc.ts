// The queries of online garbage collection (the algorithm and its race analysis are in
// src/jobs/gc.ts): a snapshot of what refers to what, for planning, and one conditional
// deletion per item, each in its own short transaction that locks the row and re-checks
// that nothing refers to it any more. Never deletes on the strength of the snapshot alone.
// The trash (meta/trash.ts) counts as a referrer: `trash_references` keeps the blobs, the
// repository links and the child manifests a trashed artifact or tag needs. Each re-check
// reads the live references before the trash's, so a deletion moving references into the
// trash (one transaction) is seen on one side or the other, never on neither.
import { type Expression, type Kysely, type SqlBool, sql } from "kysely";
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
 * How a GC deletion treats a row another transaction holds locked (PostgreSQL only; SQLite
 * runs one transaction at a time). `wait`: block until it is free (one item per
 * transaction, so it holds no other lock meanwhile). `skip`: SKIP LOCKED, answering `busy`,
 * so a batch never waits while holding the locks of earlier items and cannot deadlock with a
 * push that locks the same rows in another order; the caller retries busy items with `wait`.
 */
export type GcLockMode = "wait" | "skip";

/** deleted: gone now; kept: the locked re-check found it in use (or already gone); busy: locked. */
export type GcOutcome = "deleted" | "kept" | "busy";

/** `digest IN (…)` for a batch: every GC batch query names its rows this way. */
export function digestIn(column: string, digests: readonly string[]): Expression<SqlBool> {
  return sql<SqlBool>`${sql.ref(column)} in (${sql.join(digests)})`;
}

export interface GcLink {
  repositoryId: number;
  digest: string;
}

/** (repository, digest) pairs of a batch as a predicate: per repository, `digest IN (…)`. */
function linkPairs(
  repositoryColumn: string,
  digestColumn: string,
  links: readonly GcLink[],
): Expression<SqlBool> {
  const byRepository = new Map<number, string[]>();
  for (const l of links) {
    const digests = byRepository.get(l.repositoryId) ?? [];
    digests.push(l.digest);
    byRepository.set(l.repositoryId, digests);
  }
  const each = [...byRepository].map(
    ([id, digests]) =>
      sql`(${sql.ref(repositoryColumn)} = ${id} and ${digestIn(digestColumn, digests)})`,
  );
  return sql<SqlBool>`(${sql.join(each, sql` or `)})`;
}

const linkKey = (repositoryId: number, digest: string) => `${repositoryId} ${digest}`;

/**
 * The batch form of deleteLinkIfUnreferenced, in at most four statements whatever the batch
 * size: lock the batch's links (PostgreSQL: FOR UPDATE SKIP LOCKED); then, in a new
 * statement (so it sees every reference committed before the locks were granted, exactly as
 * the per-item form), find those a manifest of their repository references; delete the
 * others that are older than `cutoff` and that no trash entry of the repository holds. One outcome per input link, in order.
 */
export async function deleteLinksIfUnreferenced(
  trx: Kysely<Database>,
  links: readonly GcLink[],
  cutoff: number,
): Promise<GcOutcome[]> {
  const postgres = dialectOf(trx) === "postgres";
  const select = trx
    .selectFrom("repository_blobs")
    .select(["repository_id", "digest", "created_at"])
    .where(linkPairs("repository_id", "digest", links));
  const locked = await (postgres ? select.forUpdate().skipLocked() : select).execute();
  const createdAt = new Map(
    locked.map((l) => [linkKey(Number(l.repository_id), l.digest), Number(l.created_at)]),
  );
  const missing = links.filter((l) => !createdAt.has(linkKey(l.repositoryId, l.digest)));
  const busy = new Set<string>();
  if (postgres && missing.length > 0) {
    const exist = await trx
      .selectFrom("repository_blobs")
      .select(["repository_id", "digest"])
      .where(linkPairs("repository_id", "digest", missing))
      .execute();
    for (const l of exist) busy.add(linkKey(Number(l.repository_id), l.digest));
  }
  const old = links.filter(
    (l) => (createdAt.get(linkKey(l.repositoryId, l.digest)) ?? cutoff) < cutoff,
  );
  const referenced = new Set<string>();
  if (old.length > 0) {
    const rows = await trx
      .selectFrom("manifest_references as mr")
      .innerJoin("manifests as m", "m.id", "mr.manifest_id")
      .select(["m.repository_id", "mr.digest"])
      .distinct()
      .where("mr.kind", "=", "blob")
      .where(linkPairs("m.repository_id", "mr.digest", old))
      .execute();
    for (const r of rows) referenced.add(linkKey(Number(r.repository_id), r.digest));
    // After the live references (see the header): what the trash holds keeps its links.
    const trashed = await trx
      .selectFrom("trash_references as t")
      .innerJoin("repositories as r", "r.name", "t.repository")
      .select(["r.id", "t.digest"])
      .distinct()
      .where("t.kind", "=", "blob")
      .where(linkPairs("r.id", "t.digest", old))
      .execute();
    for (const t of trashed) referenced.add(linkKey(Number(t.id), t.digest));
  }
  const doomed = old.filter((l) => !referenced.has(linkKey(l.repositoryId, l.digest)));
  if (doomed.length > 0) {
    await trx
      .deleteFrom("repository_blobs")
      .where(linkPairs("repository_id", "digest", doomed))
      .execute();
  }
  const gone = new Set(doomed.map((l) => linkKey(l.repositoryId, l.digest)));
  return links.map((l) => {
    const key = linkKey(l.repositoryId, l.digest);
    return gone.has(key) ? "deleted" : busy.has(key) ? "busy" : "kept";
  });
}

/**
 * Within `trx`: deletes an untagged manifest if, with its row locked, it is still untagged,
 * pushed before `cutoff`, listed by no other manifest of its repository, and its subject (if
 * any) is not in the repository. Writes a `manifest.deleted` outbox event.
 */
export async function deleteManifestIfCollectable(
  trx: Kysely<Database>,
  id: number,
  cutoff: number,
  actor: OutboxActor,
  mode: GcLockMode,
): Promise<GcOutcome> {
  const lock = trx
    .selectFrom("manifests as m")
    .innerJoin("repositories as r", "r.id", "m.repository_id")
    .select(["m.repository_id", "m.digest", "m.subject_digest", "m.pushed_at", "r.name"])
    .where("m.id", "=", id);
  const postgres = dialectOf(trx) === "postgres";
  const locked = postgres ? lock.forUpdate("m") : lock;
  const row = await (postgres && mode === "skip" ? locked.skipLocked() : locked).executeTakeFirst();
  if (!row) return (await manifestExists(trx, id)) && mode === "skip" ? "busy" : "kept";
  if (Number(row.pushed_at) >= cutoff) return "kept";
  const tag = await trx
    .selectFrom("tags")
    .select("name")
    .where("manifest_id", "=", id)
    .limit(1)
    .executeTakeFirst();
  if (tag) return "kept";
  const parent = await trx
    .selectFrom("manifest_references as mr")
    .innerJoin("manifests as p", "p.id", "mr.manifest_id")
    .select("p.id")
    .where("p.repository_id", "=", row.repository_id)
    .where("mr.kind", "=", "manifest")
    .where("mr.digest", "=", row.digest)
    .limit(1)
    .executeTakeFirst();
  if (parent) return "kept";
  const trashed = await trx
    .selectFrom("trash_references")
    .select("trash_id")
    .where("repository", "=", row.name)
    .where("kind", "=", "manifest")
    .where("digest", "=", row.digest)
    .limit(1)
    .executeTakeFirst();
  if (trashed) return "kept";
  if (row.subject_digest !== null) {
    const subject = await trx
      .selectFrom("manifests")
      .select("id")
      .where("repository_id", "=", row.repository_id)
      .where("digest", "=", row.subject_digest)
      .executeTakeFirst();
    if (subject) return "kept";
  }
  await trx.deleteFrom("manifest_references").where("manifest_id", "=", id).execute();
  await trx.deleteFrom("manifests").where("id", "=", id).execute();
  await appendOutbox(trx, "manifest.deleted", row.name, actor, { digest: row.digest, tags: [] });
  return "deleted";
}

async function manifestExists(trx: Kysely<Database>, id: number): Promise<boolean> {
  const row = await trx
    .selectFrom("manifests")
    .select("id")
    .where("id", "=", id)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Within `trx`: deletes a repository's link to a blob if, with the link locked, it is still
 * older than `cutoff` (a re-upload or mount refreshes it) and no manifest of the repository
 * references the blob.
 */
export async function deleteLinkIfUnreferenced(
  trx: Kysely<Database>,
  repositoryId: number,
  digest: string,
  cutoff: number,
): Promise<GcOutcome> {
  const link = trx
    .selectFrom("repository_blobs")
    .select("created_at")
    .where("repository_id", "=", repositoryId)
    .where("digest", "=", digest);
  const row = await (dialectOf(trx) === "postgres" ? link.forUpdate() : link).executeTakeFirst();
  if (!row) return "kept";
  if (Number(row.created_at) >= cutoff) return "kept";
  const reference = await trx
    .selectFrom("manifest_references as mr")
    .innerJoin("manifests as m", "m.id", "mr.manifest_id")
    .select("m.id")
    .where("m.repository_id", "=", repositoryId)
    .where("mr.kind", "=", "blob")
    .where("mr.digest", "=", digest)
    .limit(1)
    .executeTakeFirst();
  if (reference) return "kept";
  const trashed = await trx
    .selectFrom("trash_references as t")
    .innerJoin("repositories as r", "r.name", "t.repository")
    .select("t.trash_id")
    .where("r.id", "=", repositoryId)
    .where("t.kind", "=", "blob")
    .where("t.digest", "=", digest)
    .limit(1)
    .executeTakeFirst();
  if (trashed) return "kept";
  await trx
    .deleteFrom("repository_blobs")
    .where("repository_id", "=", repositoryId)
    .where("digest", "=", digest)
    .execute();
  return "deleted";
}
