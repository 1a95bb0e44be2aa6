// Process plumbing shared by the test harness: free ports on 127.0.0.1, waiting for an HTTP
// endpoint to answer, running a real command-line tool to completion, and stopping a process
// we started by its PID (SIGTERM, then SIGKILL after a grace period).
// It must never signal a process it did not start, and never match processes by name.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** Asks the kernel for a free TCP port on 127.0.0.1 (bind to port 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("could not read a free port"));
        return;
      }
      const { port } = address;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Polls `url` until it answers with a status `ready` accepts (default: below 500), or throws
 * after `timeoutMs` — or as soon as `child` exits, with its output from `describe`.
 */
export async function waitForHttp(
  url: string,
  options: {
    timeoutMs?: number;
    child?: ChildProcess;
    describe?: () => string;
    ready?: (status: number) => boolean;
    /** An undici dispatcher for fetch (e.g. an Agent trusting a test CA for https URLs). */
    dispatcher?: unknown;
  } = {},
): Promise<void> {
  const ready = options.ready ?? ((status: number) => status < 500);
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let lastError = "no answer yet";
  while (Date.now() < deadline) {
    if (options.child && options.child.exitCode !== null) {
      throw new Error(
        `process exited with code ${options.child.exitCode} before ${url} answered\n${options.describe?.() ?? ""}`,
      );
    }
    try {
      const response = await fetch(url, {
        signal: AbortSignal.timeout(2_000),
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      } as RequestInit);
      await response.body?.cancel();
      if (ready(response.status)) return;
      lastError = `HTTP ${response.status}`;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await sleep(100);
  }
  throw new Error(
    `${url} did not answer within the timeout (${lastError})\n${options.describe?.() ?? ""}`,
  );
}

/**
 * Runs `start(port)` with a free port, retrying with a new port (up to `attempts` times) when
 * the server lost the race for it: another process bound the port between our probe and the
 * server's own bind ("address already in use" in the error).
 */
export async function withFreePort<T>(
  start: (port: number) => Promise<T>,
  attempts = 3,
): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      return await start(await freePort());
    } catch (error) {
      lastError = error;
      if (!/EADDRINUSE|address already in use/i.test(String(error))) throw error;
    }
  }
  throw lastError;
}

/** True while the process with this PID exists (signal 0 probes without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Resolves when the child has exited (immediately if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** SIGTERM the child by PID, then SIGKILL if it has not exited after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const done = exited(child);
  process.kill(pid, "SIGTERM");
  const timedOut = await Promise.race([done.then(() => false), sleep(graceMs).then(() => true)]);
  if (timedOut && child.exitCode === null && child.signalCode === null) {
    process.kill(pid, "SIGKILL");
    await done;
  }
}

/** SIGKILL the child by PID and wait until it is gone. */
export async function killChild(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const done = exited(child);
  process.kill(pid, "SIGKILL");
  await done;
}

/** Keeps the last `limit` characters a stream produced, for error messages. */
export class OutputTail {
  private text = "";
  constructor(private readonly limit = 8_000) {}
  push(chunk: Buffer | string): void {
    this.text = (this.text + chunk.toString()).slice(-this.limit);
  }
  toString(): string {
    return this.text;
  }
}

/** Commands started by `run` and not yet finished; SIGKILLed by PID if the worker exits first. */
const runningCommands = new Map<ChildProcess, { group: boolean }>();

/**
 * SIGKILLs the process group led by `pid` (a child spawned `detached`, so the group is ours
 * alone: it and everything it started that did not leave the group). Never our own group.
 */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // the group is already empty
  }
}
let commandExitHookInstalled = false;

function trackCommand(child: ChildProcess, group: boolean): void {
  if (!commandExitHookInstalled) {
    commandExitHookInstalled = true;
    process.once("exit", () => {
      for (const [running, { group }] of runningCommands) {
        if (running.pid !== undefined && group) killGroup(running.pid);
        else if (running.pid !== undefined && running.exitCode === null) {
          try {
            process.kill(running.pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
      }
    });
  }
  runningCommands.set(child, { group });
  child.once(group ? "close" : "exit", () => runningCommands.delete(child));
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
  /** True when `timeoutMs` passed and the command was killed. */
  timedOut?: boolean;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  input?: string;
  /**
   * Run the command in a process group of its own, and SIGKILL the whole group when the
   * command exits or times out: a background job it left (`server &`) that still holds its
   * stdout/stderr would otherwise keep the pipes open, and the run would never finish.
   */
  processGroup?: boolean;
}

/**
 * Runs a command to completion and returns its exit code and output (never throws on a
 * non-zero exit; use `runOk` for that). A timeout kills the command by its PID (its whole
 * process group with `processGroup`).
 */
export async function run(
  command: string,
  args: string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ["pipe", "pipe", "pipe"],
    detached: options.processGroup === true,
  });
  const group = options.processGroup === true && child.pid !== undefined;
  trackCommand(child, group);
  // The command is done when it exits; what it left behind in its group goes with it, so
  // that the pipes close and `close` below fires.
  if (group) child.once("exit", () => killGroup(child.pid!));
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
  // A command that exits without reading its input (berth --help) closes the pipe first:
  // EPIPE on our end is expected then, not a failure of the run.
  child.stdin.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
  });
  child.stdin.end(options.input ?? "");
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  if (options.timeoutMs !== undefined) {
    timer = setTimeout(() => {
      timedOut = true;
      if (group) killGroup(child.pid!);
      else if (child.pid !== undefined && child.exitCode === null)
        process.kill(child.pid, "SIGKILL");
    }, options.timeoutMs);
  }
  const code = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (exitCode, signal) => resolve(exitCode ?? (signal ? 128 : 1)));
  });
  if (timer) clearTimeout(timer);
  return {
    code,
    stdout: Buffer.concat(stdout).toString(),
    stderr: Buffer.concat(stderr).toString(),
    ...(timedOut ? { timedOut } : {}),
  };
}

/** Like `run`, but throws with the command line and its stderr when it exits non-zero. */
export async function runOk(
  command: string,
  args: string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} exited with ${result.code}\nstderr:\n${result.stderr.slice(-4_000)}\nstdout:\n${result.stdout.slice(-2_000)}`,
    );
  }
  return result;
}
