// The transactional outbox: registry changes that other parts of Berth act on (scan on push,
// replication, webhooks, audit, retention statistics) are written here IN THE SAME
// TRANSACTION as the change, by the meta/ functions that make the change. So an event exists
// exactly when its change was committed: a crash between the 201 and a listener loses
// nothing, and a rolled-back change never leaks an event. jobs/outbox.ts delivers the rows to
// registered consumers, at least once, with a cursor per consumer.
//
// Ordering: consumers read by increasing id and remember the last id they processed, so an
// id must never become visible after a larger one. SQLite has one writer at a time, which
// gives that for free. PostgreSQL hands out bigserial ids before commit, so two concurrent
// transactions could commit out of order; each outbox insert therefore takes a transaction
// advisory lock right before inserting (held until commit, at the very end of the change's
// transaction), which orders outbox writers by commit. Pulls are not written one row per
// GET (the hot path stays a pure read): PullTimes writes one `manifests.pulled` row per
// flush (every few seconds) listing the manifests pulled since the last one.
// Never: import registry/ (the event shapes live here), or write an outbox row outside the
// transaction of the change it reports.
import { type Kysely, sql } from "kysely";
import type { Database } from "./database.js";
import { dialectOf } from "./dialect.js";

/** Who made a change; meta/ callers pass it through from the request. */
export interface OutboxActor {
  /** Principal name (`anonymous` without credentials, `system` for Berth itself). */
  principal: string;
  remoteAddress: string;
}

export const SYSTEM_ACTOR: OutboxActor = { principal: "system", remoteAddress: "" };

export interface OutboxEventMap {
  "blob.committed": { digest: string; size: number; mounted: boolean };
  "manifest.pushed": {
    digest: string;
    tag?: string;
    mediaType: string;
    size: number;
    artifactType?: string;
    subject?: string;
  };
  "manifest.deleted": { digest: string; tags: string[] };
  "tag.deleted": { tag: string };
  /** One row per PullTimes flush: the manifests pulled since the previous one. */
  "manifests.pulled": { manifests: { id: number; repository: string; digest: string }[] };
  // Events of features beside the registry core (webhooks/emit.ts documents how to emit
  // them): `repository` is the repository concerned, or the project name for project-wide ones.
  "scan.completed": { digest: string; tag?: string; summary?: Record<string, number> };
  "scan.failed": { digest: string; tag?: string; error: string };
  "quota.warning": { usedBytes: number; limitBytes: number };
  "quota.exceeded": { usedBytes: number; limitBytes: number; digest?: string };
  "replication.finished": {
    rule: string;
    status: "succeeded" | "failed" | "stopped";
    artifacts: number;
    bytes: number;
    error?: string;
  };
  "retention.finished": { jobId: number; dryRun: boolean; deleted: number; retained: number };
}

export type OutboxEventType = keyof OutboxEventMap;

export type OutboxEvent = {
  [K in OutboxEventType]: {
    id: number;
    type: K;
    repository: string;
    at: number;
    principal: string;
    remoteAddress: string;
    data: OutboxEventMap[K];
  };
}[OutboxEventType];

/** Any one advisory-lock key shared by every outbox writer (PostgreSQL). */
const OUTBOX_LOCK_KEY = 724_810_331;

/** Writes one event in the caller's transaction `trx` (see the module header). */
export async function appendOutbox<K extends OutboxEventType>(
  trx: Kysely<Database>,
  type: K,
  repository: string,
  actor: OutboxActor,
  data: OutboxEventMap[K],
): Promise<void> {
  if (dialectOf(trx) === "postgres") {
    await sql`select pg_advisory_xact_lock(${OUTBOX_LOCK_KEY})`.execute(trx);
  }
  await trx
    .insertInto("outbox")
    .values({
      type,
      repository,
      payload: JSON.stringify({ ...actor, data }),
      created_at: Date.now(),
    })
    .execute();
}

/** Events after `position` (exclusive), oldest first, at most `limit`. */
export async function readOutbox(
  db: Kysely<Database>,
  position: number,
  limit: number,
): Promise<OutboxEvent[]> {
  const rows = await db
    .selectFrom("outbox")
    .selectAll()
    .where("id", ">", position)
    .orderBy("id")
    .limit(limit)
    .execute();
  return rows.map((r) => {
    const body = JSON.parse(r.payload) as OutboxActor & { data: unknown };
    return {
      id: Number(r.id),
      type: r.type,
      repository: r.repository,
      at: Number(r.created_at),
      principal: body.principal,
      remoteAddress: body.remoteAddress,
      data: body.data,
    } as OutboxEvent;
  });
}

/** The newest outbox id (0 when empty): where a consumer registered today starts. */
export async function latestOutboxId(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom("outbox")
    .select((eb) => eb.fn.max("id").as("id"))
    .executeTakeFirst();
  return Number(row?.id ?? 0);
}

/** Creates the consumer's cursor at `position` unless it exists. */
export async function ensureOutboxCursor(
  db: Kysely<Database>,
  consumer: string,
  position: number,
): Promise<void> {
  await db
    .insertInto("outbox_cursors")
    .values({ consumer, position, updated_at: Date.now() })
    .onConflict((oc) => oc.column("consumer").doNothing())
    .execute();
}

/**
 * Takes the consumer's delivery lease (one process delivers to a consumer at a time);
 * returns the cursor position, or undefined when another live process holds it.
 */
export async function claimOutboxCursor(
  db: Kysely<Database>,
  consumer: string,
  owner: string,
  leaseMs: number,
): Promise<number | undefined> {
  const now = Date.now();
  const row = await db
    .updateTable("outbox_cursors")
    .set({ lease_owner: owner, lease_expires_at: now + leaseMs, updated_at: now })
    .where("consumer", "=", consumer)
    .where((eb) =>
      eb.or([
        eb("lease_owner", "is", null),
        eb("lease_owner", "=", owner),
        eb("lease_expires_at", "<", now),
      ]),
    )
    .returning("position")
    .executeTakeFirst();
  return row ? Number(row.position) : undefined;
}

/** Moves the cursor forward if `owner` still holds the lease; false when it lost it. */
export async function advanceOutboxCursor(
  db: Kysely<Database>,
  consumer: string,
  owner: string,
  position: number,
  leaseMs: number,
): Promise<boolean> {
  const now = Date.now();
  const result = await db
    .updateTable("outbox_cursors")
    .set({ position, lease_expires_at: now + leaseMs, updated_at: now })
    .where("consumer", "=", consumer)
    .where("lease_owner", "=", owner)
    .where("position", "<=", position)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Gives the lease back (on shutdown), so another process takes over at once. */
export async function releaseOutboxCursor(
  db: Kysely<Database>,
  consumer: string,
  owner: string,
): Promise<void> {
  await db
    .updateTable("outbox_cursors")
    .set({ lease_owner: null, lease_expires_at: null, updated_at: Date.now() })
    .where("consumer", "=", consumer)
    .where("lease_owner", "=", owner)
    .execute();
}

/** Removes events created before `before` (ms) that every consumer has processed. */
export async function pruneOutbox(db: Kysely<Database>, before: number): Promise<number> {
  const cursor = await db
    .selectFrom("outbox_cursors")
    .select((eb) => eb.fn.min("position").as("position"))
    .executeTakeFirst();
  let query = db.deleteFrom("outbox").where("created_at", "<", before);
  if (cursor?.position !== null && cursor?.position !== undefined)
    query = query.where("id", "<=", Number(cursor.position));
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}
