// The documentation works as pasted: the shell blocks of README.md and of every docs/**/*.md
// are run in order, each document against a fresh `npm start` server on a free 127.0.0.1 port
// (started when its first block that needs one runs), with the
// real clients (npx/berth, podman, skopeo, curl), in a fresh "clone" (the repository's files
// linked into a temp dir, so `./data` is the server's own). A block that fails fails the test
// with its output. See test/docs/shell-blocks.ts for the marking convention.
//
// What the test substitutes, and why (nothing else is changed):
// - `127.0.0.1:5000` / `localhost:5000` → the free port the server was started on;
// - `npm install` is not run: the dependencies are installed already, and the build it
//   makes (dist/) is kept current by the suite's globalSetup (`npm start` runs dist/);
// - `npm start` is started in the background with BERTH_LISTEN set to that port, and stopped
//   by its process group (SIGTERM) when the document is done;
// - docs/*.md say `berth …` (after `npm link`): for them `berth` is put on PATH as `npm link`
//   would; the README itself gets no such help (it must use `npx berth`);
// - HOME, XDG_RUNTIME_DIR and the container storage are private to the test (podman's
//   storage.conf/containers.conf point at a temp vfs root: the sandbox has no overlayfs or
//   systemd), so no real credentials or images are touched.
// ```sh docker-only``` and ```sh skip: …``` blocks are reported as skipped, with the reason.
//
// Which documents: README.md and every Markdown file under docs/ that has a shell block
// (```sh / ```bash, see test/docs/shell-blocks.ts for the fencing convention) — a new doc is
// covered by being written. Each document is self-contained: its blocks set up what they use
// (log in, create the project, make an image), so it runs as pasted into a fresh clone. A doc
// that needs something of the test (another server setting, no server) gets an entry in
// DOC_OPTIONS below; nothing else is per-doc. Run one doc while writing it:
//   npx vitest run test/docs/readme.test.ts -t docs/cli.md
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BERTH_BIN } from "../support/berth-process.js";
import { freePort, run, waitForHttp } from "../support/process-control.js";
import { type DocBlock, docBlocks, serverStart } from "./shell-blocks.js";

const REPO = resolve(import.meta.dirname, "..", "..");
const BLOCK_TIMEOUT_MS = 300_000;

interface Document {
  file: string;
  /** docs/*.md assume `berth` on PATH (`npm link`); the README must not. */
  berthOnPath: boolean;
  /** False for a document whose blocks need no server (it is then never started). */
  server: boolean;
}

/** What a document needs of the test beyond the defaults (docs: berth on PATH, a server). */
const DOC_OPTIONS: Record<string, Partial<Omit<Document, "file">>> = {
  "README.md": { berthOnPath: false },
  "docs/lint/README.md": { server: false },
  "docs/analyze.md": { server: false },
  "docs/scale-out.md": { server: false },
  "docs/build.md": { server: false },
};

/** README.md, then every docs/**\/*.md with a shell block, in path order. */
async function documents(): Promise<{ doc: Document; blocks: DocBlock[] }[]> {
  const docs = (await readdir(join(REPO, "docs"), { recursive: true }))
    .filter((f) => f.endsWith(".md"))
    .map((f) => join("docs", f))
    .sort();
  const found: { doc: Document; blocks: DocBlock[] }[] = [];
  for (const file of ["README.md", ...docs]) {
    const blocks = docBlocks(await readFile(join(REPO, file), "utf8")).filter(
      (b) => b.kind !== "other",
    );
    if (file !== "README.md" && blocks.length === 0) continue;
    found.push({ doc: { file, berthOnPath: true, server: true, ...DOC_OPTIONS[file] }, blocks });
  }
  return found;
}

interface Sandbox {
  dir: string;
  clone: string;
  env: NodeJS.ProcessEnv;
  port: number;
  server?: { child: ChildProcess; output: () => string };
}

/** A fresh clone: the repository's entries linked into a temp dir (no data/, no dist/). */
async function sandbox(doc: Document): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), "berth-docs-"));
  const clone = join(dir, "clone");
  await mkdir(clone);
  for (const entry of await readdir(REPO)) {
    if (["data", "dist", ".git", "coverage"].includes(entry)) continue;
    await symlink(join(REPO, entry), join(clone, entry));
  }
  const bin = join(dir, "bin");
  await mkdir(bin);
  if (doc.berthOnPath) await symlink(BERTH_BIN, join(bin, "berth"));
  for (const sub of ["home", "run", "tmp", "containers"]) await mkdir(join(dir, sub));
  await writeFile(
    join(dir, "storage.conf"),
    `[storage]\ndriver = "vfs"\ngraphroot = "${dir}/containers/storage"\nrunroot = "${dir}/containers/run"\n`,
  );
  await writeFile(
    join(dir, "containers.conf"),
    `[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nevents_logfile_path = "${dir}/containers/events.log"\n`,
  );
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) =>
        !/^(BERTH_|REGISTRY_AUTH|DOCKER_|XDG_|CONTAINERS_|STORAGE_|BUILDAH_)/.test(k) &&
        k !== "HOME",
    ),
  );
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    PATH: `${bin}:${process.env.PATH}`,
    HOME: join(dir, "home"),
    XDG_RUNTIME_DIR: join(dir, "run"),
    TMPDIR: join(dir, "tmp"),
    CONTAINERS_STORAGE_CONF: join(dir, "storage.conf"),
    CONTAINERS_CONF: join(dir, "containers.conf"),

    npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? "/root", ".npm"),
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    NO_COLOR: "1",
  };
  return { dir, clone, env, port: await freePort() };
}

