// The vulnerability database as an OCI artifact, end to end with real processes: the real OSV
// fixture records are imported, `berth db push` sends them to a Berth server (token auth, a
// private project), then a second Berth server (scan.dbRepository, credentials from an auth
// file) and a CLI with an empty cache (`berth scan --db-repository`, --creds) fetch it and scan
// the same image with results identical to the original database's. A second fetch of an
// unchanged digest downloads nothing. Tampered artifacts (content, record counts, schema
// version, artifact type, a corrupted blob in the registry's storage, a stale temp file of a
// killed fetch) are refused or cleaned up, and the local database stays byte-for-byte intact.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryClient } from "../../src/client/registry-client.js";
import { digestOf, MediaType } from "../../src/oci/index.js";
import { DB_ARTIFACT_TYPE, DB_LAYER_MEDIA_TYPE, DbAnnotation } from "../../src/scan/db-artifact.js";
import { berth, berthOk } from "../cli/berth-cli.js";
import { npmPackage, writeGateImage } from "../policy/gate-images.js";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import { RECORDS_DIR } from "./fixtures.js";

const PASSWORD = "db-artifact-admin-1";
const CREDS = `admin:${PASSWORD}`;

let work: string;
let source: BerthProcess;
let mirror: BerthProcess | undefined;
let image: string;
let ref: string;
let pushedDigest: string;
let expected: unknown;

function scanResults(stdout: string): unknown {
  const doc = JSON.parse(stdout) as { summary: unknown; results: unknown; suppressed: unknown };
  return { summary: doc.summary, results: doc.results, suppressed: doc.suppressed };
}

function fileHash(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function client(): RegistryClient {
  const [username, password] = CREDS.split(":") as [string, string];
  return new RegistryClient(source.host, { credentials: async () => ({ username, password }) });
}

async function pushedManifest(): Promise<{
  manifest: {
    artifactType: string;
    config: unknown;
    layers: { mediaType: string; digest: string; size: number }[];
    annotations: Record<string, string>;
  };
  layer: Buffer;
}> {
  const c = client();
  try {
    const m = await c.getManifest("sec/osv-db", pushedDigest);
    const manifest = JSON.parse(m.bytes.toString("utf8"));
    const chunks: Buffer[] = [];
    for await (const chunk of await c.getBlob("sec/osv-db", manifest.layers[0]))
      chunks.push(chunk as Buffer);
    return { manifest, layer: Buffer.concat(chunks) };
  } finally {
    await c.close();
  }
}

/** Pushes a hand-altered copy of the database artifact under `tag`; returns its reference. */
async function pushTampered(
  tag: string,
  alter: (a: {
    manifest: Awaited<ReturnType<typeof pushedManifest>>["manifest"];
    sqlite: Buffer;
  }) => Buffer | undefined,
): Promise<string> {
  const { manifest, layer } = await pushedManifest();
  const sqlite = Buffer.from(gunzipSync(layer));
  const copy = structuredClone(manifest);
  const newLayer = alter({ manifest: copy, sqlite });
  const c = client();
  try {
    if (newLayer) {
      const descriptor = {
        mediaType: DB_LAYER_MEDIA_TYPE,
        digest: digestOf(newLayer),
        size: newLayer.length,
      };
      await c.uploadBlob("sec/osv-db", descriptor, Readable.from([newLayer]));
      copy.layers = [descriptor];
    }
    await c.putManifest(
      "sec/osv-db",
      tag,
      Buffer.from(JSON.stringify(copy)),
      MediaType.OciManifest,
    );
  } finally {
    await c.close();
  }
  return `${source.host}/sec/osv-db:${tag}`;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-db-artifact-"));
  source = await startBerth({
    env: {
      BERTH_AUTH: "token",
      BERTH_ADMIN_PASSWORD: PASSWORD,
      BERTH_AUTO_CREATE_PROJECTS: "true",
      BERTH_LOG_LEVEL: "warn",
    },
  });
  await berthOk(["db", "import", "--db-dir", join(work, "origin"), RECORDS_DIR]);
  const built = await writeGateImage(join(work, "image"), "1", {
    layers: [
      [
        npmPackage("lodash", "4.17.11", "MIT"),
        npmPackage("minimist", "1.2.5", "MIT"),
        { path: "app/requirements.txt", content: "PyYAML==5.3\n" },
      ],
    ],
  });
  image = built.reference;
  const original = await berthOk([
    "scan",
    "--db-dir",
    join(work, "origin"),
    "--format",
    "json",
    image,
  ]);
  expected = scanResults(original.stdout);
  ref = `${source.host}/sec/osv-db:latest`;
}, 240_000);

