// Version ordering, checked against each tool's own published test vectors: dpkg t-version.c
// and scripts/t/Dpkg_Version.t, rpm rpmvercmp.at, apk-tools test/version.data (all of it),
// Maven ComparableVersionTest, RubyGems test_gem_version.rb, PEP 440's ordering example and
// pypa/packaging's tests/test_version.py VERSIONS, SemVer 2.0 §11 and node-semver's
// test/fixtures/comparisons.js + equality.js, golang.org/x/mod semver_test.go, NuGet.Client's
// VersionComparerTests.cs, composer/semver's ComparatorTest.php and PHP version_compare.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compareApk, isValidApkVersion } from "../../../src/scan/versions/apk.js";
import { phpVersionCompare } from "../../../src/scan/versions/composer.js";
import { compareDpkg, parseDpkgVersion } from "../../../src/scan/versions/dpkg.js";
import { compareVersions } from "../../../src/scan/versions/index.js";
import { rpmvercmp } from "../../../src/scan/versions/rpm.js";

const fixtures = join(import.meta.dirname, "../../fixtures/versions");

function lines(file: string): string[] {
  return readFileSync(join(fixtures, file), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

/** Checks that `list` is strictly increasing under `ecosystem`, both directions, all pairs. */
function expectAscending(ecosystem: string, list: string[]): void {
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      expect(compareVersions(ecosystem, list[i], list[j]), `${list[i]} < ${list[j]}`).toBe(-1);
      expect(compareVersions(ecosystem, list[j], list[i]), `${list[j]} > ${list[i]}`).toBe(1);
    }
  }
}

describe("dpkg", () => {
  it("passes dpkg's t-version.c comparisons", () => {
    const cases: [string, string, number][] = [
      ["0:0-0", "0:0-0", 0],
      ["0:0-00", "0:00-0", 0],
      ["1:2-3", "1:2-3", 0],
      ["0:0-0", "1:0-0", -1],
      ["1:0-0", "0:0-0", 1],
      ["0:a-0", "0:b-0", -1],
      ["0:b-0", "0:a-0", 1],
      ["0:0-a", "0:0-b", -1],
      ["0:0-b", "0:0-a", 1],
      ["0:1-1", "0:2-1", -1],
      ["0:1-1", "0:1-2", -1],
      ["0", "0:0", 0],
      ["0:0-", "0", 0],
      ["  \t0:0-1", "0:0-1", 0],
    ];
    for (const [a, b, r] of cases) expect(compareDpkg(a, b), `${a} vs ${b}`).toBe(r);
  });

  it("passes dpkg's scripts/t/Dpkg_Version.t comparisons", () => {
    const cases = lines("dpkg-version.data");
    expect(cases).toHaveLength(44);
    for (const line of cases) {
      const [a, b, r] = line.split(" ");
      if (a === "-0.6.5") {
        // Empty upstream version: Dpkg::Version compares it as "", dpkg's C parser (and
        // Berth) reject it. The only case not reproduced; asserted so a change is noticed.
        expect(() => compareDpkg(a, b)).toThrow(/empty upstream version/);
        continue;
      }
      expect(compareDpkg(a, b), `${a} cmp ${b}`).toBe(Number(r));
      expect(compareDpkg(b, a), `${b} cmp ${a}`).toBe(-Number(r) || 0);
    }
  });

  it("parses like dpkg: last hyphen splits the revision, first colon the epoch", () => {
    expect(parseDpkgVersion("0:0-0-0")).toEqual({ epoch: 0, upstream: "0-0", revision: "0" });
    expect(parseDpkgVersion("0:0:0-0")).toEqual({ epoch: 0, upstream: "0:0", revision: "0" });
    expect(parseDpkgVersion("0:09azAZ.-+~:-0").upstream).toBe("09azAZ.-+~:");
    expect(() => parseDpkgVersion("")).toThrow();
    expect(() => parseDpkgVersion("0:")).toThrow();
    expect(() => parseDpkgVersion("a:0-0")).toThrow();
    expect(() => parseDpkgVersion("-0")).toThrow();
    expect(() => parseDpkgVersion("0:0 0-1")).toThrow();
    expect(() => parseDpkgVersion("999999999999999999999999:0-1")).toThrow();
  });

  it("orders tilde before everything (Debian Policy 5.6.12)", () => {
    expectAscending("Debian", ["1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a", "1.0+b1", "1.0.1"]);
    expectAscending("Debian", [
      "3.0.11-1~deb12u1",
      "3.0.11-1~deb12u2",
      "3.0.13-1~deb12u1",
      "3.0.14-1~deb12u1",
      "3.0.15-1~deb12u1",
      "1:0.1",
    ]);
    expect(compareVersions("Debian:12", "2.36-9+deb12u4", "2.36-9+deb12u10")).toBe(-1);
    expect(compareVersions("Ubuntu:22.04:LTS", "3.0.2-0ubuntu1.10", "3.0.2-0ubuntu1.9")).toBe(1);
  });
});

