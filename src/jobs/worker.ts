// The job queue's consumer side: handlers registered per kind, a polling loop that claims
// due jobs with a lease (meta/jobs.ts claimJob), a heartbeat that extends the lease, stores
// progress and notices cancellation, and the end of a run: succeeded, cancelled, queued
// again after an exponential backoff, or failed after its last attempt.
//
// Exactly once: a claim is atomic across processes, and every later write is conditional
// on still holding the lease. A job whose worker died (kill -9) keeps its lease until
// expiry, then any worker takes it over as a new attempt: handlers must be idempotent
// (GC is: each step re-checks the database). A worker that loses its lease (stalled past
// the expiry) sees it at its next heartbeat, aborts its handler and writes nothing.
// Never: throw out of the loop (a handler's error is the job's error), or let a slow
// handler block the heartbeat (handlers are async; the heartbeat is a timer).
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import {
  appendJobLog,
  claimJob,
  countJobLog,
  type Database,
  finishJob,
  heartbeatJob,
  JOB_LOG_LIMIT,
  type JobLogLine,
  type JobRow,
} from "../meta/index.js";
import type { JobQueue } from "./queue.js";

export interface JobContext<P = unknown> {
  readonly job: JobRow;
  readonly payload: P;
  /** Aborted when the job is cancelled or this worker lost its lease. */
  readonly signal: AbortSignal;
  /** Latest progress (any JSON), stored at the next heartbeat and at the end. */
  progress(value: unknown): void;
  /** One line of the job's log (bounded, readable through the API). */
  log(message: string, level?: JobLogLine["level"]): void;
}

export type JobHandler<P = unknown> = (ctx: JobContext<P>) => Promise<unknown>;

export interface WorkerOptions {
  /** This worker's id in leases (default host:pid:random). */
  owner?: string;
  /** Jobs run at the same time in this process (default 2). */
  concurrency?: number;
  /** Lease length (ms, default 60 s); heartbeats every third of it. */
  leaseMs?: number;
  /** How often to look for due jobs (ms, default 1 s). */
  pollMs?: number;
  /** First retry delay (ms, default 5 s); doubled per attempt, at most 1 h. */
  backoffMs?: number;
  /** Told of every finished attempt (metrics): kind, outcome, run time in ms. Must not throw. */
  onFinished?: (kind: string, outcome: string, ms: number) => void;
}

/** Delay before retry number `attempt` (1-based): base × 2^(attempt−1), capped at 1 h. */
export function backoffDelay(attempt: number, baseMs: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 3_600_000);
}

export class JobCancelled extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "JobCancelled";
  }
}

export class Workers {
  readonly owner: string;
  private readonly handlers = new Map<string, JobHandler>();
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private polling = false;
  private unsubscribe: (() => void) | undefined;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly backoffMs: number;
  private readonly onFinished: WorkerOptions["onFinished"];

  constructor(
    private readonly db: Kysely<Database>,
    private readonly queue: JobQueue,
    private readonly logger: Logger,
    options: WorkerOptions = {},
  ) {
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.concurrency = options.concurrency ?? 2;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.pollMs = options.pollMs ?? 1000;
    this.backoffMs = options.backoffMs ?? 5000;
    this.onFinished = options.onFinished;
  }

