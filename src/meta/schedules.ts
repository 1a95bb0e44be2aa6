// Cron schedule rows. Each schedule has one `next_run_at`; a process whose tick finds it due
// moves it forward with a conditional UPDATE (WHERE next_run_at = the value it read) and
// enqueues the job in the same transaction, so with several processes exactly one of them
// fires each occurrence. Computing the next time (cron parsing) is the caller's (jobs/).
import type { Kysely } from "kysely";
import type { Database } from "./database.js";
import { insertJob } from "./jobs.js";

export interface ScheduleRow {
  name: string;
  cron: string;
  kind: string;
  payload: unknown;
  nextRunAt: number;
}

/** Creates or updates a schedule; a changed cron expression takes `nextRunAt` at once. */
export async function upsertSchedule(db: Kysely<Database>, s: ScheduleRow): Promise<void> {
  const now = Date.now();
  await db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom("schedules")
      .select(["cron", "kind", "payload"])
      .where("name", "=", s.name)
      .executeTakeFirst();
    const payload = JSON.stringify(s.payload ?? null);
    if (!existing) {
      await trx
        .insertInto("schedules")
        .values({
          name: s.name,
          cron: s.cron,
          kind: s.kind,
          payload,
          next_run_at: s.nextRunAt,
          updated_at: now,
        })
        .onConflict((oc) => oc.column("name").doNothing())
        .execute();
    } else if (
      existing.cron !== s.cron ||
      existing.kind !== s.kind ||
      existing.payload !== payload
    ) {
      await trx
        .updateTable("schedules")
        .set({ cron: s.cron, kind: s.kind, payload, next_run_at: s.nextRunAt, updated_at: now })
        .where("name", "=", s.name)
        .execute();
    }
  });
}

export async function deleteSchedule(db: Kysely<Database>, name: string): Promise<void> {
  await db.deleteFrom("schedules").where("name", "=", name).execute();
}

export async function dueSchedules(db: Kysely<Database>, now: number): Promise<ScheduleRow[]> {
  const rows = await db
    .selectFrom("schedules")
    .selectAll()
    .where("next_run_at", "<=", now)
    .execute();
  return rows.map((r) => ({
    name: r.name,
    cron: r.cron,
    kind: r.kind,
    payload: JSON.parse(r.payload),
    nextRunAt: Number(r.next_run_at),
  }));
}

/**
 * Fires one occurrence: moves `next_run_at` from `seen` to `next` and enqueues the job, in
 * one transaction; returns the job id, or undefined when another process fired it first.
 */
export async function fireSchedule(
  db: Kysely<Database>,
  s: ScheduleRow,
  next: number,
  maxAttempts: number,
): Promise<number | undefined> {
  return db.transaction().execute(async (trx) => {
    const moved = await trx
      .updateTable("schedules")
      .set({ next_run_at: next, updated_at: Date.now() })
      .where("name", "=", s.name)
      .where("next_run_at", "=", s.nextRunAt)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) === 0) return undefined;
    const job = await insertJob(trx, {
      kind: s.kind,
      payload: s.payload,
      maxAttempts,
      runAfter: Date.now(),
      schedule: s.name,
    });
    return job.id;
  });
}
