// How CLI commands fail: a CliError carries one human sentence and an exit code. main.ts
// prints it (or a JSON error with --format json) and exits; nothing else prints stacks.

/** Exit codes every command shares, so CI can rely on them. */
export const ExitCode = {
  Ok: 0,
  /** A check found problems (lint findings, scan findings, gate failure). */
  Findings: 1,
  /** Bad usage or bad input: unknown flag, unreadable file, malformed reference. */
  Usage: 2,
  /** The operation itself failed: network, registry error, authentication. */
  Failure: 3,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.Failure,
  ) {
    super(message);
    this.name = "CliError";
  }
}
