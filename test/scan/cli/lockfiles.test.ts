// `berth scan fs:DIR` on a source tree as a user runs it: a real bin/berth.js process, a
// database imported with `berth db import` from the real OSV fixture records plus a real GHSA
// record added for this test (test/fixtures/lockfiles/osv), and a tree holding real-world lock
// files of several ecosystems (test/fixtures/lockfiles) and one malformed lock file. The
// packages show in the JSON report's targets and in `berth sbom`; the vulnerable pins are found
// through the lock files; the malformed file is a warning naming it, and the scan goes on.
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECORDS_DIR } from "../fixtures.js";

const BIN = join(import.meta.dirname, "../../../bin/berth.js");
const FIXTURES = join(import.meta.dirname, "../../fixtures/lockfiles");
const work = mkdtempSync(join(tmpdir(), "berth-scan-lockfiles-"));
const db = join(work, "db");
const tree = join(work, "src");

function berth(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, BERTH_DB_DIR: "", XDG_CACHE_HOME: work },
    timeout: 120_000,
  });
}

interface JsonReport {
  artifact: { type: string };
  results: {
    target: string;
    class: string;
    type: string;
    packageCount: number;
    vulnerabilities: {
      id: string;
      installedVersion: string;
      fixedVersion: string | null;
      package: { name: string; ecosystem: string; purl: string; locations: string[] };
    }[];
  }[];
  warnings: string[];
}

beforeAll(() => {
  const copy = (from: string, to: string) => {
    mkdirSync(join(tree, to, ".."), { recursive: true });
    cpSync(join(FIXTURES, from), join(tree, to));
  };
  copy("requirements/requirements.txt", "api/requirements.txt");
  copy("bundler/Gemfile.lock", "web/Gemfile.lock");
  copy("gomod/go.mod", "svc/go.mod");
  copy("gomod/go.sum", "svc/go.sum");
  copy("yarn-v1/yarn.lock", "ui/yarn.lock");
  copy("maven-properties/pom.xml", "shop/pom.xml");
  copy("cargo/Cargo.lock", "tool/Cargo.lock");
  copy("composer/composer.lock", "php/composer.lock");
  writeFileSync(join(tree, "api/poetry.lock"), "[[package]\nname = 'broken'\n");
  const imported = berth(["db", "import", RECORDS_DIR, join(FIXTURES, "osv"), "--db-dir", db]);
  expect(imported.stderr).toBe("");
  expect(imported.status).toBe(0);
}, 180_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("berth scan fs: on a source tree with lock files", () => {
  let report: JsonReport;
  let stderr: string;
  let status: number | null;

  beforeAll(() => {
    const r = berth(["scan", `fs:${tree}`, "--db-dir", db, "--format", "json"]);
    stderr = r.stderr;
    status = r.status;
    report = JSON.parse(r.stdout) as JsonReport;
  }, 180_000);

  it("reads each lock file as its own target with its packages", () => {
    expect(status).toBe(0);
    expect(report.artifact.type).toBe("filesystem");
    const targets = report.results
      .map((t) => `${t.class} ${t.type} ${t.target} ${t.packageCount}`)
      .sort();
    expect(targets).toEqual(
      [
        "lang-pkgs Go /svc/go.mod 4",
        "lang-pkgs Go /svc/go.sum 4",
        "lang-pkgs Maven /shop/pom.xml 4",
        "lang-pkgs Packagist /php/composer.lock 3",
        "lang-pkgs PyPI /api/requirements.txt 6",
        "lang-pkgs RubyGems /web/Gemfile.lock 42",
        "lang-pkgs crates.io /tool/Cargo.lock 7",
        "lang-pkgs npm /ui/yarn.lock 8",
      ].sort(),
    );
  });

  it("matches the vulnerable pins through the lock files", () => {
    const found = report.results
      .flatMap((t) =>
        t.vulnerabilities.map(
          (v) =>
            `${v.package.ecosystem} ${v.package.name} ${v.installedVersion} ${v.id} ${v.fixedVersion} ${v.package.locations.join(",")}`,
        ),
      )
      .sort();
    expect(found).toEqual(
      [
        "Go golang.org/x/text v0.3.3 GO-2022-1059 0.3.8 /svc/go.sum",
        "Maven org.apache.logging.log4j:log4j-core 2.14.1 GHSA-jfh8-c2jp-5v3q 2.15.0 /shop/pom.xml",
        "PyPI requests 2.30.0 GHSA-j8r2-6x86-q33q 2.31.0 /api/requirements.txt",
        "PyPI requests 2.30.0 PYSEC-2023-74 2.31.0 /api/requirements.txt",
        "RubyGems rack 1.5.5 GHSA-hxqx-xwvh-44m2 2.0.9.1 /web/Gemfile.lock",
        "npm @babel/runtime 7.17.2 GHSA-968p-4wvh-cqc8 7.26.10 /ui/yarn.lock",
        "npm @babel/runtime-corejs3 7.17.2 GHSA-968p-4wvh-cqc8 7.26.10 /ui/yarn.lock",
      ].sort(),
    );
    const babel = report.results
      .flatMap((t) => t.vulnerabilities)
      .find((v) => v.package.name === "@babel/runtime");
    expect(babel?.package.purl).toBe("pkg:npm/%40babel/runtime@7.17.2");
  });

  it("warns about the malformed lock file by name and goes on", () => {
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toMatch(
      /^\/api\/poetry\.lock: poetry-lock cataloger could not read it: not a valid poetry\.lock \(TOML\)/,
    );
    expect(stderr).toContain("berth: warning: /api/poetry.lock: poetry-lock cataloger");
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("lists the lock files' packages with purls and locations in the SBOM", () => {
    const r = berth(["sbom", `fs:${tree}`, "--format", "cyclonedx"]);
    expect(r.status).toBe(0);
    const bom = JSON.parse(r.stdout) as {
      components: {
        name: string;
        version: string;
        purl: string;
        properties?: { name: string; value: string }[];
      }[];
    };
    const byPurl = new Map(bom.components.map((c) => [c.purl, c]));
    for (const purl of [
      "pkg:pypi/requests@2.30.0",
      "pkg:pypi/django@3.2.19",
      "pkg:gem/rack@1.5.5",
      "pkg:golang/golang.org/x/text@v0.3.3",
      "pkg:golang/github.com/gorilla/sessions@v1.2.1",
      "pkg:npm/%40babel/runtime@7.17.2",
      "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.5",
      "pkg:cargo/clap@4.5.21",
      "pkg:composer/webmozart/assert@1.3.0",
    ]) {
      expect(byPurl.has(purl), purl).toBe(true);
    }
    const requests = byPurl.get("pkg:pypi/requests@2.30.0");
    expect(JSON.stringify(requests?.properties ?? [])).toContain("/api/requirements.txt");
    expect(bom.components.filter((c) => c.purl.startsWith("pkg:gem/"))).toHaveLength(42);
  });
});
