// Matching real OSV records against hand-made package sets: exact expected findings,
// including the cases that must NOT match (fixed installed, other release, withdrawn record,
// binary vs source names), plus the explanation each finding carries.
import { describe, expect, it } from "vitest";
import {
  type Finding,
  matchPackage,
  matchPackages,
  matchRange,
  memorySource,
  releaseOf,
} from "../../../src/scan/match/index.js";
import { CASES, loadRecords, pkg } from "../fixtures.js";

const source = memorySource(loadRecords());

function summary(findings: Finding[]): string[] {
  return findings.map((f) => `${f.vulnerabilityId} ${f.fixedVersion ?? "-"}`).sort();
}

describe("matching real OSV records", () => {
  for (const c of CASES) {
    it(`${c.pkg.name} ${c.pkg.version} (${c.pkg.ecosystem}${c.pkg.release ? ` ${c.pkg.release}` : ""}): ${c.why}`, () => {
      expect(summary(matchPackages([c.pkg], source))).toEqual([...c.expect].sort());
    });
  }

  it("finds exactly the expected total over the whole set", () => {
    const all = matchPackages(
      CASES.map((c) => c.pkg),
      source,
    );
    expect(all.length).toBe(CASES.reduce((n, c) => n + c.expect.length, 0));
  });

  it("explains a match: source package, range, fix, aliases, layer", () => {
    const [f] = matchPackages([CASES[0].pkg], source);
    expect(f.package.name).toBe("libssl1.1");
    expect(f.evidence).toEqual({
      ecosystem: "Debian:9",
      advisoryPackage: "openssl",
      via: "source",
      kind: "range",
      range: "ECOSYSTEM >=0, <1.1.0l-1~deb9u6",
    });
    // Debian's OSV records name their CVEs in `upstream`, not `aliases`.
    expect(f.aliases).toEqual(["CVE-2022-1292", "DEBIAN-CVE-2022-1292"]);
    expect(f.status).toBe("fixed");
    expect(f.package.layer?.createdBy).toContain("apt-get");
  });

  it("takes Alpine's CVE from `upstream` as an alias", () => {
    const musl = CASES.find((c) => c.pkg.name === "musl-utils")!;
    const [f] = matchPackages([musl.pkg], source);
    expect(f.aliases).toEqual(["CVE-2025-26519"]);
    expect(f.evidence).toMatchObject({ ecosystem: "Alpine:v3.18", via: "source" });
  });

  it("explains a versions-list match (no range, no fix)", () => {
    const [f] = matchPackages(
      [pkg({ name: "org.xbib.elasticsearch:log4j", version: "6.3.2.1", ecosystem: "Maven" })],
      source,
    );
    expect(f.evidence).toEqual({
      ecosystem: "Maven",
      advisoryPackage: "org.xbib.elasticsearch:log4j",
      via: "name",
      kind: "versions",
      range: "versions list contains 6.3.2.1",
    });
    expect(f.status).toBe("affected");
    expect(f.fixedVersion).toBeUndefined();
  });

  it("rates severity from CVSS vectors and from the source's own rating", () => {
    const bySeverity = (p: (typeof CASES)[number]["pkg"]) =>
      matchPackages([p], source)
        .map(
          (f) =>
            `${f.vulnerabilityId} ${f.severity} ${f.cvss?.baseScore ?? "-"} ${f.severitySource}`,
        )
        .sort();
    expect(bySeverity(pkg({ name: "lodash", version: "4.17.11", ecosystem: "npm" }))).toEqual([
      "GHSA-jf85-cpcp-j695 CRITICAL 9.1 cvss",
    ]);
    expect(bySeverity(pkg({ name: "semver", version: "7.5.1", ecosystem: "npm" }))).toEqual([
      "GHSA-c2qf-rxjj-qqgw HIGH 7.5 cvss",
    ]);
    expect(bySeverity(pkg({ name: "requests", version: "2.28.1", ecosystem: "PyPI" }))).toEqual([
      "GHSA-j8r2-6x86-q33q MEDIUM 6.1 cvss",
      "PYSEC-2023-74 UNKNOWN - none",
    ]);
    expect(bySeverity(pkg({ name: "tokio", version: "1.9.0", ecosystem: "crates.io" }))).toEqual([
      "GHSA-fg7r-2g4j-5cgr HIGH 8.1 cvss",
    ]);
    expect(
      bySeverity(
        pkg({
          name: "musl",
          version: "1.2.4_git20230717-r4",
          ecosystem: "Alpine",
          release: "3.19.1",
        }),
      ),
    ).toEqual(["ALPINE-CVE-2025-26519 HIGH 7 cvss"]);
    expect(
      bySeverity(pkg({ name: "dpkg", version: "1.18.25", ecosystem: "Debian", release: "9" })),
    ).toEqual(["DLA-3022-1 UNKNOWN - none"]);
    expect(
      bySeverity(
        pkg({ name: "org.apache.logging.log4j:log4j-core", version: "2.14.1", ecosystem: "Maven" }),
      ),
    ).toEqual(["GHSA-jfh8-c2jp-5v3q CRITICAL 10 cvss"]);
  });

  it("reports an open-ended range as unfixed", () => {
    const record = {
      id: "TEST-OPEN",
      modified: "2024-01-01T00:00:00Z",
      affected: [
        {
          package: { ecosystem: "Debian:12", name: "zlib" },
          ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }] }],
        },
      ],
    };
    const [f] = matchPackage(
      pkg({
        name: "zlib1g",
        version: "1:1.2.13.dfsg-1",
        ecosystem: "Debian",
        release: "12",
        sourceName: "zlib",
      }),
      [record],
    );
    expect(f.status).toBe("affected");
    expect(f.fixedVersion).toBeUndefined();
  });
});

