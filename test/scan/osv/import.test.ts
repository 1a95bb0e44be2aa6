// The OSV database: import from directories and all.zip files (read by our own zip reader),
// incremental updates (newer `modified` wins), status, lookups, and atomicity: an import
// killed mid-way leaves the previous database intact and usable.
import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zipSync } from "fflate";
import { afterAll, describe, expect, it } from "vitest";
import { importOsv } from "../../../src/scan/osv/import.js";
import { dbFilePath, resolveDbDir } from "../../../src/scan/osv/location.js";
import { NoDatabaseError, OsvStore } from "../../../src/scan/osv/store.js";
import { readZip } from "../../../src/scan/osv/zip.js";
import { RECORDS_DIR } from "../fixtures.js";

const work = mkdtempSync(join(tmpdir(), "berth-osv-"));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children)
    if (c.pid && c.exitCode === null && c.signalCode === null) process.kill(c.pid, "SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

function fixtureZip(path: string, records: Record<string, unknown>[]): void {
  const files: Record<string, Uint8Array> = {};
  for (const r of records) files[`${r.id}.json`] = new TextEncoder().encode(JSON.stringify(r));
  writeFileSync(path, zipSync(files));
}

function realRecords(): Record<string, unknown>[] {
  return readdirSync(RECORDS_DIR).map((f) =>
    JSON.parse(readFileSync(join(RECORDS_DIR, f), "utf8")),
  );
}

describe("db location", () => {
  it("prefers --db-dir, then BERTH_DB_DIR, then XDG_CACHE_HOME", () => {
    expect(resolveDbDir("/x", { BERTH_DB_DIR: "/y" })).toBe("/x");
    expect(resolveDbDir(undefined, { BERTH_DB_DIR: "/y", XDG_CACHE_HOME: "/c" })).toBe("/y");
    expect(resolveDbDir(undefined, { XDG_CACHE_HOME: "/c" })).toBe("/c/berth/db");
  });
});

describe("zip reader", () => {
  it("reads stored and deflated entries and checks CRCs", async () => {
    const path = join(work, "small.zip");
    writeFileSync(
      path,
      zipSync({
        "a.json": [new TextEncoder().encode('{"a":1}'), { level: 0 }],
        "dir/b.json": new TextEncoder().encode("x".repeat(5000)),
      }),
    );
    const entries: Record<string, string> = {};
    for await (const e of readZip(path)) entries[e.name] = e.data.toString();
    expect(entries).toEqual({ "a.json": '{"a":1}', "dir/b.json": "x".repeat(5000) });
    const corrupt = readFileSync(path);
    corrupt[40] ^= 0xff; // inside the first entry's data
    writeFileSync(path, corrupt);
    await expect(async () => {
      for await (const _ of readZip(path)) void _;
    }).rejects.toThrow(/CRC|corrupt|invalid/i);
  });

  it("reads more than 65,535 entries even when the writer wrapped the 16-bit count", async () => {
    const path = join(work, "many.zip");
    const files: Record<string, [Uint8Array, { level: 0 }]> = {};
    for (let i = 0; i < 70_000; i++)
      files[`r${i}.json`] = [new Uint8Array([48 + (i % 10)]), { level: 0 }];
    writeFileSync(path, zipSync(files));
    let n = 0;
    let last = "";
    for await (const e of readZip(path)) {
      n++;
      last = `${e.name}=${e.data.toString()}`;
    }
    expect(n).toBe(70_000);
    expect(last).toBe("r69999.json=9");
  });

  it("rejects a file that is not a zip", async () => {
    const path = join(work, "not.zip");
    writeFileSync(path, "hello");
    await expect(async () => {
      for await (const _ of readZip(path)) void _;
    }).rejects.toThrow(/not a zip/);
  });
});

describe("import", () => {
  it("imports a directory, indexes by ecosystem and name, and reports status", async () => {
    const dir = join(work, "db-dir");
    const summary = await importOsv(dir, [RECORDS_DIR]);
    expect(summary.added).toBe(17);
    expect(summary.ecosystems).toEqual([
      "AlmaLinux",
      "Alpine",
      "Debian",
      "Go",
      "Maven",
      "NuGet",
      "Packagist",
      "PyPI",
      "RubyGems",
      "crates.io",
      "npm",
    ]);
    const store = OsvStore.open(dir);
    expect(store.recordsFor("Debian", "openssl").map((r) => r.id)).toEqual(["DLA-3008-1"]);
    expect(
      store
        .recordsFor("Debian", "vlc")
        .map((r) => r.id)
        .sort(),
    ).toEqual(["DSA-1543-1", "DSA-1819-1"]);
    expect(
      store
        .recordsFor("PyPI", "Requests")
        .map((r) => r.id)
        .sort(),
    ).toEqual(["GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"]);
    expect(store.recordsFor("npm", "left-pad")).toEqual([]);
    const status = store.status();
    expect(status.totalRecords).toBe(17);
    const npm = status.ecosystems.find((e) => e.ecosystem === "npm");
    expect(npm).toMatchObject({ records: 2, withdrawn: 0, newestModified: "2024-08-08T16:23:00Z" });
    const maven = status.ecosystems.find((e) => e.ecosystem === "Maven");
    expect(maven).toMatchObject({
      records: 2,
      withdrawn: 1,
      newestModified: "2024-07-25T20:12:08Z",
    });
    store.close();
  });

  it("is incremental: newer modified replaces, older or equal is ignored", async () => {
    const dir = join(work, "db-incr");
    const zip1 = join(work, "all1.zip");
    fixtureZip(zip1, realRecords());
    expect((await importOsv(dir, [zip1])).added).toBe(17);
    const again = await importOsv(dir, [zip1]);
    expect(again).toMatchObject({ added: 0, updated: 0, unchanged: 17 });
    const lodash = realRecords().find((r) => r.id === "GHSA-jf85-cpcp-j695")!;
    const newer = { ...lodash, modified: "2025-01-01T00:00:00Z", summary: "newer" };
    const older = { ...lodash, modified: "2001-01-01T00:00:00Z", summary: "older" };
    const zip2 = join(work, "all2.zip");
    fixtureZip(zip2, [newer]);
    expect(await importOsv(dir, [zip2])).toMatchObject({ added: 0, updated: 1, unchanged: 0 });
    const zip3 = join(work, "all3.zip");
    fixtureZip(zip3, [older]);
    expect(await importOsv(dir, [zip3])).toMatchObject({ updated: 0, unchanged: 1 });
    const store = OsvStore.open(dir);
    expect(store.recordsFor("npm", "lodash").find((r) => r.id === lodash.id)?.summary).toBe(
      "newer",
    );
    store.close();
  });

  it("skips invalid documents and says which", async () => {
    const dir = join(work, "db-invalid");
    const src = join(work, "invalid-src");
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, "bad.json"), "{not json");
    writeFileSync(join(src, "noid.json"), JSON.stringify({ modified: "2024-01-01T00:00:00Z" }));
    writeFileSync(join(src, "ok.json"), readFileSync(join(RECORDS_DIR, "DLA-3008-1.json")));
    const s = await importOsv(dir, [src]);
    expect(s).toMatchObject({ added: 1, invalid: 2 });
    expect(s.firstProblem).toMatch(/bad\.json: not valid JSON/);
  });

  it("says clearly when there is no database", () => {
    expect(() => OsvStore.open(join(work, "nothing-here"))).toThrow(NoDatabaseError);
    expect(() => OsvStore.open(join(work, "nothing-here"))).toThrow(/berth db import/);
  });

  it("leaves the previous database usable when an import is killed", async () => {
    const dir = join(work, "db-kill");
    await importOsv(dir, [RECORDS_DIR]);
    const before = readFileSync(dbFilePath(dir));
    // A big zip so the import takes a while: 60,000 generated npm records.
    const big = join(work, "big.zip");
    const template = realRecords().find((r) => r.id === "GHSA-jf85-cpcp-j695")!;
    const many: Record<string, unknown>[] = [];
    for (let i = 0; i < 60_000; i++) {
      many.push({
        ...template,
        id: `GHSA-gen-${i}`,
        affected: [
          {
            package: { ecosystem: "npm", name: `pkg-${i}` },
            ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "1.0.0" }] }],
          },
        ],
      });
    }
    fixtureZip(big, many);
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, "../../../bin/berth.js"), "db", "import", big, "--db-dir", dir],
      {
        env: { ...process.env },
        stdio: "ignore",
      },
    );
    children.push(child);
    const temp = join(dir, `.osv.sqlite.import-${child.pid}`);
    const deadline = Date.now() + 60_000;
    while (!existsSync(temp) && Date.now() < deadline && child.exitCode === null)
      await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(temp)).toBe(true);
    await new Promise((r) => setTimeout(r, 300)); // let it write part of the records
    process.kill(child.pid!, "SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect(readFileSync(dbFilePath(dir)).equals(before)).toBe(true);
    const store = OsvStore.open(dir);
    expect(store.status().totalRecords).toBe(17);
    expect(store.recordsFor("npm", "pkg-1")).toEqual([]);
    store.close();
    // The next import cleans the dead import's temp file and works.
    await importOsv(dir, [RECORDS_DIR]);
    expect(existsSync(temp)).toBe(false);
  });
});