describe("rpm", () => {
  it("passes every case in rpm's rpmvercmp.at (tilde and caret included)", () => {
    const cases = lines("rpmvercmp.txt");
    expect(cases.length).toBeGreaterThan(90);
    for (const line of cases) {
      const [a, b, r] = line.split(" ");
      expect(rpmvercmp(a, b), `rpmvercmp(${a}, ${b})`).toBe(Number(r));
    }
  });

  it("compares epoch, then version, then release", () => {
    expect(compareVersions("Red Hat", "1:1.0-1.el9", "2.0-1.el9")).toBe(1);
    expect(compareVersions("Rocky Linux", "3.0.7-24.el9", "3.0.7-25.el9")).toBe(-1);
    expect(compareVersions("AlmaLinux", "1.0-1.el9", "1.0-1.el9")).toBe(0);
  });
});

describe("apk", () => {
  it("passes every case of apk-tools test/version.data", () => {
    const cases = lines("apk-version.data");
    expect(cases).toHaveLength(729);
    for (const line of cases) {
      const [a, op, b] = line.split(/\s+/);
      const want = op === "<" ? -1 : op === ">" ? 1 : 0;
      expect(compareApk(a, b), `${a} ${op} ${b}`).toBe(want);
      expect(compareApk(b, a), `${b} reversed ${a}`).toBe(-want || 0);
    }
  });

  it("validates the apk grammar", () => {
    expect(isValidApkVersion("3.1.4-r5")).toBe(true);
    expect(isValidApkVersion("1.0_alpha1_p2-r3")).toBe(true);
    expect(isValidApkVersion("1.0bc")).toBe(false);
    expect(isValidApkVersion("1.0-x")).toBe(false);
  });
});

