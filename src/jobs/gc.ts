// Online garbage collection (job kind `gc`; docs/lifecycle.md): removes what nothing refers
// to while pushes and pulls go on. No read-only mode, no lock on the registry as a whole.
//
// Phases. Mark: one consistent snapshot of manifests, references, links and blobs is
// planned by a pure function (planGc): (1) with `deleteUntagged`, untagged manifests pushed
// before the grace cutoff that no index of their repository lists and whose subject is not
// in the repository (so a kept image keeps its signatures and SBOMs; the referrers of a
// collected manifest go with it, in a later round of the same plan), ordered parents first;
// (2) repository blob links created (or refreshed by a re-upload or mount) before the cutoff
// that no remaining manifest of the repository references; (3) blobs no remaining link
// names. Sweep: each planned item is deleted after its row is locked and the condition
// re-checked against the live data; the plan only nominates. Items are swept in batches of
// SWEEP_BATCH per transaction (one commit, one fsync, per batch instead of per item: the
// sweep of 30,000 items was bound by 30,000 fsyncs). Inside a batch PostgreSQL takes the
// locks with SKIP LOCKED, so a batch never waits while holding earlier items' locks (no
// deadlock with a push that locks the same rows in another order); an item found locked
// is retried alone afterwards, waiting for its lock as before.
//
// Why the races cannot lose anything (PostgreSQL row locks; SQLite runs one transaction at
// a time, which is stronger):
// - Manifest PUT vs link deletion: putManifest locks every referenced link FOR SHARE and
//   requires it to exist; deleteLinkIfUnreferenced locks the link FOR UPDATE and then looks
//   for references in a new statement. Either the PUT commits first (GC then sees the
//   reference and keeps the link) or GC deletes first (the PUT finds no link and answers
//   MANIFEST_BLOB_UNKNOWN; nothing was acknowledged). The grace period keeps links of
//   uploads whose manifest has not arrived yet.
// - Tag pushed onto a manifest GC collects: the PUT's upsert locks the manifest row; GC
//   re-checks tags and pushed_at under its own lock. PUT first: the manifest is tagged and
//   recent, so kept. GC first: the PUT inserts the manifest again, complete.
// - Index PUT listing a child GC collects: the PUT locks the child FOR SHARE (as links).
// - Blob re-uploaded or mounted while GC deletes its bytes: deletion is two steps, a
//   claim (blobs.deleting_at, set only if no link exists and no upload pinned the row, under
//   the row lock) and a finish (under the row lock, only if still claimed: remove the bytes,
//   then the row). An upload pins the row BEFORE committing its bytes (pinBlob, refused
//   while claimed: it waits for the finish, then pins a fresh row), and links after; a
//   claimed row refuses links and mounts (the client then uploads). So bytes are never
//   removed after an upload committed them, and a row never points at removed bytes.
// - kill -9 anywhere: every batch is one transaction. A claim left behind is finished by the
//   next GC run (or by an upload of that digest once the claim is older than 30 s). A job
//   whose worker died is taken over after its lease and runs again from a fresh snapshot.
// Quotas: project usage counts the blobs linked in the project plus its manifests
// (api/registry-view.ts); GC only removes links nothing references and rows nothing links,
// so usage afterwards is exactly the bytes the project's manifests reference.
// On object storage (S3): incremental and resumable. The mark is a query of the metadata
// database, never a walk of the bucket (CNCF distribution lists every object of the bucket
// to mark and again to sweep, which on a large bucket takes days); the sweep touches only the
// objects it deletes, one HEAD + DELETE each, and every batch of deletions is committed on its own. So
// a GC that was stopped, crashed or lost its lease loses at most the item in flight: the next
// run finishes any claim left behind and plans only what is still there (what was deleted is
// gone from the database), continuing where the last one stopped instead of starting over
// (test/jobs/s3-lifecycle.test.ts).
// Trash: what a trash entry references (meta/trash.ts) counts as referenced in every phase
// (its untagged manifests, its repository links, its blobs), in the plan and in each re-check;
// a purge makes it collectable by the next run.
// Never: delete from the snapshot without the locked re-check, or import registry/.
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import type { Kysely } from "kysely";
import {
  claimBlobForDeletion,
  claimBlobsForDeletion,
  claimedBlobs,
  type Database,
  deleteLinkIfUnreferenced,
  deleteLinksIfUnreferenced,
  deleteManifestIfCollectable,
  finishBlobDeletionIn,
  finishBlobDeletions,
  type GcOutcome,
  type GcSnapshot,
  type OutboxActor,
  readGcSnapshot,
} from "../meta/index.js";
import type { BlobStore } from "../storage/index.js";

