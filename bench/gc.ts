// Benchmark of garbage collection (issue 11, "Performance"): a store of 10,000 manifests
// (100 repositories × 100 tags) and 50,000 small blobs — each manifest references a config
// and 3 layers of its own (40,000 blobs), and 10,000 more blobs are linked in the
// repositories but referenced by no manifest (20 %, an upload whose manifest never came or
// whose manifest was deleted). The same content is written in both layouts: distribution's
// (docker/registry/v2/blobs/sha256/xx/<hex>/data, repositories/<name>/_layers, _manifests
// revisions and tags) and Berth's (blobs/sha256/xx/<hex> files; metadata rows inserted in
// bulk through the meta/ schema with Kysely, the rows a push writes). Then, in one run:
// `docker-registry garbage-collect` (offline, the reference: the registry must be down or
// read-only meanwhile) and Berth's online GC as shipped (a `gc` job through
// POST /api/v1/gc on a running server with token auth and the default 2 h grace; the
// orphan links are a day old). Reports wall time, CPU and peak RSS of each, the ratio, and
// checks that both kept exactly the 40,000 referenced blobs.
//   npm run build && node --import tsx bench/gc.ts [manifests]   (also: npm run bench -- gc)
// Not part of npm test; never asserts timings. Writes bench/results/gc-<timestamp>.json.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { openDatabase } from "../src/meta/index.js";
import { startBerth } from "../test/support/berth-process.js";
import { DOCKER_REGISTRY_BIN } from "../test/support/reference-registry.js";
import { cpuSeconds, peakRss, resetPeakRss } from "./servers.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const MANIFESTS = Number(process.argv[2] ?? 10_000);
const PER_REPO = 100;
const LAYERS = 3;
/** Unreferenced blobs per repository: 20 % of all blobs. */
const ORPHANS_PER_REPO = PER_REPO;
const PASSWORD = "bench-gc-admin-1";
const AUTH = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString("base64")}`;
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const DAY = 24 * 3600_000;

interface Blob {
  digest: string;
  hex: string;
  bytes: Buffer;
}

interface Manifest extends Blob {
  repository: string;
  tag: string;
  /** The config and layers it references. */
  blobs: Blob[];
  references: string[];
}

function blobOf(bytes: Buffer): Blob {
  const hex = createHash("sha256").update(bytes).digest("hex");
  return { digest: `sha256:${hex}`, hex, bytes };
}

/** The content both stores get: repositories, their manifests, referenced and orphan blobs. */
function content() {
  const repositories: { name: string; manifests: Manifest[]; orphans: Blob[] }[] = [];
  let n = 0;
  const nextBlob = () => blobOf(Buffer.from(`bench gc blob ${n++} `.repeat(4)));
  for (let r = 0; r < MANIFESTS / PER_REPO; r++) {
    const name = `bench/app${r}`;
    const manifests: Manifest[] = [];
    for (let m = 0; m < PER_REPO; m++) {
      const config = nextBlob();
      const layers = Array.from({ length: LAYERS }, nextBlob);
      const bytes = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: {
            mediaType: "application/vnd.oci.image.config.v1+json",
            digest: config.digest,
            size: config.bytes.length,
          },
          layers: layers.map((l) => ({
            mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
            digest: l.digest,
            size: l.bytes.length,
          })),
        }),
      );
      manifests.push({
        ...blobOf(bytes),
        repository: name,
        tag: `v${m}`,
        references: [config, ...layers].map((b) => b.digest),
        blobs: [config, ...layers],
      });
    }
    const orphans = Array.from({ length: ORPHANS_PER_REPO }, nextBlob);
    repositories.push({ name, manifests, orphans });
  }
  return repositories;
}

type Content = ReturnType<typeof content>;
const blobsOf = (m: Manifest) => m.blobs;

function writeFile(path: string, data: Buffer | string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

/** distribution's filesystem layout under `root` (the storage rootdirectory). */
function writeDistribution(root: string, repos: Content): void {
  const v2 = join(root, "docker", "registry", "v2");
  const blob = (b: Blob) =>
    writeFile(join(v2, "blobs", "sha256", b.hex.slice(0, 2), b.hex, "data"), b.bytes);
  for (const repo of repos) {
    const base = join(v2, "repositories", repo.name);
    const layerLink = (b: Blob) =>
      writeFile(join(base, "_layers", "sha256", b.hex, "link"), b.digest);
    for (const m of repo.manifests) {
      blob(m);
      for (const b of blobsOf(m)) {
        blob(b);
        layerLink(b);
      }
      writeFile(join(base, "_manifests", "revisions", "sha256", m.hex, "link"), m.digest);
      writeFile(join(base, "_manifests", "tags", m.tag, "current", "link"), m.digest);
      writeFile(
        join(base, "_manifests", "tags", m.tag, "index", "sha256", m.hex, "link"),
        m.digest,
      );
    }
    for (const o of repo.orphans) {
      blob(o);
      layerLink(o);
    }
  }
}

/** Berth's layout: blob files, and the rows a push writes (in bulk, in a few transactions). */
async function writeBerth(dataDir: string, repos: Content): Promise<void> {
  for (const repo of repos)
    for (const b of [...repo.manifests.flatMap(blobsOf), ...repo.orphans])
      writeFile(join(dataDir, "blobs", "sha256", b.hex.slice(0, 2), b.hex), b.bytes);
  const meta = await openDatabase({ driver: "sqlite", path: join(dataDir, "berth.db") });
  const old = Date.now() - DAY;
  const batches = <T>(rows: T[], size = 500) =>
    Array.from({ length: Math.ceil(rows.length / size) }, (_, i) =>
      rows.slice(i * size, i * size + size),
    );
  try {
    for (const repo of repos) {
      await meta.db.transaction().execute(async (trx) => {
        const { id } = await trx
          .insertInto("repositories")
          .values({ name: repo.name, created_at: old })
          .returning("id")
          .executeTakeFirstOrThrow();
        const blobs = [...repo.manifests.flatMap(blobsOf), ...repo.orphans];
        for (const batch of batches(blobs)) {
          await trx
            .insertInto("blobs")
            .values(batch.map((b) => ({ digest: b.digest, size: b.bytes.length, created_at: old })))
            .execute();
          await trx
            .insertInto("repository_blobs")
            .values(batch.map((b) => ({ repository_id: id, digest: b.digest, created_at: old })))
            .execute();
        }
        for (const m of repo.manifests) {
          const row = await trx
            .insertInto("manifests")
            .values({
              repository_id: id,
              digest: m.digest,
              media_type: OCI_MANIFEST,
              size: m.bytes.length,
              artifact_type: "application/vnd.oci.image.config.v1+json",
              subject_digest: null,
              annotations: null,
              content: m.bytes,
              created_at: old,
              pushed_at: old,
              pulled_at: null,
            })
            .returning("id")
            .executeTakeFirstOrThrow();
          await trx
            .insertInto("manifest_references")
            .values(
              m.references.map((digest) => ({
                manifest_id: row.id,
                kind: "blob" as const,
                digest,
              })),
            )
            .execute();
          await trx
            .insertInto("tags")
            .values({
              repository_id: id,
              name: m.tag,
              manifest_id: row.id,
              created_at: old,
              updated_at: old,
            })
            .execute();
        }
      });
    }
  } finally {
    await meta.close();
  }
}

/** Digests of the blob files under a Berth data dir, or of distribution's blob data dirs. */
function survivors(dir: string, distribution: boolean): Set<string> {
  const out = new Set<string>();
  const base = distribution
    ? join(dir, "docker", "registry", "v2", "blobs", "sha256")
    : join(dir, "blobs", "sha256");
  for (const prefix of readdirSync(base))
    for (const hex of readdirSync(join(base, prefix))) out.add(`sha256:${hex}`);
  return out;
}

interface Measured {
  seconds: number;
  cpuSeconds: number;
  peakRssMB: number;
}

/** `docker-registry garbage-collect` under /usr/bin/time (max RSS, user + system CPU). */
async function referenceGc(root: string, work: string): Promise<Measured> {
  const config = join(work, "reference.yml");
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${root}\n`,
  );
  const start = process.hrtime.bigint();
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      "/usr/bin/time",
      ["-f", "TIME %M %U %S", DOCKER_REGISTRY_BIN, "garbage-collect", config],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let err = "";
    child.stderr.on("data", (c: Buffer) => {
      err = (err + c.toString()).slice(-4000);
    });
    child.once("exit", (code) =>
      code === 0 ? resolve(err) : reject(new Error(`garbage-collect exited ${code}: ${err}`)),
    );
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const m = /TIME (\d+) ([\d.]+) ([\d.]+)/.exec(out);
  if (!m) throw new Error(`no /usr/bin/time line in: ${out}`);
  return {
    seconds,
    peakRssMB: (Number(m[1]) * 1024) / 1e6,
    cpuSeconds: Number(m[2]) + Number(m[3]),
  };
}

