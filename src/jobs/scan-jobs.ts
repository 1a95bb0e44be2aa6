// Scanning in the registry, wired to the job system (docs/scan.md):
// - scan on push: the outbox consumer `scan-on-push` reads `manifest.pushed` events and, for
//   projects whose scan policy says so, requests a `scan` job per image (for an index: per
//   platform image it lists), keyed by the event id in the same transaction as the pending
//   report (meta/scan-reports.ts requestScan), so a redelivered batch enqueues nothing twice.
//   Signatures, SBOMs and other artifacts are recorded as "unsupported", never scanned.
// - the `scan` job (scan-run.ts): stream the layers from the BlobStore, match, store, attach
//   the SBOM. A worker killed mid-scan leaves the job to another worker after its lease.
// - manual scans of an artifact, a repository or a project (API, `berth admin scan`).
// - rescans: the `scan-rescan` job (cron `scan.rescanSchedule`, and after reloadDatabase())
//   requests a scan of every report made with another database version than the current one.
// Never: scan from the request path (the registry only writes events), or enqueue outside
// requestScan (which is what makes every request idempotent).
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { BerthConfig } from "../config/config.js";
import {
  type Database,
  getManifestByDigest,
  getScanPolicy,
  getScanReport,
  markScanUnsupported,
  type OutboxEvent,
  outdatedScanReports,
  projectRepositories,
  repositoryManifests,
  requestScan,
  SCAN_JOB_KIND,
  type ScanJobPayload,
} from "../meta/index.js";
import { projectOf } from "../oci/index.js";
import { ServerVulnerabilityDb, type VulnerabilityDbInfo } from "../scan/server-db.js";
import { isAttachmentArtifact } from "../sign/attached.js";
import type { BlobStore } from "../storage/index.js";
import type { Jobs } from "./index.js";
import { runScanJob, scanTargetOf } from "./scan-run.js";

export const SCAN_CONSUMER = "scan-on-push";
export const RESCAN_JOB_KIND = "scan-rescan";
export const RESCAN_SCHEDULE = "scan-rescan";

export interface ScanServices {
  readonly config: BerthConfig;
  readonly db: Kysely<Database>;
  readonly store: BlobStore;
  readonly logger: Logger;
  readonly jobs: Jobs;
}

/** What a scan request started: the jobs enqueued, and the manifests that are not scanned. */
export interface ScanRequested {
  /** Each job with the repository it scans the digest in (a project scan spans many). */
  jobs: { digest: string; repository: string; job: number }[];
  unsupported: { digest: string; reason: string }[];
  /** Already pending or running, or done by a request with the same key (nothing enqueued). */
  alreadyQueued: string[];
  /** Of those, the ones pending or running: the job that will finish each. */
  waiting: { digest: string; repository: string; job: number }[];
}

const emptyRequest = (): ScanRequested => ({
  jobs: [],
  unsupported: [],
  alreadyQueued: [],
  waiting: [],
});

export class RegistryScanning {
  readonly vulndb: ServerVulnerabilityDb;

  constructor(private readonly s: ScanServices) {
    this.vulndb = new ServerVulnerabilityDb(s.config.scan.dbDir);
  }

  /** Registers the job kinds, the outbox consumer and the rescan schedule (once, at start). */
  async register(): Promise<void> {
    const { jobs } = this.s;
    jobs.workers.register<ScanJobPayload>(SCAN_JOB_KIND, (ctx) =>
      runScanJob({ db: this.s.db, store: this.s.store, vulndb: this.vulndb }, ctx),
    );
    jobs.workers.register(RESCAN_JOB_KIND, async (ctx) => {
      const requested = await this.rescanOutdated();
      ctx.log(`${requested} rescans requested`);
      return { requested, database: this.vulndb.info()?.version ?? null };
    });
    await jobs.outbox.subscribe({
      name: SCAN_CONSUMER,
      types: ["manifest.pushed"],
      handle: (events) => this.onPushed(events),
    });
    if (this.s.config.scan.rescanSchedule) {
      await jobs.scheduler.define(
        RESCAN_SCHEDULE,
        this.s.config.scan.rescanSchedule,
        RESCAN_JOB_KIND,
        {},
      );
    } else {
      await jobs.scheduler.remove(RESCAN_SCHEDULE);
    }
  }

  dbInfo(): VulnerabilityDbInfo | undefined {
    return this.vulndb.info();
  }

  /** After the database was replaced in-process: re-read it and queue the rescans. */
  async reloadDatabase(): Promise<VulnerabilityDbInfo | undefined> {
    const info = this.vulndb.reload();
    await this.s.jobs.queue.enqueue(RESCAN_JOB_KIND, {}, { maxAttempts: 3 });
    return info;
  }

