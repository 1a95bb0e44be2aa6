// Runs Debian's `shellcheck` over the scripts of many RUN instructions at once, the I/O half of
// src/lint/shellcheck.ts. ShellCheck checks every file named on its command line on its own
// (as separate scripts), so the scripts are written to files in a private temporary directory
// (0700, files 0600, removed afterwards) and checked by a few processes — one per CPU at most,
// each taking a contiguous share — instead of one process per RUN (each start costs ~10 ms of
// CPU). A missing `shellcheck` is reported as such (the caller prints a note), never as an
// error; any other failure of the program is an error naming it. It never runs a script.
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { EXCLUDED_CODES, type ShellCheckComment } from "./shellcheck.js";

export type ShellCheckRun =
  | { readonly available: true; readonly comments: readonly (readonly ShellCheckComment[])[] }
  | { readonly available: false };

export class ShellCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ShellCheckError";
  }
}

/** Scripts per process below which one more process is not worth its start-up. */
const MIN_SCRIPTS_PER_PROCESS = 32;

/** Checks each script; `comments[i]` are ShellCheck's comments on `scripts[i]`. */
export async function runShellCheck(
  scripts: readonly string[],
  program = "shellcheck",
): Promise<ShellCheckRun> {
  if (scripts.length === 0) return { available: true, comments: [] };
  const dir = await mkdtemp(join(tmpdir(), "berth-shellcheck-"));
  try {
    const files = scripts.map((_, i) => join(dir, `run-${i}.sh`));
    await Promise.all(files.map((f, i) => writeFile(f, scripts[i], { mode: 0o600 })));
    const processes = Math.max(
      1,
      Math.min(availableParallelism(), Math.floor(files.length / MIN_SCRIPTS_PER_PROCESS)),
    );
    const share = Math.ceil(files.length / processes);
    const chunks: string[][] = [];
    for (let i = 0; i < files.length; i += share) chunks.push(files.slice(i, i + share));
    const results = await Promise.all(chunks.map((chunk) => checkFiles(program, chunk)));
    if (results.some((r) => r === null)) return { available: false };
    const byFile = new Map<string, ShellCheckComment[]>();
    for (const list of results) {
      for (const [file, comments] of list ?? []) byFile.set(file, comments);
    }
    return { available: true, comments: files.map((f) => byFile.get(f) ?? []) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Json1Comment extends ShellCheckComment {
  readonly file: string;
}

/** One shellcheck process over `files`; null when the program is not installed. */
function checkFiles(
  program: string,
  files: readonly string[],
): Promise<Map<string, ShellCheckComment[]> | null> {
  const args = [
    "--format=json1",
    "--norc",
    `--exclude=${EXCLUDED_CODES.map((c) => `SC${c}`).join(",")}`,
    "--",
    ...files,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") resolve(null);
      else reject(new ShellCheckError(`cannot run ${program}: ${e.message}`));
    });
    child.on("close", (code) => {
      // 0: no comments, 1: some comments; anything else is a failure of shellcheck itself.
      if (code !== 0 && code !== 1) {
        const why = Buffer.concat(err).toString("utf8").trim().split("\n", 1)[0];
        reject(new ShellCheckError(`${program} failed (exit ${code}): ${why || "no message"}`));
        return;
      }
      try {
        const doc = JSON.parse(Buffer.concat(out).toString("utf8")) as {
          comments: Json1Comment[];
        };
        const byFile = new Map<string, ShellCheckComment[]>();
        for (const c of doc.comments) {
          const list = byFile.get(c.file) ?? [];
          list.push(c);
          byFile.set(c.file, list);
        }
        resolve(byFile);
      } catch {
        reject(new ShellCheckError(`${program} printed output that is not its json1 format`));
      }
    });
  });
}
