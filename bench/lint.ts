// Benchmark for `berth lint`, the two numbers a user pays, each measured on the built CLI
// (dist/, what `npm install` leaves) in fresh processes, repeated, reported as min and median:
//   1. one file, cold: `berth lint Dockerfile` as a pre-commit hook runs it (wall and CPU);
//   2. 1,000 files in one invocation, cold (CPU of the whole process: every thread).
// Each is measured without ShellCheck (`--no-shellcheck`: Berth's own cost, the targets) and
// with it (the `shellcheck` children's CPU reported separately). The corpus is the lint
// fixtures, each made unique by a varied build stage. It also reports the in-process CPU of a
// first and a warmed-up pass over the corpus (the linter core without start-up). The load
// average is printed with every number: on a shared machine wall times mean little, CPU
// times (which barely move with load) say more. Run by hand:
//   npm run build && node --import tsx bench/lint.ts [count] [rounds]
// Not part of npm test.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { lintDockerfile } from "../src/lint/index.js";

const DIR = join(import.meta.dirname, "..", "test", "fixtures", "dockerfiles");
const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");
/**
 * Preloaded into the CLI process: on exit, prints its own CPU time (every thread) and that of
 * the children it waited for (shellcheck), from /proc/self/stat (cutime, cstime; clock ticks).
 */
const REPORT_CPU = `data:text/javascript,${encodeURIComponent(
  `import{readFileSync}from"node:fs";process.on("exit",()=>{const u=process.resourceUsage();const f=readFileSync("/proc/self/stat","utf8").split(") ")[1].split(" ");process.stderr.write("\\ncpuMs="+(u.userCPUTime+u.systemCPUTime)/1000+" childMs="+(Number(f[13])+Number(f[14]))*10+"\\n")})`,
)}`;
const count = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 5);

function corpus(n: number): string[] {
  const seeds = readdirSync(DIR)
    .filter((f) => f.endsWith(".Dockerfile"))
    .map((f) => readFileSync(join(DIR, f), "utf8"));
  const out: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const seed = seeds[i % seeds.length];
    const extra = `FROM node:${18 + (i % 4)}-alpine AS extra${i}
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci && apk add --no-cache git=2.${i % 50}.0-r0 \\
    && curl -fsSL https://example.com/${i}.sh | sh
COPY . .
`;
    out.push(
      seed.startsWith("# escape") || seed.startsWith("# syntax") ? seed : `${extra}\n${seed}`,
    );
  }
  return out;
}

const files = corpus(count);
const bytes = files.reduce((n, f) => n + f.length, 0);

function cpuMsOf(run: () => void): number {
  const before = process.cpuUsage();
  run();
  const cpu = process.cpuUsage(before);
  return (cpu.user + cpu.system) / 1000;
}

interface CliRun {
  wallMs: number;
  cpuMs: number;
  shellcheckCpuMs: number;
  load1: number;
}

/** Runs the built CLI on `paths` (relative to `cwd`) in a fresh process. */
function runCli(cwd: string, args: string[]): CliRun {
  const load1 = loadavg()[0];
  const start = performance.now();
  const child = spawnSync(process.execPath, ["--import", REPORT_CPU, CLI, "lint", ...args], {
    cwd,
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  const wallMs = performance.now() - start;
  const match = /cpuMs=([\d.]+) childMs=(\d+)/.exec(child.stderr);
  if (match === null) throw new Error(`berth lint did not report its CPU time: ${child.stderr}`);
  return {
    wallMs: Math.round(wallMs),
    cpuMs: Math.round(Number(match[1])),
    shellcheckCpuMs: Number(match[2]),
    load1: Number(load1.toFixed(1)),
  };
}

function stats(values: number[]): { min: number; median: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0], median: sorted[Math.floor(sorted.length / 2)] };
}

/** `n` runs, alternating with and without ShellCheck so drift on the machine hits both. */
function measure(n: number, cwd: string, args: string[]) {
  const runs = { without: [] as CliRun[], with: [] as CliRun[] };
  for (let i = 0; i < n; i += 1) {
    runs.without.push(runCli(cwd, ["--no-shellcheck", ...args]));
    runs.with.push(runCli(cwd, args));
  }
  const summary = (list: CliRun[]) => ({
    wallMs: stats(list.map((r) => r.wallMs)),
    cpuMs: stats(list.map((r) => r.cpuMs)),
    shellcheckCpuMs: stats(list.map((r) => r.shellcheckCpuMs)),
    load1: list.map((r) => r.load1),
  });
  return { withoutShellcheck: summary(runs.without), withShellcheck: summary(runs.with) };
}

function cliRuns() {
  if (!existsSync(CLI)) return "not built (npm run build)";
  const root = mkdtempSync(join(tmpdir(), "berth-lint-bench-"));
  try {
    const paths = files.map((text, i) => {
      mkdirSync(join(root, String(i)));
      writeFileSync(join(root, String(i), "Dockerfile"), text);
      return join(String(i), "Dockerfile");
    });
    // A pre-commit hook: text output, one Dockerfile, a fresh process each time.
    const oneFile = measure(rounds * 2, join(root, "0"), ["Dockerfile"]);
    const allFiles = measure(Math.max(1, Math.ceil(rounds / 2)), root, [
      "--format",
      "json",
      ...paths,
    ]);
    return { oneFile, allFiles };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

// The linter core in-process: the first pass right after start-up (includes JIT compilation),
// then one more warm-up pass so the measured pass sees compiled hot paths.
const firstPassCpuMs = cpuMsOf(() => {
  for (const f of files) lintDockerfile(f);
});
for (const f of files) lintDockerfile(f);
let findings = 0;
const warmCpuMs = cpuMsOf(() => {
  for (const f of files) findings += lintDockerfile(f).length;
});

console.log(
  JSON.stringify(
    {
      machine: { cpus: cpus().length, node: process.version, loadavgAtStart: loadavg() },
      dockerfiles: files.length,
      bytes,
      findings,
      inProcess: {
        firstPassCpuMs: Math.round(firstPassCpuMs),
        warmPassCpuMs: Math.round(warmCpuMs),
        perFileMs: Number((warmCpuMs / files.length).toFixed(3)),
      },
      cli: cliRuns(),
      loadavgAtEnd: loadavg(),
    },
    null,
    2,
  ),
);
