// `berth db`, `berth scan` and `berth sbom` as a user runs them: real processes of bin/berth.js
// against a database imported from the real OSV fixture records, an SBOM target, a crafted
// root filesystem (fs:), and `db update` from a zip served by a 127.0.0.1 HTTP server.
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memorySource } from "../../../src/scan/match/index.js";
import { toCycloneDx } from "../../../src/scan/report/cyclonedx.js";
import { evaluateInventory } from "../../../src/scan/scan.js";
import { CASES, RECORDS_DIR } from "../fixtures.js";

const BIN = join(import.meta.dirname, "../../../bin/berth.js");
const work = mkdtempSync(join(tmpdir(), "berth-scan-cli-"));
const db = join(work, "db");
const bom = join(work, "bom.json");
let server: Server | undefined;

function berth(args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: {
      ...process.env,
      BERTH_DB_DIR: "",
      XDG_CACHE_HOME: join(work, "xdg"),
      ...env,
    },
    timeout: 120_000,
  });
}

beforeAll(() => {
  const inventory = {
    artifact: { name: "app", type: "image" as const },
    packages: CASES.map((c) => c.pkg),
    warnings: [],
  };
  writeFileSync(
    bom,
    JSON.stringify(
      toCycloneDx(evaluateInventory(inventory, memorySource([])), { withVulnerabilities: false }),
    ),
  );
});

afterAll(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  rmSync(work, { recursive: true, force: true });
});

describe("berth db", () => {
  it("says there is no database, and how to get one", () => {
    const r = berth(["db", "status", "--db-dir", join(work, "empty")]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/no vulnerability database in .*empty: run "berth db import/);
  });

  it("imports a directory of OSV JSON and reports status", () => {
    const r = berth(["db", "import", RECORDS_DIR, "--db-dir", db]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/17 added, 0 updated, 0 unchanged/);
    const s = berth(["db", "status", "--db-dir", db, "--format", "json"]);
    const status = JSON.parse(s.stdout) as {
      totalRecords: number;
      ecosystems: { ecosystem: string; records: number }[];
    };
    expect(status.totalRecords).toBe(17);
    expect(status.ecosystems.map((e) => `${e.ecosystem}:${e.records}`)).toEqual([
      "AlmaLinux:1",
      "Alpine:1",
      "Debian:4",
      "Go:1",
      "Maven:2",
      "NuGet:1",
      "Packagist:1",
      "PyPI:2",
      "RubyGems:1",
      "crates.io:1",
      "npm:2",
    ]);
    const table = berth(["db", "status"], { BERTH_DB_DIR: db });
    expect(table.stdout).toMatch(/^Debian\s+4\s+0\s+2026-03-09T01:23:37\.553205Z\s+0h ago$/m);
    expect(table.stdout).toMatch(/^Maven\s+2\s+1\s+2024-07-25T20:12:08Z\s+0h ago$/m);
  });

  it("updates from a zip served over HTTP (127.0.0.1) and from a directory", async () => {
    const files: Record<string, Uint8Array> = {};
    for (const f of readdirSync(RECORDS_DIR))
      files[`osv/${f}`] = readFileSync(join(RECORDS_DIR, f));
    const zip = zipSync(files);
    server = createServer((req, res) => {
      if (req.url === "/all.zip")
        res.writeHead(200, { "content-type": "application/zip" }).end(zip);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
    const { port } = server.address() as AddressInfo;
    const db2 = join(work, "db2");
    // spawnSync would block this process's HTTP server, so run the CLI asynchronously.
    const { spawn } = await import("node:child_process");
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(process.execPath, [BIN, ...args], {
          env: { ...process.env },
        });
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (err += d));
        child.on("close", (code) => resolve({ code, out, err }));
      });
    const ok = await run([
      "db",
      "update",
      "--source",
      `http://127.0.0.1:${port}/all.zip`,
      "--db-dir",
      db2,
    ]);
    expect(ok.err).toBe("");
    expect(ok.out).toMatch(/17 added/);
    const missing = await run([
      "db",
      "update",
      "--source",
      `http://127.0.0.1:${port}/nope.zip`,
      "--db-dir",
      db2,
    ]);
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/HTTP 404/);
    const dir = berth(["db", "update", "--source", RECORDS_DIR, "--db-dir", db2]);
    expect(dir.stdout).toMatch(/0 added, 0 updated, 17 unchanged/);
  });
});

