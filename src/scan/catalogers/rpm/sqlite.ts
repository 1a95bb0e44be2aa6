// Reads header blobs from the sqlite rpm database (`rpmdb.sqlite`, rpm ≥ 4.16: Fedora 33+,
// RHEL 9 and its rebuilds): table `Packages(hnum, blob)`. The file's bytes are opened as an
// in-memory database (never written to disk). A database left in WAL mode is read as
// rollback-journal mode: rpm checkpoints on close, so the main file holds the packages.
import Database from "better-sqlite3";

const SQLITE_MAGIC = "SQLite format 3\u0000";

export function isSqliteDatabase(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(0, 16)).toString("latin1") === SQLITE_MAGIC;
}

export function readSqliteRpmBlobs(bytes: Buffer): Buffer[] {
  const image = Buffer.from(bytes);
  // Header bytes 18/19: file format write/read version; 2 means WAL, which an in-memory
  // (deserialized) database cannot use.
  if (image[18] === 2) image[18] = 1;
  if (image[19] === 2) image[19] = 1;
  const db = new Database(image, { readonly: true });
  try {
    const rows = db.prepare("SELECT blob FROM Packages ORDER BY hnum").all() as { blob: Buffer }[];
    return rows.map((row) => row.blob).filter((blob) => Buffer.isBuffer(blob));
  } finally {
    db.close();
  }
}