export const GC_JOB_KIND = "gc";

const GC_ACTOR: OutboxActor = { principal: "gc", remoteAddress: "" };

export interface GcPayload {
  dryRun?: boolean;
  deleteUntagged?: boolean;
}

/** Where a test may hold GC (test-only hook; production never passes one). */
export type GcStep =
  | "planned"
  | "before-manifest"
  | "before-link"
  | "before-claim"
  | "claimed"
  | "bytes-removed"
  | "finished";

export interface GcOptions extends GcPayload {
  graceMs: number;
  signal?: AbortSignal;
  progress?: (p: { phase: string; done: number; total: number }) => void;
  log?: (message: string) => void;
  /** Told about each manifest GC deleted (the server evicts it from its manifest cache). */
  onManifestDeleted?: (repository: string, digest: string) => void;
  /** Items per sweep transaction (default SWEEP_BATCH); a stop takes effect between batches. */
  batchSize?: number;
  /** Test-only: awaited at each step with the item's key. */
  pauseAt?: (step: GcStep, item: string) => Promise<void>;
  now?: number;
}

export interface GcPlan {
  manifests: { id: number; repository: string; digest: string; size: number }[];
  links: { repositoryId: number; repository: string; digest: string }[];
  blobs: { digest: string; size: number }[];
}

export interface GcReport {
  dryRun: boolean;
  deleteUntagged: boolean;
  manifests: number;
  links: number;
  blobs: number;
  /** Bytes of blob content (and manifests) removed, or that a dry run would remove. */
  bytesFreed: number;
  /** Planned items the live re-check kept (something started using them meanwhile). */
  kept: number;
  /** What goes (dry run) or went, at most 1,000 of each. */
  items: {
    manifests: string[];
    blobs: string[];
  };
}

const LISTED = 1000;

/** The pure core of GC: what may go, given one snapshot (see the module header). */
export function planGc(
  snapshot: GcSnapshot,
  options: { cutoff: number; now: number; deleteUntagged: boolean },
): GcPlan {
  const doomed = new Set<number>();
  const ordered: GcPlan["manifests"] = [];
  if (options.deleteUntagged) {
    const byRepoDigest = new Map<string, number>();
    for (const m of snapshot.manifests) byRepoDigest.set(`${m.repositoryId} ${m.digest}`, m.id);
    const parents = new Map<number, number[]>(); // child id → parent ids
    const repoOf = new Map(snapshot.manifests.map((m) => [m.id, m.repositoryId]));
    for (const r of snapshot.references) {
      if (r.kind !== "manifest") continue;
      const repo = repoOf.get(r.manifestId);
      const child = repo === undefined ? undefined : byRepoDigest.get(`${repo} ${r.digest}`);
      if (child === undefined) continue;
      const list = parents.get(child) ?? [];
      list.push(r.manifestId);
      parents.set(child, list);
    }
    const keptByTrash = new Set(
      snapshot.trashReferences
        .filter((t) => t.kind === "manifest")
        .map((t) => `${t.repository} ${t.digest}`),
    );
    const candidates = snapshot.manifests.filter(
      (m) =>
        !m.tagged && m.pushedAt < options.cutoff && !keptByTrash.has(`${m.repository} ${m.digest}`),
    );
    // Rounds: a manifest goes once its parents and its subject are gone (or never existed).
    let progress = true;
    while (progress) {
      progress = false;
      for (const m of candidates) {
        if (doomed.has(m.id)) continue;
        if ((parents.get(m.id) ?? []).some((p) => !doomed.has(p))) continue;
        if (m.subjectDigest !== null) {
          const subject = byRepoDigest.get(`${m.repositoryId} ${m.subjectDigest}`);
          if (subject !== undefined && !doomed.has(subject)) continue;
        }
        doomed.add(m.id);
        ordered.push({ id: m.id, repository: m.repository, digest: m.digest, size: m.size });
        progress = true;
      }
    }
  }
  const referenced = new Set<string>();
  const repoOf = new Map(snapshot.manifests.map((m) => [m.id, m.repositoryId]));
  for (const r of snapshot.references) {
    if (r.kind !== "blob" || doomed.has(r.manifestId)) continue;
    const repo = repoOf.get(r.manifestId);
    if (repo !== undefined) referenced.add(`${repo} ${r.digest}`);
  }
  // The trash keeps the blobs of what it holds, and the links of repositories that exist.
  const trashed = new Set<string>();
  const linked = new Set<string>();
  for (const t of snapshot.trashReferences) {
    if (t.kind !== "blob") continue;
    trashed.add(`${t.repository} ${t.digest}`);
    linked.add(t.digest);
  }
  const links: GcPlan["links"] = [];
  for (const l of snapshot.links) {
    if (
      l.createdAt < options.cutoff &&
      !referenced.has(`${l.repositoryId} ${l.digest}`) &&
      !trashed.has(`${l.repository} ${l.digest}`)
    ) {
      links.push({ repositoryId: l.repositoryId, repository: l.repository, digest: l.digest });
    } else linked.add(l.digest);
  }
  const blobs = snapshot.blobs
    .filter(
      (b) =>
        !linked.has(b.digest) &&
        (b.deletingAt !== null || b.pinnedUntil === null || b.pinnedUntil <= options.now),
    )
    .map((b) => ({ digest: b.digest, size: b.size }));
  return { manifests: ordered, links, blobs };
}

