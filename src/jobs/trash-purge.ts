// The trash purge (job kind `trash-purge`; docs/lifecycle.md): removes trash entries for good
// (meta/trash.ts) so that the next garbage collection reclaims their blobs. Scheduled hourly
// (`trash-purge` schedule, fired once across replicas) for the entries older than
// `trash.keep`; queued on demand by the management API (`POST /trash/purge`) for every entry
// or chosen ones. Each purged entry is reported to `onPurged` (the server writes an audit
// entry per entry). Idempotent: a second run finds nothing more to purge.
// Never: delete blobs or links here (GC does, after re-checking nothing else needs them).
import type { Kysely } from "kysely";
import { type Database, purgeTrash, type TrashEntry } from "../meta/index.js";
import type { Jobs } from "./index.js";

export const TRASH_PURGE_JOB_KIND = "trash-purge";
/** Minute 17 of every hour: an expired entry outlives `trash.keep` by at most an hour. */
export const TRASH_PURGE_SCHEDULE = "17 * * * *";

export interface TrashPurgePayload {
  /** Purge every entry, expired or not. */
  all?: boolean;
  /** Purge exactly these entries. */
  ids?: number[];
  /** Who asked (the API caller); the scheduler otherwise. */
  requestedBy?: string;
}

export interface TrashPurgeReport {
  purged: number;
  /** Bytes the purged entries held (GC frees those no one else references). */
  bytes: number;
  /** The purged entries, at most 1,000. */
  items: { id: number; repository: string; digest: string; tag: string | null }[];
}

/** What entries a payload selects, given `trash.keep` (ms) and the time now. */
export function purgeSelection(
  payload: TrashPurgePayload,
  keepMs: number,
  now: number,
): { olderThan: number } | { ids: number[] } {
  if (payload.ids !== undefined) return { ids: payload.ids };
  if (payload.all === true) return { olderThan: Number.MAX_SAFE_INTEGER };
  return { olderThan: now - keepMs };
}

export async function purgeTrashNow(
  db: Kysely<Database>,
  payload: TrashPurgePayload,
  keepMs: number,
  hooks: {
    signal?: AbortSignal;
    log?: (message: string) => void;
    onPurged?: (entries: TrashEntry[], requestedBy: string | undefined) => Promise<void>;
    now?: number;
  } = {},
): Promise<TrashPurgeReport> {
  const selection = purgeSelection(payload, keepMs, hooks.now ?? Date.now());
  const report: TrashPurgeReport = { purged: 0, bytes: 0, items: [] };
  for (;;) {
    hooks.signal?.throwIfAborted();
    const entries = await purgeTrash(db, selection, 500);
    if (entries.length === 0) break;
    await hooks.onPurged?.(entries, payload.requestedBy);
    for (const e of entries) {
      report.purged++;
      report.bytes += e.size;
      if (report.items.length < 1000)
        report.items.push({ id: e.id, repository: e.repository, digest: e.digest, tag: e.tag });
      hooks.log?.(
        `purged trash entry ${e.id}: ${e.repository}${e.tag !== null ? `:${e.tag}` : `@${e.digest}`}`,
      );
    }
    if ("ids" in selection) break;
  }
  return report;
}

/** Registers the job kind and its hourly schedule (idempotent at each start). */
export async function registerTrashPurge(
  jobs: Jobs,
  db: Kysely<Database>,
  keepMs: number,
  onPurged?: (entries: TrashEntry[], requestedBy: string | undefined) => Promise<void>,
): Promise<void> {
  jobs.workers.register<TrashPurgePayload>(TRASH_PURGE_JOB_KIND, async (ctx) =>
    purgeTrashNow(db, ctx.payload ?? {}, keepMs, {
      signal: ctx.signal,
      log: (message) => ctx.log(message),
      onPurged,
    }),
  );
  await jobs.scheduler.define(TRASH_PURGE_JOB_KIND, TRASH_PURGE_SCHEDULE, TRASH_PURGE_JOB_KIND, {});
}
