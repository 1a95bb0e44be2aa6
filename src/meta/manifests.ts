// Manifest metadata and content: storing a pushed manifest with its references and tag in
// one transaction, lookups by digest and by tag, deletion (which removes the manifest's tags),
// and the referrers query. Manifest bytes live in the database row: they are small (bounded
// by the manifest size limit), immutable per digest, and this makes a push a single atomic
// commit.
import type { Kysely } from "kysely";
import { batches } from "./blobs.js";
import type { Database } from "./database.js";
import { dialectOf } from "./dialect.js";
import { appendOutbox, type OutboxActor, SYSTEM_ACTOR } from "./outbox.js";
import { PreparedQuery } from "./prepared.js";
import { ensureRepository, findRepositoryId } from "./repositories.js";
import type { ManifestReferenceKind } from "./schema.js";

export interface StoredManifest {
  id: number;
  digest: string;
  mediaType: string;
  size: number;
  subjectDigest: string | null;
  content: Buffer;
}

export interface ManifestToStore {
  repository: string;
  digest: string;
  mediaType: string;
  content: Buffer;
  artifactType?: string;
  subjectDigest?: string;
  annotations?: Record<string, string>;
  references: { kind: ManifestReferenceKind; digest: string }[];
  tag?: string;
  /** Who pushed it, for the `manifest.pushed` outbox event (default: system). */
  actor?: OutboxActor;
}

/**
 * A referenced blob is not linked to the repository, or a child manifest is not in it, at
 * the moment of the commit (GC removed it after the request's first check).
 */
export class MissingReferenceError extends Error {
  constructor(
    readonly kind: ManifestReferenceKind,
    readonly digest: string,
  ) {
    super(`${kind} ${digest} is not in the repository`);
    this.name = "MissingReferenceError";
  }
}

/**
 * Stores the manifest, its references and (optionally) points a tag at it, atomically, with a
 * `manifest.pushed` outbox event. Inside the transaction every referenced blob link and child
 * manifest is locked (PostgreSQL: FOR SHARE; SQLite serialises transactions) and must exist,
 * else MissingReferenceError: garbage collection deletes a link or manifest only while
 * holding the same rows FOR UPDATE and re-checking for references, so it can never remove
 * what a committed manifest points at (see src/jobs/gc.ts).
 */
export async function putManifest(db: Kysely<Database>, m: ManifestToStore): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const now = Date.now();
    const repositoryId = await ensureRepository(trx, m.repository);
    await requireReferencesLocked(trx, repositoryId, m.references);
    await trx
      .insertInto("manifests")
      .values({
        repository_id: repositoryId,
        digest: m.digest,
        media_type: m.mediaType,
        size: m.content.length,
        artifact_type: m.artifactType ?? null,
        subject_digest: m.subjectDigest ?? null,
        annotations: m.annotations ? JSON.stringify(m.annotations) : null,
        content: m.content,
        created_at: now,
        pushed_at: now,
        pulled_at: null,
      })
      .onConflict((oc) => oc.columns(["repository_id", "digest"]).doUpdateSet({ pushed_at: now }))
      .execute();
    const row = await trx
      .selectFrom("manifests")
      .select("id")
      .where("repository_id", "=", repositoryId)
      .where("digest", "=", m.digest)
      .executeTakeFirstOrThrow();
    const unique = new Map(m.references.map((r) => [`${r.kind} ${r.digest}`, r]));
    for (const batch of batches([...unique.values()], 200)) {
      await trx
        .insertInto("manifest_references")
        .values(batch.map((r) => ({ manifest_id: row.id, kind: r.kind, digest: r.digest })))
        .onConflict((oc) => oc.columns(["manifest_id", "kind", "digest"]).doNothing())
        .execute();
    }
    if (m.tag !== undefined) {
      await trx
        .insertInto("tags")
        .values({
          repository_id: repositoryId,
          name: m.tag,
          manifest_id: row.id,
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) =>
          oc
            .columns(["repository_id", "name"])
            .doUpdateSet({ manifest_id: row.id, updated_at: now }),
        )
        .execute();
    }
    await appendOutbox(trx, "manifest.pushed", m.repository, m.actor ?? SYSTEM_ACTOR, {
      digest: m.digest,
      ...(m.tag !== undefined ? { tag: m.tag } : {}),
      mediaType: m.mediaType,
      size: m.content.length,
      ...(m.artifactType !== undefined ? { artifactType: m.artifactType } : {}),
      ...(m.subjectDigest !== undefined ? { subject: m.subjectDigest } : {}),
    });
  });
}

