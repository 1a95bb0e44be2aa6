// `npm run bench [-- SCENARIO…] [--rounds N] [--berth-env KEY=VALUE…]`: runs each scenario against Berth as
// shipped (token auth on, servers.ts), Berth with auth off (the ceiling) and the CNCF
// reference registry (docker-registry) in alternation, A B C A B C …, and prints per metric
// the median and spread of each, Berth's fraction of its auth-off figure, the advantage of
// Berth over the reference (> 1 means Berth is better), and each server's peak RSS. Writes
// the same as JSON to bench/results/. Never asserts timings.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type MachineLimits, machineInfo, measureLimits } from "./machine.js";
import { type BenchContext, type Metric, metric, type Scenario } from "./scenario.js";
import { pullScenario, pushChunkedScenario, pushMonolithicScenario } from "./scenarios/blob.js";
import { idleConnectionsScenario } from "./scenarios/idle-connections.js";
import { listingScenario } from "./scenarios/listing.js";
import { requestRateScenario } from "./scenarios/request-rate.js";
import { concurrentPushScenario, manyLayersScenario } from "./scenarios/skopeo.js";
import {
  type BenchServer,
  cpuSeconds,
  peakRss,
  resetPeakRss,
  type ServerName,
  startServer,
} from "./servers.js";
import { advantage, spreadPercent, summarize } from "./stats.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SCENARIOS: Scenario[] = [
  pushMonolithicScenario,
  pushChunkedScenario,
  pullScenario,
  requestRateScenario,
  concurrentPushScenario,
  manyLayersScenario,
  listingScenario,
  idleConnectionsScenario,
];
const SERVERS: ServerName[] = ["berth", "berth-open", "reference"];
/**
 * Benchmarks with their own side-by-side logic (a GC is not a server round), run as child
 * processes after the scenarios: `npm run bench -- gc gc-throughput`. They print their own
 * tables and write their own results.
 */
const STANDALONE: Record<string, string> = {
  gc: "bench/gc.ts",
  "gc-throughput": "bench/gc-throughput.ts",
};

interface Sample {
  server: ServerName;
  round: number;
  metrics: Metric[];
  peakRssBytes: number;
}

interface ScenarioResult {
  id: string;
  title: string;
  samples: Sample[];
}

interface BenchArgs {
  ids: string[];
  rounds: number;
  /** Extra environment for Berth (`--berth-env BERTH_STORAGE_FSYNC=false`), for experiments. */
  berthEnv: Record<string, string>;
}

function parseArgs(argv: string[]): BenchArgs {
  const ids: string[] = [];
  const berthEnv: Record<string, string> = {};
  let rounds = 3;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--rounds") rounds = Number(argv[++i]);
    else if (argv[i] === "--berth-env") {
      const pair = argv[++i] ?? "";
      const eq = pair.indexOf("=");
      if (eq < 1) {
        console.error(`--berth-env wants KEY=VALUE, got "${pair}"`);
        process.exit(2);
      }
      berthEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
    } else ids.push(argv[i]!);
  }
  const known = new Set([...SCENARIOS.map((s) => s.id), ...Object.keys(STANDALONE)]);
  for (const id of ids) {
    if (!known.has(id)) {
      console.error(`unknown scenario "${id}"; known: ${[...known].join(", ")}`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(rounds) || rounds < 1) {
    console.error("--rounds must be a positive integer");
    process.exit(2);
  }
  return { ids, rounds, berthEnv };
}

const TOOLS = ["docker-registry", "skopeo", "curl", "openssl", "time"];

function ensureTools(): void {
  if (TOOLS.some((tool) => !existsSync(`/usr/bin/${tool}`))) {
    execFileSync("bash", [join(ROOT, "scripts", "install-test-deps.sh")], { stdio: "inherit" });
  }
  try {
    execFileSync("npm", ["run", "--silent", "build"], { cwd: ROOT, stdio: "inherit" });
  } catch {
    console.error("bench: `npm run build` failed (see above); fix the build first.");
    process.exit(1);
  }
}

async function runScenario(
  scenario: Scenario,
  ctx: BenchContext,
  rounds: number,
): Promise<ScenarioResult> {
  console.log(`\n== ${scenario.title}`);
  await scenario.prepare(ctx);
  const samples: Sample[] = [];
  const running = new Map<ServerName, BenchServer>();
  const serverFor = async (name: ServerName): Promise<BenchServer> => {
    const existing = running.get(name);
    if (existing && !scenario.freshServerPerRound) return existing;
    if (existing) await existing.stop();
    const server = await startServer(name, join(ctx.workDir, "data"), ctx.berthEnv);
    await scenario.setup?.(server, ctx);
    running.set(name, server);
    return server;
  };
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const name of SERVERS) {
        const server = await serverFor(name);
        resetPeakRss(server.pid);
        const cpuBefore = cpuSeconds(server.pid);
        const metrics = await scenario.run(server, ctx, round);
        // The server's own CPU time for the round: unlike wall time, it barely moves when
        // something else loads the machine, so it shows the cost of the data path itself.
        metrics.push(metric("server CPU", "s", cpuSeconds(server.pid) - cpuBefore, false));
        const sample = { server: name, round, metrics, peakRssBytes: peakRss(server.pid) };
        samples.push(sample);
        console.log(
          `  round ${round} ${name}: ${metrics.map((m) => `${m.name}=${fmt(m.value)}${m.unit}`).join(", ")}`,
        );
      }
    }
  } finally {
    for (const server of running.values()) await server.stop();
  }
  return { id: scenario.id, title: scenario.title, samples };
}

