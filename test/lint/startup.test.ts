// What a single `berth lint Dockerfile` loads (a pre-commit hook pays for every module): only
// the lint command, the text format, no YAML parser without a config file, no ShellCheck
// runner with --no-shellcheck, none of the other output formats and no oci/ barrel. The
// modules are recorded by a module.register() resolve hook preloaded into the real CLI.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = join(import.meta.dirname, "..", "..", "bin", "berth.js");
let dir: string;

const HOOKS = `let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  port.postMessage(result.url);
  return result;
}`;
const RECORDER = `import { register } from "node:module";
import { writeFileSync } from "node:fs";
import { MessageChannel } from "node:worker_threads";
const { port1, port2 } = new MessageChannel();
const seen = new Set();
port1.on("message", (url) => seen.add(url));
port1.unref();
register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)}, {
  parentURL: import.meta.url, data: { port: port2 }, transferList: [port2],
});
process.on("exit", () => writeFileSync(process.env.MODULES_OUT, [...seen].join("\\n")));`;

function modulesLoaded(args: string[]): string[] {
  const out = join(dir, "modules.txt");
  const r = spawnSync(process.execPath, ["--import", join(dir, "recorder.mjs"), BIN, ...args], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, BERTH_FROM_SOURCE: "1", MODULES_OUT: out },
  });
  expect(r.stderr).toBe("");
  return readFileSync(out, "utf8").split("\n");
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "berth-lint-startup-"));
  writeFileSync(join(dir, "recorder.mjs"), RECORDER);
  writeFileSync(join(dir, "Dockerfile"), "FROM debian:12\nRUN echo hi\nUSER app\n");
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("berth lint start-up", () => {
  it("loads only what linting one file with text output needs", () => {
    const modules = modulesLoaded(["lint", "--no-shellcheck", "Dockerfile"]);
    const ours = modules.filter((m) => m.includes("/src/"));
    expect(ours.some((m) => m.endsWith("/src/lint/format/text.ts"))).toBe(true);
    for (const unwanted of [
      "/src/lint/format/sarif.ts",
      "/src/lint/format/json.ts",
      "/src/lint/format/checkstyle.ts",
      "/src/lint/shellcheck-runner.ts",
      "/src/oci/index.ts",
      "/src/cli/scan.ts",
      "/src/cli/analyze.ts",
    ]) {
      expect(ours.filter((m) => m.endsWith(unwanted))).toEqual([]);
    }
    expect(modules.filter((m) => m.includes("/node_modules/yaml/"))).toEqual([]);
  });

  it("loads the ShellCheck runner when a RUN is to be checked", () => {
    const modules = modulesLoaded(["lint", "Dockerfile"]);
    expect(modules.some((m) => m.endsWith("/src/lint/shellcheck-runner.ts"))).toBe(true);
  });
});