describe("Maven ComparableVersion", () => {
  it("orders ComparableVersionTest's VERSIONS_QUALIFIER", () => {
    expectAscending("Maven", [
      "1-alpha2snapshot",
      "1-alpha2",
      "1-alpha-123",
      "1-beta-2",
      "1-beta123",
      "1-m2",
      "1-m11",
      "1-rc",
      "1-cr2",
      "1-rc123",
      "1-SNAPSHOT",
      "1",
      "1-sp",
      "1-sp2",
      "1-sp123",
      "1-abc",
      "1-def",
      "1-pom-1",
      "1-1-snapshot",
      "1-1",
      "1-2",
      "1-123",
    ]);
  });

  it("orders ComparableVersionTest's VERSIONS_NUMBER", () => {
    expectAscending("Maven", [
      "2.0",
      "2-1",
      "2.0.a",
      "2.0.0.a",
      "2.0.2",
      "2.0.123",
      "2.1.0",
      "2.1-a",
      "2.1b",
      "2.1-c",
      "2.1-1",
      "2.1.0.1",
      "2.2",
      "2.123",
      "11.a2",
      "11.a11",
      "11.b2",
      "11.b11",
      "11.m2",
      "11.m11",
      "11",
      "11.a",
      "11b",
      "11c",
      "11m",
    ]);
  });

  it("passes testVersionsEqual", () => {
    const equal = [
      ["1", "1"],
      ["1", "1.0"],
      ["1", "1.0.0"],
      ["1.0", "1.0.0"],
      ["1", "1-0"],
      ["1", "1.0-0"],
      ["1.0", "1.0-0"],
      ["1a", "1.a"],
      ["1a", "1-a"],
      ["1a", "1.0-a"],
      ["1a", "1.0.0-a"],
      ["1.0a", "1.0.a"],
      ["1.0.0a", "1.0.0.a"],
      ["1x", "1.x"],
      ["1x", "1-x"],
      ["1x", "1.0-x"],
      ["1x", "1.0.0-x"],
      ["1.0x", "1.0.x"],
      ["1.0.0x", "1.0.0.x"],
      ["1ga", "1"],
      ["1final", "1"],
      ["1cr", "1rc"],
      ["1a1", "1alpha1"],
      ["1b2", "1beta2"],
      ["1m3", "1milestone3"],
      ["1X", "1x"],
      ["1A", "1a"],
      ["1B", "1b"],
      ["1M", "1m"],
      ["1Ga", "1"],
      ["1GA", "1"],
      ["1Final", "1"],
      ["1FinaL", "1"],
      ["1FINAL", "1"],
      ["1Cr", "1Rc"],
      ["1cR", "1rC"],
      ["1m3", "1Milestone3"],
      ["1m3", "1MileStone3"],
      ["1m3", "1MILESTONE3"],
      ["1-abcdefghijklmnopqrstuvwxyz", "1-ABCDEFGHIJKLMNOPQRSTUVWXYZ"],
    ];
    for (const [a, b] of equal) {
      expect(compareVersions("Maven", a, b), `${a} == ${b}`).toBe(0);
      expect(compareVersions("Maven", b, a), `${b} == ${a}`).toBe(0);
    }
  });

  it("passes testVersionComparing", () => {
    const ordered = [
      ["1", "2"],
      ["1.5", "2"],
      ["1", "2.5"],
      ["1.0", "1.1"],
      ["1.1", "1.2"],
      ["1.0.0", "1.1"],
      ["1.0.1", "1.1"],
      ["1.1", "1.2.0"],
      ["1.0-alpha-1", "1.0"],
      ["1.0-alpha-1", "1.0-alpha-2"],
      ["1.0-alpha-1", "1.0-beta-1"],
      ["1.0-beta-1", "1.0-SNAPSHOT"],
      ["1.0-SNAPSHOT", "1.0"],
      ["1.0-alpha-1-SNAPSHOT", "1.0-alpha-1"],
      ["1.0", "1.0-1"],
      ["1.0-1", "1.0-2"],
      ["1.0.0", "1.0-1"],
      ["2.0-1", "2.0.1"],
      ["2.0.1-klm", "2.0.1-lmn"],
      ["2.0.1", "2.0.1-xyz"],
      ["2.0.1", "2.0.1-123"],
      ["2.0.1-xyz", "2.0.1-123"],
    ];
    for (const [a, b] of ordered) {
      expect(compareVersions("Maven", a, b), `${a} < ${b}`).toBe(-1);
      expect(compareVersions("Maven", b, a), `${b} > ${a}`).toBe(1);
    }
  });
});

describe("PEP 440", () => {
  it("orders the PEP 440 / packaging example sequence", () => {
    expectAscending("PyPI", [
      "1.0.dev456",
      "1.0a1",
      "1.0a2.dev456",
      "1.0a12.dev456",
      "1.0a12",
      "1.0b1.dev456",
      "1.0b2",
      "1.0b2.post345.dev456",
      "1.0b2.post345",
      "1.0rc1.dev456",
      "1.0rc1",
      "1.0",
      "1.0+abc.5",
      "1.0+abc.7",
      "1.0+5",
      "1.0.post456.dev34",
      "1.0.post456",
      "1.0.15",
      "1.1.dev1",
    ]);
    expect(compareVersions("PyPI", "1.0", "1.0.0")).toBe(0);
    expect(compareVersions("PyPI", "1!1.0", "2.0")).toBe(1);
  });

  it("orders pypa/packaging's tests/test_version.py VERSIONS (every pair)", () => {
    // "This list must be in the correct sorting order" (packaging's own words).
    expectAscending("PyPI", [
      ...["1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12"],
      ...["1.0b1.dev456", "1.0b2", "1.0b2.post345.dev456", "1.0b2.post345"],
      ...["1.0b2-346", "1.0c1.dev456", "1.0c1", "1.0rc2", "1.0c3", "1.0"],
      ...["1.0.post456.dev34", "1.0.post456", "1.1.dev1", "1.2+123abc"],
      ...["1.2+123abc456", "1.2+abc", "1.2+abc123", "1.2+abc123def", "1.2+1234.abc"],
      "1.2+123456",
      ...["1!1.0.dev456", "1!1.0a1", "1!1.0a2.dev456", "1!1.0a12.dev456", "1!1.0a12"],
      ...["1!1.0b1.dev456", "1!1.0b2", "1!1.0b2.post345.dev456", "1!1.0b2.post345"],
      ...["1!1.0b2-346", "1!1.0c1.dev456", "1!1.0c1", "1!1.0rc2", "1!1.0c3", "1!1.0"],
      ...["1!1.0.post456.dev34", "1!1.0.post456", "1!1.1.dev1", "1!1.2+123abc"],
      ...["1!1.2+123abc456", "1!1.2+abc", "1!1.2+abc123", "1!1.2+abc123def"],
      ...["1!1.2+1234.abc", "1!1.2+123456"],
    ]);
  });
});

