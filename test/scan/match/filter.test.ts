// The filter step: severities, --ignore-unfixed, ignore files (Trivy's plain .trivyignore
// and the YAML form, with expiry dates, reasons, purls) and OpenVEX not_affected statements.
import { describe, expect, it } from "vitest";
import { filterFindings, parsePackageTypes } from "../../../src/scan/match/filter.js";
import {
  parseIgnoreFile,
  parsePlainIgnore,
  parseYamlIgnore,
} from "../../../src/scan/match/ignore.js";
import { matchPackages, memorySource } from "../../../src/scan/match/index.js";
import { parseOpenVex } from "../../../src/scan/match/vex.js";
import { assessSeverity, ratingForScore, scoreCvss } from "../../../src/scan/severity/index.js";
import { CASES, loadRecords } from "../fixtures.js";

const findings = matchPackages(
  CASES.map((c) => c.pkg),
  memorySource(loadRecords()),
);
const ids = (list: { vulnerabilityId: string; package: { name: string; version: string } }[]) =>
  list.map((f) => `${f.package.name}@${f.package.version} ${f.vulnerabilityId}`).sort();
const now = new Date("2024-06-01T00:00:00Z");

describe("severity and fix filters", () => {
  it("keeps only the asked severities", () => {
    const out = filterFindings(findings, { severities: ["CRITICAL"] });
    expect(ids(out.findings)).toEqual([
      "com.guicedee.services:log4j-core@1.2.1.2-jre17 GHSA-jfh8-c2jp-5v3q",
      "league/flysystem@1.1.3 GHSA-9f46-5r25-5wfm",
      "lodash@4.17.11 GHSA-jf85-cpcp-j695",
      "org.apache.logging.log4j:log4j-core@2.0-beta9 GHSA-jfh8-c2jp-5v3q",
      "org.apache.logging.log4j:log4j-core@2.14.1 GHSA-jfh8-c2jp-5v3q",
      "org.xbib.elasticsearch:log4j@6.3.2.1 GHSA-jfh8-c2jp-5v3q",
    ]);
  });

  it("--ignore-unfixed drops findings without a fixed version", () => {
    const out = filterFindings(findings, { ignoreUnfixed: true });
    expect(out.findings.length).toBe(findings.length - 2);
    expect(ids(findings).filter((x) => !ids(out.findings).includes(x))).toEqual([
      "com.guicedee.services:log4j-core@1.2.1.2-jre17 GHSA-jfh8-c2jp-5v3q",
      "org.xbib.elasticsearch:log4j@6.3.2.1 GHSA-jfh8-c2jp-5v3q",
    ]);
  });

  it("parses --pkg-types", () => {
    expect(parsePackageTypes("os,library")).toEqual(["os", "library"]);
    expect(() => parsePackageTypes("os,binary")).toThrow(/unknown package type "binary"/);
  });
});

describe("ignore files", () => {
  it("reads Trivy's plain format with exp: and trailing reasons", () => {
    const rules = parsePlainIgnore(
      "# accepted risks\nCVE-2023-32681 exp:2024-12-31 # no proxy credentials\n\nGHSA-c2qf-rxjj-qqgw\nCVE-2019-10744 exp:2024-01-01\nCVE-2022-1292\n",
    );
    expect(rules).toEqual([
      { id: "CVE-2023-32681", reason: "no proxy credentials", expires: "2024-12-31" },
      { id: "GHSA-c2qf-rxjj-qqgw", reason: undefined, expires: undefined },
      { id: "CVE-2019-10744", reason: undefined, expires: "2024-01-01" },
      { id: "CVE-2022-1292", reason: undefined, expires: undefined },
    ]);
    const out = filterFindings(findings, { ignoreRules: rules, now });
    // CVE-2023-32681 matches GHSA-j8r2-6x86-q33q and PYSEC-2023-74 through `aliases`,
    // CVE-2022-1292 matches DLA-3008-1 through `upstream` and ALSA-2022:6224 through `aliases`;
    // the lodash rule expired on 2024-01-01 so it no longer applies.
    expect(ids(out.suppressed.map((s) => s.finding))).toEqual([
      "Requests@2.28.1 GHSA-j8r2-6x86-q33q",
      "Requests@2.28.1 PYSEC-2023-74",
      "libssl1.1@1.1.0l-1~deb9u5 DLA-3008-1",
      "openssl-libs@1:3.0.1-38.el9_0 ALSA-2022:6224",
      "semver@5.7.1 GHSA-c2qf-rxjj-qqgw",
      "semver@7.5.1 GHSA-c2qf-rxjj-qqgw",
    ]);
    expect(out.suppressed.find((s) => s.finding.vulnerabilityId === "PYSEC-2023-74")?.reason).toBe(
      "no proxy credentials (until 2024-12-31)",
    );
    expect(ids(out.findings)).toContain("lodash@4.17.11 GHSA-jf85-cpcp-j695");
  });

  it("reads the YAML form with statements, expiry and purls", () => {
    const rules = parseYamlIgnore(`vulnerabilities:
  - id: GHSA-c2qf-rxjj-qqgw
    statement: only used at build time
    purls: ["pkg:npm/semver@7.5.1"]
  - id: CVE-2021-44228
    expired_at: 2030-01-01
    statement: JNDI lookups disabled
`);
    const out = filterFindings(findings, { ignoreRules: rules, now });
    expect(ids(out.suppressed.map((s) => s.finding))).toEqual([
      "com.guicedee.services:log4j-core@1.2.1.2-jre17 GHSA-jfh8-c2jp-5v3q",
      "org.apache.logging.log4j:log4j-core@2.0-beta9 GHSA-jfh8-c2jp-5v3q",
      "org.apache.logging.log4j:log4j-core@2.14.1 GHSA-jfh8-c2jp-5v3q",
      "org.xbib.elasticsearch:log4j@6.3.2.1 GHSA-jfh8-c2jp-5v3q",
      "semver@7.5.1 GHSA-c2qf-rxjj-qqgw",
    ]);
    expect(out.suppressed.find((s) => s.finding.package.name === "semver")?.reason).toBe(
      "only used at build time",
    );
    expect(parseIgnoreFile("x.yaml", "vulnerabilities: []")).toEqual([]);
    expect(() => parsePlainIgnore("CVE-1 exp:not-a-date")).toThrow(/invalid date/);
  });
});

