// The job queue's producer side: enqueue, look up, list, cancel, retry. Thin over
// meta/jobs.ts; wakes this process's workers when it enqueues, so a job does not wait for
// the next poll. Never runs handlers (that is worker.ts).
import type { Kysely } from "kysely";
import {
  cancelJob,
  countJobs,
  type Database,
  findJob,
  insertJob,
  type JobFilter,
  type JobLogLine,
  type JobRow,
  listJobs,
  readJobLog,
  retryJob,
} from "../meta/index.js";

export interface EnqueueOptions {
  /** Runs before a failure is final (default 3). */
  maxAttempts?: number;
  /** Not before this delay (ms, default 0). */
  delayMs?: number;
}

export class JobQueue {
  private readonly listeners = new Set<() => void>();

  constructor(private readonly db: Kysely<Database>) {}

  async enqueue(kind: string, payload: unknown, opts: EnqueueOptions = {}): Promise<JobRow> {
    const maxAttempts = opts.maxAttempts ?? 3;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
      throw new RangeError("maxAttempts must be a positive integer");
    const job = await insertJob(this.db, {
      kind,
      payload,
      maxAttempts,
      runAfter: Date.now() + (opts.delayMs ?? 0),
    });
    for (const wake of this.listeners) wake();
    return job;
  }

  get(id: number): Promise<JobRow | undefined> {
    return findJob(this.db, id);
  }

  list(filter: JobFilter): Promise<JobRow[]> {
    return listJobs(this.db, filter);
  }

  count(filter: Pick<JobFilter, "kind" | "state">): Promise<number> {
    return countJobs(this.db, filter);
  }

  log(id: number): Promise<JobLogLine[]> {
    return readJobLog(this.db, id);
  }

  /** Queued: cancelled now. Running: its handler's signal aborts at the next heartbeat. */
  cancel(id: number): Promise<JobRow | undefined> {
    return cancelJob(this.db, id);
  }

  /** A failed or cancelled job runs again (attempts reset); undefined for other states. */
  retry(id: number): Promise<JobRow | undefined> {
    const job = retryJob(this.db, id);
    for (const wake of this.listeners) wake();
    return job;
  }

  /** Polls until the job is finished (succeeded, failed or cancelled). */
  async wait(id: number, pollMs = 200, signal?: AbortSignal): Promise<JobRow> {
    for (;;) {
      const job = await this.get(id);
      if (!job) throw new Error(`job ${id} does not exist`);
      if (job.state === "succeeded" || job.state === "failed" || job.state === "cancelled")
        return job;
      signal?.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** Wakes this process's workers (after jobs were inserted in another transaction). */
  wake(): void {
    for (const wake of this.listeners) wake();
  }

  /** Called by this process's workers to be woken on enqueue. */
  onEnqueue(wake: () => void): () => void {
    this.listeners.add(wake);
    return () => this.listeners.delete(wake);
  }
}