async function requireReferencesLocked(
  trx: Kysely<Database>,
  repositoryId: number,
  references: readonly { kind: ManifestReferenceKind; digest: string }[],
): Promise<void> {
  const postgres = dialectOf(trx) === "postgres";
  const blobs = [...new Set(references.filter((r) => r.kind === "blob").map((r) => r.digest))];
  const children = [
    ...new Set(references.filter((r) => r.kind === "manifest").map((r) => r.digest)),
  ];
  for (const batch of batches(blobs, 500)) {
    const query = trx
      .selectFrom("repository_blobs")
      .select("digest")
      .where("repository_id", "=", repositoryId)
      .where("digest", "in", batch);
    const found = new Set(
      (await (postgres ? query.forShare() : query).execute()).map((r) => r.digest),
    );
    const missing = batch.find((d) => !found.has(d));
    if (missing) throw new MissingReferenceError("blob", missing);
  }
  for (const batch of batches(children, 500)) {
    const query = trx
      .selectFrom("manifests")
      .select("digest")
      .where("repository_id", "=", repositoryId)
      .where("digest", "in", batch);
    const found = new Set(
      (await (postgres ? query.forShare() : query).execute()).map((r) => r.digest),
    );
    const missing = batch.find((d) => !found.has(d));
    if (missing) throw new MissingReferenceError("manifest", missing);
  }
}

const MANIFEST_BY_DIGEST = new PreparedQuery<
  {
    id: number;
    digest: string;
    media_type: string;
    size: number;
    subject_digest: string | null;
    content: Buffer;
  },
  { repository: string; digest: string }
>(["repository", "digest"], (db, p) =>
  db
    .selectFrom("manifests as m")
    .innerJoin("repositories as r", "r.id", "m.repository_id")
    .select(["m.id", "m.digest", "m.media_type", "m.size", "m.subject_digest", "m.content"])
    .where("r.name", "=", p.repository)
    .where("m.digest", "=", p.digest),
);

export async function getManifestByDigest(
  db: Kysely<Database>,
  repository: string,
  digest: string,
): Promise<StoredManifest | undefined> {
  const row = await MANIFEST_BY_DIGEST.first(db, { repository, digest });
  return row && toStored(row);
}

/** Several manifests of one repository by digest, in batched queries (digest → manifest). */
export async function getManifestsByDigests(
  db: Kysely<Database>,
  repository: string,
  digests: readonly string[],
): Promise<Map<string, StoredManifest>> {
  const out = new Map<string, StoredManifest>();
  for (const batch of batches([...new Set(digests)], 500)) {
    const rows = await db
      .selectFrom("manifests as m")
      .innerJoin("repositories as r", "r.id", "m.repository_id")
      .select(["m.id", "m.digest", "m.media_type", "m.size", "m.subject_digest", "m.content"])
      .where("r.name", "=", repository)
      .where("m.digest", "in", batch)
      .execute();
    for (const r of rows) out.set(r.digest, toStored(r));
  }
  return out;
}

