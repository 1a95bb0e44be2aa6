// fsck and the scheduled scrub (job kind `fsck`; docs/lifecycle.md): checks that every blob's
// bytes hash to their name and that every metadata row points at what exists, while the
// registry keeps serving; with `repair`, does only what is safe and reports each action.
//
// Checks, over the BlobStore interface only (listBlobs, read, stat, listUploads), so any
// driver works:
// - corrupt-blob: bytes that do not hash to their digest (or whose size differs from the
//   row). Streamed through the hash; never buffered.
// - missing-bytes: a blob row without bytes (rows GC claimed and rows pinned by an upload in
//   flight are skipped: both are expected to have no bytes for a moment).
// - orphan-bytes: bytes without a row.
// - dangling-link / dangling-tag: a link or tag pointing at a row that does not exist.
// - manifest-missing-blob / index-missing-child: a manifest referencing a blob its
//   repository does not hold, or an index listing a manifest that is not in the repository.
// - corrupt-manifest: stored manifest bytes that do not hash to the manifest's digest.
// - orphan-upload: upload bytes with no upload session, untouched for an hour.
// Every store-versus-metadata finding is re-checked live before it is reported, so a GC or
// upload that finished during the run is not reported as damage.
//
// Repairs (`repair: true`):
// - corrupt-blob: the blob's links are dropped and its bytes moved into quarantine (out of
//   the content-addressed namespace, kept for inspection), then its row deleted, through
//   GC's claim protocol. The manifests that referenced it are reported as broken: a client
//   pushing the image again uploads the blob again (HEAD now answers 404).
// - missing-bytes: the same without the move.
// - orphan-bytes: removed under a claim (a row inserted already claimed), as GC would.
// - orphan-upload: removed.
// Never repaired, only reported: manifests, tags, index children (people decide those).
// Never: assume a filesystem, hold a blob in memory, or delete bytes without a claim.
import { createHash } from "node:crypto";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Kysely } from "kysely";
import {
  claimBadBlob,
  claimOrphanBytes,
  type Database,
  finishBlobDeletion,
  fsckBlobRow,
  fsckBlobRows,
  fsckDanglingLinks,
  fsckDanglingTags,
  fsckIndexesMissingChildren,
  fsckManifestPage,
  fsckManifestsMissingBlobs,
  fsckUploadSessionIds,
  manifestsReferencingBlob,
} from "../meta/index.js";
import { BlobNotFoundError, type BlobStore } from "../storage/index.js";

export const FSCK_JOB_KIND = "fsck";

/** Upload bytes with no session are orphans once untouched this long. */
export const ORPHAN_UPLOAD_AGE_MS = 3600_000;

export type FsckProblemKind =
  | "corrupt-blob"
  | "missing-bytes"
  | "orphan-bytes"
  | "dangling-link"
  | "dangling-tag"
  | "manifest-missing-blob"
  | "index-missing-child"
  | "corrupt-manifest"
  | "orphan-upload";

export interface FsckProblem {
  kind: FsckProblemKind;
  /** What is wrong: a digest, `repository@digest`, `repository:tag` or an upload id. */
  subject: string;
  message: string;
}

export interface FsckAction {
  action: "quarantined" | "forgot-row" | "removed-orphan-bytes" | "removed-upload";
  subject: string;
  /** Manifests (`repository@digest`) left without this blob: push them again to heal. */
  brokenManifests: string[];
}

export interface FsckPayload {
  repair?: boolean;
}

export interface FsckReport {
  repair: boolean;
  clean: boolean;
  blobsChecked: number;
  bytesChecked: number;
  manifestsChecked: number;
  /** Count per problem kind (all of them, even past the listed ones). */
  counts: Partial<Record<FsckProblemKind, number>>;
  /** At most 1,000 problems. */
  problems: FsckProblem[];
  /** Repairs done, at most 1,000. */
  actions: FsckAction[];
}

