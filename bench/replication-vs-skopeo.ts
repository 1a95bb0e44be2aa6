// `node --import tsx bench/replication-vs-skopeo.ts [--rounds N] [--size-mib M]`: the server
// side of copying, against skopeo, in one run on the same machine and disk. One 1 GiB image
// (8 layers of incompressible data, bench/images.ts) is pushed into a Berth (compiled, token
// auth) and into an upstream CNCF reference registry (docker-registry). Then, alternating
// per round:
//   replication  `berth admin replication run R --wait` of a push rule Berth → a fresh
//                docker-registry, against `skopeo copy` Berth → another fresh docker-registry;
//   proxy cold   `skopeo copy` of `pN/bench/big:1` from a new proxy project bound to the
//                upstream (every blob a miss) into a `dir:`, against skopeo copy straight
//                from the upstream into a `dir:`;
//   proxy warm   the same pull again (every blob a hit), against a pull of the same image
//                stored locally in Berth (`bench/big:1`).
// Prints medians, ratios (reference time / Berth time: > 1 means Berth is faster) and peak
// RSS: Berth's server (VmHWM reset through /proc/PID/clear_refs before each measurement) and
// skopeo's. Checks each replicated destination's digest. Run by hand; not part of `npm test`.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startBerth } from "../test/support/berth-process.js";
import { startReferenceRegistry } from "../test/support/reference-registry.js";
import { benchLayout } from "./images.js";
import { measured } from "./measure.js";
import { peakRss, resetPeakRss } from "./servers.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const MiB = 1 << 20;
const ADMIN_PASSWORD = "bench-replication-admin-1";
const CREDS = `admin:${ADMIN_PASSWORD}`;
const SKOPEO = ["copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false"];

type Case = "replication" | "proxy-cold" | "proxy-warm";
interface Sample {
  case: Case;
  round: number;
  berthSeconds: number;
  /** The execution's own duration as the server recorded it (replication only). */
  executionSeconds?: number;
  berthServerPeakRssBytes: number;
  referenceSeconds: number;
  referencePeakRssBytes: number;
}

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const cliEnv = {
  ...process.env,
  BERTH_FROM_SOURCE: existsSync(join(ROOT, "dist", "cli", "main.js")) ? "" : "1",
  BERTH_USERNAME: "admin",
  BERTH_PASSWORD: ADMIN_PASSWORD,
};

function berthCli(server: string, args: string[]) {
  return measured(
    process.execPath,
    [join(ROOT, "bin", "berth.js"), "admin", "--server", server, ...args],
    cliEnv,
  );
}

/** The digest a registry answers for a manifest (HEAD, optional Basic credentials). */
async function headDigest(url: string, creds?: string): Promise<string | null> {
  const res = await fetch(url, {
    method: "HEAD",
    headers: {
      accept: "application/vnd.oci.image.manifest.v1+json",
      ...(creds ? { authorization: `Basic ${Buffer.from(creds).toString("base64")}` } : {}),
    },
  });
  return res.headers.get("docker-content-digest");
}

