// The trash (migration 0014; docs/lifecycle.md): what deletions removed, kept restorable for
// `trash.keep`. A deletion with the trash on moves its manifests here inside its own
// transaction (deleteManifests, deleteTag call trashManifests/trashTag), so nothing is ever
// half in the trash. An entry is one deletion: an artifact (the requested manifest first,
// then its referrers: signatures, SBOMs, attestations) with the tags that pointed at each, or
// one tag. `trash_references` names every blob and child manifest the entry needs; garbage
// collection treats them as references (meta/gc.ts, blobs.ts), so a trashed artifact's bytes
// stay until the entry is restored or purged, and restoring needs no byte copy.
//
// Restore puts everything back in one transaction or nothing: a tag that now names another
// manifest, a child manifest or blob that is gone, refuses the whole restore (TrashRestoreError)
// with a message naming it. Restored manifests get a `manifest.pushed` outbox event (a restore
// is a push of the same bytes: scan on push, webhooks and replication see it).
// Never: drop trash rows outside purgeTrash/restoreTrash, or restore part of an entry.
import { type Kysely, sql } from "kysely";
import { batches, lockBlobRow, upsertLink } from "./blobs.js";
import type { Database } from "./database.js";
import { dialectOf } from "./dialect.js";
import { appendOutbox, type OutboxActor } from "./outbox.js";
import { ensureRepository } from "./repositories.js";

export interface TrashTable {
  id: import("kysely").Generated<number>;
  repository: string;
  kind: TrashKind;
  /** The requested manifest (artifact), or the manifest the tag pointed at (tag). */
  digest: string;
  tag: string | null;
  /** JSON array: every tag the deletion removed. */
  tags: string;
  manifests: number;
  size: number;
  reason: string;
  deleted_by: string;
  deleted_at: number;
}

export interface TrashManifestsTable {
  trash_id: number;
  position: number;
  digest: string;
  media_type: string;
  artifact_type: string | null;
  subject_digest: string | null;
  annotations: string | null;
  content: Buffer;
  /** JSON array of the tags that pointed at this manifest. */
  tags: string;
  /** JSON array of `{kind, digest}`: its manifest_references rows. */
  refs: string;
  created_at: number;
  pushed_at: number;
  pulled_at: number | null;
}

export interface TrashReferencesTable {
  trash_id: number;
  repository: string;
  kind: "blob" | "manifest";
  digest: string;
}

export interface TrashTables {
  trash: TrashTable;
  trash_manifests: TrashManifestsTable;
  trash_references: TrashReferencesTable;
}

export type TrashKind = "artifact" | "tag";

/** Why something went to the trash, as deletions name it. */
export interface TrashMove {
  /** e.g. "deleted", "retention", "repository deleted". */
  reason: string;
}

export interface TrashEntry {
  id: number;
  repository: string;
  kind: TrashKind;
  digest: string;
  tag: string | null;
  tags: string[];
  manifests: number;
  /** Bytes of the manifests and the distinct blobs they reference. */
  size: number;
  reason: string;
  deletedBy: string;
  /** Milliseconds since the epoch. */
  deletedAt: number;
}

export interface TrashedManifest {
  digest: string;
  mediaType: string;
  artifactType: string | null;
  subjectDigest: string | null;
  tags: string[];
}

/** A restore refused: nothing was changed. `code` says why. */
export class TrashRestoreError extends Error {
  constructor(
    readonly code: "tag-taken" | "manifest-missing" | "blob-missing",
    message: string,
  ) {
    super(message);
    this.name = "TrashRestoreError";
  }
}

type Db = Kysely<Database>;

const parseTags = (text: string): string[] => JSON.parse(text) as string[];

function toEntry(r: {
  id: number;
  repository: string;
  kind: TrashKind;
  digest: string;
  tag: string | null;
  tags: string;
  manifests: number;
  size: number;
  reason: string;
  deleted_by: string;
  deleted_at: number;
}): TrashEntry {
  return {
    id: Number(r.id),
    repository: r.repository,
    kind: r.kind,
    digest: r.digest,
    tag: r.tag,
    tags: parseTags(r.tags),
    manifests: Number(r.manifests),
    size: Number(r.size),
    reason: r.reason,
    deletedBy: r.deleted_by,
    deletedAt: Number(r.deleted_at),
  };
}

/**
 * Copies the manifests `ids` (of one repository, `ids[0]` the requested one) with their
 * references and `tagsById` into a new trash entry. Call inside the deleting transaction,
 * before the rows are deleted. Returns the entry's id.
 */