describe("release keys", () => {
  it("reads the release from OSV ecosystem strings", () => {
    expect(releaseOf("Debian:12")).toBe("12");
    expect(releaseOf("Alpine:v3.18")).toBe("3.18");
    expect(releaseOf("Ubuntu:22.04:LTS")).toBe("22.04");
    expect(releaseOf("Ubuntu:Pro:18.04:LTS")).toBe("");
    expect(releaseOf("npm")).toBeNull();
  });
});

describe("OSV range semantics", () => {
  it("handles last_affected and limit events", () => {
    const la = { type: "ECOSYSTEM", events: [{ introduced: "1.0.0" }, { last_affected: "1.4.0" }] };
    expect(matchRange("npm", la, "1.4.0")).not.toBeNull();
    expect(matchRange("npm", la, "1.4.1")).toBeNull();
    const limited = { type: "ECOSYSTEM", events: [{ introduced: "0" }, { limit: "2.0.0" }] };
    expect(matchRange("npm", limited, "1.9.9")).not.toBeNull();
    expect(matchRange("npm", limited, "2.0.0")).toBeNull();
  });

  it("sorts unordered events and ignores GIT ranges", () => {
    const unordered = {
      type: "ECOSYSTEM",
      events: [
        { fixed: "1.13.1" },
        { introduced: "1.9.0" },
        { fixed: "1.8.4" },
        { introduced: "0.1.14" },
      ],
    };
    expect(matchRange("crates.io", unordered, "1.10.0")?.fixed).toBe("1.13.1");
    expect(matchRange("crates.io", unordered, "1.8.5")).toBeNull();
    expect(matchRange("PyPI", { type: "GIT", events: [{ introduced: "0" }] }, "1.0")).toBeNull();
  });

  it("never matches a version the ecosystem cannot parse", () => {
    expect(
      matchRange(
        "Debian",
        { type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: "1.0-1" }] },
        "",
      ),
    ).toBeNull();
  });
});
