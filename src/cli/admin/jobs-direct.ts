// `berth admin jobs|gc --data DIR`: the job commands straight on a stopped server's metadata
// database (same configuration rules as `berth serve`). `gc` runs here, in this process, as
// a job of kind gc (so it shows in the history like a server's run); progress goes to stderr.
import { pino } from "pino";
import { jobView } from "../../api/routes/jobs.js";
import { ConfigError, loadConfig } from "../../config/config.js";
import { checkStore, FSCK_JOB_KIND, type FsckPayload } from "../../jobs/fsck.js";
import { collectGarbage, GC_JOB_KIND, type GcPayload } from "../../jobs/gc.js";
import { type JobHandler, JobQueue, Workers } from "../../jobs/index.js";
import { type MetaDatabase, openDatabase } from "../../meta/index.js";
import { type BlobStore, createBlobStore } from "../../storage/index.js";
import { CliError, ExitCode } from "../errors.js";
import type { JobsBackend } from "./jobs.js";

export class DirectJobs implements JobsBackend {
  private constructor(
    private readonly meta: MetaDatabase,
    private readonly store: BlobStore,
    private readonly graceMs: number,
    private readonly queue: JobQueue,
  ) {}

  static async open(dataDir: string, configFile?: string): Promise<DirectJobs> {
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig({
        file: configFile ?? process.env.BERTH_CONFIG,
        overrides: { data: dataDir },
      });
    } catch (err) {
      if (err instanceof ConfigError) throw new CliError(err.message, ExitCode.Usage);
      throw err;
    }
    const meta = await openDatabase(config.database);
    const store = createBlobStore(config.storage);
    await store.init();
    return new DirectJobs(meta, store, config.gc.graceMs, new JobQueue(meta.db));
  }

  private async found(id: number) {
    const job = await this.queue.get(id);
    if (!job) throw new CliError(`job ${id} not found`);
    return job;
  }

  async list(filter: { kind?: string; state?: string; limit: number }) {
    const jobs = await this.queue.list({
      kind: filter.kind,
      state: filter.state as Parameters<JobQueue["list"]>[0]["state"],
      limit: filter.limit,
    });
    return jobs.map(jobView);
  }

  async show(id: number) {
    const job = await this.found(id);
    const log = (await this.queue.log(id)).map((l) => ({
      at: new Date(l.at).toISOString(),
      level: l.level,
      message: l.message,
    }));
    return { ...jobView(job), log };
  }

  async cancel(id: number) {
    const job = await this.found(id);
    if (job.state !== "queued" && job.state !== "running")
      throw new CliError(`job ${id} is ${job.state}; only queued or running jobs can be cancelled`);
    return jobView((await this.queue.cancel(id))!);
  }

  async retry(id: number) {
    const job = await this.found(id);
    const retried = await this.queue.retry(id);
    if (!retried)
      throw new CliError(`job ${id} is ${job.state}; only failed or cancelled jobs can be retried`);
    return jobView(retried);
  }

  async gc(options: { dryRun: boolean; deleteUntagged: boolean }) {
    return this.runHere<GcPayload>(GC_JOB_KIND, options, (ctx) =>
      collectGarbage(this.meta.db, this.store, {
        dryRun: ctx.payload?.dryRun === true,
        deleteUntagged: ctx.payload?.deleteUntagged === true,
        graceMs: this.graceMs,
        signal: ctx.signal,
        progress: (p) => {
          ctx.progress(p);
          if (process.stderr.isTTY) process.stderr.write(`\rgc: ${p.phase} ${p.done}/${p.total}  `);
        },
        log: (message) => ctx.log(message),
      }),
    );
  }

  async fsck(options: { repair: boolean }) {
    return this.runHere<FsckPayload>(FSCK_JOB_KIND, { repair: options.repair }, (ctx) =>
      checkStore(this.meta.db, this.store, {
        repair: ctx.payload?.repair === true,
        signal: ctx.signal,
        progress: (p) => {
          ctx.progress(p);
          if (process.stderr.isTTY)
            process.stderr.write(`\rfsck: ${p.phase} ${p.done}/${p.total || "?"}  `);
        },
        log: (message) => ctx.log(message),
      }),
    );
  }

  /** Runs one job of `kind` in this process (recorded in the queue like a server's). */
  private async runHere<P>(kind: string, payload: P, handler: JobHandler<P>) {
    const workers = new Workers(this.meta.db, this.queue, pino({ level: "silent" }), {
      concurrency: 1,
      pollMs: 100,
    });
    workers.register<P>(kind, handler);
    const job = await this.queue.enqueue(kind, payload, { maxAttempts: 1 });
    workers.start();
    try {
      const done = await this.queue.wait(job.id, 100);
      if (process.stderr.isTTY) process.stderr.write("\n");
      return jobView(done);
    } finally {
      await workers.stop();
    }
  }

  async close() {
    await this.meta.close();
  }
}
