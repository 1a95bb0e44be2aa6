// Benchmark for `berth lint`: lints 1,000 Dockerfiles (the fixture corpus, each made unique
// by a varied build stage) in-process and reports the CPU time of the first pass after
// start-up and of a pass after warm-up. When the CLI is built (dist/), it also writes the
// corpus to a temporary directory and runs `berth lint --format json` on it in a fresh
// process, reporting that process's CPU (all threads) and of a one-file run (start-up): the
// number a user sees. Run by hand: `node --import tsx bench/lint.ts [count]`. Not part of
// npm test.
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
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lintDockerfile } from "../src/lint/index.js";

const DIR = join(import.meta.dirname, "..", "test", "fixtures", "dockerfiles");
const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");
/** Preloaded into the CLI process: prints its own CPU time (every thread) on exit. */
const REPORT_CPU = `data:text/javascript,process.on("exit",()=>{const u=process.resourceUsage();process.stderr.write("\\ncpuMs="+(u.userCPUTime+u.systemCPUTime)/1000+"\\n")})`;
const count = Number(process.argv[2] ?? 1000);

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

// First pass right after start-up (includes JIT compilation), then one more warm-up pass so
// the measured pass sees compiled hot paths.
const firstPassCpuMs = cpuMsOf(() => {
  for (const f of files) lintDockerfile(f);
});
for (const f of files) lintDockerfile(f);

const before = process.cpuUsage();
const wallStart = performance.now();
let findings = 0;
for (const f of files) findings += lintDockerfile(f).length;
const wall = performance.now() - wallStart;
const cpu = process.cpuUsage(before);
const cpuMs = (cpu.user + cpu.system) / 1000;

interface CliRun {
  cpuMs: number;
  wallMs: number;
}

/** Runs the built CLI on `paths` (relative to `cwd`) in a fresh process. */
function runCli(cwd: string, paths: string[]): CliRun {
  const start = performance.now();
  const child = spawnSync(
    process.execPath,
    ["--import", REPORT_CPU, CLI, "lint", "--format", "json", ...paths],
    { cwd, encoding: "utf8", maxBuffer: 1 << 30 },
  );
  const wallMs = performance.now() - start;
  const match = /cpuMs=([\d.]+)/.exec(child.stderr);
  if (match === null) throw new Error(`berth lint did not report its CPU time: ${child.stderr}`);
  return { cpuMs: Math.round(Number(match[1])), wallMs: Math.round(wallMs) };
}

/** The corpus as files in a temporary directory, linted by the CLI (1 file, then all). */
function cliRuns(): { startup: CliRun; all: CliRun } | null {
  if (!existsSync(CLI)) return null;
  const root = mkdtempSync(join(tmpdir(), "berth-lint-bench-"));
  try {
    const paths = files.map((text, i) => {
      mkdirSync(join(root, String(i)));
      writeFileSync(join(root, String(i), "Dockerfile"), text);
      return join(String(i), "Dockerfile");
    });
    return { startup: runCli(root, paths.slice(0, 1)), all: runCli(root, paths) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const cli = cliRuns();

console.log(
  JSON.stringify(
    {
      dockerfiles: files.length,
      bytes,
      findings,
      firstPassCpuMs: Math.round(firstPassCpuMs),
      cpuMs: Math.round(cpuMs),
      wallMs: Math.round(wall),
      perFileMs: Number((cpuMs / files.length).toFixed(3)),
      cli:
        cli === null
          ? "not built (npm run build)"
          : {
              cpuMs: cli.all.cpuMs,
              wallMs: cli.all.wallMs,
              startupCpuMs: cli.startup.cpuMs,
              cpuMsAfterStartup: cli.all.cpuMs - cli.startup.cpuMs,
            },
    },
    null,
    2,
  ),
);
