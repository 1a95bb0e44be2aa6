// The shared setup of the registry-scanning tests and the scan bench, so each names what it
// needs instead of repeating it: the OSV fixture database (test/fixtures/osv/records, plus any
// records of a test's own) imported with `berth db import`'s importer into a directory a
// server uses as scan.dbDir; a real Berth with token auth, an admin password and that
// database; and the images the scans judge (npm packages at known vulnerable versions, a
// Python package, optionally a Go binary), each with its own digest when given a seed.
// It only prepares: assertions stay in the tests.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importOsv } from "../../src/scan/osv/import.js";
import { goFixture } from "../scan/catalogers/support/go-fixture.js";
import {
  type BuiltImage,
  buildImage,
  type LayerSpec,
} from "../scan/catalogers/support/image-builder.js";
import { RECORDS_DIR } from "../scan/fixtures.js";
import { type BerthProcess, startBerth } from "./berth-process.js";

export { RECORDS_DIR };

/**
 * Imports the fixture records (and `ownRecords`, OSV JSON objects of the caller's) into
 * `dbDir` (created if needed); returns `dbDir`.
 */
export async function importFixtureDb(dbDir: string, ownRecords: object[] = []): Promise<string> {
  const sources = [RECORDS_DIR];
  let ownDir: string | undefined;
  if (ownRecords.length > 0) {
    ownDir = await mkdtemp(join(tmpdir(), "berth-own-osv-"));
    for (const record of ownRecords) {
      const id = (record as { id?: unknown }).id;
      if (typeof id !== "string") throw new Error("an OSV record needs a string id");
      await writeFile(join(ownDir, `${id}.json`), JSON.stringify(record));
    }
    sources.push(ownDir);
  }
  try {
    await mkdir(dbDir, { recursive: true });
    await importOsv(dbDir, sources);
  } finally {
    if (ownDir) await rm(ownDir, { recursive: true, force: true });
  }
  return dbDir;
}

export interface ScanningBerthOptions {
  /** The admin's password (BERTH_ADMIN_PASSWORD). */
  adminPassword: string;
  /** The server's scan.dbDir (BERTH_DB_DIR), e.g. from importFixtureDb. */
  dbDir: string;
  /** A data directory to keep across restarts; a temp one otherwise. */
  dataDir?: string;
  /** More BERTH_* settings (they win over the defaults here). */
  env?: NodeJS.ProcessEnv;
}

/** The environment of a scanning server: token auth, the admin, the database, quiet logs. */
export function scanningEnv(options: ScanningBerthOptions): NodeJS.ProcessEnv {
  return {
    BERTH_AUTH: "token",
    BERTH_ADMIN_PASSWORD: options.adminPassword,
    BERTH_LOG_LEVEL: "warn",
    BERTH_DB_DIR: options.dbDir,
    ...options.env,
  };
}

/** Starts a real Berth with token auth and the given vulnerability database. */
export function startScanningBerth(options: ScanningBerthOptions): Promise<BerthProcess> {
  return startBerth({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    env: scanningEnv(options),
  });
}

const npmLayer = (packages: readonly [string, string, string?][], note = ""): LayerSpec => ({
  createdBy: `RUN npm install ${packages.map(([n, v]) => `${n}@${v}`).join(" ")}${note}`,
  entries: packages.map(([name, version, license]) => ({
    path: `app/node_modules/${name}/package.json`,
    content: JSON.stringify({ name, version, license: license ?? "MIT" }),
  })),
});

/**
 * The image the registry-scanning tests judge: lodash 4.17.11 (MIT, one critical finding),
 * semver 7.5.1 (ISC), requests 2.30.0 (Python) and, with `go`, a Go binary with known
 * vulnerable modules.
 */
export async function langImage(options: { go?: boolean } = {}): Promise<BuiltImage> {
  const layers: LayerSpec[] = [
    npmLayer([
      ["lodash", "4.17.11", "MIT"],
      ["semver", "7.5.1", "ISC"],
    ]),
    {
      createdBy: "RUN pip install requests==2.30.0",
      entries: [
        {
          path: "usr/lib/python3/dist-packages/requests-2.30.0.dist-info/METADATA",
          content: "Metadata-Version: 2.1\nName: requests\nVersion: 2.30.0\n",
        },
      ],
    },
  ];
  if (options.go) {
    const go = await goFixture();
    layers.push({
      createdBy: "COPY berthapp /usr/local/bin/berthapp",
      entries: [{ path: "usr/local/bin/berthapp", content: go.binary, mode: 0o755 }],
    });
  }
  return buildImage(layers);
}

/**
 * An image of npm packages ([name, version, licence?], licence MIT by default) and a file
 * naming `seed`, so each seed gives a digest no other image has (never scanned before).
 */
export function npmImage(seed: string, packages: readonly [string, string, string?][]) {
  const layer = npmLayer(packages, ` # ${seed}`);
  layer.entries.push({ path: `app/${seed}.txt`, content: seed });
  return buildImage([layer]);
}

/** An OSV record of a test's own: npm semver 7.x affected, HIGH, with no fixed version. */
export function unfixedSemverRecord(id: string): object {
  return {
    schema_version: "1.4.0",
    id,
    modified: "2026-01-01T00:00:00Z",
    published: "2026-01-01T00:00:00Z",
    summary: "semver 7 test advisory without a fix",
    affected: [
      {
        package: { ecosystem: "npm", name: "semver" },
        ranges: [{ type: "ECOSYSTEM", events: [{ introduced: "7.0.0" }] }],
      },
    ],
    database_specific: { severity: "HIGH" },
  };
}