describe("SemVer family", () => {
  it("orders SemVer 2.0 §11's example (npm, crates.io)", () => {
    const seq = [
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-alpha.beta",
      "1.0.0-beta",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0-rc.1",
      "1.0.0",
      "2.0.0",
      "2.1.0",
      "2.1.1",
    ];
    expectAscending("npm", seq);
    expectAscending("crates.io", seq);
    expect(compareVersions("npm", "1.0.0+build.1", "1.0.0+build.2")).toBe(0);
  });

  it("passes node-semver's test/fixtures/comparisons.js and equality.js", () => {
    // comparisons.js: "version1 should be greater than version2" (loose entries accept `v`).
    const greater: [string, string][] = [
      ["0.0.0", "0.0.0-foo"],
      ["0.0.1", "0.0.0"],
      ["1.0.0", "0.9.9"],
      ["0.10.0", "0.9.0"],
      ["0.99.0", "0.10.0"],
      ["2.0.0", "1.2.3"],
      ["v0.0.0", "0.0.0-foo"],
      ["v0.0.1", "0.0.0"],
      ["v1.0.0", "0.9.9"],
      ["v0.10.0", "0.9.0"],
      ["v0.99.0", "0.10.0"],
      ["v2.0.0", "1.2.3"],
      ["0.0.0", "v0.0.0-foo"],
      ["0.0.1", "v0.0.0"],
      ["1.0.0", "v0.9.9"],
      ["0.10.0", "v0.9.0"],
      ["0.99.0", "v0.10.0"],
      ["2.0.0", "v1.2.3"],
      ["1.2.3", "1.2.3-asdf"],
      ["1.2.3", "1.2.3-4"],
      ["1.2.3", "1.2.3-4-foo"],
      ["1.2.3-5-foo", "1.2.3-5"],
      ["1.2.3-5", "1.2.3-4"],
      ["1.2.3-5-foo", "1.2.3-5-Foo"],
      ["3.0.0", "2.7.2+asdf"],
      ["1.2.3-a.10", "1.2.3-a.5"],
      ["1.2.3-a.b", "1.2.3-a.5"],
      ["1.2.3-a.b", "1.2.3-a"],
      ["1.2.3-a.b.c.10.d.5", "1.2.3-a.b.c.5.d.100"],
      ["1.2.3-r2", "1.2.3-r100"],
      ["1.2.3-r100", "1.2.3-R2"],
    ];
    for (const ecosystem of ["npm", "crates.io"]) {
      for (const [a, b] of greater) {
        expect(compareVersions(ecosystem, a, b), `${a} > ${b}`).toBe(1);
        expect(compareVersions(ecosystem, b, a), `${b} < ${a}`).toBe(-1);
      }
    }
    // equality.js (the strict entries and a sample of the loose `v`/`=` prefixes).
    const equal: [string, string][] = [
      ["1.2.3-beta+build", "1.2.3-beta+otherbuild"],
      ["1.2.3+build", "1.2.3+otherbuild"],
      ["  v1.2.3+build", "1.2.3+otherbuild"],
      ["1.2.3", "v1.2.3"],
      ["1.2.3", "=1.2.3"],
      ["1.2.3", "v 1.2.3"],
      ["1.2.3-0", " = 1.2.3-0"],
      ["1.2.3-beta", " v1.2.3-beta"],
    ];
    for (const [a, b] of equal) expect(compareVersions("npm", a, b), `${a} == ${b}`).toBe(0);
  });

  it("passes golang.org/x/mod semver_test.go's Compare table", () => {
    // semver_test.go `tests` (valid entries, in the file's order) with their canonical forms:
    // Compare(i, j) is 0 for equal canonical forms, else the sign of i - j.
    const table: [string, string][] = [
      ["v1.0.0-alpha", "v1.0.0-alpha"],
      ["v1.0.0-alpha.1", "v1.0.0-alpha.1"],
      ["v1.0.0-alpha.beta", "v1.0.0-alpha.beta"],
      ["v1.0.0-beta", "v1.0.0-beta"],
      ["v1.0.0-beta.2", "v1.0.0-beta.2"],
      ["v1.0.0-beta.11", "v1.0.0-beta.11"],
      ["v1.0.0-rc.1", "v1.0.0-rc.1"],
      ["v1", "v1.0.0"],
      ["v1.0", "v1.0.0"],
      ["v1.0.0", "v1.0.0"],
      ["v1.2", "v1.2.0"],
      ["v1.2.0", "v1.2.0"],
      ["v1.2.3-456", "v1.2.3-456"],
      ["v1.2.3-456.789", "v1.2.3-456.789"],
      ["v1.2.3-456-789", "v1.2.3-456-789"],
      ["v1.2.3-456a", "v1.2.3-456a"],
      ["v1.2.3-pre", "v1.2.3-pre"],
      ["v1.2.3-pre+meta", "v1.2.3-pre"],
      ["v1.2.3-pre.1", "v1.2.3-pre.1"],
      ["v1.2.3-zzz", "v1.2.3-zzz"],
      ["v1.2.3", "v1.2.3"],
      ["v1.2.3+meta", "v1.2.3"],
      ["v1.2.3+meta-pre", "v1.2.3"],
      ["v1.2.3+meta-pre.sha.256a", "v1.2.3"],
    ];
    table.forEach(([a, ca], i) => {
      table.forEach(([b, cb], j) => {
        const want = ca === cb ? 0 : i < j ? -1 : 1;
        expect(compareVersions("Go", a, b), `Compare(${a}, ${b})`).toBe(want);
      });
    });
    expect(compareVersions("Go", "v2", "v1")).toBe(1);
    expect(compareVersions("Go", "v1", "v2")).toBe(-1);
  });

  it("orders Go pseudo-versions and +incompatible", () => {
    expectAscending("Go", [
      "v0.0.0-20191109021931-daa7c04131f5",
      "v0.0.0-20210226172049-e18ecbb05110",
      "v0.1.0",
      "v1.2.3-pre",
      "v1.2.3",
      "v1.2.4-0.20191109021931-daa7c04131f5",
      "v1.2.4",
      "v2.0.0+incompatible",
      "v2.1.0+incompatible",
    ]);
    expect(compareVersions("Go", "v2.0.0+incompatible", "v2.0.0")).toBe(0);
  });
});

