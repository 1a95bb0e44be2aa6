// Runs the real `berth` executable (bin/berth.js from the TypeScript sources) as a user
// would, returning exit code and output. Every run is a child process stopped by PID on
// timeout (process-control's `run`).
import { join } from "node:path";
import { BERTH_BIN } from "../support/berth-process.js";
import { type CommandResult, run } from "../support/process-control.js";

export interface BerthRunOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
}

export function berth(args: string[], options: BerthRunOptions = {}): Promise<CommandResult> {
  return run(process.execPath, [BERTH_BIN, ...args], {
    env: { ...process.env, ...options.env },
    input: options.input,
    timeoutMs: options.timeoutMs ?? 180_000,
    cwd: join(BERTH_BIN, "..", ".."),
  });
}

/** Runs berth and fails with its stderr unless it exits 0. */
export async function berthOk(
  args: string[],
  options: BerthRunOptions = {},
): Promise<CommandResult> {
  const result = await berth(args, options);
  if (result.code !== 0) {
    throw new Error(
      `berth ${args.join(" ")} exited ${result.code}: ${result.stderr}${result.stdout}`,
    );
  }
  return result;
}
