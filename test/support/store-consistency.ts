// The end-state consistency check of a stopped Berth's data directory (filesystem blobs,
// SQLite metadata), for soak and crash tests until `berth admin fsck` exists (the lead adds an
// fsck call beside this at merge): every blob file hashes to its name; every blob a manifest
// references has a row and bytes of the row's size; every row has its bytes and no claim or
// upload pin is left; no file lacks a row; and the bytes of the blob files (what `du -b`
// counts for them) equal the sum of the referenced blobs' sizes, which holds after a final
// GC with grace 0. Returns the problems found, one sentence each.
// Read-only: it must never modify the data directory (the database is opened read-only), and
// must only be run while no server uses the directory.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import Database from "better-sqlite3";
import { verifyStoredBlobs } from "./blob-integrity.js";

export interface StoreConsistency {
  /** Blob files found under blobs/ (each rehashed). */
  blobFiles: number;
  /** Sum of the blob files' sizes (apparent sizes, as `du -b` counts files). */
  diskBytes: number;
  /** Sum of the sizes of the distinct blobs the stored manifests reference. */
  referencedBytes: number;
  /** Everything wrong, one sentence each; empty when the store is consistent. */
  problems: string[];
}

interface BlobRow {
  digest: string;
  size: number;
  deleting_at: number | null;
  pinned_until: number | null;
}

/** Checks `dataDir` (Berth's own layout: berth.db and blobs/<alg>/<xx>/<hex>). */
export async function checkStoreConsistency(
  dataDir: string,
  now = Date.now(),
): Promise<StoreConsistency> {
  const problems: string[] = [];
  const integrity = await verifyStoredBlobs(join(dataDir, "blobs"));
  for (const m of integrity.mismatches)
    problems.push(`blob file ${m.path} claims ${m.claimed} but hashes to ${m.actual}`);

  const db = new Database(join(dataDir, "berth.db"), { readonly: true, fileMustExist: true });
  let rows: BlobRow[];
  let referenced: string[];
  let danglingLinks: { repository: string; digest: string }[];
  try {
    rows = db
      .prepare("SELECT digest, size, deleting_at, pinned_until FROM blobs")
      .all() as BlobRow[];
    referenced = (
      db.prepare("SELECT DISTINCT digest FROM manifest_references WHERE kind = 'blob'").all() as {
        digest: string;
      }[]
    ).map((r) => r.digest);
    danglingLinks = db
      .prepare(
        `SELECT r.name AS repository, rb.digest AS digest FROM repository_blobs rb
         JOIN repositories r ON r.id = rb.repository_id
         LEFT JOIN blobs b ON b.digest = rb.digest WHERE b.digest IS NULL`,
      )
      .all() as { repository: string; digest: string }[];
  } finally {
    db.close();
  }

  const byDigest = new Map(rows.map((r) => [r.digest, r]));
  const sizes = new Map<string, number>();
  for (const digest of integrity.digests) {
    const size = (await stat(blobPath(dataDir, digest))).size;
    sizes.set(digest, size);
    if (!byDigest.has(digest)) problems.push(`blob file ${digest} has no row (an orphan)`);
  }
  for (const row of rows) {
    const size = sizes.get(row.digest);
    if (size === undefined) problems.push(`blob row ${row.digest} points at missing bytes`);
    else if (size !== Number(row.size))
      problems.push(`blob ${row.digest}: row says ${row.size} bytes, the file has ${size}`);
    if (row.deleting_at !== null) problems.push(`blob ${row.digest} is left claimed by a GC`);
    if (row.pinned_until !== null && Number(row.pinned_until) > now)
      problems.push(`blob ${row.digest} is left pinned by an upload`);
  }
  for (const l of danglingLinks)
    problems.push(`repository ${l.repository} links ${l.digest}, which has no row`);

  let referencedBytes = 0;
  for (const digest of referenced) {
    const size = sizes.get(digest);
    if (size === undefined) problems.push(`referenced blob ${digest} has no bytes`);
    else referencedBytes += size;
    if (!byDigest.has(digest)) problems.push(`referenced blob ${digest} has no row`);
  }
  const diskBytes = [...sizes.values()].reduce((t, n) => t + n, 0);
  if (diskBytes !== referencedBytes)
    problems.push(
      `the blob files hold ${diskBytes} bytes but the manifests reference ${referencedBytes}`,
    );
  return { blobFiles: integrity.checked, diskBytes, referencedBytes, problems };
}

function blobPath(dataDir: string, digest: string): string {
  const [algorithm, hex] = digest.split(":") as [string, string];
  return join(dataDir, "blobs", algorithm, hex.slice(0, 2), hex);
}
