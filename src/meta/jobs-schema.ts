// Table types of background work (created by migrations/0004-jobs.ts): the durable job
// queue and its bounded per-job log, cron schedules, and the transactional outbox of
// registry events with one delivery cursor per consumer. Times are milliseconds since the
// epoch; JSON columns hold text. Types only: the queries live in jobs.ts, schedules.ts and
// outbox.ts beside this file.
import type { Generated } from "kysely";

export type JobState = "queued" | "running" | "succeeded" | "failed" | "cancelled";

export interface JobsTable {
  id: Generated<number>;
  kind: string;
  /** The handler's input, JSON text. */
  payload: string;
  state: JobState;
  /** Runs started so far (a lease taken over counts as a new attempt). */
  attempts: number;
  max_attempts: number;
  /** Not claimed before this time (retry backoff, delayed jobs). */
  run_after: number;
  /** Worker id holding the job while it runs; null otherwise. */
  lease_owner: string | null;
  /** The lease ends here unless the worker heartbeats; then another worker may take it. */
  lease_expires_at: number | null;
  /** 1 once cancellation was asked for a running job; the worker sees it at its heartbeat. */
  cancel_requested: number;
  /** Latest progress report, JSON text. */
  progress: string | null;
  /** The handler's return value, JSON text. */
  result: string | null;
  /** Last error message. */
  error: string | null;
  /** Name of the schedule that enqueued it, if any. */
  schedule: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface JobLogsTable {
  id: Generated<number>;
  job_id: number;
  at: number;
  level: "info" | "warn" | "error";
  message: string;
}

export interface SchedulesTable {
  /** Stable name, e.g. `gc`. */
  name: string;
  /** Cron expression (croner syntax, 5 or 6 fields). */
  cron: string;
  kind: string;
  payload: string;
  /** When the schedule fires next; claimed by a conditional UPDATE, so once per tick. */
  next_run_at: number;
  updated_at: number;
}

export interface OutboxTable {
  id: Generated<number>;
  /** Event type, e.g. `manifest.pushed` (see outbox.ts). */
  type: string;
  repository: string;
  /** The event, JSON text. */
  payload: string;
  created_at: number;
}

export interface OutboxCursorsTable {
  /** Consumer name, e.g. `audit` or `scan-on-push`. */
  consumer: string;
  /** Last outbox id the consumer has processed. */
  position: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  updated_at: number;
}

export interface JobsTables {
  jobs: JobsTable;
  job_logs: JobLogsTable;
  schedules: SchedulesTable;
  outbox: OutboxTable;
  outbox_cursors: OutboxCursorsTable;
}
