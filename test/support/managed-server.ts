// A long-running server process started by a test (Berth, docker-registry): spawned with its
// output kept (tail) for error messages, waited for until its health URL answers, stopped by
// PID (SIGTERM then SIGKILL) or killed with SIGKILL to simulate a crash. Every server still
// running when the test worker exits (or is interrupted) is SIGKILLed by PID, so no test leaks
// a process.
// It must never signal anything but the process it spawned.
import { type ChildProcess, spawn } from "node:child_process";
import { killChild, OutputTail, stopChild, waitForHttp } from "./process-control.js";

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function killRunning(): void {
  for (const child of running) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}

/**
 * Kills our servers when this process exits — normally, or by SIGINT/SIGTERM/SIGHUP (which
 * skip "exit" handlers): the signal is then re-raised so the process ends as it would have.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", killRunning);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = () => {
      killRunning();
      for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.removeListener(s, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

export interface ManagedServer {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The last few KiB of the server's stdout and stderr. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL (a crash: no cleanup, no drain); resolves once the process has exited. */
  kill9(): Promise<void>;
  /** How the process ended (undefined while it runs). */
  exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

export interface StartServerOptions {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  healthUrl: string;
  /** undici dispatcher for the health check (https with a test CA). */
  healthDispatcher?: unknown;
  startTimeoutMs?: number;
  name: string;
}

export async function startManagedServer(options: StartServerOptions): Promise<ManagedServer> {
  installExitHook();
  const child = spawn(options.command, options.args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const tail = new OutputTail(16_000);
  child.stdout?.on("data", (chunk: Buffer) => tail.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => tail.push(chunk));
  running.add(child);
  child.once("exit", () => running.delete(child));
  const spawnError = new Promise<never>((_, reject) => child.once("error", reject));
  spawnError.catch(() => undefined);
  if (child.pid === undefined) await spawnError;
  const describe = () => `${options.name} output:\n${tail}`;
  try {
    await Promise.race([
      waitForHttp(options.healthUrl, {
        timeoutMs: options.startTimeoutMs ?? 90_000,
        child,
        describe,
        dispatcher: options.healthDispatcher,
      }),
      spawnError,
    ]);
  } catch (error) {
    await killChild(child);
    throw error;
  }
  return {
    child,
    pid: child.pid as number,
    output: () => tail.toString(),
    stop: (graceMs?: number) => stopChild(child, graceMs),
    kill9: () => killChild(child),
    exitStatus: () =>
      child.exitCode === null && child.signalCode === null
        ? undefined
        : { code: child.exitCode, signal: child.signalCode },
  };
}
