// The registry server's vulnerability database: the one place the server opens it. It lives in
// `scan.dbDir` (BERTH_DB_DIR, the variable the CLI reads too; default DATA/vulndb) as the same
// OSV SQLite file `berth db import` writes (replaced by an atomic rename, so a reader never
// sees half a database). Each scan opens its own read-only handle (cheap), so an update is
// picked up by the next scan without any locking; `info()` names the database's version (a
// digest of its per-ecosystem record counts, newest record and import times: it changes
// exactly when the content does) and its time (the newest import), which every report stores,
// so rescans know what is out of date. `reload()` drops the cached info: whoever updates the
// database in-process (`scan.dbRepository` updates) calls it, then rescans follow.
// Never: write to the database, or hold a handle across scans.
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import { dbFilePath } from "./osv/location.js";
import { NoDatabaseError, OsvStore } from "./osv/store.js";

export { NoDatabaseError } from "./osv/store.js";

export interface VulnerabilityDbInfo {
  readonly dir: string;
  /** Changes whenever the database's content does. */
  readonly version: string;
  /** The newest import (ISO), or null when unknown. */
  readonly updatedAt: string | null;
  readonly totalRecords: number;
  readonly ecosystems: readonly { ecosystem: string; records: number }[];
}

export class ServerVulnerabilityDb {
  private cached: { key: string; info: VulnerabilityDbInfo } | undefined;

  constructor(readonly dir: string) {}

  /** The database's identity, or undefined when there is none yet. */
  info(): VulnerabilityDbInfo | undefined {
    const key = this.fileKey();
    if (key === undefined) return undefined;
    if (this.cached?.key === key) return this.cached.info;
    const store = OsvStore.open(this.dir);
    try {
      const status = store.status();
      const hash = createHash("sha256").update(
        JSON.stringify([
          status.schemaVersion,
          status.totalRecords,
          status.ecosystems.map((e) => [
            e.ecosystem,
            e.records,
            e.withdrawn,
            e.newestModified,
            e.importedAt,
            e.source,
          ]),
        ]),
      );
      const imports = status.ecosystems
        .map((e) => e.importedAt)
        .filter((t): t is string => t !== null)
        .sort();
      const info: VulnerabilityDbInfo = {
        dir: this.dir,
        version: `sha256:${hash.digest("hex").slice(0, 32)}`,
        updatedAt: imports.at(-1) ?? null,
        totalRecords: status.totalRecords,
        ecosystems: status.ecosystems.map((e) => ({ ecosystem: e.ecosystem, records: e.records })),
      };
      this.cached = { key, info };
      return info;
    } finally {
      store.close();
    }
  }

  /** Opens a read-only handle for one scan; throws NoDatabaseError when there is no database. */
  open(): { store: OsvStore; info: VulnerabilityDbInfo } {
    const info = this.info();
    if (!info) {
      throw new NoDatabaseError(
        `no vulnerability database in ${this.dir} (scan.dbDir): import one with "berth db import --db-dir ${this.dir} FILE.zip|DIR"`,
      );
    }
    return { store: OsvStore.open(this.dir), info };
  }

  /** Forget what is known about the database (call after replacing it in-process). */
  reload(): VulnerabilityDbInfo | undefined {
    this.cached = undefined;
    return this.info();
  }

  /** The file's identity: a rename-into-place changes the inode, an edit the mtime. */
  private fileKey(): string | undefined {
    try {
      const s = statSync(dbFilePath(this.dir));
      return `${s.ino}:${s.mtimeMs}:${s.size}`;
    } catch {
      return undefined;
    }
  }
}