afterAll(async () => {
  await mirror?.stop();
  await source?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("berth db push", () => {
  it("pushes an OCI artifact with its own types, a gzip layer and the metadata annotations", async () => {
    const r = await berthOk([
      "db",
      "push",
      "--creds",
      CREDS,
      "--db-dir",
      join(work, "origin"),
      "--format",
      "json",
      ref,
    ]);
    const pushed = JSON.parse(r.stdout) as { digest: string };
    pushedDigest = pushed.digest;
    const { manifest, layer } = await pushedManifest();
    expect(manifest.artifactType).toBe(DB_ARTIFACT_TYPE);
    expect(manifest.config).toMatchObject({ mediaType: MediaType.OciEmpty, size: 2 });
    expect(manifest.layers).toHaveLength(1);
    expect(manifest.layers[0]!.mediaType).toBe(DB_LAYER_MEDIA_TYPE);
    expect(layer.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const sqlite = gunzipSync(layer);
    expect(sqlite.subarray(0, 15).toString()).toBe("SQLite format 3");
    const a = manifest.annotations;
    expect(a[DbAnnotation.schemaVersion]).toBe("1");
    expect(Date.parse(a[DbAnnotation.created]!)).not.toBeNaN();
    const records = JSON.parse(a[DbAnnotation.records]!) as Record<string, number>;
    expect(records).toMatchObject({ npm: 2, PyPI: 2, Debian: 4 });
    expect(Number(a[DbAnnotation.totalRecords])).toBe(17);
    expect(JSON.parse(a[DbAnnotation.sources]!)).toEqual([RECORDS_DIR]);
    expect(a[DbAnnotation.contentDigest]).toBe(digestOf(sqlite));
  }, 120_000);

  it("refuses without a database, and without credentials for a private project", async () => {
    const none = await berth(["db", "push", "--db-dir", join(work, "nothing"), ref]);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/no vulnerability database in/);
    const anonymous = await berth([
      "db",
      "pull",
      "--authfile",
      join(work, "no-auth.json"),
      "--db-dir",
      join(work, "anon"),
      ref,
    ]);
    expect(anonymous.code).toBe(3);
    expect(existsSync(join(work, "anon", "osv.sqlite"))).toBe(false);
  }, 120_000);
});

describe("fetching the database", () => {
  it("a CLI with an empty cache scans with --db-repository and gets identical results", async () => {
    const dir = join(work, "cli-cache");
    const r = await berthOk([
      "scan",
      "--db-repository",
      ref,
      "--creds",
      CREDS,
      "--db-dir",
      dir,
      "--format",
      "json",
      image,
    ]);
    expect(r.stderr).toMatch(
      /vulnerability database updated in .* from .*sec\/osv-db:latest@sha256:/,
    );
    expect(r.stderr).toMatch(/17 records, data \d+[mhd] old/);
    expect(scanResults(r.stdout)).toEqual(expected);
    const found = (expected as { results: { vulnerabilities: { id: string }[] }[] }).results
      .flatMap((t) => t.vulnerabilities)
      .map((v) => v.id);
    expect(found).toContain("GHSA-jf85-cpcp-j695");
    const before = statSync(join(dir, "osv.sqlite"));
    const again = await berthOk([
      "scan",
      "--db-repository",
      ref,
      "--creds",
      CREDS,
      "--db-dir",
      dir,
      "--format",
      "json",
      image,
    ]);
    expect(again.stderr).toMatch(/is current/);
    const after = statSync(join(dir, "osv.sqlite"));
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
    const status = JSON.parse(
      (await berthOk(["db", "status", "--db-dir", dir, "--format", "json"])).stdout,
    );
    expect(status.origin).toMatchObject({ kind: "repository", digest: pushedDigest });
    expect(status.records).toMatchObject({ npm: 2, PyPI: 2 });
    expect(status.sources).toEqual([RECORDS_DIR]);
    expect(typeof status.ageSeconds).toBe("number");
    const text = (await berthOk(["db", "status", "--db-dir", dir])).stdout;
    expect(text).toMatch(new RegExp(`origin: .*sec/osv-db:latest@${pushedDigest}`));
    expect(text).toMatch(/data age: /);
  }, 180_000);

  it("berth gate --db-repository fetches the database for its vulnerabilities rule", async () => {
    const policy = join(work, "vuln-gate.yaml");
    await writeFile(policy, "vulnerabilities:\n  max: {critical: 0}\n");
    const dir = join(work, "gate-cache");
    const r = await berth([
      "gate",
      image,
      "--policy",
      policy,
      "--db-repository",
      ref,
      "--creds",
      CREDS,
      "--db-dir",
      dir,
      "--format",
      "json",
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/vulnerability database updated in/);
    expect(r.stdout).toContain("GHSA-jf85-cpcp-j695");
  }, 180_000);

  it("a second Berth server with scan.dbRepository fetches it into scan.dbDir and scans the same", async () => {
    const authFile = join(work, "server-auth.json");
    await writeFile(
      authFile,
      JSON.stringify({ auths: { [source.host]: { auth: Buffer.from(CREDS).toString("base64") } } }),
      { mode: 0o600 },
    );
    const dbDir = join(work, "mirror-db");
    mirror = await startBerth({
      env: {
        BERTH_AUTH: "none",
        BERTH_LOG_LEVEL: "info",
        BERTH_DB_DIR: dbDir,
        BERTH_SCAN_DB_REPOSITORY: ref,
        BERTH_SCAN_DB_REPOSITORY_AUTH_FILE: authFile,
      },
    });
    const file = join(dbDir, "osv.sqlite");
    for (let i = 0; i < 600 && !/vulnerability database updated/.test(mirror.output()); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(mirror.output()).toMatch(/vulnerability database updated from .*sec\/osv-db:latest/);
    expect(existsSync(file)).toBe(true);
    const r = await berthOk(["scan", "--db-dir", dbDir, "--format", "json", image]);
    expect(scanResults(r.stdout)).toEqual(expected);
    const status = JSON.parse(
      (await berthOk(["db", "status", "--db-dir", dbDir, "--format", "json"])).stdout,
    );
    expect(status.origin).toMatchObject({ kind: "repository", digest: pushedDigest });
  }, 180_000);
});

describe("tampered or corrupt artifacts are refused and the local database stays intact", () => {
  let dir: string;
  let hash: string;

  beforeAll(async () => {
    dir = join(work, "guarded");
    await berthOk(["db", "pull", "--creds", CREDS, "--db-dir", dir, ref]);
    hash = fileHash(join(dir, "osv.sqlite"));
  }, 120_000);

  async function refused(reference: string, message: RegExp): Promise<void> {
    const r = await berth(["db", "pull", "--creds", CREDS, "--db-dir", dir, reference]);
    expect(r.code, r.stdout).toBe(3);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/the local database is unchanged|cannot fetch/);
    expect(fileHash(join(dir, "osv.sqlite"))).toBe(hash);
    expect(readdirSync(dir), "no temp files left behind").toEqual(["osv.sqlite"]);
  }

  it("altered database bytes (content digest mismatch)", async () => {
    const tampered = await pushTampered("content", ({ sqlite }) => {
      const bytes = Buffer.from(sqlite);
      bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
      return gzipSync(bytes);
    });
    await refused(tampered, /the database content is sha256:.*the artifact announces/);
  }, 120_000);

  it("record counts that the content does not hold", async () => {
    const tampered = await pushTampered("counts", ({ manifest }) => {
      const records = JSON.parse(manifest.annotations[DbAnnotation.records]!);
      records.npm = 999;
      manifest.annotations[DbAnnotation.records] = JSON.stringify(records);
      return undefined;
    });
    await refused(tampered, /holds 17 records .* the artifact announces 17 .*"npm",999/);
  }, 120_000);

  it("another schema version", async () => {
    const tampered = await pushTampered("schema", ({ manifest }) => {
      manifest.annotations[DbAnnotation.schemaVersion] = "99";
      return undefined;
    });
    await refused(tampered, /holds database schema 99; this Berth reads schema 1/);
  }, 120_000);

  it("a layer that is not gzip", async () => {
    const tampered = await pushTampered("notgzip", ({ sqlite }) => sqlite);
    await refused(tampered, /the database layer is corrupt/);
  }, 120_000);

  it("an artifact of another type", async () => {
    const tampered = await pushTampered("othertype", ({ manifest }) => {
      manifest.artifactType = "application/vnd.example.other";
      return undefined;
    });
    await refused(tampered, /is not a Berth vulnerability database \(artifactType/);
  }, 120_000);

  it("a blob corrupted in the registry's storage (digest verification)", async () => {
    const tampered = await pushTampered("corrupt-blob", ({ sqlite }) => {
      const bytes = Buffer.from(sqlite);
      bytes.write("corrupted-on-disk", 200);
      return gzipSync(bytes);
    });
    const { manifest } = await (async () => {
      const c = client();
      try {
        const m = await c.getManifest("sec/osv-db", "corrupt-blob");
        return { manifest: JSON.parse(m.bytes.toString("utf8")) };
      } finally {
        await c.close();
      }
    })();
    const hex = (manifest.layers[0].digest as string).slice("sha256:".length);
    const blobFile = join(source.dataDir, "blobs", "sha256", hex.slice(0, 2), hex);
    const bytes = await readFile(blobFile);
    bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0xff;
    await writeFile(blobFile, bytes);
    await refused(tampered, /digest|does not match|corrupt/i);
  }, 120_000);

  it("a temp file left by a fetch killed with SIGKILL is removed; the live database is untouched", async () => {
    const stale = join(dir, ".osv.sqlite.fetch-2147483000");
    await writeFile(stale, "half a database");
    const r = await berthOk(["db", "pull", "--force", "--creds", CREDS, "--db-dir", dir, ref]);
    expect(r.stdout).toMatch(/updated/);
    expect(existsSync(stale)).toBe(false);
    const status = JSON.parse(
      (await berthOk(["db", "status", "--db-dir", dir, "--format", "json"])).stdout,
    );
    expect(status.totalRecords).toBe(17);
  }, 120_000);
});