/** Berth's online GC as a job on a running server; peak RSS and CPU of the server during it. */
async function berthGc(
  dataDir: string,
): Promise<Measured & { result: unknown; idleRssMB: number }> {
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  const berth = await startBerth({
    ...(profileDir ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] } : {}),
    dataDir,
    env: {
      BERTH_FROM_SOURCE: "",
      BERTH_AUTH: "token",
      BERTH_ADMIN_PASSWORD: PASSWORD,
      BERTH_LOG_LEVEL: "warn",
    },
  });
  try {
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${berth.url}/api/v1${path}`, {
        method,
        headers: { Authorization: AUTH, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Record<string, unknown>;
    };
    await api("GET", "/jobs?kind=gc"); // authenticates once (token cache warm), like an admin's session
    resetPeakRss(berth.pid);
    const idleRssMB = peakRss(berth.pid) / 1e6;
    const cpu0 = cpuSeconds(berth.pid);
    const start = process.hrtime.bigint();
    const job = await api("POST", "/gc", {});
    let now = job;
    while (now.state === "queued" || now.state === "running") {
      await new Promise((r) => setTimeout(r, 20));
      now = await api("GET", `/jobs/${job.id}`);
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    for (const line of (now.log as { message: string }[] | undefined) ?? []) {
      console.log(`  gc job: ${line.message}`);
    }
    if (now.state !== "succeeded")
      throw new Error(`GC job ended ${now.state}: ${JSON.stringify(now.error)}`);
    return {
      seconds,
      cpuSeconds: cpuSeconds(berth.pid) - cpu0,
      peakRssMB: peakRss(berth.pid) / 1e6,
      idleRssMB,
      result: now.result,
    };
  } finally {
    await berth.stop();
  }
}

async function main(): Promise<void> {
  execFileSync("npm", ["run", "--silent", "build"], { cwd: ROOT, stdio: "inherit" });
  const work = join(ROOT, "bench", ".work", `gc-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  const referenceRoot = join(work, "reference");
  const berthDir = join(work, "berth");
  mkdirSync(berthDir, { recursive: true });
  try {
    console.log(
      `load average before: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}`,
    );
    const repos = content();
    const referenced = new Set(repos.flatMap((r) => r.manifests.flatMap((m) => m.references)));
    const orphans = repos.reduce((t, r) => t + r.orphans.length, 0);
    const manifestDigests = new Set(repos.flatMap((r) => r.manifests.map((m) => m.digest)));
    // Berth's schema first: a server start runs the migrations, then stops.
    await (await startBerth({ dataDir: berthDir, env: { BERTH_FROM_SOURCE: "" } })).stop();
    let t = Date.now();
    writeDistribution(referenceRoot, repos);
    await writeBerth(berthDir, repos);
    console.log(
      `store: ${manifestDigests.size} manifests, ${referenced.size + orphans} blobs (${orphans} unreferenced) in both layouts, written in ${((Date.now() - t) / 1000).toFixed(0)} s`,
    );
    t = Date.now();
    const reference = await referenceGc(referenceRoot, work);
    const berth = await berthGc(berthDir);
    const refLeft = survivors(referenceRoot, true);
    for (const d of manifestDigests) refLeft.delete(d); // distribution keeps manifests as blobs
    const berthLeft = survivors(berthDir, false);
    const same = (a: Set<string>, b: Set<string>) =>
      a.size === b.size && [...a].every((d) => b.has(d));
    if (!same(refLeft, referenced) || !same(berthLeft, referenced))
      throw new Error(
        `survivors differ: reference kept ${refLeft.size}, Berth kept ${berthLeft.size}, ${referenced.size} are referenced`,
      );
    const summary = {
      date: new Date().toISOString(),
      manifests: manifestDigests.size,
      blobs: referenced.size + orphans,
      unreferenced: orphans,
      survivorsIdentical: true,
      reference,
      berth,
      speedup: reference.seconds / berth.seconds,
      loadAverageAfter: loadavg(),
    };
    console.log(
      `docker-registry garbage-collect (offline): ${reference.seconds.toFixed(2)} s, ${reference.cpuSeconds.toFixed(2)} s CPU, peak RSS ${reference.peakRssMB.toFixed(0)} MB`,
    );
    console.log(
      `Berth online GC job: ${berth.seconds.toFixed(2)} s, ${berth.cpuSeconds.toFixed(2)} s server CPU, server peak RSS ${berth.peakRssMB.toFixed(0)} MB (idle ${berth.idleRssMB.toFixed(0)} MB)`,
    );
    console.log(
      `Berth ${summary.speedup.toFixed(1)}× faster (wall), ${(reference.cpuSeconds / berth.cpuSeconds).toFixed(1)}× less CPU; both kept exactly the ${referenced.size} referenced blobs`,
    );
    console.log(
      `load average after: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}`,
    );
    const resultsDir = join(ROOT, "bench", "results");
    mkdirSync(resultsDir, { recursive: true });
    const file = join(resultsDir, `gc-${summary.date.replace(/[:.]/g, "-")}.json`);
    writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
    console.log(`results written to ${file}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