describe("RubyGems", () => {
  it("passes Gem::Version test_spaceship", () => {
    const cases: [string, string, number][] = [
      ["1.0", "1.0.0", 0],
      ["1.0", "1.0.a", 1],
      ["1.8.2", "0.0.0", 1],
      ["1.8.2", "1.8.2.a", 1],
      ["1.8.2.b", "1.8.2.a", 1],
      ["1.8.2.a", "1.8.2", -1],
      ["1.8.2.a10", "1.8.2.a9", 1],
      ["", "0", 0],
      ["0.beta.1", "0.0.beta.1", 0],
      ["0.0.beta", "0.0.beta.1", -1],
      ["0.0.beta", "0.beta.1", -1],
      ["5.a", "5.0.0.rc2", -1],
      ["5.x", "5.0.0.rc2", 1],
    ];
    for (const [a, b, r] of cases)
      expect(compareVersions("RubyGems", a, b), `${a} <=> ${b}`).toBe(r);
    expect(compareVersions("RubyGems", "1.0.0-rc1", "1.0.0")).toBe(-1);
  });
});

describe("NuGet", () => {
  it("passes NuGet.Client's VersionComparerTests (Default comparer)", () => {
    // VersionComparisonDefaultEqual and VersionComparisonDefaultLess, both directions.
    const equal: [string, string][] = [
      ["1.0.0", "1.0.0"],
      ["1.0.0-BETA", "1.0.0-beta"],
      ["1.0.0-BETA+AA", "1.0.0-beta+aa"],
      ["1.0.0-BETA.X.y.5.77.0+AA", "1.0.0-beta.x.y.5.77.0+aa"],
    ];
    for (const [a, b] of equal) {
      expect(compareVersions("NuGet", a, b), `${a} == ${b}`).toBe(0);
      expect(compareVersions("NuGet", b, a), `${b} == ${a}`).toBe(0);
    }
    const less: [string, string][] = [
      ["0.0.0", "1.0.0"],
      ["1.0.0", "1.1.0"],
      ["1.0.0", "1.0.1"],
      ["1.999.9999", "2.1.1"],
      ["1.0.0-BETA", "1.0.0-beta2"],
      ["1.0.0-beta+AA", "1.0.0+aa"],
      ["1.0.0-BETA", "1.0.0-beta.1+AA"],
      ["1.0.0-BETA.X.y.5.77.0+AA", "1.0.0-beta.x.y.5.79.0+aa"],
      ["1.0.0-BETA.X.y.5.79.0+AA", "1.0.0-beta.x.y.5.790.0+abc"],
    ];
    for (const [a, b] of less) {
      expect(compareVersions("NuGet", a, b), `${a} < ${b}`).toBe(-1);
      expect(compareVersions("NuGet", b, a), `${b} > ${a}`).toBe(1);
    }
  });

  it("follows NuGet.Versioning's rules", () => {
    expect(compareVersions("NuGet", "1.0", "1.0.0.0")).toBe(0);
    expect(compareVersions("NuGet", "1.0.0-BETA", "1.0.0-beta")).toBe(0);
    expect(compareVersions("NuGet", "1.0.0+meta", "1.0.0")).toBe(0);
    expect(compareVersions("NuGet", "01.002.0003", "1.2.3")).toBe(0);
    expectAscending("NuGet", [
      "1.0.0-1",
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-beta",
      "1.0.0-rc.1",
      "1.0.0",
      "1.0.0.1",
      "1.0.1",
      "4.7.2",
      "13.0.1",
    ]);
  });
});