  /** Registers the handler of a kind (before or after start). */
  register<P>(kind: string, handler: JobHandler<P>): void {
    this.handlers.set(kind, handler as JobHandler);
    if (!this.stopped) this.wake();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.unsubscribe = this.queue.onEnqueue(() => this.wake());
    this.timer = setInterval(() => this.wake(), this.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** Stops claiming; running handlers are aborted and their jobs left to lease expiry. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    for (const abort of this.aborts) abort.abort(new JobCancelled("worker stopping"));
    await Promise.allSettled([...this.running]);
  }

  private readonly aborts = new Set<AbortController>();

  private wake(): void {
    if (this.stopped || this.polling) return;
    this.polling = true;
    this.poll()
      .catch((err) => this.logger.error({ err }, "job poll failed"))
      .finally(() => {
        this.polling = false;
      });
  }

  private async poll(): Promise<void> {
    while (!this.stopped && this.running.size < this.concurrency) {
      const job = await claimJob(this.db, [...this.handlers.keys()], this.owner, this.leaseMs);
      if (!job) return;
      const run = this.run(job).catch((err) =>
        this.logger.error({ err, job: job.id }, "job bookkeeping failed"),
      );
      this.running.add(run);
      void run.finally(() => {
        this.running.delete(run);
        this.wake();
      });
    }
  }

  private async run(job: JobRow): Promise<void> {
    const handler = this.handlers.get(job.kind);
    if (!handler) return;
    const abort = new AbortController();
    this.aborts.add(abort);
    const started = performance.now();
    let outcome = "lost";
    let progress: unknown;
    let lost = false;
    const logs = new JobLog(this.db, job.id);
    await logs.init();
    if (job.attempts > 1) logs.add(`attempt ${job.attempts} of ${job.maxAttempts}`, "info");
    const beat = setInterval(
      () => {
        logs.flush().catch(() => {});
        heartbeatJob(this.db, job.id, this.owner, this.leaseMs, progress)
          .then((state) => {
            if (!state) {
              lost = true;
              abort.abort(new JobCancelled("lease lost"));
            } else if (state.cancelRequested) abort.abort(new JobCancelled("cancelled"));
          })
          .catch((err) => this.logger.warn({ err, job: job.id }, "job heartbeat failed"));
      },
      Math.max(10, Math.floor(this.leaseMs / 3)),
    );
    try {
      if (job.attempts > job.maxAttempts) throw new Error("no attempts left (lease expired)");
      const result = await handler({
        job,
        payload: job.payload,
        signal: abort.signal,
        progress: (value) => {
          progress = value;
        },
        log: (message, level = "info") => logs.add(message, level),
      });
      clearInterval(beat);
      await logs.flush();
      if (abort.signal.aborted) throw abort.signal.reason;
      await finishJob(this.db, job.id, this.owner, { state: "succeeded", result, progress });
      outcome = "succeeded";
    } catch (err) {
      clearInterval(beat);
      const message = err instanceof Error ? err.message : String(err);
      if (lost || (this.stopped && err instanceof JobCancelled && message === "worker stopping")) {
        // Not ours any more, or left for another worker to take over after the lease.
        await logs.flush().catch(() => {});
        return;
      }
      logs.add(message, "error");
      await logs.flush();
      if (err instanceof JobCancelled || abort.signal.aborted) {
        await finishJob(this.db, job.id, this.owner, {
          state: "cancelled",
          error: message,
          progress,
        });
        outcome = "cancelled";
      } else if (job.attempts < job.maxAttempts) {
        const runAfter = Date.now() + backoffDelay(job.attempts, this.backoffMs);
        await finishJob(this.db, job.id, this.owner, {
          state: "queued",
          error: message,
          runAfter,
          progress,
        });
        outcome = "retried";
      } else {
        await finishJob(this.db, job.id, this.owner, { state: "failed", error: message, progress });
        outcome = "failed";
      }
    } finally {
      this.aborts.delete(abort);
      this.onFinished?.(job.kind, outcome, performance.now() - started);
    }
  }
}

/** A job's log lines, buffered between heartbeats and bounded to JOB_LOG_LIMIT rows. */
class JobLog {
  private pending: JobLogLine[] = [];
  private count = 0;
  private truncated = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly jobId: number,
  ) {}

  async init(): Promise<void> {
    this.count = await countJobLog(this.db, this.jobId);
  }

  add(message: string, level: JobLogLine["level"]): void {
    if (this.count + this.pending.length >= JOB_LOG_LIMIT - 1) {
      if (!this.truncated) {
        this.truncated = true;
        this.pending.push({ at: Date.now(), level: "warn", message: "log truncated" });
      }
      return;
    }
    this.pending.push({ at: Date.now(), level, message: message.slice(0, 4000) });
  }

  async flush(): Promise<void> {
    const lines = this.pending;
    this.pending = [];
    this.count += lines.length;
    await appendJobLog(this.db, this.jobId, lines);
  }
}
