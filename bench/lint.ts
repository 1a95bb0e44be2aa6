// Benchmark for `berth lint`: lints 1,000 Dockerfiles (the fixture corpus, each made unique
// by a varied build stage) in-process and reports the CPU time of the first pass after
// start-up and of a pass after warm-up. Run by hand: `node --import tsx bench/lint.ts [count]`. Not part of npm test.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { lintDockerfile } from "../src/lint/index.js";

const DIR = join(import.meta.dirname, "..", "test", "fixtures", "dockerfiles");
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
    },
    null,
    2,
  ),
);