describe("Composer", () => {
  it("passes composer/semver's ComparatorTest compareProvider (numeric versions)", () => {
    // dev-* branch cases are left out: OSV Packagist ranges carry release versions only.
    const cases: [string, string, string, boolean][] = [
      ["1.25.0", ">", "1.24.0", true],
      ["1.25.0", ">", "1.25.0", false],
      ["1.25.0", ">", "1.26.0", false],
      ["1.25.0", ">=", "1.24.0", true],
      ["1.25.0", ">=", "1.25.0", true],
      ["1.25.0", ">=", "1.26.0", false],
      ["1.25.0", "<", "1.24.0", false],
      ["1.25.0", "<", "1.25.0", false],
      ["1.25.0", "<", "1.26.0", true],
      ["1.25.0-beta2.1", "<", "1.25.0-b.3", true],
      ["1.25.0-b2.1", "<", "1.25.0beta.3", true],
      ["1.25.0-b-2.1", "<", "1.25.0-rc", true],
      ["1.25.0", "<=", "1.24.0", false],
      ["1.25.0", "<=", "1.25.0", true],
      ["1.25.0", "<=", "1.26.0", true],
      ["1.25.0", "==", "1.24.0", false],
      ["1.25.0", "==", "1.25.0", true],
      ["1.25.0", "==", "1.26.0", false],
      ["1.25.0-beta2.1", "==", "1.25.0-b.2.1", true],
      ["1.25.0beta2.1", "==", "1.25.0-b2.1", true],
      ["1.25.0", "!=", "1.24.0", true],
      ["1.25.0", "!=", "1.25.0", false],
      ["1.25.0", "!=", "1.26.0", true],
      ["1.0.0", "<", "1.2-dev", true],
    ];
    const holds: Record<string, (c: number) => boolean> = {
      ">": (c) => c > 0,
      ">=": (c) => c >= 0,
      "<": (c) => c < 0,
      "<=": (c) => c <= 0,
      "==": (c) => c === 0,
      "!=": (c) => c !== 0,
    };
    for (const [a, op, b, want] of cases) {
      expect(holds[op](compareVersions("Packagist", a, b)), `${a} ${op} ${b}`).toBe(want);
    }
  });

  it("matches PHP version_compare's documented results", () => {
    expect(phpVersionCompare("5.2", "5.2.0")).toBe(-1);
    expect(phpVersionCompare("1.0rc1", "1.0")).toBe(-1);
    expect(phpVersionCompare("1.0pl1", "1.0")).toBe(1);
    expect(phpVersionCompare("1.0.0-dev", "1.0.0-alpha")).toBe(-1);
    expect(phpVersionCompare("1.0-beta", "1.0-RC1")).toBe(-1);
  });

  it("compares Composer-normalized versions", () => {
    expect(compareVersions("Packagist", "v1.2", "1.2.0.0")).toBe(0);
    expectAscending("Packagist", [
      "1.0.0-dev",
      "1.0.0-alpha1",
      "1.0.0-beta2",
      "1.0.0-RC1",
      "1.0.0",
      "1.0.0-p1",
      "1.0.1",
      "v2.4.1",
      "10.0.0",
    ]);
  });
});