/** Runs one garbage collection (or a dry run); idempotent, safe to run after a crash. */
export async function collectGarbage(
  db: Kysely<Database>,
  store: BlobStore,
  options: GcOptions,
): Promise<GcReport> {
  const now = options.now ?? Date.now();
  const cutoff = now - options.graceMs;
  const dryRun = options.dryRun === true;
  const deleteUntagged = options.deleteUntagged === true;
  const batchSize = Math.max(1, options.batchSize ?? SWEEP_BATCH);
  const pause = options.pauseAt ?? (async () => {});
  const started = performance.now();
  const elapsed = () => `${Math.round(performance.now() - started)} ms`;
  const log = (message: string) => options.log?.(`${message} (${elapsed()})`);
  const check = () => options.signal?.throwIfAborted();
  const report: GcReport = {
    dryRun,
    deleteUntagged,
    manifests: 0,
    links: 0,
    blobs: 0,
    bytesFreed: 0,
    kept: 0,
    items: { manifests: [], blobs: [] },
  };

  const removeClaimed = async (digest: string) => {
    await removeBytes(store, digest);
    await pause("bytes-removed", digest); // inside the sweep transaction, row not yet gone
  };
  const finish: BatchDeletion<{ digest: string }> = {
    all: (trx, blobs) =>
      finishBlobDeletions(
        trx,
        blobs.map((b) => b.digest),
        removeClaimed,
      ),
    one: (trx, { digest }) => finishBlobDeletionIn(trx, digest, () => removeClaimed(digest)),
  };

  if (!dryRun) {
    // Claims a GC that died left behind: finish them first.
    const leftover = (await claimedBlobs(db, 10_000)).map((digest) => ({ digest }));
    for (const batch of batches(leftover, batchSize)) {
      await sweepBatch(db, batch, finish, { before: async () => check(), after: () => {} });
    }
  }
  const plan = planGc(await readGcSnapshot(db), { cutoff, now, deleteUntagged });
  log(
    `planned: ${plan.manifests.length} manifests, ${plan.links.length} links, ${plan.blobs.length} blobs`,
  );
  await pause("planned", "");

  if (dryRun) {
    report.manifests = plan.manifests.length;
    report.links = plan.links.length;
    report.blobs = plan.blobs.length;
    report.bytesFreed =
      plan.blobs.reduce((t, b) => t + b.size, 0) + plan.manifests.reduce((t, m) => t + m.size, 0);
    report.items.manifests = plan.manifests
      .slice(0, LISTED)
      .map((m) => `${m.repository}@${m.digest}`);
    report.items.blobs = plan.blobs.slice(0, LISTED).map((b) => b.digest);
    return report;
  }

  let done = 0;
  for (const batch of batches(plan.manifests, batchSize)) {
    await sweepBatch(
      db,
      batch,
      {
        all: async (trx, manifests) => {
          const outcomes: GcOutcome[] = [];
          for (const m of manifests) {
            outcomes.push(await deleteManifestIfCollectable(trx, m.id, cutoff, GC_ACTOR, "skip"));
          }
          return outcomes;
        },
        one: (trx, m) => deleteManifestIfCollectable(trx, m.id, cutoff, GC_ACTOR, "wait"),
      },
      {
        before: async (m) => {
          check();
          await pause("before-manifest", `${m.repository}@${m.digest}`);
        },
        after: (m, deleted) => {
          if (deleted) {
            options.onManifestDeleted?.(m.repository, m.digest);
            report.manifests++;
            report.bytesFreed += m.size;
            if (report.items.manifests.length < LISTED)
              report.items.manifests.push(`${m.repository}@${m.digest}`);
          } else report.kept++;
          options.progress?.({ phase: "manifests", done: ++done, total: plan.manifests.length });
        },
      },
    );
  }
  if (plan.manifests.length > 0) log(`deleted ${report.manifests} untagged manifests`);

  done = 0;
  for (const batch of batches(plan.links, batchSize)) {
    await sweepBatch(
      db,
      batch,
      {
        all: (trx, links) => deleteLinksIfUnreferenced(trx, links, cutoff),
        one: (trx, l) => deleteLinkIfUnreferenced(trx, l.repositoryId, l.digest, cutoff),
      },
      {
        before: async (l) => {
          check();
          await pause("before-link", `${l.repository}@${l.digest}`);
        },
        after: (_l, deleted) => {
          if (deleted) report.links++;
          else report.kept++;
          options.progress?.({ phase: "links", done: ++done, total: plan.links.length });
        },
      },
    );
  }
  log(`removed ${report.links} unreferenced repository links`);

  // The plan counts blobs whose only links were planned too; each claim re-checks live.
  done = 0;
  for (const batch of batches(plan.blobs, batchSize)) {
    const claimed: GcPlan["blobs"] = [];
    await sweepBatch(
      db,
      batch,
      {
        all: (trx, blobs) =>
          claimBlobsForDeletion(
            trx,
            blobs.map((b) => b.digest),
            Date.now(),
          ),
        one: (trx, b) => claimBlobForDeletion(trx, b.digest, Date.now()),
      },
      {
        before: async (b) => {
          check();
          await pause("before-claim", b.digest);
        },
        after: (b, ok) => {
          if (ok) claimed.push(b);
          else report.kept++;
        },
      },
    );
    for (const b of claimed) await pause("claimed", b.digest);
    await sweepBatch(db, claimed, finish, {
      before: async () => {},
      after: async ({ digest, size }, deleted) => {
        if (deleted) {
          report.blobs++;
          report.bytesFreed += size;
          if (report.items.blobs.length < LISTED) report.items.blobs.push(digest);
        }
        await pause("finished", digest);
        options.progress?.({ phase: "blobs", done: ++done, total: plan.blobs.length });
      },
    });
  }
  log(`deleted ${report.blobs} blobs, ${report.bytesFreed} bytes freed`);
  return report;
}

