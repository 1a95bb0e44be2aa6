// Report formats over a real scan result (fixture packages × real OSV records): the JSON
// schema's fields and counts, the table's explanations, and CycloneDX 1.5 / SPDX 2.3 / SARIF
// 2.1.0 output validated against their JSON schemas; SBOMs read back (sbom: targets).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Ajv } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import AjvDraft04Module from "ajv-draft-04";
import { describe, expect, it } from "vitest";
import { memorySource } from "../../../src/scan/match/index.js";
import { toCycloneDx } from "../../../src/scan/report/cyclonedx.js";
import { toJsonReport } from "../../../src/scan/report/json.js";
import { toSarif } from "../../../src/scan/report/sarif.js";
import { readSbom } from "../../../src/scan/report/sbom-read.js";
import { toSpdx } from "../../../src/scan/report/spdx.js";
import { renderTable } from "../../../src/scan/report/table.js";
import { allFindings } from "../../../src/scan/result.js";
import { evaluateInventory, type Inventory } from "../../../src/scan/scan.js";
import { CASES, loadRecords } from "../fixtures.js";

const require = createRequire(import.meta.url);
// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const formats = require("ajv-formats") as { default: (ajv: object) => void };
const addFormats = formats.default;
const AjvDraft04 = AjvDraft04Module.default;
const source = memorySource(loadRecords());
const inventory: Inventory = {
  artifact: { name: "oci:./app:1.0", type: "image", digest: `sha256:${"cd".repeat(32)}` },
  os: { family: "debian", version: "9", name: "Debian GNU/Linux 9 (stretch)" },
  packages: CASES.map((c) => c.pkg),
  warnings: [],
};
const result = evaluateInventory(inventory, source);
const expectedTotal = CASES.reduce((n, c) => n + c.expect.length, 0);

function cyclonedxValidator() {
  const dir = dirname(require.resolve("@cyclonedx/cyclonedx-library/package.json"));
  const load = (f: string) => JSON.parse(readFileSync(join(dir, "res/schema", f), "utf8"));
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({
    ...load("spdx.SNAPSHOT.schema.json"),
    $id: "http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json",
  });
  ajv.addSchema({
    ...load("jsf-0.82.SNAPSHOT.schema.json"),
    $id: "http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json",
  });
  return ajv.compile(load("bom-1.5.SNAPSHOT.schema.json"));
}

function spdxValidator() {
  const schema = JSON.parse(
    readFileSync(
      join(import.meta.dirname, "../../fixtures/sbom-schemas/spdx-2.3-condensed.schema.json"),
      "utf8",
    ),
  );
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  return ajv.compile(schema);
}