export interface FsckOptions extends FsckPayload {
  signal?: AbortSignal;
  progress?: (p: { phase: string; done: number; total: number; bytes?: number }) => void;
  log?: (message: string) => void;
  now?: () => number;
}

const LISTED = 1000;
const MANIFEST_PAGE = 200;

/** Runs one check (and, with `repair`, the safe repairs). Never throws for findings. */
export async function checkStore(
  db: Kysely<Database>,
  store: BlobStore,
  options: FsckOptions = {},
): Promise<FsckReport> {
  const now = options.now ?? Date.now;
  const repair = options.repair === true;
  const log = options.log ?? (() => {});
  const check = () => options.signal?.throwIfAborted();
  const report: FsckReport = {
    repair,
    clean: true,
    blobsChecked: 0,
    bytesChecked: 0,
    manifestsChecked: 0,
    counts: {},
    problems: [],
    actions: [],
  };
  const problem = (kind: FsckProblemKind, subject: string, message: string) => {
    report.clean = false;
    report.counts[kind] = (report.counts[kind] ?? 0) + 1;
    if (report.problems.length < LISTED) report.problems.push({ kind, subject, message });
  };
  const act = (action: FsckAction) => {
    log(`${action.action} ${action.subject}`);
    if (report.actions.length < LISTED) report.actions.push(action);
  };

  // Bytes: listed first, rows read after, so a row created meanwhile is seen.
  const stored: { digest: string; size: number }[] = [];
  for await (const blob of store.listBlobs()) {
    check();
    stored.push(blob);
  }
  const rows = new Map((await fsckBlobRows(db)).map((r) => [r.digest, r]));
  log(`checking ${stored.length} stored blobs against ${rows.size} rows`);

  let done = 0;
  for (const blob of stored) {
    check();
    const row = rows.get(blob.digest) ?? (await fsckBlobRow(db, blob.digest));
    const outcome = await hashBlob(store, blob.digest);
    options.progress?.({
      phase: "blobs",
      done: ++done,
      total: stored.length,
      bytes: report.bytesChecked,
    });
    if (outcome === "gone") continue; // GC removed it meanwhile
    report.blobsChecked++;
    report.bytesChecked += outcome.size;
    if (!row) {
      if (!(await stillOrphan(db, store, blob.digest))) continue;
      problem("orphan-bytes", blob.digest, "bytes in storage that no blob row describes");
      if (repair && (await claimOrphanBytes(db, blob.digest, blob.size, now()))) {
        await finishBlobDeletion(db, blob.digest, async () => {
          await store.delete(blob.digest);
        });
        act({ action: "removed-orphan-bytes", subject: blob.digest, brokenManifests: [] });
      }
      continue;
    }
    const wrongSize = row.deletingAt === null && row.size !== outcome.size;
    if (outcome.digest === blob.digest && !wrongSize) continue;
    if (row.deletingAt !== null) continue; // GC is removing it anyway
    problem(
      "corrupt-blob",
      blob.digest,
      outcome.digest !== blob.digest
        ? `bytes hash to ${outcome.digest}`
        : `${outcome.size} bytes stored, the row says ${row.size}`,
    );
    if (repair) await removeBadBlob(db, store, blob.digest, "quarantined", now(), act);
  }

  // Rows without bytes (re-checked live: an upload or GC may have moved on).
  const listed = new Set(stored.map((b) => b.digest));
  for (const row of rows.values()) {
    check();
    if (listed.has(row.digest)) continue;
    const live = await fsckBlobRow(db, row.digest);
    if (!live || live.deletingAt !== null) continue;
    if (live.pinnedUntil !== null && live.pinnedUntil > now()) continue;
    if (await store.stat(row.digest)) continue;
    problem("missing-bytes", row.digest, "a blob row whose bytes are not in storage");
    if (repair) await removeBadBlob(db, store, row.digest, "forgot-row", now(), act);
  }

  for (const l of await fsckDanglingLinks(db))
    problem("dangling-link", `${l.repository}@${l.digest}`, "a repository link to no blob row");
  for (const t of await fsckDanglingTags(db))
    problem("dangling-tag", `${t.repository}:${t.tag}`, "a tag pointing at no manifest");
  for (const r of await fsckManifestsMissingBlobs(db))
    problem(
      "manifest-missing-blob",
      `${r.repository}@${r.manifest}`,
      `references blob ${r.digest}, which the repository does not hold`,
    );
  for (const r of await fsckIndexesMissingChildren(db))
    problem(
      "index-missing-child",
      `${r.repository}@${r.manifest}`,
      `lists manifest ${r.digest}, which is not in the repository`,
    );

  let afterId = 0;
  for (;;) {
    check();
    const page = await fsckManifestPage(db, afterId, MANIFEST_PAGE);
    if (page.length === 0) break;
    for (const m of page) {
      report.manifestsChecked++;
      const actual = digestOfBytes(m.digest, m.content);
      if (actual !== m.digest)
        problem(
          "corrupt-manifest",
          `${m.repository}@${m.digest}`,
          `stored bytes hash to ${actual}`,
        );
    }
    afterId = page[page.length - 1]!.id;
    options.progress?.({ phase: "manifests", done: report.manifestsChecked, total: 0 });
  }

  const sessions = await fsckUploadSessionIds(db);
  for (const upload of await store.listUploads()) {
    if (sessions.has(upload.id) || now() - upload.modifiedAt < ORPHAN_UPLOAD_AGE_MS) continue;
    problem("orphan-upload", upload.id, "upload bytes with no upload session");
    if (repair) {
      await store.deleteUpload(upload.id);
      act({ action: "removed-upload", subject: upload.id, brokenManifests: [] });
    }
  }
  log(
    report.clean
      ? `clean: ${report.blobsChecked} blobs (${report.bytesChecked} bytes), ${report.manifestsChecked} manifests`
      : `problems: ${JSON.stringify(report.counts)}`,
  );
  return report;
}

