// The rpm cataloger: installed packages from any of the three rpm database formats —
// sqlite (`rpmdb.sqlite`), ndb (`Packages.db`) and Berkeley DB hash (`Packages`) — found in
// `/var/lib/rpm/` or `/usr/lib/sysimage/rpm/`. The format is judged from the bytes, not the
// name. Pure: parses bytes it is given.
import type { OsPackageDraft } from "../draft.js";
import { isBdbHashDatabase, readBdbRpmBlobs } from "./bdb.js";
import { parseRpmHeader, rpmDraft } from "./header.js";
import { isNdbDatabase, readNdbRpmBlobs } from "./ndb.js";
import { isSqliteDatabase, readSqliteRpmBlobs } from "./sqlite.js";

const RPM_DB_DIRS = ["var/lib/rpm/", "usr/lib/sysimage/rpm/"];
const RPM_DB_FILES = new Set(["rpmdb.sqlite", "Packages.db", "Packages"]);

export function wantsRpmDb(path: string): boolean {
  const dir = RPM_DB_DIRS.find((d) => path.startsWith(d));
  return dir !== undefined && RPM_DB_FILES.has(path.slice(dir.length));
}

export function parseRpmDb(bytes: Buffer, location: string): OsPackageDraft[] {
  const blobs = headerBlobs(bytes);
  const out: OsPackageDraft[] = [];
  for (const blob of blobs) {
    const draft = rpmDraft(parseRpmHeader(blob), location);
    if (draft) out.push(draft);
  }
  return out;
}

function headerBlobs(bytes: Buffer): Uint8Array[] {
  if (isSqliteDatabase(bytes)) return readSqliteRpmBlobs(bytes);
  if (isNdbDatabase(bytes)) return readNdbRpmBlobs(bytes);
  if (isBdbHashDatabase(bytes)) return readBdbRpmBlobs(bytes);
  return [];
}