function sarifValidator() {
  const schema = JSON.parse(
    readFileSync(
      require.resolve("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json"),
      "utf8",
    ),
  );
  const ajv = new AjvDraft04({ strict: false, allErrors: true, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

describe("json report", () => {
  const report = toJsonReport(result);
  it("has the documented top-level shape and exact counts", () => {
    expect(report.schemaVersion).toBe(1);
    expect(report.artifact).toEqual({
      name: "oci:./app:1.0",
      type: "image",
      digest: `sha256:${"cd".repeat(32)}`,
    });
    expect(report.os).toEqual({
      family: "debian",
      version: "9",
      name: "Debian GNU/Linux 9 (stretch)",
    });
    const total = Object.values(report.summary).reduce((a, b) => a + b, 0);
    expect(total).toBe(expectedTotal);
    expect(report.summary).toEqual({ UNKNOWN: 9, LOW: 0, MEDIUM: 1, HIGH: 8, CRITICAL: 6 });
  });

  it("groups OS packages first, then one target per language file", () => {
    expect(report.results.map((r) => [r.target, r.class])).toEqual([
      ["Debian GNU/Linux 9 (stretch) (debian)", "os-pkgs"],
      ["app/Go.lock", "lang-pkgs"],
      ["app/Maven.lock", "lang-pkgs"],
      ["app/NuGet.lock", "lang-pkgs"],
      ["app/Packagist.lock", "lang-pkgs"],
      ["app/PyPI.lock", "lang-pkgs"],
      ["app/RubyGems.lock", "lang-pkgs"],
      ["app/crates.io.lock", "lang-pkgs"],
      ["app/npm.lock", "lang-pkgs"],
    ]);
  });

  it("explains each vulnerability", () => {
    const v = report.results[0].vulnerabilities.find(
      (x) => x.package.name === "libssl1.1" && x.id === "DLA-3008-1",
    )!;
    expect(v).toMatchObject({
      aliases: ["CVE-2022-1292", "DEBIAN-CVE-2022-1292"],
      installedVersion: "1.1.0l-1~deb9u5",
      fixedVersion: "1.1.0l-1~deb9u6",
      status: "fixed",
      match: {
        ecosystem: "Debian:9",
        advisoryPackage: "openssl",
        via: "source",
        kind: "range",
        range: "ECOSYSTEM >=0, <1.1.0l-1~deb9u6",
      },
      package: {
        sourceName: "openssl",
        layer: { index: 1, createdBy: "RUN apt-get install -y openssl" },
      },
    });
  });
});

describe("table report", () => {
  const text = renderTable(result);
  it("shows counts per severity per target and a why-line per finding", () => {
    expect(text).toContain("Total: 3 (UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 2, CRITICAL: 1)");
    expect(text).toContain(
      "libssl1.1 1.1.0l-1~deb9u5 (source openssl 1.1.0l-1~deb9u5) → DLA-3008-1 (CVE-2022-1292, DEBIAN-CVE-2022-1292) → Debian:9/openssl ECOSYSTEM >=0, <1.1.0l-1~deb9u6 → fixed in 1.1.0l-1~deb9u6 → layer 1",
    );
    expect(text).toContain("RUN apt-get install -y openssl");
  });
});

describe("schema validation", () => {
  it("CycloneDX 1.5 with vulnerabilities validates against the official schema", () => {
    const validate = cyclonedxValidator();
    const bom = toCycloneDx(result, { withVulnerabilities: true });
    expect(validate(bom), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    const vulns = bom.vulnerabilities as { id: string; affects: { ref: string }[] }[];
    expect(vulns.length).toBe(new Set(allFindings(result).map((f) => f.vulnerabilityId)).size);
    const refs = new Set((bom.components as { "bom-ref": string }[]).map((c) => c["bom-ref"]));
    for (const v of vulns) for (const a of v.affects) expect(refs.has(a.ref)).toBe(true);
  });

  it("the CycloneDX SBOM alone validates too", () => {
    const validate = cyclonedxValidator();
    expect(
      validate(toCycloneDx(result, { withVulnerabilities: false })),
      JSON.stringify(validate.errors?.slice(0, 3)),
    ).toBe(true);
  });

  it("SPDX 2.3 validates against the SPDX 2.3 schema", () => {
    const validate = spdxValidator();
    const doc = toSpdx(result);
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    expect((doc.packages as unknown[]).length).toBe(CASES.length + 2);
  });

  it("the SPDX validator is not a rubber stamp", () => {
    const validate = spdxValidator();
    const doc = toSpdx(result) as { packages: Record<string, unknown>[] };
    doc.packages[2].SPDXID = "not an id";
    expect(validate(doc)).toBe(false);
  });

  it("SARIF validates against the SARIF 2.1.0 schema", () => {
    const validate = sarifValidator();
    const sarif = toSarif(result);
    expect(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    expect(sarif.runs[0].results.length).toBe(expectedTotal);
  });
});

describe("sbom: targets", () => {
  it("reads Berth's CycloneDX back and finds the same vulnerabilities", () => {
    const bom = JSON.parse(JSON.stringify(toCycloneDx(result, { withVulnerabilities: false })));
    const sbom = readSbom(bom, "bom.json");
    expect(sbom.packages.length).toBe(CASES.length);
    const again = evaluateInventory(
      { artifact: { name: "bom.json", type: "sbom" }, packages: sbom.packages, warnings: [] },
      source,
    );
    const ids = (r: typeof result) =>
      allFindings(r)
        .map((f) => `${f.package.name}@${f.package.version} ${f.vulnerabilityId}`)
        .sort();
    expect(ids(again)).toEqual(ids(result));
  });

  it("reads SPDX purls, including the distro and upstream qualifiers", () => {
    const doc = {
      spdxVersion: "SPDX-2.3",
      name: "img",
      packages: [
        {
          name: "libssl1.1",
          externalRefs: [
            {
              referenceCategory: "PACKAGE-MANAGER",
              referenceType: "purl",
              referenceLocator:
                "pkg:deb/debian/libssl1.1@1.1.0l-1~deb9u5?arch=amd64&upstream=openssl&distro=debian-9",
            },
          ],
        },
        {
          name: "x",
          externalRefs: [
            {
              referenceCategory: "OTHER",
              referenceType: "cpe23Type",
              referenceLocator: "cpe:2.3:a:x",
            },
          ],
        },
      ],
    };
    const sbom = readSbom(doc, "spdx.json");
    expect(sbom.packages).toHaveLength(1);
    expect(sbom.packages[0]).toMatchObject({
      name: "libssl1.1",
      ecosystem: "Debian",
      release: "9",
      sourceName: "openssl",
      type: "os",
    });
    const found = evaluateInventory(
      { artifact: { name: "spdx.json", type: "sbom" }, packages: sbom.packages, warnings: [] },
      source,
    );
    expect(allFindings(found).map((f) => f.vulnerabilityId)).toEqual(["DLA-3008-1"]);
  });

  it("reads a Trivy-style CycloneDX component (source package in properties, distro in purl)", () => {
    const doc = {
      bomFormat: "CycloneDX",
      specVersion: "1.5",
      components: [
        {
          type: "library",
          name: "libvlc0",
          version: "0.8.6-svn20061012.debian-5.1+etch2",
          purl: "pkg:deb/debian/libvlc0@0.8.6-svn20061012.debian-5.1%2Betch2?arch=i386&distro=debian-4.0",
          properties: [
            { name: "aquasecurity:trivy:SrcName", value: "vlc" },
            { name: "aquasecurity:trivy:SrcVersion", value: "0.8.6-svn20061012.debian-5.1+etch2" },
          ],
        },
      ],
    };
    const sbom = readSbom(doc, "trivy.cdx.json");
    expect(sbom.packages[0]).toMatchObject({
      name: "libvlc0",
      version: "0.8.6-svn20061012.debian-5.1+etch2",
      release: "4.0",
      sourceName: "vlc",
    });
    const found = evaluateInventory(
      { artifact: { name: "t", type: "sbom" }, packages: sbom.packages, warnings: [] },
      source,
    );
    expect(allFindings(found).map((f) => `${f.vulnerabilityId} ${f.fixedVersion}`)).toEqual([
      "DSA-1819-1 0.8.6-svn20061012.debian-5.1+etch3",
    ]);
  });

  it("rejects a document that is not an SBOM", () => {
    expect(() => readSbom({ hello: 1 }, "x.json")).toThrow(/neither a CycloneDX nor an SPDX/);
  });
});