describe("OpenVEX", () => {
  const vex = parseOpenVex(
    JSON.stringify({
      "@context": "https://openvex.dev/ns/v0.2.0",
      "@id": "https://example.com/vex/1",
      author: "Berth tests",
      timestamp: "2024-01-01T00:00:00Z",
      version: 1,
      statements: [
        {
          vulnerability: { name: "CVE-2008-5032" },
          products: [
            {
              "@id": "pkg:oci/app@sha256:abcd",
              subcomponents: [{ "@id": "pkg:deb/debian/vlc@0.8.6-svn20061012.debian-5.1+etch2" }],
            },
          ],
          status: "not_affected",
          justification: "vulnerable_code_not_in_execute_path",
          impact_statement: "no network streams played",
        },
        {
          vulnerability: { name: "GHSA-jf85-cpcp-j695" },
          products: [{ "@id": "pkg:npm/lodash" }],
          status: "affected",
        },
        {
          vulnerability: "CVE-2022-25883",
          products: ["pkg:npm/semver"],
          status: "not_affected",
          justification: "vulnerable_code_not_present",
        },
      ],
    }),
  );

  it("suppresses not_affected statements for the named packages, with the reason", () => {
    const out = filterFindings(findings, { vex });
    expect(ids(out.suppressed.map((s) => s.finding))).toEqual([
      "semver@5.7.1 GHSA-c2qf-rxjj-qqgw",
      "semver@7.5.1 GHSA-c2qf-rxjj-qqgw",
      "vlc@0.8.6-svn20061012.debian-5.1+etch2 DSA-1819-1",
    ]);
    expect(out.suppressed.find((s) => s.finding.package.name === "vlc")?.reason).toBe(
      "not_affected: vulnerable_code_not_in_execute_path: no network streams played",
    );
    // vlc 5etch1 is another package URL version: not covered by the statement.
    expect(ids(out.findings)).toContain("vlc@0.8.6-svn20061012.debian-5etch1 DSA-1819-1");
    expect(ids(out.findings)).toContain("lodash@4.17.11 GHSA-jf85-cpcp-j695");
  });

  it("rejects documents that are not OpenVEX", () => {
    expect(() => parseOpenVex("{}")).toThrow(/no statements/);
    expect(() => parseOpenVex("nope")).toThrow(/not valid JSON/);
  });
});

describe("CVSS", () => {
  it("computes v2, v3.0, v3.1 and v4.0 base scores", () => {
    expect(scoreCvss("AV:N/AC:L/Au:N/C:P/I:P/A:P")).toMatchObject({
      version: "2.0",
      baseScore: 7.5,
    });
    expect(scoreCvss("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")).toMatchObject({
      version: "3.0",
      baseScore: 9.8,
    });
    expect(scoreCvss("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H")).toMatchObject({
      version: "3.1",
      baseScore: 7.8,
    });
    expect(
      scoreCvss("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
    ).toMatchObject({ version: "4.0", baseScore: 9.3 });
    expect(scoreCvss("CVSS:3.1/garbage")).toBeNull();
    expect(scoreCvss("not a vector")).toBeNull();
  });

  it("maps scores to ratings (v2 has no CRITICAL)", () => {
    expect(ratingForScore(10, "2.0")).toBe("HIGH");
    expect(ratingForScore(9.0, "3.1")).toBe("CRITICAL");
    expect(ratingForScore(6.9, "4.0")).toBe("MEDIUM");
    expect(ratingForScore(0.1, "3.1")).toBe("LOW");
  });

  it("falls back to the source's own rating, never guesses", () => {
    const base = { id: "X", modified: "2024-01-01T00:00:00Z" };
    expect(assessSeverity({ ...base, database_specific: { severity: "MODERATE" } })).toEqual({
      severity: "MEDIUM",
      source: "database_specific",
    });
    expect(assessSeverity({ ...base, severity: [{ type: "Ubuntu", score: "high" }] })).toEqual({
      severity: "HIGH",
      source: "ubuntu",
    });
    expect(assessSeverity(base, { ecosystem_specific: { severity: "Low" } })).toEqual({
      severity: "LOW",
      source: "ecosystem_specific",
    });
    expect(assessSeverity(base)).toEqual({ severity: "UNKNOWN", source: "none" });
  });
});