/** Drops a bad blob's links and row; moves its bytes to quarantine ("quarantined"). */
async function removeBadBlob(
  db: Kysely<Database>,
  store: BlobStore,
  digest: string,
  action: "quarantined" | "forgot-row",
  now: number,
  act: (a: FsckAction) => void,
): Promise<void> {
  const broken = await manifestsReferencingBlob(db, digest);
  if (!(await claimBadBlob(db, digest, now))) return;
  await finishBlobDeletion(db, digest, async () => {
    if (action === "quarantined") await store.quarantine(digest);
    else await store.delete(digest); // nothing there, unless it reappeared: then unlinked anyway
  });
  act({ action, subject: digest, brokenManifests: broken });
}

async function stillOrphan(db: Kysely<Database>, store: BlobStore, digest: string) {
  return (await fsckBlobRow(db, digest)) === undefined && (await store.stat(digest)) !== undefined;
}

type HashOutcome = { digest: string; size: number } | "gone";

/** Streams the blob through the hash of its digest's algorithm. */
async function hashBlob(store: BlobStore, digest: string): Promise<HashOutcome> {
  const algorithm = digest.slice(0, digest.indexOf(":"));
  const hash = createHash(algorithm);
  let size = 0;
  try {
    const source = await store.read(digest);
    await pipeline(
      source,
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          size += chunk.length;
          callback();
        },
      }),
    );
  } catch (err) {
    if (err instanceof BlobNotFoundError || (err as NodeJS.ErrnoException).code === "ENOENT")
      return "gone";
    throw err;
  }
  return { digest: `${algorithm}:${hash.digest("hex")}`, size };
}

function digestOfBytes(digest: string, bytes: Buffer): string {
  const algorithm = digest.slice(0, digest.indexOf(":"));
  if (algorithm !== "sha256" && algorithm !== "sha512") return digest; // not ours to judge
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}
