// Benchmark (run by hand, not part of npm test): catalog the real Debian bookworm image
// (test/support/debian-image.ts, debootstrap-built and cached) and match its packages against
// a database of >= 100,000 generated OSV records of real shapes (Debian DSA/DEBIAN-CVE records
// with per-release ECOSYSTEM ranges keyed by source package, GHSA npm records with SEMVER
// ranges, PyPI records with ranges and explicit versions lists, some withdrawn). Reports the
// time of each phase (generate+zip, import, catalog, match) and peak memory (max RSS). The
// scan (catalog + match) runs in its own process so its peak memory is not the generator's.
//
//   node --import tsx bench/scan.ts [--records 120000]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zipSync } from "fflate";
import { catalogImage } from "../src/scan/catalogers/index.js";
import { matchPackages } from "../src/scan/match/index.js";
import { importOsv } from "../src/scan/osv/import.js";
import { OsvStore } from "../src/scan/osv/store.js";
import type { Package } from "../src/scan/package.js";
import { openImageSource } from "../src/transport/index.js";
import { debianImage } from "../test/support/debian-image.js";

const argIndex = process.argv.indexOf("--records");
const RECORDS = argIndex === -1 ? 120_000 : Number(process.argv[argIndex + 1]);

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** A deterministic pseudo-random sequence, so runs are comparable. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function debianRecord(
  i: number,
  source: string,
  installed: string | undefined,
  rand: () => number,
) {
  // Half of the records on installed packages are fixed after the installed version (a match).
  const affectsInstalled = installed !== undefined && rand() < 0.5;
  const fixed12 = affectsInstalled
    ? `${installed}+deb12u${1 + Math.floor(rand() * 9)}`
    : `0.${Math.floor(rand() * 50)}-1`;
  const year = 2005 + (i % 20);
  return {
    schema_version: "1.6.0",
    id: `DEBIAN-CVE-${year}-${String(10000 + i).padStart(5, "0")}`,
    modified: "2024-05-01T00:00:00Z",
    published: `${year}-03-01T00:00:00Z`,
    ...(i % 97 === 0 ? { withdrawn: "2024-05-02T00:00:00Z" } : {}),
    upstream: [`CVE-${year}-${10000 + i}`],
    details: `Generated record ${i} with the shape of Debian's OSV feed.`,
    affected: [
      {
        package: { ecosystem: "Debian:11", name: source },
        ranges: [
          { type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: `0.${i % 40}-1+deb11u1` }] },
        ],
      },
      {
        package: { ecosystem: "Debian:12", name: source },
        ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }, { fixed: fixed12 }] }],
      },
      {
        package: { ecosystem: "Debian:13", name: source },
        ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "0" }] }],
      },
    ],
  };
}

function npmRecord(i: number) {
  return {
    schema_version: "1.4.0",
    id: `GHSA-gen${i.toString(36)}-xxxx-yyyy`,
    modified: "2024-05-01T00:00:00Z",
    aliases: [`CVE-2023-${20000 + (i % 70000)}`],
    summary: "Generated npm advisory",
    severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H" }],
    affected: [
      {
        package: { ecosystem: "npm", name: `pkg-${i % 20000}` },
        ranges: [
          {
            type: "SEMVER",
            events: [
              { introduced: "0" },
              { fixed: "1.2.3" },
              { introduced: "2.0.0" },
              { fixed: "2.4.1" },
            ],
          },
        ],
      },
    ],
    database_specific: { severity: "HIGH", github_reviewed: true },
  };
}

function pypiRecord(i: number) {
  return {
    schema_version: "1.4.0",
    id: `PYSEC-2099-${i}`,
    modified: "2024-05-01T00:00:00Z",
    aliases: [`CVE-2022-${30000 + (i % 60000)}`],
    affected: [
      {
        package: { ecosystem: "PyPI", name: `py-pkg-${i % 15000}` },
        ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "1.0" }, { fixed: "1.4.2" }] }],
        versions: ["1.0", "1.1", "1.2", "1.3", "1.4", "1.4.1"],
      },
    ],
  };
}

interface ScanPhase {
  packages: number;
  debianPackages: number;
  findings: number;
  catalogMs: number;
  matchMs: number;
  peakRssMiB: number;
}

/** Child process: catalog the Debian image and match it against the database in `dbDir`. */
async function scanPhase(dbDir: string): Promise<void> {
  const image = await debianImage();
  let t = process.hrtime.bigint();
  const source = await openImageSource(image.reference);
  const catalog = await catalogImage(source);
  await source.close();
  const catalogMs = ms(t);
  t = process.hrtime.bigint();
  const store = OsvStore.open(dbDir);
  const findings = matchPackages(catalog.packages as Package[], store);
  store.close();
  const result: ScanPhase = {
    packages: catalog.packages.length,
    debianPackages: catalog.packages.filter((p) => p.ecosystem === "Debian").length,
    findings: findings.length,
    catalogMs: Math.round(catalogMs),
    matchMs: Math.round(ms(t)),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  process.stdout.write(JSON.stringify(result));
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "berth-bench-scan-"));
  try {
    const image = await debianImage();
    const source = await openImageSource(image.reference);
    const catalog = await catalogImage(source);
    await source.close();
    const installed = new Map<string, string>();
    for (const p of catalog.packages.filter((x) => x.ecosystem === "Debian")) {
      installed.set(p.sourceName ?? p.name, p.sourceVersion ?? p.version);
    }
    const sources = [...installed.keys()];

    let t = process.hrtime.bigint();
    const rand = rng(42);
    const files: Record<string, Uint8Array> = {};
    const enc = new TextEncoder();
    for (let i = 0; i < RECORDS; i++) {
      const kind = i % 10;
      let record: { id: string };
      if (kind < 6) {
        // 30% of the Debian records name an installed source package, the rest other packages.
        const onInstalled = rand() < 0.3;
        const name = onInstalled ? sources[i % sources.length] : `src-${i % 25000}`;
        record = debianRecord(i, name, onInstalled ? installed.get(name) : undefined, rand);
      } else if (kind < 8) record = npmRecord(i);
      else record = pypiRecord(i);
      files[`${record.id}.json`] = enc.encode(JSON.stringify(record));
    }
    const zipPath = join(work, "all.zip");
    writeFileSync(zipPath, zipSync(files, { level: 6 }));
    const generateMs = ms(t);

    const dbDir = join(work, "db");
    t = process.hrtime.bigint();
    const summary = await importOsv(dbDir, [zipPath]);
    const importMs = ms(t);
    const importPeakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);

    const child = spawnSync(
      process.execPath,
      ["--import", "tsx", import.meta.filename, "--scan-phase", dbDir],
      {
        encoding: "utf8",
        maxBuffer: 1 << 20,
      },
    );
    if (child.status !== 0) throw new Error(`scan phase failed: ${child.stderr}`);
    const scan = JSON.parse(child.stdout) as ScanPhase;
    const result = {
      records: RECORDS,
      imported: summary.added,
      sourcePackagesWithRecords: sources.length,
      ...scan,
      perPackageMatchMs: Number((scan.matchMs / Math.max(1, scan.packages)).toFixed(3)),
      generateAndZipMs: Math.round(generateMs),
      importMs: Math.round(importMs),
      generatorAndImportPeakRssMiB: importPeakRssMiB,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const phase = process.argv.indexOf("--scan-phase");
if (phase !== -1) await scanPhase(process.argv[phase + 1]);
else await main();
