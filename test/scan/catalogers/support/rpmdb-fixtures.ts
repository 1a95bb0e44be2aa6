// Real rpm databases for the rpm cataloger tests. Builds three tiny packages with the real
// `rpmbuild` (one with an epoch, one noarch subpackage whose source rpm has another name)
// and installs them (`rpm -i --justdb`) into a sqlite rpmdb made by the real `rpm`. Debian's
// rpm writes only sqlite, so the ndb (`Packages.db`) and Berkeley DB hash (`Packages`)
// files are written here from the very header blobs real rpm stored, following each
// format's layout; the Berkeley DB one is read back by rpm's own `bdb_ro` backend to prove
// it is a valid database. Cached under test/.work/scan-rpmdb/.
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import Database from "better-sqlite3";
import { WORK_DIR } from "../../../support/debian-image.js";
import { withFileLock } from "../../../support/file-lock.js";
import { runOk } from "../../../support/process-control.js";
import { ensureTools, type RequiredTool } from "../../../support/tools.js";

/** Installed by scripts/install-test-deps.sh when missing; the build fails loudly without. */
const TOOLS: RequiredTool[] = [
  { command: "rpm", debianPackage: "rpm", usedFor: "real rpm databases for the rpm cataloger" },
  { command: "rpmbuild", debianPackage: "rpm", usedFor: "rpm packages for the rpm cataloger" },
];

const CACHE = join(WORK_DIR, "scan-rpmdb");
/** rpm and rpmbuild are stopped (by PID) if they hang. */
const TIMEOUT = { timeoutMs: 300_000 };

const SPEC = `Name: berth-tools
Version: 1.2.3
Release: 4.el9
Epoch: 2
Summary: Berth cataloger fixture
License: MIT and BSD
%description
Fixture.
%package -n berth-data
Summary: Berth fixture data
License: Apache-2.0
BuildArch: noarch
%description -n berth-data
Fixture data.
%files
%files -n berth-data
`;

const SPEC2 = `Name: zlib-fixture
Version: 1.2.11
Release: 40.el9
Summary: Second fixture
License: zlib
%description
Fixture.
%files
`;

export interface RpmDbFixtures {
  sqlite: Buffer;
  ndb: Buffer;
  bdb: Buffer;
  /** `rpm -qa` on the sqlite database: NAME EPOCH VERSION RELEASE ARCH SOURCERPM LICENSE. */
  expected: string[];
  /** Same query answered by rpm's bdb_ro backend on the Berkeley DB file written here. */
  bdbQueriedByRpm: string[];
}

const QUERY_FORMAT = "%{NAME}|%{EPOCH}|%{VERSION}|%{RELEASE}|%{ARCH}|%{SOURCERPM}|%{LICENSE}\\n";

export async function rpmDbFixtures(): Promise<RpmDbFixtures> {
  const ready = join(CACHE, "ready.json");
  if (!existsSync(ready)) {
    await mkdir(WORK_DIR, { recursive: true });
    await withFileLock(`${CACHE}.lock`, async () => {
      if (!existsSync(ready)) await build();
    });
  }
  const meta = JSON.parse(await readFile(ready, "utf8")) as { expected: string[]; bdb: string[] };
  return {
    sqlite: await readFile(join(CACHE, "sqlite", "rpmdb.sqlite")),
    ndb: await readFile(join(CACHE, "Packages.db")),
    bdb: await readFile(join(CACHE, "bdb", "Packages")),
    expected: meta.expected,
    bdbQueriedByRpm: meta.bdb,
  };
}

async function build(): Promise<void> {
  await ensureTools(TOOLS);
  await rm(CACHE, { recursive: true, force: true });
  const top = join(CACHE, "rpmbuild");
  await mkdir(top, { recursive: true });
  const specs = [join(CACHE, "tools.spec"), join(CACHE, "zlib.spec")];
  await writeFile(specs[0] as string, SPEC);
  await writeFile(specs[1] as string, SPEC2);
  for (const spec of specs) {
    await runOk("rpmbuild", ["-bb", "--quiet", "--define", `_topdir ${top}`, spec], TIMEOUT);
  }
  const rpms = (await runOk("find", [join(top, "RPMS"), "-name", "*.rpm"])).stdout
    .trim()
    .split("\n")
    .sort();
  const sqliteDir = join(CACHE, "sqlite");
  await mkdir(sqliteDir, { recursive: true });
  const rpmArgs = ["--dbpath", sqliteDir, "--define", "_db_backend sqlite"];
  await runOk("rpm", ["--initdb", ...rpmArgs], TIMEOUT);
  await runOk("rpm", ["-i", "--justdb", "--nodeps", "--nosignature", ...rpmArgs, ...rpms], TIMEOUT);
  // Fold the WAL into the main file, as rpm does when it closes the database for good.
  const db = new Database(join(sqliteDir, "rpmdb.sqlite"));
  db.pragma("wal_checkpoint(TRUNCATE)");
  const blobs = (
    db.prepare("SELECT hnum, blob FROM Packages ORDER BY hnum").all() as {
      hnum: number;
      blob: Buffer;
    }[]
  ).map((r) => ({ id: r.hnum, blob: r.blob }));
  db.close();
  const expected = await query(rpmArgs);
  await writeFile(join(CACHE, "Packages.db"), writeNdb(blobs));
  const bdbDir = join(CACHE, "bdb");
  await mkdir(bdbDir, { recursive: true });
  await writeFile(join(bdbDir, "Packages"), writeBdbHash(blobs));
  const bdb = await query(["--dbpath", bdbDir, "--define", "_db_backend bdb_ro"]);
  await writeFile(join(CACHE, "ready.json"), JSON.stringify({ expected, bdb }));
}