function substitute(body: string, port: number): string {
  return body.replace(/\b(127\.0\.0\.1|localhost):5000\b/g, `$1:${port}`);
}

async function startServer(box: Sandbox, extraEnv: Record<string, string>): Promise<void> {
  let output = "";
  const child = spawn("npm", ["start"], {
    cwd: box.clone,
    env: { ...box.env, ...extraEnv, BERTH_LISTEN: `127.0.0.1:${box.port}` },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group: npm, sh and node are stopped together
  });
  child.stdout?.on("data", (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  });
  child.stderr?.on("data", (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  });
  box.server = { child, output: () => output };
  await waitForHttp(`http://127.0.0.1:${box.port}/healthz`, {
    child,
    describe: () => output,
    timeoutMs: 180_000,
  });
}

async function stopServer(box: Sandbox): Promise<void> {
  const child = box.server?.child;
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise<void>((r) => child.once("close", () => r()));
  process.kill(-child.pid, "SIGTERM");
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.pid) process.kill(-child.pid, "SIGKILL");
  }, 20_000);
  await done;
  clearTimeout(timer);
}

/** Runs one command block; `npm install` / `npm start` lines are handled as described above. */
async function runBlock(box: Sandbox, block: DocBlock, doc: Document): Promise<void> {
  const lines = block.body.split("\n");
  const starts = lines.map(serverStart);
  if (starts.some((s) => s !== undefined)) {
    const others = lines.filter(
      (l, i) => starts[i] === undefined && l.trim() !== "" && l.trim() !== "npm install",
    );
    expect(others, `${doc.file}:${block.line}: put \`npm start\` in a block of its own`).toEqual(
      [],
    );
    await startServer(box, starts.find((s) => s !== undefined)!);
    return;
  }
  if (!box.server && doc.server) await startServer(box, {});
  const state = join(box.dir, "shell-state");
  // The next block sees what this one left, as one shell pasted into would: exported
  // variables (export -p) and the plain ones it set (declare -p of every name bash did not
  // have before the state was restored).
  const script = [
    "__berth_baseline=$(compgen -v)",
    "set -euo pipefail",
    `[ -f ${state} ] && source ${state}`,
    substitute(block.body, box.port),
    `{ export -p; for __v in $(compgen -v); do case "$__v" in __*|BASH*|FUNCNAME|PIPESTATUS|_) continue;; esac;` +
      ` grep -qx "$__v" <<<"$__berth_baseline" || declare -p "$__v"; done; } > ${state}`,
  ].join("\n");
  const result = await run("bash", ["-c", script], {
    cwd: box.clone,
    env: box.env,
    timeoutMs: BLOCK_TIMEOUT_MS,
    // A block that fails before it stops its own background job (`receiver & … kill $PID`)
    // leaves that job holding the pipes: the block's whole process group goes when bash exits.
    processGroup: true,
  });
  if (result.code !== 0) {
    const how = result.timedOut
      ? `did not finish within ${BLOCK_TIMEOUT_MS / 1000} s and was killed`
      : `exited ${result.code}`;
    throw new Error(
      `${doc.file}:${block.line}: the block ${how}\n--- block ---\n${block.body}\n` +
        `--- stderr ---\n${result.stderr.slice(-4000)}\n--- stdout ---\n${result.stdout.slice(-2000)}` +
        `\n--- server ---\n${box.server?.output().slice(-3000) ?? ""}`,
    );
  }
}

for (const { doc, blocks } of await documents()) {
  describe(`shell blocks of ${doc.file}`, { timeout: BLOCK_TIMEOUT_MS * 2 }, () => {
    let box: Sandbox | undefined;
    beforeAll(async () => {
      box = await sandbox(doc);
      for (const b of blocks) {
        if (b.kind === "docker-only" || b.kind === "skip") {
          console.warn(`NOT RUN: ${doc.file}:${b.line} (${b.kind}): ${b.reason}`);
        }
      }
    });
    afterAll(async () => {
      if (!box) return;
      await stopServer(box);
      await rm(box.dir, { recursive: true, force: true });
    });

    it("has command blocks marked by the convention", () => {
      // docBlocks throws on an unknown marking; a document listed here must have something to run.
      expect(blocks.length).toBeGreaterThan(0);
    });

    for (const block of blocks) {
      const title = `${doc.file}:${block.line} ${
        block.body
          .split("\n")
          .find((l) => l.trim() && !l.startsWith("#"))
          ?.slice(0, 70) ?? ""
      }`;
      if (block.kind === "run") {
        it(title, async () => {
          await runBlock(box!, block, doc);
        });
      } else {
        it.skip(`NOT RUN (${block.kind}: ${block.reason}) ${title}`, () => {});
      }
    }
  });
}
