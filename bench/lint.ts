// Benchmark for `berth lint`: lints 1,000 Dockerfiles (the fixture corpus, each made unique
// by a varied build stage) in-process and reports the CPU time spent after start-up and a
// warm-up pass. Run by hand: `node --import tsx bench/lint.ts [count]`. Not part of npm test.
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
    out.push(seed.startsWith("# escape") || seed.startsWith("# syntax") ? seed : `${extra}\n${seed}`);
  }
  return out;
}

const files = corpus(count);
const bytes = files.reduce((n, f) => n + f.length, 0);
for (const f of files.slice(0, 100)) lintDockerfile(f);

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
      cpuMs: Math.round(cpuMs),
      wallMs: Math.round(wall),
      perFileMs: Number((cpuMs / files.length).toFixed(3)),
    },
    null,
    2,
  ),
);
