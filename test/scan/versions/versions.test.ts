// Version ordering, checked against each tool's own published test vectors (dpkg t-version.c,
// rpm rpmvercmp.at, apk-tools version.data, Maven ComparableVersionTest, RubyGems
// test_gem_version.rb, PEP 440's ordering example, SemVer 2.0 §11, NuGet/Composer rules).
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
  it("passes apk-tools test/version.data", () => {
    const cases = lines("apk-version.data");
    expect(cases.length).toBeGreaterThan(70);
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
