// `node --import tsx bench/copy-vs-skopeo.ts [--rounds N] [--size-mib M]`: copies one 1 GiB
// image (8 layers of incompressible data) registry → registry with `berth copy` and with
// `skopeo copy`, alternating rounds, between two CNCF reference registries (docker-registry)
// on 127.0.0.1. Prints each tool's median wall time and throughput, the ratio (skopeo time /
// berth time: > 1 means berth is faster) and each tool's peak RSS (VmHWM from /proc/PID/status,
// sampled until the process exits). To show that berth's memory does not grow with layer
// size, it also copies a small image (8 × 1 MiB) once and prints berth's peak RSS for both
// sizes side by side. Run by hand; not part of `npm test`; asserts nothing.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startReferenceRegistry } from "../test/support/reference-registry.js";
import { benchLayout } from "./images.js";
import { measured } from "./measure.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const MiB = 1 << 20;
/** The small image whose peak RSS is compared with the big one's. */
const SMALL_MIB = 8;

interface Run {
  tool: "berth" | "skopeo";
  seconds: number;
  peakRssBytes: number;
}

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

async function intoFreshRegistry<T>(copy: (host: string) => Promise<T>): Promise<T> {
  const destination = await startReferenceRegistry();
  try {
    return await copy(destination.host);
  } finally {
    await destination.stop();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function main(): Promise<void> {
  const rounds = argValue("--rounds", 3);
  const sizeMiB = argValue("--size-mib", 1024);
  const layout = await benchLayout(sizeMiB);
  const smallLayout = await benchLayout(SMALL_MIB);
  const source = await startReferenceRegistry();
  const runs: Run[] = [];
  let smallPeak = 0;
  try {
    const fromSource = `${source.host}/bench/big:1`;
    const smallSource = `${source.host}/bench/small:1`;
    for (const [dir, ref] of [
      [layout, fromSource],
      [smallLayout, smallSource],
    ]) {
      await measured(
        "skopeo",
        ["copy", "--quiet", "--dest-tls-verify=false", `oci:${dir}:1`, `docker://${ref}`],
        process.env,
      );
    }
    const compiled = existsSync(join(ROOT, "dist", "cli", "main.js"));
    const berthEnv = { ...process.env, BERTH_FROM_SOURCE: compiled ? "" : "1" };
    const small = await intoFreshRegistry((dst) =>
      measured(
        process.execPath,
        [join(ROOT, "bin", "berth.js"), "copy", "-q", smallSource, `${dst}/bench/small:1`],
        berthEnv,
      ),
    );
    smallPeak = small.peak;
    const skopeoArgs = ["copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false"];
    for (let round = 1; round <= rounds; round++) {
      // A fresh destination per run: neither tool may skip or mount blobs an earlier run left
      // (skopeo's blob-info cache would otherwise mount them across repositories).
      const b = await intoFreshRegistry((dst) =>
        measured(
          process.execPath,
          [join(ROOT, "bin", "berth.js"), "copy", "-q", fromSource, `${dst}/bench/copy:1`],
          berthEnv,
        ),
      );
      runs.push({ tool: "berth", seconds: b.seconds, peakRssBytes: b.peak });
      const s = await intoFreshRegistry((dst) =>
        measured(
          "skopeo",
          [...skopeoArgs, `docker://${fromSource}`, `docker://${dst}/bench/copy:1`],
          process.env,
        ),
      );
      runs.push({ tool: "skopeo", seconds: s.seconds, peakRssBytes: s.peak });
      process.stderr.write(
        `round ${round}: berth ${b.seconds.toFixed(2)} s, skopeo ${s.seconds.toFixed(2)} s\n`,
      );
    }
  } finally {
    await source.stop();
  }
  // Start-up as a copy pays it: `berth copy --help` loads the copy command and what it needs.
  const startup = await measured(
    process.execPath,
    [join(ROOT, "bin", "berth.js"), "copy", "--help"],
    {
      ...process.env,
      BERTH_FROM_SOURCE: existsSync(join(ROOT, "dist", "cli", "main.js")) ? "" : "1",
    },
  );
  const of = (tool: Run["tool"]) => runs.filter((r) => r.tool === tool);
  const summary = (tool: Run["tool"]) => ({
    medianSeconds: median(of(tool).map((r) => r.seconds)),
    mbPerSecond: (sizeMiB * MiB) / 1e6 / median(of(tool).map((r) => r.seconds)),
    peakRssMiB: Math.max(...of(tool).map((r) => r.peakRssBytes)) / MiB,
  });
  const berth = summary("berth");
  const skopeo = summary("skopeo");
  const result = {
    berthStartupSeconds: startup.seconds,
    sizeMiB,
    rounds,
    berth,
    skopeo,
    ratioSkopeoOverBerth: skopeo.medianSeconds / berth.medianSeconds,
    berthPeakRssMiBSmallImage: { sizeMiB: SMALL_MIB, peakRssMiB: smallPeak / MiB },
    runs,
  };
  process.stdout.write(
    [
      `copy ${sizeMiB} MiB registry→registry, ${rounds} rounds (median)`,
      `  berth   ${berth.medianSeconds.toFixed(2)} s  ${berth.mbPerSecond.toFixed(0)} MB/s  peak RSS ${berth.peakRssMiB.toFixed(0)} MiB`,
      `  skopeo  ${skopeo.medianSeconds.toFixed(2)} s  ${skopeo.mbPerSecond.toFixed(0)} MB/s  peak RSS ${skopeo.peakRssMiB.toFixed(0)} MiB`,
      `  ratio (skopeo time / berth time, > 1 = berth faster): ${result.ratioSkopeoOverBerth.toFixed(2)}`,
      `  berth peak RSS, ${SMALL_MIB} MiB image: ${(smallPeak / MiB).toFixed(0)} MiB; ${sizeMiB} MiB image: ${berth.peakRssMiB.toFixed(0)} MiB (flat = independent of layer size)`,
      `  (berth's time includes its start-up: \`berth copy --help\` takes ${startup.seconds.toFixed(2)} s here)`,
      "",
    ].join("\n"),
  );
  const out = join(ROOT, "bench", "results");
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, `copy-vs-skopeo-${new Date().toISOString().replace(/[:.]/g, "-")}.json`),
    JSON.stringify(result, null, 2),
  );
}

await main();