export async function trashManifests(
  trx: Db,
  repository: string,
  ids: readonly number[],
  tagsById: ReadonlyMap<number, string[]>,
  move: TrashMove,
  actor: OutboxActor,
): Promise<number> {
  const rows: {
    id: number;
    digest: string;
    media_type: string;
    size: number;
    artifact_type: string | null;
    subject_digest: string | null;
    annotations: string | null;
    content: Buffer;
    created_at: number;
    pushed_at: number;
    pulled_at: number | null;
  }[] = [];
  const references: { manifest_id: number; kind: "blob" | "manifest"; digest: string }[] = [];
  for (const batch of batches(ids, 500)) {
    rows.push(
      ...(await trx
        .selectFrom("manifests")
        .select([
          "id",
          "digest",
          "media_type",
          "size",
          "artifact_type",
          "subject_digest",
          "annotations",
          "content",
          "created_at",
          "pushed_at",
          "pulled_at",
        ])
        .where("id", "in", batch)
        .execute()),
    );
    references.push(
      ...(await trx
        .selectFrom("manifest_references")
        .select(["manifest_id", "kind", "digest"])
        .where("manifest_id", "in", batch)
        .execute()),
    );
  }
  const order = new Map(ids.map((id, i) => [id, i]));
  rows.sort((a, b) => (order.get(Number(a.id)) ?? 0) - (order.get(Number(b.id)) ?? 0));
  const blobDigests = [
    ...new Set(references.filter((r) => r.kind === "blob").map((r) => r.digest)),
  ];
  let blobBytes = 0;
  for (const batch of batches(blobDigests, 500)) {
    const sum = await trx
      .selectFrom("blobs")
      .select((eb) => eb.fn.sum<number | string>("size").as("total"))
      .where("digest", "in", batch)
      .executeTakeFirst();
    blobBytes += Number(sum?.total ?? 0);
  }
  const allTags = rows.flatMap((r) => tagsById.get(Number(r.id)) ?? []);
  const entry = await trx
    .insertInto("trash")
    .values({
      repository,
      kind: "artifact",
      digest: rows[0]?.digest ?? "",
      tag: null,
      tags: JSON.stringify(allTags),
      manifests: rows.length,
      size: rows.reduce((t, r) => t + Number(r.size), 0) + blobBytes,
      reason: move.reason,
      deleted_by: actor.principal,
      deleted_at: Date.now(),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  const trashId = Number(entry.id);
  for (const [position, r] of rows.entries()) {
    await trx
      .insertInto("trash_manifests")
      .values({
        trash_id: trashId,
        position,
        digest: r.digest,
        media_type: r.media_type,
        artifact_type: r.artifact_type,
        subject_digest: r.subject_digest,
        annotations: r.annotations,
        content: Buffer.isBuffer(r.content) ? r.content : Buffer.from(r.content),
        tags: JSON.stringify(tagsById.get(Number(r.id)) ?? []),
        refs: JSON.stringify(
          references
            .filter((x) => Number(x.manifest_id) === Number(r.id))
            .map((x) => ({ kind: x.kind, digest: x.digest })),
        ),
        created_at: Number(r.created_at),
        pushed_at: Number(r.pushed_at),
        pulled_at: r.pulled_at === null ? null : Number(r.pulled_at),
      })
      .execute();
  }
  const trashed = new Set(rows.map((r) => r.digest));
  const unique = new Map<string, { kind: "blob" | "manifest"; digest: string }>();
  for (const r of references) {
    // A child manifest trashed in the same entry needs no protection of its own.
    if (r.kind === "manifest" && trashed.has(r.digest)) continue;
    unique.set(`${r.kind} ${r.digest}`, { kind: r.kind, digest: r.digest });
  }
  await insertReferences(trx, trashId, repository, [...unique.values()]);
  return trashId;
}

/** Records a deleted tag (pointing at `digest`) as a trash entry. Inside the deleting transaction. */
export async function trashTag(
  trx: Db,
  repository: string,
  tag: string,
  digest: string,
  move: TrashMove,
  actor: OutboxActor,
): Promise<number> {
  const entry = await trx
    .insertInto("trash")
    .values({
      repository,
      kind: "tag",
      digest,
      tag,
      tags: JSON.stringify([tag]),
      manifests: 0,
      size: 0,
      reason: move.reason,
      deleted_by: actor.principal,
      deleted_at: Date.now(),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  const trashId = Number(entry.id);
  // Keeps GC's --delete-untagged from collecting the manifest the tag is to point at again.
  await insertReferences(trx, trashId, repository, [{ kind: "manifest", digest }]);
  return trashId;
}

async function insertReferences(
  trx: Db,
  trashId: number,
  repository: string,
  refs: readonly { kind: "blob" | "manifest"; digest: string }[],
): Promise<void> {
  for (const batch of batches(refs, 200)) {
    await trx
      .insertInto("trash_references")
      .values(batch.map((r) => ({ trash_id: trashId, repository, kind: r.kind, digest: r.digest })))
      .execute();
  }
}

export interface TrashFilter {
  /** Exactly this repository. */
  repository?: string;
  /** Repositories of this project (first path component; bare names are `library`). */
  project?: string;
  kind?: TrashKind;
  /** Substring of the repository name, digest or a tag. */
  q?: string;
  /** Only entries deleted before this time (ms). */
  deletedBefore?: number;
}

export interface TrashPageRequest {
  page: number;
  pageSize: number;
  sort: "deletedAt" | "repository" | "size";
  descending: boolean;
}

const SORT_COLUMNS = { deletedAt: "deleted_at", repository: "repository", size: "size" } as const;

function filtered(db: Db, filter: TrashFilter) {
  let q = db.selectFrom("trash");
  if (filter.repository !== undefined) q = q.where("repository", "=", filter.repository);
  if (filter.project !== undefined) {
    const prefix = `${filter.project}/`;
    const head = sql<string>`substr(repository, 1, ${prefix.length})`;
    q =
      filter.project === "library"
        ? q.where((eb) => eb.or([eb(head, "=", prefix), eb("repository", "not like", "%/%")]))
        : q.where(head, "=", prefix);
  }
  if (filter.kind !== undefined) q = q.where("kind", "=", filter.kind);
  if (filter.deletedBefore !== undefined) q = q.where("deleted_at", "<", filter.deletedBefore);
  if (filter.q) {
    const like = `%${filter.q.replace(/[%_\\]/g, "")}%`;
    q = q.where((eb) =>
      eb.or([eb("repository", "like", like), eb("digest", "like", like), eb("tags", "like", like)]),
    );
  }
  return q;
}

/** One page of trash entries matching `filter`, with the total count. */
export async function listTrash(
  db: Db,
  filter: TrashFilter,
  page: TrashPageRequest,
): Promise<{ items: TrashEntry[]; total: number }> {
  const total = await filtered(db, filter)
    .select((eb) => eb.fn.countAll<number | string>().as("n"))
    .executeTakeFirst();
  const rows = await filtered(db, filter)
    .selectAll()
    .orderBy(SORT_COLUMNS[page.sort], page.descending ? "desc" : "asc")
    .orderBy("id", page.descending ? "desc" : "asc")
    .limit(page.pageSize)
    .offset((page.page - 1) * page.pageSize)
    .execute();
  return { items: rows.map(toEntry), total: Number(total?.n ?? 0) };
}

/** One entry with the manifests it holds; undefined when there is none with that id. */
export async function getTrashEntry(
  db: Db,
  id: number,
): Promise<(TrashEntry & { contents: TrashedManifest[] }) | undefined> {
  const row = await db.selectFrom("trash").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row) return undefined;
  const manifests = await db
    .selectFrom("trash_manifests")
    .select(["digest", "media_type", "artifact_type", "subject_digest", "tags"])
    .where("trash_id", "=", id)
    .orderBy("position")
    .execute();
  return {
    ...toEntry(row),
    contents: manifests.map((m) => ({
      digest: m.digest,
      mediaType: m.media_type,
      artifactType: m.artifact_type,
      subjectDigest: m.subject_digest,
      tags: parseTags(m.tags),
    })),
  };
}

/** The newest entry holding `repository@digest` (artifact) or `repository:tag` (tag). */
export async function findTrashEntry(
  db: Db,
  repository: string,
  ref: { digest: string } | { tag: string },
): Promise<number | undefined> {
  let q = db
    .selectFrom("trash")
    .select("id")
    .where("repository", "=", repository)
    .orderBy("id", "desc")
    .limit(1);
  q =
    "digest" in ref
      ? q.where("kind", "=", "artifact").where("digest", "=", ref.digest)
      : q.where("tag", "=", ref.tag);
  const row = await q.executeTakeFirst();
  return row ? Number(row.id) : undefined;
}

export interface Restored {
  entry: TrashEntry;
  /** What is back: each manifest with the tags now pointing at it. */
  manifests: { digest: string; tags: string[] }[];
}

/**
 * Restores one entry, all of it or nothing (TrashRestoreError when refused); undefined when
 * there is no such entry (restored or purged meanwhile).
 */
export async function restoreTrash(
  db: Db,
  id: number,
  actor: OutboxActor,
): Promise<Restored | undefined> {
  return db.transaction().execute(async (trx) => {
    const lock = trx.selectFrom("trash").selectAll().where("id", "=", id);
    const row = await (dialectOf(trx) === "postgres" ? lock.forUpdate() : lock).executeTakeFirst();
    if (!row) return undefined;
    const entry = toEntry(row);
    const repositoryId = await ensureRepository(trx, entry.repository);
    const manifests =
      entry.kind === "tag"
        ? await restoreTagEntry(trx, entry, repositoryId, actor)
        : await restoreArtifactEntry(trx, entry, repositoryId, actor);
    await removeEntries(trx, [id]);
    return { entry, manifests };
  });
}

async function lockManifest(trx: Db, repositoryId: number, digest: string) {
  const q = trx
    .selectFrom("manifests")
    .select(["id", "media_type", "size"])
    .where("repository_id", "=", repositoryId)
    .where("digest", "=", digest);
  return (dialectOf(trx) === "postgres" ? q.forShare() : q).executeTakeFirst();
}

async function tagOwners(
  trx: Db,
  repositoryId: number,
  tags: readonly string[],
): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  for (const batch of batches(tags, 500)) {
    const rows = await trx
      .selectFrom("tags as t")
      .innerJoin("manifests as m", "m.id", "t.manifest_id")
      .select(["t.name", "m.digest"])
      .where("t.repository_id", "=", repositoryId)
      .where("t.name", "in", batch)
      .execute();
    for (const r of rows) owners.set(r.name, r.digest);
  }
  return owners;
}

function refuseTaken(
  repository: string,
  wanted: readonly { tag: string; digest: string }[],
  owners: ReadonlyMap<string, string>,
): void {
  const taken = wanted.filter((w) => owners.has(w.tag) && owners.get(w.tag) !== w.digest);
  if (taken.length === 0) return;
  const list = taken.map((t) => `${repository}:${t.tag} (now ${owners.get(t.tag)})`).join(", ");
  throw new TrashRestoreError(
    "tag-taken",
    `cannot restore: tag ${list} points at another manifest; delete or move ${taken.length === 1 ? "that tag" : "those tags"} first`,
  );
}

async function upsertTag(trx: Db, repositoryId: number, name: string, manifestId: number) {
  const now = Date.now();
  await trx
    .insertInto("tags")
    .values({
      repository_id: repositoryId,
      name,
      manifest_id: manifestId,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc
        .columns(["repository_id", "name"])
        .doUpdateSet({ manifest_id: manifestId, updated_at: now }),
    )
    .execute();
}

async function restoreTagEntry(
  trx: Db,
  entry: TrashEntry,
  repositoryId: number,
  actor: OutboxActor,
): Promise<Restored["manifests"]> {
  const tag = entry.tag ?? "";
  const manifest = await lockManifest(trx, repositoryId, entry.digest);
  if (!manifest) {
    const trashed = await findTrashEntry(trx, entry.repository, { digest: entry.digest });
    throw new TrashRestoreError(
      "manifest-missing",
      `cannot restore ${entry.repository}:${tag}: manifest ${entry.digest} is no longer in the repository` +
        (trashed !== undefined
          ? ` (it is in the trash as entry ${trashed}: restore that first)`
          : ""),
    );
  }
  refuseTaken(
    entry.repository,
    [{ tag, digest: entry.digest }],
    await tagOwners(trx, repositoryId, [tag]),
  );
  await upsertTag(trx, repositoryId, tag, Number(manifest.id));
  await appendOutbox(trx, "manifest.pushed", entry.repository, actor, {
    digest: entry.digest,
    tag,
    mediaType: manifest.media_type,
    size: Number(manifest.size),
  });
  return [{ digest: entry.digest, tags: [tag] }];
}

async function restoreArtifactEntry(
  trx: Db,
  entry: TrashEntry,
  repositoryId: number,
  actor: OutboxActor,
): Promise<Restored["manifests"]> {
  const rows = await trx
    .selectFrom("trash_manifests")
    .selectAll()
    .where("trash_id", "=", entry.id)
    .orderBy("position")
    .execute();
  const refs = await trx
    .selectFrom("trash_references")
    .select(["kind", "digest"])
    .where("trash_id", "=", entry.id)
    .execute();
  const wanted = rows.flatMap((r) => parseTags(r.tags).map((tag) => ({ tag, digest: r.digest })));
  refuseTaken(
    entry.repository,
    wanted,
    await tagOwners(
      trx,
      repositoryId,
      wanted.map((w) => w.tag),
    ),
  );
  const now = Date.now();
  // Blobs: locked against GC's claim, then linked again (a fresh link time: a new grace period).
  for (const r of refs.filter((x) => x.kind === "blob")) {
    const blob = await lockBlobRow(trx, r.digest, "share");
    if (!blob || blob.deleting_at !== null) {
      throw new TrashRestoreError(
        "blob-missing",
        `cannot restore ${entry.repository}@${entry.digest}: blob ${r.digest} is gone from storage`,
      );
    }
    await upsertLink(trx, repositoryId, r.digest, now);
  }
  for (const r of refs.filter((x) => x.kind === "manifest")) {
    if (!(await lockManifest(trx, repositoryId, r.digest))) {
      throw new TrashRestoreError(
        "manifest-missing",
        `cannot restore ${entry.repository}@${entry.digest}: the manifest ${r.digest} it lists is no longer in the repository`,
      );
    }
  }
  const out: Restored["manifests"] = [];
  for (const r of rows) {
    await trx
      .insertInto("manifests")
      .values({
        repository_id: repositoryId,
        digest: r.digest,
        media_type: r.media_type,
        size: r.content.length,
        artifact_type: r.artifact_type,
        subject_digest: r.subject_digest,
        annotations: r.annotations,
        content: Buffer.isBuffer(r.content) ? r.content : Buffer.from(r.content),
        created_at: Number(r.created_at),
        pushed_at: Number(r.pushed_at),
        pulled_at: r.pulled_at === null ? null : Number(r.pulled_at),
      })
      .onConflict((oc) => oc.columns(["repository_id", "digest"]).doNothing())
      .execute();
    const m = await trx
      .selectFrom("manifests")
      .select("id")
      .where("repository_id", "=", repositoryId)
      .where("digest", "=", r.digest)
      .executeTakeFirstOrThrow();
    const manifestId = Number(m.id);
    const own = JSON.parse(r.refs) as { kind: "blob" | "manifest"; digest: string }[];
    for (const batch of batches(own, 200)) {
      await trx
        .insertInto("manifest_references")
        .values(batch.map((x) => ({ manifest_id: manifestId, kind: x.kind, digest: x.digest })))
        .onConflict((oc) => oc.columns(["manifest_id", "kind", "digest"]).doNothing())
        .execute();
    }
    const tags = parseTags(r.tags);
    for (const tag of tags) await upsertTag(trx, repositoryId, tag, manifestId);
    await appendOutbox(trx, "manifest.pushed", entry.repository, actor, {
      digest: r.digest,
      ...(tags[0] !== undefined ? { tag: tags[0] } : {}),
      mediaType: r.media_type,
      size: r.content.length,
      ...(r.artifact_type !== null ? { artifactType: r.artifact_type } : {}),
      ...(r.subject_digest !== null ? { subject: r.subject_digest } : {}),
    });
    out.push({ digest: r.digest, tags });
  }
  return out;
}

async function removeEntries(trx: Db, ids: readonly number[]): Promise<void> {
  for (const batch of batches(ids, 500)) {
    await trx.deleteFrom("trash_references").where("trash_id", "in", batch).execute();
    await trx.deleteFrom("trash_manifests").where("trash_id", "in", batch).execute();
    await trx.deleteFrom("trash").where("id", "in", batch).execute();
  }
}

/**
 * Deletes trash entries for good: those deleted before `olderThan` (ms), or exactly `ids`,
 * at most `limit` per call. Returns what went. Their blobs are then GC's to collect.
 */
export async function purgeTrash(
  db: Db,
  select: { olderThan: number } | { ids: readonly number[] },
  limit = 1000,
): Promise<TrashEntry[]> {
  return db.transaction().execute(async (trx) => {
    let q = trx.selectFrom("trash").selectAll().orderBy("id").limit(limit);
    if ("olderThan" in select) q = q.where("deleted_at", "<", select.olderThan);
    else if (select.ids.length === 0) return [];
    else q = q.where("id", "in", [...select.ids]);
    const rows = await (dialectOf(trx) === "postgres" ? q.forUpdate() : q).execute();
    const entries = rows.map(toEntry);
    await removeEntries(
      trx,
      entries.map((e) => e.id),
    );
    return entries;
  });
}
