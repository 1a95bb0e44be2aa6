// The local OSV database: one SQLite file (`osv.sqlite`) holding each record's JSON, indexed
// by (ecosystem, package name). Readers open it read-only; writers (import.ts) build a new
// file and rename it into place, so a reader never sees a half-written database.
import { existsSync } from "node:fs";
import Database from "better-sqlite3";
import { baseEcosystem } from "../versions/index.js";
import { dbFilePath } from "./location.js";
import { normalizePackageName, type OsvRecord } from "./record.js";

export const SCHEMA_VERSION = 1;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
  id TEXT PRIMARY KEY,
  modified TEXT NOT NULL,
  withdrawn INTEGER NOT NULL,
  json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS affected (
  ecosystem TEXT NOT NULL,
  release TEXT NOT NULL,
  name TEXT NOT NULL,
  record_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS affected_by_package ON affected (ecosystem, name);
CREATE INDEX IF NOT EXISTS affected_by_record ON affected (record_id);
CREATE TABLE IF NOT EXISTS imports (
  ecosystem TEXT PRIMARY KEY,
  imported_at TEXT NOT NULL,
  source TEXT NOT NULL
);
`;

export class NoDatabaseError extends Error {}

export interface EcosystemStatus {
  readonly ecosystem: string;
  readonly records: number;
  readonly withdrawn: number;
  readonly newestModified: string | null;
  readonly importedAt: string | null;
  readonly source: string | null;
}

export interface DbStatus {
  readonly path: string;
  readonly schemaVersion: number;
  readonly totalRecords: number;
  readonly ecosystems: readonly EcosystemStatus[];
}

/** Read-only access for scans: look up the records that name a package. */
export class OsvStore {
  private readonly db: Database.Database;
  private readonly byPackage: Database.Statement<[string, string], { json: string }>;
  private readonly cache = new Map<string, OsvRecord[]>();

  private constructor(readonly path: string) {
    this.db = new Database(path, { readonly: true, fileMustExist: true });
    const version = this.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
      | { value: string }
      | undefined;
    if (!version || Number(version.value) !== SCHEMA_VERSION) {
      this.db.close();
      throw new NoDatabaseError(
        `${path} is not a Berth vulnerability database (schema ${version?.value ?? "none"})`,
      );
    }
    this.byPackage = this.db.prepare(
      "SELECT DISTINCT r.json FROM affected a JOIN records r ON r.id = a.record_id WHERE a.ecosystem = ? AND a.name = ?",
    );
  }

  static open(dir: string): OsvStore {
    const path = dbFilePath(dir);
    if (!existsSync(path)) {
      throw new NoDatabaseError(
        `no vulnerability database in ${dir}: run "berth db import FILE.zip|DIR" (OSV records) first`,
      );
    }
    return new OsvStore(path);
  }

  /** Records with an affected entry for this package in this ecosystem (any release). */
  recordsFor(ecosystem: string, name: string): OsvRecord[] {
    const base = baseEcosystem(ecosystem);
    const key = `${base}\u0000${normalizePackageName(base, name)}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const rows = this.byPackage.all(base, normalizePackageName(base, name));
    const records = rows.map((r) => JSON.parse(r.json) as OsvRecord);
    this.cache.set(key, records);
    return records;
  }

  status(): DbStatus {
    return readStatus(this.db, this.path);
  }

  close(): void {
    this.db.close();
  }
}

export function readStatus(db: Database.Database, path: string): DbStatus {
  const rows = db
    .prepare(
      `SELECT a.ecosystem AS ecosystem, COUNT(DISTINCT a.record_id) AS records,
              COUNT(DISTINCT CASE WHEN r.withdrawn = 1 THEN r.id END) AS withdrawn,
              MAX(r.modified) AS newestModified, i.imported_at AS importedAt, i.source AS source
       FROM affected a JOIN records r ON r.id = a.record_id
       LEFT JOIN imports i ON i.ecosystem = a.ecosystem
       GROUP BY a.ecosystem ORDER BY a.ecosystem`,
    )
    .all() as EcosystemStatus[];
  const total = db.prepare("SELECT COUNT(*) AS n FROM records").get() as { n: number };
  return { path, schemaVersion: SCHEMA_VERSION, totalRecords: total.n, ecosystems: rows };
}
