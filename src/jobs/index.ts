// Background work in Berth (docs/lifecycle.md): one durable queue in the metadata database,
// workers that claim jobs with leases, cron schedules that fire once across replicas, and
// the dispatcher that turns the transactional outbox into work for consumers.
//
//   const jobs = createJobs(db, logger, { workers: { concurrency: 2 } });
//   jobs.workers.register("gc", async ({ payload, signal, progress, log }) => { … return result; });
//   await jobs.scheduler.define("gc", "0 3 * * *", "gc", {});
//   await jobs.outbox.subscribe({ name: "scan-on-push", types: ["manifest.pushed"],
//     handle: async (events) => { for (const e of events) await jobs.queue.enqueue("scan", e); } });
//   jobs.start();
//   const job = await jobs.queue.enqueue("gc", { dryRun: true }, { maxAttempts: 3 });
//   await jobs.queue.cancel(job.id);   // its handler's signal aborts at the next heartbeat
//   …
//   await jobs.stop();
//
// Handlers must be idempotent: a job is claimed by one worker at a time, but a worker that
// died mid-run has its job run again (a new attempt) once the lease expires.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Database } from "../meta/index.js";
import { OutboxDispatcher } from "./outbox.js";
import { JobQueue } from "./queue.js";
import { Scheduler } from "./scheduler.js";
import { type WorkerOptions, Workers } from "./worker.js";

export type { OutboxConsumer } from "./outbox.js";
export { OutboxDispatcher } from "./outbox.js";
export type { EnqueueOptions } from "./queue.js";
export { JobQueue } from "./queue.js";
export { nextCronTime, Scheduler } from "./scheduler.js";
export type { JobContext, JobHandler, WorkerOptions } from "./worker.js";
export { backoffDelay, JobCancelled, Workers } from "./worker.js";

export interface JobsOptions {
  workers?: WorkerOptions;
  /** Scheduler tick (ms, default 15 s). */
  schedulerTickMs?: number;
  /** Outbox poll (ms, default 1 s). */
  outboxPollMs?: number;
  /** Whether this process runs workers, the scheduler and the dispatcher (default true). */
  run?: boolean;
}

export interface Jobs {
  readonly queue: JobQueue;
  readonly workers: Workers;
  readonly scheduler: Scheduler;
  readonly outbox: OutboxDispatcher;
  start(): void;
  stop(): Promise<void>;
}

export function createJobs(db: Kysely<Database>, logger: Logger, options: JobsOptions = {}): Jobs {
  const owner =
    options.workers?.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const queue = new JobQueue(db);
  const workers = new Workers(db, queue, logger, { ...options.workers, owner });
  const scheduler = new Scheduler(db, logger, options.schedulerTickMs ?? 15_000);
  const outbox = new OutboxDispatcher(db, logger, { owner, pollMs: options.outboxPollMs });
  const run = options.run ?? true;
  return {
    queue,
    workers,
    scheduler,
    outbox,
    start() {
      if (!run) return;
      workers.start();
      scheduler.start();
      outbox.start();
    },
    async stop() {
      scheduler.stop();
      await outbox.stop();
      await workers.stop();
    },
  };
}
