// Retention as background work: the `retention` job kind (payload `{project, dryRun?}`) runs
// a project's stored policy through PolicyService (audited as the system actor), and each
// project's cron schedule is a scheduler entry named `retention:<project>` that enqueues
// that job, so several replicas fire it once per occurrence (src/jobs/scheduler.ts).
// Job handlers must be idempotent: a retention run is (a second run finds nothing more to
// delete; each deletion re-checks the database).

import type { Kysely } from "kysely";
import type { Jobs } from "../jobs/index.js";
import type { Database } from "../meta/database.js";
import { appendOutbox, listScheduledRetention, SYSTEM_ACTOR } from "../meta/index.js";
import type { PolicyService, RetentionSchedules } from "./service.js";

export const RETENTION_JOB = "retention";

export function retentionScheduleName(project: string): string {
  return `retention:${project}`;
}

const SCHEDULER_ACTOR = {
  name: "scheduler",
  kind: "system" as const,
  isAdmin: true,
  remoteAddress: "",
};

/** The schedules side PolicyService keeps in step when a policy is set or removed. */
export function jobSchedules(jobs: Jobs): RetentionSchedules {
  return {
    async set(project, cron) {
      const name = retentionScheduleName(project);
      if (cron === null) await jobs.scheduler.remove(name);
      else await jobs.scheduler.define(name, cron, RETENTION_JOB, { project });
    },
  };
}

/** Registers the job kind and (re)defines every stored schedule (idempotent at each start). */
export async function registerRetentionJobs(
  jobs: Jobs,
  db: Kysely<Database>,
  policies: PolicyService,
): Promise<void> {
  jobs.workers.register(RETENTION_JOB, async ({ job, payload, log, progress }) => {
    const { project, dryRun } = payload as { project?: unknown; dryRun?: unknown };
    if (typeof project !== "string") throw new Error("a retention job needs a project");
    log(`retention ${dryRun === true ? "dry run" : "run"} of project ${project}`);
    const report = await policies.runRetention(SCHEDULER_ACTOR, project, {
      dryRun: dryRun === true,
    });
    progress({ deleted: report.deleted.length, retained: report.retained.length });
    for (const v of report.deleted)
      log(
        `${report.dryRun ? "would delete" : "deleted"} ${v.repository}@${v.digest} (${v.tags.join(",") || "untagged"}): ${v.reasons[0] ?? ""}`,
      );
    for (const s of report.skipped) log(`skipped ${s.repository}@${s.digest}: ${s.reason}`, "warn");
    // Webhooks (`retention` events) and other outbox consumers learn of the run.
    await db.transaction().execute((trx) =>
      appendOutbox(trx, "retention.finished", project, SYSTEM_ACTOR, {
        jobId: job.id,
        dryRun: report.dryRun,
        deleted: report.deleted.length,
        retained: report.retained.length,
      }),
    );
    return {
      deleted: report.deleted.length,
      retained: report.retained.length,
      skipped: report.skipped.length,
    };
  });
  const schedules = jobSchedules(jobs);
  for (const s of await listScheduledRetention(db)) await schedules.set(s.project, s.schedule);
}