describe("berth scan", () => {
  it("scans an SBOM and reports exact findings in JSON", () => {
    const r = berth(["scan", `sbom:${bom}`, "--db-dir", db, "--format", "json"]);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as {
      results: { vulnerabilities: { id: string; package: { name: string; version: string } }[] }[];
    };
    const found = report.results
      .flatMap((t) =>
        t.vulnerabilities.map((v) => `${v.package.name}@${v.package.version} ${v.id}`),
      )
      .sort();
    const expected = CASES.flatMap((c) =>
      c.expect.map((e) => `${c.pkg.name}@${c.pkg.version} ${e.split(" ")[0]}`),
    ).sort();
    expect(found).toEqual(expected);
  });

  it("applies --severity and --exit-code like Trivy", () => {
    const r = berth([
      "scan",
      `sbom:${bom}`,
      "--db-dir",
      db,
      "--severity",
      "CRITICAL",
      "--exit-code",
      "5",
    ]);
    expect(r.status).toBe(5);
    expect(r.stdout).toContain("GHSA-jfh8-c2jp-5v3q");
    expect(r.stdout).not.toContain("GHSA-c2qf-rxjj-qqgw");
    const none = berth([
      "scan",
      `sbom:${bom}`,
      "--db-dir",
      db,
      "--severity",
      "LOW",
      "--exit-code",
      "5",
    ]);
    expect(none.status).toBe(0);
    expect(none.stdout).not.toContain("│ lodash");
  });

  it("applies --ignorefile, --vex and --pkg-types, and writes -o FILE", () => {
    const ignore = join(work, ".trivyignore");
    writeFileSync(ignore, "CVE-2021-44228 # JNDI disabled\n");
    const vex = join(work, "vex.json");
    writeFileSync(
      vex,
      JSON.stringify({
        "@context": "https://openvex.dev/ns/v0.2.0",
        statements: [
          {
            vulnerability: { name: "CVE-2019-10744" },
            products: [{ "@id": "pkg:npm/lodash" }],
            status: "not_affected",
            justification: "vulnerable_code_not_in_execute_path",
          },
        ],
      }),
    );
    const out = join(work, "report.json");
    const r = berth([
      "scan",
      `sbom:${bom}`,
      "--db-dir",
      db,
      "--ignorefile",
      ignore,
      "--vex",
      vex,
      "--pkg-types",
      "library",
      "--format",
      "json",
      "-o",
      out,
    ]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("");
    const report = JSON.parse(readFileSync(out, "utf8")) as {
      results: { class: string }[];
      suppressed: { id: string; suppressedBy: string; reason: string }[];
    };
    expect(report.results.every((t) => t.class === "lang-pkgs")).toBe(true);
    expect(report.suppressed.map((s) => `${s.id} ${s.suppressedBy} ${s.reason}`).sort()).toEqual([
      "GHSA-jf85-cpcp-j695 vex not_affected: vulnerable_code_not_in_execute_path",
      "GHSA-jfh8-c2jp-5v3q ignorefile JNDI disabled",
      "GHSA-jfh8-c2jp-5v3q ignorefile JNDI disabled",
      "GHSA-jfh8-c2jp-5v3q ignorefile JNDI disabled",
      "GHSA-jfh8-c2jp-5v3q ignorefile JNDI disabled",
    ]);
  });

  it("writes SARIF and CycloneDX with vulnerabilities", () => {
    const sarif = JSON.parse(
      berth(["scan", `sbom:${bom}`, "--db-dir", db, "--format", "sarif"]).stdout,
    ) as { version: string; runs: { results: unknown[] }[] };
    expect(sarif.version).toBe("2.1.0");
    expect(sarif.runs[0].results.length).toBe(24);
    const cdx = JSON.parse(
      berth(["scan", `sbom:${bom}`, "--db-dir", db, "--format", "cyclonedx"]).stdout,
    ) as { specVersion: string; vulnerabilities: unknown[] };
    expect(cdx.specVersion).toBe("1.5");
    expect(cdx.vulnerabilities.length).toBe(16);
  });

  it("fails clearly: no database, bad flags, unreadable target", () => {
    const nodb = berth(["scan", `sbom:${bom}`, "--db-dir", join(work, "nowhere")]);
    expect(nodb.status).toBe(3);
    expect(nodb.stderr).toMatch(/no vulnerability database/);
    const sev = berth(["scan", `sbom:${bom}`, "--db-dir", db, "--severity", "SEVERE"]);
    expect(sev.status).toBe(2);
    expect(sev.stderr).toMatch(/unknown severity "SEVERE"/);
    const fmt = berth(["scan", `sbom:${bom}`, "--db-dir", db, "--format", "xml"]);
    expect(fmt.status).toBe(2);
    const missing = berth(["scan", `sbom:${join(work, "missing.json")}`, "--db-dir", db]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read SBOM/);
    expect(missing.stderr).not.toMatch(/at .*\.ts:\d+/);
    writeFileSync(join(work, "not-a-bom.json"), JSON.stringify({ hello: "world" }));
    const notBom = berth(["scan", `sbom:${join(work, "not-a-bom.json")}`, "--db-dir", db]);
    expect(notBom.status).toBe(2);
    expect(notBom.stderr).toMatch(/neither a CycloneDX nor an SPDX JSON SBOM/);
    const noDir = berth(["scan", `fs:${join(work, "nonexistent")}`, "--db-dir", db]);
    expect(noDir.status).toBe(2);
    expect(noDir.stderr).toMatch(/nonexistent does not exist/);
    expect(noDir.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    const sbomNoDir = berth(["sbom", `fs:${join(work, "nonexistent")}`]);
    expect(sbomNoDir.status).toBe(2);
    expect(sbomNoDir.stderr).toMatch(/nonexistent does not exist/);
  });

  it("scans a crafted root filesystem (fs:) through the catalogers", () => {
    const root = join(work, "rootfs");
    mkdirSync(join(root, "etc"), { recursive: true });
    mkdirSync(join(root, "var/lib/dpkg"), { recursive: true });
    mkdirSync(join(root, "app/node_modules/lodash"), { recursive: true });
    writeFileSync(
      join(root, "etc/os-release"),
      'PRETTY_NAME="Debian GNU/Linux 9 (stretch)"\nNAME="Debian GNU/Linux"\nVERSION_ID="9"\nID=debian\n',
    );
    writeFileSync(
      join(root, "var/lib/dpkg/status"),
      [
        "Package: libssl1.1\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: 1.1.0l-1~deb9u5\nDescription: SSL\n",
        "Package: openssl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.1.0l-1~deb9u6\nDescription: SSL tools\n",
        "Package: libssl1.0.2\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl1.0\nVersion: 1.0.2u-1~deb9u7\nDescription: SSL 1.0\n",
        "Package: dpkg\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.18.25\nDescription: package manager\n",
      ].join("\n"),
    );
    writeFileSync(
      join(root, "app/node_modules/lodash/package.json"),
      JSON.stringify({ name: "lodash", version: "4.17.11", license: "MIT" }),
    );
    const r = berth(["scan", `fs:${root}`, "--db-dir", db, "--format", "json"]);
    expect(r.stderr).toBe("");
    const report = JSON.parse(r.stdout) as {
      os: { family: string };
      results: {
        vulnerabilities: { id: string; package: { name: string }; fixedVersion: string }[];
      }[];
    };
    expect(report.os.family).toBe("debian");
    const found = report.results
      .flatMap((t) => t.vulnerabilities.map((v) => `${v.package.name} ${v.id} ${v.fixedVersion}`))
      .sort();
    expect(found).toEqual([
      "dpkg DLA-3022-1 1.18.26",
      "libssl1.1 DLA-3008-1 1.1.0l-1~deb9u6",
      "lodash GHSA-jf85-cpcp-j695 4.17.12",
    ]);
  });
});

describe("berth sbom", () => {
  it("writes SPDX 2.3 and CycloneDX without needing a database", () => {
    const spdx = JSON.parse(berth(["sbom", `sbom:${bom}`, "--format", "spdx-json"]).stdout) as {
      spdxVersion: string;
      packages: unknown[];
    };
    expect(spdx.spdxVersion).toBe("SPDX-2.3");
    expect(spdx.packages.length).toBe(CASES.length + 1);
    const cdx = JSON.parse(berth(["sbom", `sbom:${bom}`]).stdout) as {
      bomFormat: string;
      components: unknown[];
      vulnerabilities?: unknown;
    };
    expect(cdx.bomFormat).toBe("CycloneDX");
    expect(cdx.components.length).toBe(CASES.length);
    expect(cdx.vulnerabilities).toBeUndefined();
  });
});