  private async onPushed(events: OutboxEvent[]): Promise<void> {
    for (const event of events) {
      if (event.type !== "manifest.pushed") continue;
      const policy = await getScanPolicy(this.s.db, projectOf(event.repository));
      if (!policy?.scanOnPush) continue;
      // (The event's artifactType is the effective one: an image's config media type.)
      const { digest, tag, subject } = event.data;
      if (subject !== undefined || (tag !== undefined && isAttachmentArtifact({}, tag))) {
        await markScanUnsupported(this.s.db, event.repository, digest, "an attachment");
        continue;
      }
      await this.request(event.repository, digest, "push", `event:${event.id}`, false);
    }
    this.s.jobs.queue.wake();
  }

  /** Requests scans of one manifest: an image, or each platform image of an index. */
  private async request(
    repository: string,
    digest: string,
    reason: ScanJobPayload["reason"],
    key: string,
    force: boolean,
    out: ScanRequested = emptyRequest(),
  ): Promise<ScanRequested> {
    const stored = await getManifestByDigest(this.s.db, repository, digest);
    if (!stored) return out;
    let target: ReturnType<typeof scanTargetOf>;
    try {
      target = scanTargetOf(stored.content, stored.mediaType);
    } catch (err) {
      target = { kind: "unsupported", why: (err as Error).message };
    }
    if (target.kind === "unsupported") {
      await markScanUnsupported(this.s.db, repository, digest, target.why);
      out.unsupported.push({ digest, reason: target.why });
    } else if (target.kind === "index") {
      for (const child of target.children) {
        await this.request(repository, child, reason, `${key}:${child}`, force, out);
      }
    } else {
      const job = await requestScan(this.s.db, {
        repository,
        digest,
        reason,
        requestKey: key,
        force,
      });
      if (job !== undefined) out.jobs.push({ digest, repository, job });
      else {
        out.alreadyQueued.push(digest);
        const report = await getScanReport(this.s.db, digest);
        if ((report?.status === "pending" || report?.status === "running") && report.jobId !== null)
          out.waiting.push({ digest, repository, job: report.jobId });
      }
    }
    return out;
  }

  /** Manual scan of one artifact (digest) in a repository. */
  async scanArtifact(repository: string, digest: string): Promise<ScanRequested> {
    const out = await this.request(repository, digest, "manual", `manual:${Date.now()}`, true);
    this.s.jobs.queue.wake();
    return out;
  }

  /** Manual scan of every image of a repository. */
  async scanRepository(repository: string): Promise<ScanRequested> {
    const out: ScanRequested = emptyRequest();
    const key = `manual:${Date.now()}`;
    for (const m of await repositoryManifests(this.s.db, repository)) {
      let target: ReturnType<typeof scanTargetOf>;
      try {
        target = scanTargetOf(m.content, m.mediaType);
      } catch {
        continue;
      }
      // Index children are manifests of the repository too: each is requested once, itself.
      if (target.kind === "index") continue;
      await this.request(repository, m.digest, "manual", key, true, out);
    }
    this.s.jobs.queue.wake();
    return out;
  }

  /** Manual scan of every image of every repository of a project. */
  async scanProject(project: string): Promise<ScanRequested> {
    const out: ScanRequested = emptyRequest();
    for (const repository of await projectRepositories(this.s.db, project)) {
      const r = await this.scanRepository(repository);
      out.jobs.push(...r.jobs);
      out.unsupported.push(...r.unsupported);
      out.alreadyQueued.push(...r.alreadyQueued);
      out.waiting.push(...r.waiting);
    }
    return out;
  }

  /** Requests a scan of every report made with another database version; returns how many. */
  async rescanOutdated(): Promise<number> {
    const info = this.vulndb.info();
    if (!info) return 0;
    let requested = 0;
    for (let round = 0; round < 1000; round++) {
      const outdated = await outdatedScanReports(this.s.db, info.version, 200);
      let progressed = false;
      for (const r of outdated) {
        const job = await requestScan(this.s.db, {
          repository: r.repository,
          digest: r.digest,
          reason: "rescan",
          requestKey: `rescan:${info.version}:${r.digest}`,
          force: true,
        });
        if (job !== undefined) {
          requested++;
          progressed = true;
        }
      }
      if (outdated.length < 200 || !progressed) break;
    }
    if (requested > 0) {
      this.s.logger.info({ requested, database: info.version }, "rescans requested");
      this.s.jobs.queue.wake();
    }
    return requested;
  }
}
