// Registers the lifecycle job kinds of a Berth server with its job runtime: `gc` (see
// gc.ts) and `fsck` (fsck.ts), with the `gc` and `scrub` cron schedules when `gc.schedule` /
// `scrub.schedule` are set (removed when they are not). A scrub is an fsck without repair.
// The composition root (server.ts) calls this once at start.
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { BerthConfig } from "../config/config.js";
import type { Database } from "../meta/index.js";
import type { BlobStore } from "../storage/index.js";
import { checkStore, FSCK_JOB_KIND, type FsckPayload } from "./fsck.js";
import { collectGarbage, GC_JOB_KIND, type GcPayload } from "./gc.js";
import type { Jobs } from "./index.js";

export interface LifecycleServices {
  readonly config: BerthConfig;
  readonly db: Kysely<Database>;
  readonly store: BlobStore;
  readonly logger: Logger;
  readonly jobs: Jobs;
  /** Drops a manifest GC deleted from this process's manifest cache. */
  evictManifest(repository: string, digest: string): void;
}

export async function registerLifecycleJobs(s: LifecycleServices): Promise<void> {
  s.jobs.workers.register<GcPayload>(GC_JOB_KIND, async (ctx) =>
    collectGarbage(s.db, s.store, {
      dryRun: ctx.payload?.dryRun === true,
      deleteUntagged: ctx.payload?.deleteUntagged === true,
      graceMs: s.config.gc.graceMs,
      signal: ctx.signal,
      progress: (p) => ctx.progress(p),
      log: (message) => ctx.log(message),
      onManifestDeleted: (repository, digest) => s.evictManifest(repository, digest),
    }),
  );
  s.jobs.workers.register<FsckPayload>(FSCK_JOB_KIND, async (ctx) =>
    checkStore(s.db, s.store, {
      repair: ctx.payload?.repair === true,
      signal: ctx.signal,
      progress: (p) => ctx.progress(p),
      log: (message) => ctx.log(message),
    }),
  );
  if (s.config.scrub.schedule) {
    await s.jobs.scheduler.define("scrub", s.config.scrub.schedule, FSCK_JOB_KIND, {});
  } else {
    await s.jobs.scheduler.remove("scrub");
  }
  if (s.config.gc.schedule) {
    await s.jobs.scheduler.define(GC_JOB_KIND, s.config.gc.schedule, GC_JOB_KIND, {});
  } else {
    await s.jobs.scheduler.remove(GC_JOB_KIND);
  }
}