interface Row {
  scenario: string;
  metric: string;
  unit: string;
  berth: ReturnType<typeof summarize>;
  /** Berth with auth off: the ceiling for the shipped configuration. */
  berthOpen: ReturnType<typeof summarize>;
  reference: ReturnType<typeof summarize>;
  /** Berth as shipped against Berth with auth off (> 1 better), e.g. 0.8 = 80% of the ceiling. */
  ofAuthOff: number;
  berthAdvantage: number;
  berthPeakRssMB: number;
  berthOpenPeakRssMB: number;
  referencePeakRssMB: number;
}

function rowsOf(result: ScenarioResult): Row[] {
  const first = result.samples[0];
  if (!first) return [];
  const peak = (server: ServerName) =>
    Math.max(...result.samples.filter((s) => s.server === server).map((s) => s.peakRssBytes)) / 1e6;
  return first.metrics.map((m) => {
    const values = (server: ServerName) =>
      result.samples
        .filter((s) => s.server === server)
        .map((s) => s.metrics.find((x) => x.name === m.name)?.value ?? Number.NaN);
    const berth = summarize(values("berth"));
    const berthOpen = summarize(values("berth-open"));
    const reference = summarize(values("reference"));
    return {
      scenario: result.id,
      metric: m.name,
      unit: m.unit,
      berth,
      berthOpen,
      reference,
      ofAuthOff: advantage(berth.median, berthOpen.median, m.higherIsBetter),
      berthAdvantage: advantage(berth.median, reference.median, m.higherIsBetter),
      berthPeakRssMB: peak("berth"),
      berthOpenPeakRssMB: peak("berth-open"),
      referencePeakRssMB: peak("reference"),
    };
  });
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 1) return n.toFixed(2);
  return n.toFixed(3);
}

function printTable(rows: Row[], limits: MachineLimits): void {
  const header = [
    "scenario",
    "metric",
    "unit",
    "berth median (±%)",
    "auth-off median (±%)",
    "reference median (±%)",
    "of auth-off",
    "berth advantage",
    "peak RSS MB berth/off/ref",
  ];
  const lines = rows.map((r) => [
    r.scenario,
    r.metric,
    r.unit,
    `${fmt(r.berth.median)} (±${spreadPercent(r.berth).toFixed(0)}%)`,
    `${fmt(r.berthOpen.median)} (±${spreadPercent(r.berthOpen).toFixed(0)}%)`,
    `${fmt(r.reference.median)} (±${spreadPercent(r.reference).toFixed(0)}%)`,
    `${r.ofAuthOff.toFixed(2)}×`,
    `${r.berthAdvantage.toFixed(2)}×`,
    `${r.berthPeakRssMB.toFixed(0)} / ${r.berthOpenPeakRssMB.toFixed(0)} / ${r.referencePeakRssMB.toFixed(0)}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const render = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  console.log(`\n${render(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
  for (const l of lines) console.log(render(l));
  console.log(
    `\nmachine limits: sha256 ${fmt(limits.sha256MBps ?? Number.NaN)} MB/s, ` +
      `sequential write + fdatasync ${fmt(limits.writeFdatasyncMBps ?? Number.NaN)} MB/s`,
  );
  console.log(
    '"berth" is Berth as shipped (token auth, private project, maintainer credentials); "auth-off" is\n' +
      'Berth with BERTH_AUTH=none, the ceiling; "of auth-off" is berth against it (1.00× = no cost).\n' +
      '"berth advantage" > 1 means Berth as shipped is better than the reference (faster, more\n' +
      "requests/s, lower latency).",
  );
}

async function main(): Promise<void> {
  const { ids, rounds, berthEnv } = parseArgs(process.argv.slice(2));
  const selected = ids.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => ids.includes(s.id));
  ensureTools();
  const workDir = join(ROOT, "bench", ".work");
  mkdirSync(workDir, { recursive: true });
  const ctx: BenchContext = { workDir, berthEnv };
  if (Object.keys(berthEnv).length > 0)
    console.log(`berth environment: ${JSON.stringify(berthEnv)}`);
  const machine = machineInfo();
  console.log(
    `machine: ${machine.cores} cores (${machine.cpuModel}), ${fmt(machine.memoryBytes / 1e9)} GB, kernel ${machine.kernel}, node ${machine.node}`,
  );
  const limits: MachineLimits = selected.length > 0 ? measureLimits(workDir) : {};
  const results: ScenarioResult[] = [];
  for (const scenario of selected) results.push(await runScenario(scenario, ctx, rounds));
  const rows = results.flatMap(rowsOf);
  if (rows.length > 0) printTable(rows, limits);
  const standalone = Object.keys(STANDALONE).filter((id) => ids.length === 0 || ids.includes(id));
  for (const id of standalone) {
    console.log(`\n== ${id} (${STANDALONE[id]})`);
    execFileSync(process.execPath, ["--import", "tsx", join(ROOT, STANDALONE[id]!)], {
      cwd: ROOT,
      stdio: "inherit",
    });
  }
  if (rows.length === 0) return;
  const resultsDir = join(ROOT, "bench", "results");
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), machine, limits, rounds, berthEnv, rows, results }, null, 2)}\n`,
  );
  console.log(`\nresults written to ${file}`);
}

await main();