/** Times a `skopeo copy` into a fresh `dir:` (deleted afterwards). */
async function pullToDir(from: string, extra: string[] = []) {
  const dir = await mkdtemp(join(tmpdir(), "bench-pull-"));
  try {
    return await measured("skopeo", [...SKOPEO, ...extra, from, `dir:${dir}/img`], process.env);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const rounds = argValue("--rounds", 3);
  const sizeMiB = argValue("--size-mib", 1024);
  const layout = await benchLayout(sizeMiB);
  const [berth, upstream] = await Promise.all([
    startBerth({
      env: {
        BERTH_AUTH: "token",
        BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
        BERTH_LOG_LEVEL: "warn",
        BERTH_JOBS_POLL_INTERVAL: "100ms",
      },
    }),
    startReferenceRegistry(),
  ]);
  const samples: Sample[] = [];
  try {
    await berthCli(berth.url, ["project", "create", "bench"]);
    await measured(
      "skopeo",
      [...SKOPEO, "--dest-creds", CREDS, `oci:${layout}:1`, `docker://${berth.host}/bench/big:1`],
      process.env,
    );
    await measured(
      "skopeo",
      [...SKOPEO, `oci:${layout}:1`, `docker://${upstream.host}/bench/big:1`],
      process.env,
    );
    const digest = await headDigest(`${berth.url}/v2/bench/big/manifests/1`, CREDS);
    await berthCli(berth.url, ["endpoint", "add", "up", "--url", upstream.url]);
    for (let round = 1; round <= rounds; round++) {
      samples.push(await replicationRound(berth, round, digest));
      samples.push(...(await proxyRounds(berth, upstream.host, round)));
      const last = samples.slice(-3);
      process.stderr.write(
        `round ${round}: ${last.map((s) => `${s.case} berth ${s.berthSeconds.toFixed(2)} s / ref ${s.referenceSeconds.toFixed(2)} s`).join("; ")}\n`,
      );
    }
  } finally {
    await Promise.all([berth.stop(), upstream.stop()]);
  }
  report(sizeMiB, rounds, samples);
}

async function replicationRound(
  berth: Awaited<ReturnType<typeof startBerth>>,
  round: number,
  digest: string | null,
): Promise<Sample> {
  const dst = await startReferenceRegistry();
  let berthRun: { seconds: number; peak: number; stdout: string };
  let executionSeconds: number | undefined;
  let serverPeak: number;
  try {
    await berthCli(berth.url, ["endpoint", "add", `dst${round}`, "--url", dst.url]);
    await berthCli(berth.url, [
      ...["replication", "add", `r${round}`, "--endpoint", `dst${round}`, "--mode", "push"],
      ...["--repo", "bench/big"],
    ]);
    resetPeakRss(berth.pid);
    berthRun = await berthCli(berth.url, [
      ...["--format", "json", "replication", "run", `r${round}`, "--wait"],
    ]);
    serverPeak = peakRss(berth.pid);
    const e = JSON.parse(berthRun.stdout) as { durationMs: number | null; state: string };
    if (e.state !== "succeeded") throw new Error(`replication ${e.state}: ${berthRun.stdout}`);
    executionSeconds = (e.durationMs ?? 0) / 1000;
    const there = await headDigest(`${dst.url}/v2/bench/big/manifests/1`);
    if (there !== digest) throw new Error(`replicated digest ${there}, expected ${digest}`);
  } finally {
    await dst.stop();
  }
  const dst2 = await startReferenceRegistry();
  try {
    const s = await measured(
      "skopeo",
      [
        ...[...SKOPEO, "--src-creds", CREDS],
        ...[`docker://${berth.host}/bench/big:1`, `docker://${dst2.host}/bench/big:1`],
      ],
      process.env,
    );
    return {
      case: "replication",
      round,
      berthSeconds: berthRun.seconds,
      ...(executionSeconds !== undefined ? { executionSeconds } : {}),
      berthServerPeakRssBytes: serverPeak,
      referenceSeconds: s.seconds,
      referencePeakRssBytes: s.peak,
    };
  } finally {
    await dst2.stop();
  }
}

async function proxyRounds(
  berth: Awaited<ReturnType<typeof startBerth>>,
  upstreamHost: string,
  round: number,
): Promise<Sample[]> {
  const project = `p${round}`;
  await berthCli(berth.url, ["project", "create", project, "--proxy", "up"]);
  const through = `docker://${berth.host}/${project}/bench/big:1`;
  const creds = ["--src-creds", CREDS];
  resetPeakRss(berth.pid);
  const cold = await pullToDir(through, creds);
  const coldPeak = peakRss(berth.pid);
  const direct = await pullToDir(`docker://${upstreamHost}/bench/big:1`);
  resetPeakRss(berth.pid);
  const warm = await pullToDir(through, creds);
  const warmPeak = peakRss(berth.pid);
  const local = await pullToDir(`docker://${berth.host}/bench/big:1`, creds);
  return [
    {
      case: "proxy-cold",
      round,
      berthSeconds: cold.seconds,
      berthServerPeakRssBytes: coldPeak,
      referenceSeconds: direct.seconds,
      referencePeakRssBytes: direct.peak,
    },
    {
      case: "proxy-warm",
      round,
      berthSeconds: warm.seconds,
      berthServerPeakRssBytes: warmPeak,
      referenceSeconds: local.seconds,
      referencePeakRssBytes: local.peak,
    },
  ];
}

function report(sizeMiB: number, rounds: number, samples: Sample[]): void {
  const cases: { name: Case; berth: string; reference: string }[] = [
    {
      name: "replication",
      berth: "berth replication run --wait (Berth → docker-registry)",
      reference: "skopeo copy Berth → docker-registry",
    },
    {
      name: "proxy-cold",
      berth: "skopeo pull through the proxy project, cold (all misses)",
      reference: "skopeo pull straight from the upstream",
    },
    {
      name: "proxy-warm",
      berth: "skopeo pull through the proxy project, warm (all hits)",
      reference: "skopeo pull of the same image stored locally in Berth",
    },
  ];
  const summary = cases.map((c) => {
    const of = samples.filter((s) => s.case === c.name);
    const berthSeconds = median(of.map((s) => s.berthSeconds));
    const referenceSeconds = median(of.map((s) => s.referenceSeconds));
    const exec = of.flatMap((s) => (s.executionSeconds === undefined ? [] : [s.executionSeconds]));
    return {
      ...c,
      berthSeconds,
      ...(exec.length ? { executionSeconds: median(exec) } : {}),
      referenceSeconds,
      ratioReferenceOverBerth: referenceSeconds / berthSeconds,
      berthServerPeakRssMiB: Math.max(...of.map((s) => s.berthServerPeakRssBytes)) / MiB,
      skopeoPeakRssMiB: Math.max(...of.map((s) => s.referencePeakRssBytes)) / MiB,
    };
  });
  const lines = [`${sizeMiB} MiB, 8 layers, ${rounds} rounds (medians)`];
  for (const s of summary)
    lines.push(
      `  ${s.name}`,
      `    ${s.berth}: ${s.berthSeconds.toFixed(2)} s${s.executionSeconds !== undefined ? ` (execution ${s.executionSeconds.toFixed(2)} s)` : ""}, Berth server peak RSS ${s.berthServerPeakRssMiB.toFixed(0)} MiB`,
      `    ${s.reference}: ${s.referenceSeconds.toFixed(2)} s, skopeo peak RSS ${s.skopeoPeakRssMiB.toFixed(0)} MiB`,
      `    ratio (reference time / Berth time, > 1 = Berth faster): ${s.ratioReferenceOverBerth.toFixed(2)}`,
    );
  process.stdout.write(`${lines.join("\n")}\n`);
  const out = join(ROOT, "bench", "results");
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, `replication-vs-skopeo-${new Date().toISOString().replace(/[:.]/g, "-")}.json`),
    JSON.stringify({ sizeMiB, rounds, summary, samples }, null, 2),
  );
}

await main();
