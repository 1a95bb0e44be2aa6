// The rpm cataloger against real rpm databases: the sqlite one written by the real `rpm`,
// and ndb / Berkeley DB files holding the same header blobs (the Berkeley DB one proven
// readable by rpm's own bdb_ro backend). Each must list exactly what `rpm -qa` lists.
import { beforeAll, describe, expect, it } from "vitest";
import type { OsPackageDraft } from "../../../src/scan/catalogers/draft.js";
import { parseSourceRpm } from "../../../src/scan/catalogers/rpm/header.js";
import { parseRpmDb } from "../../../src/scan/catalogers/rpm/index.js";
import { type RpmDbFixtures, rpmDbFixtures } from "./support/rpmdb-fixtures.js";

let fixtures: RpmDbFixtures;

beforeAll(async () => {
  fixtures = await rpmDbFixtures();
});

/** Our drafts in `rpm -qa --qf` shape, for an exact comparison with rpm's own answer. */
function asRpmQuery(drafts: OsPackageDraft[]): string[] {
  return drafts
    .map((d) => {
      const evr = d.version.replace(/^\d+:/, "");
      const dash = evr.lastIndexOf("-");
      return [
        d.name,
        d.epoch ?? "(none)",
        evr.slice(0, dash),
        evr.slice(dash + 1),
        d.arch ?? "",
        `${d.sourceName}-${(d.sourceVersion ?? "").replace(/^\d+:/, "")}.src.rpm`,
        (d.licenses ?? []).join(","),
      ].join("|");
    })
    .sort();
}

describe("rpm database formats", () => {
  it("rpm itself lists the three fixture packages", () => {
    expect(fixtures.expected).toHaveLength(3);
    expect(fixtures.expected).toContain(
      "berth-tools|2|1.2.3|4.el9|x86_64|berth-tools-1.2.3-4.el9.src.rpm|MIT and BSD",
    );
    expect(fixtures.expected).toContain(
      "berth-data|2|1.2.3|4.el9|noarch|berth-tools-1.2.3-4.el9.src.rpm|Apache-2.0",
    );
    expect(fixtures.expected).toContain(
      "zlib-fixture|(none)|1.2.11|40.el9|x86_64|zlib-fixture-1.2.11-40.el9.src.rpm|zlib",
    );
  });

  it("reads the sqlite rpmdb rpm wrote", () => {
    const drafts = parseRpmDb(fixtures.sqlite, "/var/lib/rpm/rpmdb.sqlite");
    expect(asRpmQuery(drafts)).toEqual(fixtures.expected);
  });

  it("reads the ndb Packages.db", () => {
    const drafts = parseRpmDb(fixtures.ndb, "/usr/lib/sysimage/rpm/Packages.db");
    expect(asRpmQuery(drafts)).toEqual(fixtures.expected);
  });

  it("reads the Berkeley DB Packages file, which rpm's bdb_ro also reads", () => {
    expect(fixtures.bdbQueriedByRpm).toEqual(fixtures.expected);
    const drafts = parseRpmDb(fixtures.bdb, "/var/lib/rpm/Packages");
    expect(asRpmQuery(drafts)).toEqual(fixtures.expected);
  });

  it("keeps epoch in the version and names the source package", () => {
    const tools = parseRpmDb(fixtures.sqlite, "/x").find((d) => d.name === "berth-data");
    expect(tools).toMatchObject({
      version: "2:1.2.3-4.el9",
      epoch: 2,
      arch: "noarch",
      sourceName: "berth-tools",
      sourceVersion: "2:1.2.3-4.el9",
      licenses: ["Apache-2.0"],
    });
  });

  it("splits source rpm file names", () => {
    expect(parseSourceRpm("openssl-libs-3.0.7-24.el9.src.rpm", undefined)).toEqual({
      name: "openssl-libs",
      version: "3.0.7-24.el9",
    });
    expect(parseSourceRpm("garbage", undefined)).toBeUndefined();
  });

  it("rejects a corrupt database instead of inventing packages", () => {
    const broken = Buffer.from(fixtures.ndb);
    broken.writeUInt32LE(0xdeadbeef, 4096 + 16 * 0);
    expect(() => parseRpmDb(broken, "/x")).toThrow();
  });
});