async function query(args: string[]): Promise<string[]> {
  const { stdout } = await runOk("rpm", ["-qa", "--qf", QUERY_FORMAT, ...args], TIMEOUT);
  return stdout
    .trim()
    .split("\n")
    .filter((l) => l !== "")
    .sort();
}

/** rpm's ndb `Packages.db`: header, one slot page, blobs in 16-byte blocks (see ndb.ts). */
export function writeNdb(blobs: { id: number; blob: Buffer }[]): Buffer {
  const SLOT_PAGE = 4096;
  const parts: Buffer[] = [];
  const slots = Buffer.alloc(SLOT_PAGE);
  slots.write("RpmP", 0, "latin1");
  slots.writeUInt32LE(0, 4);
  slots.writeUInt32LE(1, 8);
  slots.writeUInt32LE(1, 12);
  let block = SLOT_PAGE / 16;
  for (let slot = 2; slot < SLOT_PAGE / 16; slot++) slots.write("Slot", slot * 16, "latin1");
  for (const [i, { id, blob }] of blobs.entries()) {
    const head = Buffer.alloc(16);
    head.write("BlbS", 0, "latin1");
    head.writeUInt32LE(id, 4);
    head.writeUInt32LE(0, 8);
    head.writeUInt32LE(blob.length, 12);
    const tail = Buffer.alloc(12);
    tail.write("BlbE", 0, "latin1");
    tail.writeUInt32LE(blob.length, 8);
    const body = Buffer.concat([head, blob, tail]);
    const padded = Buffer.concat([body, Buffer.alloc((16 - (body.length % 16)) % 16)]);
    const at = (2 + i) * 16;
    slots.writeUInt32LE(id, at + 4);
    slots.writeUInt32LE(block, at + 8);
    slots.writeUInt32LE(padded.length / 16, at + 12);
    parts.push(padded);
    block += padded.length / 16;
  }
  return Buffer.concat([slots, ...parts]);
}

/**
 * A Berkeley DB (v9) hash database with one bucket: page 0 metadata, page 1 the bucket's
 * hash page (key: package number, value: off-page item), then overflow page chains.
 */
export function writeBdbHash(blobs: { id: number; blob: Buffer }[], pageSize = 4096): Buffer {
  const HEADER = 26;
  const pages: Buffer[] = [Buffer.alloc(pageSize), Buffer.alloc(pageSize)];
  const bucket = pages[1] as Buffer;
  const items: Buffer[] = [];
  for (const { id, blob } of blobs) {
    const firstPage = pages.length;
    const perPage = pageSize - HEADER;
    const count = Math.ceil(blob.length / perPage);
    for (let i = 0; i < count; i++) {
      const page = Buffer.alloc(pageSize);
      const chunk = blob.subarray(i * perPage, (i + 1) * perPage);
      const no = pages.length;
      page.writeUInt32LE(no, 8);
      page.writeUInt32LE(i === 0 ? 0 : no - 1, 12);
      page.writeUInt32LE(i === count - 1 ? 0 : no + 1, 16);
      page.writeUInt16LE(1, 20);
      page.writeUInt16LE(chunk.length, 22);
      page[25] = 7;
      chunk.copy(page, HEADER);
      pages.push(page);
    }
    const key = Buffer.alloc(5);
    key[0] = 1;
    key.writeUInt32LE(id, 1);
    const value = Buffer.alloc(12);
    value[0] = 3;
    value.writeUInt32LE(firstPage, 4);
    value.writeUInt32LE(blob.length, 8);
    items.push(key, value);
  }
  let free = pageSize;
  for (const [i, item] of items.entries()) {
    free -= item.length;
    item.copy(bucket, free);
    bucket.writeUInt16LE(free, HEADER + i * 2);
  }
  bucket.writeUInt32LE(1, 8);
  bucket.writeUInt16LE(items.length, 20);
  bucket.writeUInt16LE(free, 22);
  bucket[25] = 13;
  const meta = pages[0] as Buffer;
  meta.writeUInt32LE(0x061561, 12);
  meta.writeUInt32LE(9, 16);
  meta.writeUInt32LE(pageSize, 20);
  meta[25] = 8;
  meta.writeUInt32LE(pages.length - 1, 32);
  meta.writeUInt32LE(0, 72); // max_bucket
  meta.writeUInt32LE(0, 76); // high_mask
  meta.writeUInt32LE(0, 80); // low_mask
  meta.writeUInt32LE(blobs.length, 88); // nelem
  meta.writeUInt32LE(1, 96); // spares[0]: bucket 0 lives on page 0 + 1
  return Buffer.concat(pages);
}
