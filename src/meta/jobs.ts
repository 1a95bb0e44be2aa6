// The durable job queue's rows: enqueue, claim with a lease, heartbeat, finish (succeeded,
// failed with a retry after a backoff, cancelled), cancel, retry, list, and the bounded log.
//
// Claiming is one statement: an UPDATE of the first claimable row (queued and due, or
// running with an expired lease, which is how a dead worker's job is taken over) that
// RETURNs it. On PostgreSQL the row is chosen by a subquery with FOR UPDATE SKIP LOCKED, so
// concurrent claimers in several processes each get a different row and never wait on one
// another; SQLite runs one writer at a time, so the single UPDATE is atomic there as it is.
// Every later write of a running job is conditional on `lease_owner` = the worker, so a
// worker that lost its lease (it stalled past the expiry and the job was taken over) can
// no longer change the job.
// Never: import jobs/ (that module drives these queries), or change a job another worker owns.
import type { Kysely, Selectable } from "kysely";
import type { Database } from "./database.js";
import { dialectOf } from "./dialect.js";
import type { JobState, JobsTable } from "./jobs-schema.js";

export interface JobRow {
  id: number;
  kind: string;
  payload: unknown;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  runAfter: number;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  cancelRequested: boolean;
  progress: unknown;
  result: unknown;
  error: string | null;
  schedule: string | null;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface NewJob {
  kind: string;
  payload: unknown;
  maxAttempts: number;
  runAfter: number;
  schedule?: string;
}

/** Log lines kept per job; later ones are dropped (one line says so). */
export const JOB_LOG_LIMIT = 1000;

function parseJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

export function toJobRow(r: Selectable<JobsTable>): JobRow {
  return {
    id: Number(r.id),
    kind: r.kind,
    payload: parseJson(r.payload),
    state: r.state,
    attempts: Number(r.attempts),
    maxAttempts: Number(r.max_attempts),
    runAfter: Number(r.run_after),
    leaseOwner: r.lease_owner,
    leaseExpiresAt: r.lease_expires_at === null ? null : Number(r.lease_expires_at),
    cancelRequested: Number(r.cancel_requested) === 1,
    progress: parseJson(r.progress),
    result: parseJson(r.result),
    error: r.error,
    schedule: r.schedule,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    startedAt: r.started_at === null ? null : Number(r.started_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
  };
}

export async function insertJob(db: Kysely<Database>, job: NewJob): Promise<JobRow> {
  const now = Date.now();
  const row = await db
    .insertInto("jobs")
    .values({
      kind: job.kind,
      payload: JSON.stringify(job.payload ?? null),
      state: "queued",
      attempts: 0,
      max_attempts: job.maxAttempts,
      run_after: job.runAfter,
      cancel_requested: 0,
      schedule: job.schedule ?? null,
      created_at: now,
      updated_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toJobRow(row);
}

/** Claims one due job of the given kinds for `owner` until now + leaseMs; undefined when none. */
export async function claimJob(
  db: Kysely<Database>,
  kinds: readonly string[],
  owner: string,
  leaseMs: number,
): Promise<JobRow | undefined> {
  if (kinds.length === 0) return undefined;
  const now = Date.now();
  const postgres = dialectOf(db) === "postgres";
  const row = await db
    .updateTable("jobs")
    .set((eb) => ({
      state: "running",
      lease_owner: owner,
      lease_expires_at: now + leaseMs,
      attempts: eb("attempts", "+", 1),
      started_at: now,
      updated_at: now,
    }))
    .where("id", "=", (eb) => {
      const candidate = eb
        .selectFrom("jobs")
        .select("id")
        .where("kind", "in", kinds)
        .where((w) =>
          w.or([
            w.and([w("state", "=", "queued"), w("run_after", "<=", now)]),
            w.and([w("state", "=", "running"), w("lease_expires_at", "<", now)]),
          ]),
        )
        .orderBy("run_after")
        .orderBy("id")
        .limit(1);
      return postgres ? candidate.forUpdate().skipLocked() : candidate;
    })
    .returningAll()
    .executeTakeFirst();
  return row && toJobRow(row);
}

/**
 * Extends the lease and stores progress; returns whether cancellation was requested, or
 * undefined when `owner` no longer holds the job (lease lost).
 */
export async function heartbeatJob(
  db: Kysely<Database>,
  id: number,
  owner: string,
  leaseMs: number,
  progress: unknown,
): Promise<{ cancelRequested: boolean } | undefined> {
  const now = Date.now();
  const row = await db
    .updateTable("jobs")
    .set({
      lease_expires_at: now + leaseMs,
      updated_at: now,
      ...(progress === undefined ? {} : { progress: JSON.stringify(progress) }),
    })
    .where("id", "=", id)
    .where("lease_owner", "=", owner)
    .where("state", "=", "running")
    .returning("cancel_requested")
    .executeTakeFirst();
  return row && { cancelRequested: Number(row.cancel_requested) === 1 };
}

export type JobOutcome =
  | { state: "succeeded"; result: unknown; progress?: unknown }
  | { state: "cancelled"; error: string; progress?: unknown }
  | { state: "failed"; error: string; progress?: unknown }
  | { state: "queued"; error: string; runAfter: number; progress?: unknown };

/** Records how a run ended if `owner` still holds the job; false when it lost it. */
export async function finishJob(
  db: Kysely<Database>,
  id: number,
  owner: string,
  outcome: JobOutcome,
): Promise<boolean> {
  const now = Date.now();
  const final = outcome.state !== "queued";
  const result = await db
    .updateTable("jobs")
    .set({
      state: outcome.state,
      lease_owner: null,
      lease_expires_at: null,
      updated_at: now,
      finished_at: final ? now : null,
      result: outcome.state === "succeeded" ? JSON.stringify(outcome.result ?? null) : null,
      error: outcome.state === "succeeded" ? null : outcome.error,
      ...(outcome.state === "queued" ? { run_after: outcome.runAfter } : {}),
      ...(outcome.progress === undefined ? {} : { progress: JSON.stringify(outcome.progress) }),
    })
    .where("id", "=", id)
    .where("lease_owner", "=", owner)
    .where("state", "=", "running")
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Cancels a job: a queued one at once, a running one by flagging it (its worker aborts at
 * the next heartbeat). Returns the job after the change, or undefined when unknown.
 */
export async function cancelJob(db: Kysely<Database>, id: number): Promise<JobRow | undefined> {
  const now = Date.now();
  await db
    .updateTable("jobs")
    .set({ state: "cancelled", updated_at: now, finished_at: now, error: "cancelled" })
    .where("id", "=", id)
    .where("state", "=", "queued")
    .execute();
  await db
    .updateTable("jobs")
    .set({ cancel_requested: 1, updated_at: now })
    .where("id", "=", id)
    .where("state", "=", "running")
    .execute();
  return findJob(db, id);
}

/** Queues a failed or cancelled job again with fresh attempts; undefined when it is not one. */
export async function retryJob(db: Kysely<Database>, id: number): Promise<JobRow | undefined> {
  const now = Date.now();
  const row = await db
    .updateTable("jobs")
    .set({
      state: "queued",
      attempts: 0,
      run_after: now,
      cancel_requested: 0,
      error: null,
      result: null,
      finished_at: null,
      updated_at: now,
    })
    .where("id", "=", id)
    .where("state", "in", ["failed", "cancelled"])
    .returningAll()
    .executeTakeFirst();
  return row && toJobRow(row);
}

export async function findJob(db: Kysely<Database>, id: number): Promise<JobRow | undefined> {
  const row = await db.selectFrom("jobs").selectAll().where("id", "=", id).executeTakeFirst();
  return row && toJobRow(row);
}

export interface JobFilter {
  kind?: string;
  state?: JobState;
  limit: number;
  /** Rows to skip (paging). */
  offset?: number;
  /** Sort field (default id) and direction (default newest first). */
  sort?: "id" | "kind" | "state";
  descending?: boolean;
}

/** Jobs, newest first unless told otherwise. */
export async function listJobs(db: Kysely<Database>, filter: JobFilter): Promise<JobRow[]> {
  const direction = (filter.descending ?? true) ? "desc" : "asc";
  let query = db
    .selectFrom("jobs")
    .selectAll()
    .orderBy(filter.sort ?? "id", direction)
    .orderBy("id", direction)
    .limit(filter.limit)
    .offset(filter.offset ?? 0);
  if (filter.kind !== undefined) query = query.where("kind", "=", filter.kind);
  if (filter.state !== undefined) query = query.where("state", "=", filter.state);
  return (await query.execute()).map(toJobRow);
}

export async function countJobs(
  db: Kysely<Database>,
  filter: Pick<JobFilter, "kind" | "state">,
): Promise<number> {
  let query = db.selectFrom("jobs").select((eb) => eb.fn.countAll<number>().as("n"));
  if (filter.kind !== undefined) query = query.where("kind", "=", filter.kind);
  if (filter.state !== undefined) query = query.where("state", "=", filter.state);
  return Number((await query.executeTakeFirst())?.n ?? 0);
}

export interface JobLogLine {
  at: number;
  level: "info" | "warn" | "error";
  message: string;
}

export async function appendJobLog(
  db: Kysely<Database>,
  jobId: number,
  lines: readonly JobLogLine[],
): Promise<void> {
  if (lines.length === 0) return;
  await db
    .insertInto("job_logs")
    .values(lines.map((l) => ({ job_id: jobId, at: l.at, level: l.level, message: l.message })))
    .execute();
}

export async function countJobLog(db: Kysely<Database>, jobId: number): Promise<number> {
  const row = await db
    .selectFrom("job_logs")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("job_id", "=", jobId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function readJobLog(db: Kysely<Database>, jobId: number): Promise<JobLogLine[]> {
  const rows = await db
    .selectFrom("job_logs")
    .select(["at", "level", "message"])
    .where("job_id", "=", jobId)
    .orderBy("id")
    .execute();
  return rows.map((r) => ({ at: Number(r.at), level: r.level, message: r.message }));
}
