// Benchmark of push and pull throughput while garbage collection runs (issue 11: "at least
// 80 % of the throughput without GC"). Berth as shipped (compiled dist/, token auth on, Basic
// credentials, default 2 h grace), one server, one run: a store preloaded with 500 images,
// then phases of SECONDS each, alternating without GC and with GC jobs back to back (POST
// /api/v1/gc, wait, again; each reads the whole snapshot and re-checks what it plans), each
// with 4 pushers (config + one 256 KiB layer + manifest per image, monolithic blob uploads)
// and 4 pullers (GET of a random pushed layer) over keep-alive connections, 3 GC
// phases each between two without. Reports images pushed/s and MB pulled/s per phase and the
// ratio of the GC phases to the mean of their neighbours without GC.
//   npm run build && node --import tsx bench/gc-throughput.ts [seconds]  (npm run bench -- gc-throughput)
// Not part of npm test; never asserts timings. Writes bench/results/gc-throughput-<timestamp>.json.

import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startBerth } from "../test/support/berth-process.js";
import { peakRss, resetPeakRss } from "./servers.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SECONDS = Number(process.argv[2] ?? 8);
const PAIRS = 3;
const PRELOAD = 500;
const WORKERS = 4;
const LAYER_BYTES = 256 * 1024;
const PASSWORD = "bench-gc-throughput-1";
const AUTH = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString("base64")}`;

const digestOf = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

interface Phase {
  name: string;
  imagesPerSecond: number;
  pullMBps: number;
  gcRuns: number;
  errors: number;
  serverPeakRssMB: number;
}

async function main(): Promise<void> {
  execFileSync("npm", ["run", "--silent", "build"], { cwd: ROOT, stdio: "inherit" });
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  const berth = await startBerth({
    ...(profileDir ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] } : {}),
    env: {
      BERTH_FROM_SOURCE: "",
      BERTH_AUTH: "token",
      BERTH_ADMIN_PASSWORD: PASSWORD,
      BERTH_AUTO_CREATE_PROJECTS: "true",
      BERTH_LOG_LEVEL: "warn",
    },
  });
  const layers: { repository: string; digest: string }[] = [];
  let counter = 0;
  const headers = { Authorization: AUTH };
  const pushBlob = async (repository: string, data: Buffer) => {
    const digest = digestOf(data);
    const res = await fetch(`${berth.url}/v2/${repository}/blobs/uploads/?digest=${digest}`, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/octet-stream" },
      body: data,
    });
    await res.arrayBuffer();
    if (res.status !== 201) throw new Error(`blob push ${res.status}`);
    return digest;
  };
  const pushOne = async () => {
    const n = counter++;
    const repository = `bench/app${n % 20}`;
    const layer = randomBytes(LAYER_BYTES);
    const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", n }));
    const layerDigest = await pushBlob(repository, layer);
    const configDigest = await pushBlob(repository, config);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: configDigest,
        size: config.length,
      },
      layers: [
        {
          mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
          digest: layerDigest,
          size: layer.length,
        },
      ],
    });
    const res = await fetch(`${berth.url}/v2/${repository}/manifests/v${n}`, {
      method: "PUT",
      headers: { ...headers, "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
      body: manifest,
    });
    await res.arrayBuffer();
    if (res.status !== 201) throw new Error(`manifest push ${res.status}`);
    layers.push({ repository, digest: layerDigest });
  };
  const pullOne = async () => {
    const { repository, digest } = layers[Math.floor(Math.random() * layers.length)]!;
    const res = await fetch(`${berth.url}/v2/${repository}/blobs/${digest}`, { headers });
    const body = await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`pull ${res.status}`);
    return body.byteLength;
  };
  const gcOnce = async () => {
    const post = await fetch(`${berth.url}/api/v1/gc`, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json" },
      body: "{}",
    });
    const job = (await post.json()) as { id: number };
    for (;;) {
      const res = await fetch(`${berth.url}/api/v1/jobs/${job.id}`, { headers });
      const now = (await res.json()) as { state: string };
      if (now.state === "succeeded") return;
      if (now.state !== "queued" && now.state !== "running") throw new Error(`GC ${now.state}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const phase = async (name: string, withGc: boolean): Promise<Phase> => {
    resetPeakRss(berth.pid);
    const deadline = Date.now() + SECONDS * 1000;
    let pushed = 0;
    let pulledBytes = 0;
    let errors = 0;
    let gcRuns = 0;
    const loop = async (op: () => Promise<void>) => {
      while (Date.now() < deadline) {
        try {
          await op();
        } catch {
          errors++;
        }
      }
    };
    const start = performance.now();
    await Promise.all([
      ...Array.from({ length: WORKERS }, () =>
        loop(async () => {
          await pushOne();
          pushed++;
        }),
      ),
      ...Array.from({ length: WORKERS }, () =>
        loop(async () => {
          pulledBytes += await pullOne();
        }),
      ),
      ...(withGc
        ? [
            loop(async () => {
              await gcOnce();
              gcRuns++;
            }),
          ]
        : []),
    ]);
    const seconds = (performance.now() - start) / 1000;
    const result = {
      name,
      imagesPerSecond: pushed / seconds,
      pullMBps: pulledBytes / 1e6 / seconds,
      gcRuns,
      errors,
      serverPeakRssMB: peakRss(berth.pid) / 1e6,
    };
    console.log(
      `${name}: ${result.imagesPerSecond.toFixed(1)} images/s pushed, ${result.pullMBps.toFixed(1)} MB/s pulled, ${gcRuns} GC runs, ${errors} errors, server peak RSS ${result.serverPeakRssMB.toFixed(0)} MB`,
    );
    return result;
  };

  try {
    console.log(
      `load average before: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}`,
    );
    for (let i = 0; i < PRELOAD; i += WORKERS)
      await Promise.all(Array.from({ length: WORKERS }, pushOne));
    // Alternating phases (A B A B A B A), so drift in the machine's load hits both alike; the
    // ratio compares the sums over the B phases with the A phases' (mean of its neighbours).
    const phases: Phase[] = [];
    for (let i = 0; i < 2 * PAIRS + 1; i++)
      phases.push(
        await phase(
          i % 2 === 1 ? `with GC in a loop #${(i + 1) / 2}` : `without GC #${i / 2 + 1}`,
          i % 2 === 1,
        ),
      );
    const ratio = (pick: (p: Phase) => number) => {
      let gc = 0;
      let none = 0;
      for (let i = 1; i < phases.length; i += 2) {
        gc += pick(phases[i]!);
        none += (pick(phases[i - 1]!) + pick(phases[i + 1]!)) / 2;
      }
      return gc / none;
    };
    const summary = {
      seconds: SECONDS,
      phases,
      pushRatio: ratio((p) => p.imagesPerSecond),
      pullRatio: ratio((p) => p.pullMBps),
      loadAverageAfter: loadavg(),
    };
    console.log(
      `with GC / without: push ${(summary.pushRatio * 100).toFixed(0)} %, pull ${(summary.pullRatio * 100).toFixed(0)} %`,
    );
    const resultsDir = join(ROOT, "bench", "results");
    mkdirSync(resultsDir, { recursive: true });
    const file = join(
      resultsDir,
      `gc-throughput-${new Date().toISOString().replace(/[:.]/g, "-")}.json`,
    );
    writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
    console.log(`results written to ${file}`);
  } finally {
    await berth.stop();
  }
}

await main();