/** The digest a tag points at, or undefined. */
const TAG_DIGEST = new PreparedQuery<{ digest: string }, { repository: string; tag: string }>(
  ["repository", "tag"],
  (db, p) =>
    db
      .selectFrom("tags as t")
      .innerJoin("repositories as r", "r.id", "t.repository_id")
      .innerJoin("manifests as m", "m.id", "t.manifest_id")
      .select("m.digest")
      .where("r.name", "=", p.repository)
      .where("t.name", "=", p.tag),
);

export async function resolveTag(
  db: Kysely<Database>,
  repository: string,
  tag: string,
): Promise<string | undefined> {
  return (await TAG_DIGEST.first(db, { repository, tag }))?.digest;
}

/** Of `digests`, those stored as manifests in the repository, with their sizes (digest → bytes). */
export async function existingManifestDigests(
  db: Kysely<Database>,
  repositoryId: number,
  digests: readonly string[],
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (const batch of batches(digests, 500)) {
    const rows = await db
      .selectFrom("manifests")
      .select(["digest", "size"])
      .where("repository_id", "=", repositoryId)
      .where("digest", "in", batch)
      .execute();
    for (const r of rows) found.set(r.digest, Number(r.size));
  }
  return found;
}

/**
 * Deletes a manifest and every tag pointing at it, with a `manifest.deleted` outbox event;
 * returns the removed tags, or undefined.
 */
export async function deleteManifest(
  db: Kysely<Database>,
  repository: string,
  digest: string,
  actor: OutboxActor = SYSTEM_ACTOR,
): Promise<{ tags: string[] } | undefined> {
  return db.transaction().execute(async (trx) => {
    const repositoryId = await findRepositoryId(trx, repository);
    if (repositoryId === undefined) return undefined;
    const row = await trx
      .selectFrom("manifests")
      .select("id")
      .where("repository_id", "=", repositoryId)
      .where("digest", "=", digest)
      .executeTakeFirst();
    if (!row) return undefined;
    const tags = await trx
      .selectFrom("tags")
      .select("name")
      .where("manifest_id", "=", row.id)
      .execute();
    await trx.deleteFrom("tags").where("manifest_id", "=", row.id).execute();
    await trx.deleteFrom("manifest_references").where("manifest_id", "=", row.id).execute();
    await trx.deleteFrom("manifests").where("id", "=", row.id).execute();
    const removed = tags.map((t) => t.name);
    await appendOutbox(trx, "manifest.deleted", repository, actor, { digest, tags: removed });
    return { tags: removed };
  });
}

export interface ReferrerRow {
  digest: string;
  mediaType: string;
  size: number;
  artifactType: string | null;
  annotations: Record<string, string> | undefined;
}

/** Manifests in the repository whose subject is `subject`, optionally of one artifact type. */
export async function listReferrers(
  db: Kysely<Database>,
  repository: string,
  subject: string,
  artifactType?: string,
): Promise<ReferrerRow[]> {
  let query = db
    .selectFrom("manifests as m")
    .innerJoin("repositories as r", "r.id", "m.repository_id")
    .select(["m.digest", "m.media_type", "m.size", "m.artifact_type", "m.annotations"])
    .where("r.name", "=", repository)
    .where("m.subject_digest", "=", subject)
    .orderBy("m.id");
  if (artifactType !== undefined) query = query.where("m.artifact_type", "=", artifactType);
  const rows = await query.execute();
  return rows.map((r) => ({
    digest: r.digest,
    mediaType: r.media_type,
    size: Number(r.size),
    artifactType: r.artifact_type,
    annotations: r.annotations ? (JSON.parse(r.annotations) as Record<string, string>) : undefined,
  }));
}

function toStored(row: {
  id: number;
  digest: string;
  media_type: string;
  size: number;
  subject_digest: string | null;
  content: Buffer;
}): StoredManifest {
  return {
    id: Number(row.id),
    digest: row.digest,
    mediaType: row.media_type,
    size: Number(row.size),
    subjectDigest: row.subject_digest,
    content: Buffer.isBuffer(row.content) ? row.content : Buffer.from(row.content),
  };
}