/** Items per sweep transaction: one commit per batch, short enough that a push waiting for
 * the database meanwhile waits milliseconds, not seconds. */
const SWEEP_BATCH = 500;

function* batches<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** How one phase deletes: a whole batch in one transaction, or one item found busy. */
interface BatchDeletion<T> {
  /** One outcome per item, in order; `busy` for a row another transaction holds. */
  all: (trx: Kysely<Database>, items: readonly T[]) => Promise<GcOutcome[]>;
  /** One item alone, waiting for its lock. */
  one: (trx: Kysely<Database>, item: T) => Promise<GcOutcome>;
}

/**
 * Deletes one batch: `before` for each item (the abort check and pause points), then one
 * transaction over the batch (PostgreSQL: SKIP LOCKED), then each item found locked alone
 * in its own transaction (waiting for the lock), then `after` with each item's result in
 * order. Yields to the event loop afterwards, so requests queued meanwhile run first.
 */
async function sweepBatch<T>(
  db: Kysely<Database>,
  batch: readonly T[],
  deletion: BatchDeletion<T>,
  hooks: {
    before: (item: T) => Promise<void>;
    after: (item: T, deleted: boolean) => void | Promise<void>;
  },
): Promise<void> {
  if (batch.length === 0) return;
  for (const item of batch) await hooks.before(item);
  const outcomes = await db.transaction().execute((trx) => deletion.all(trx, batch));
  for (const [i, item] of batch.entries()) {
    let outcome = outcomes[i];
    if (outcome === "busy") {
      outcome = await db.transaction().execute((trx) => deletion.one(trx, item));
    }
    await hooks.after(item, outcome === "deleted");
  }
  await yieldToEventLoop();
}

async function removeBytes(store: BlobStore, digest: string): Promise<void> {
  await store.delete(digest);
}
