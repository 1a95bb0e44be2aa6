// Flags every command that talks to a registry shares (TLS, plain HTTP, credentials), and the
// mapping from library errors to CLI errors with stable exit codes: bad input → 2 (usage),
// failed operations → 3. Never prints a password; `--creds` is read only into memory.
import type { Command } from "commander";
import { CredentialError } from "../client/credentials.js";
import { RegistryError } from "../client/errors.js";
import { BlobVerificationError } from "../client/verifying-stream.js";
import { DigestError, ImageReferenceError, ManifestError } from "../oci/index.js";
import { TreeFileMissing } from "../transport/blob-tree.js";
import { DockerArchiveError } from "../transport/docker-archive-source.js";
import { LayoutError } from "../transport/oci-layout.js";
import type { RegistryOptions } from "../transport/registry.js";
import { ResolveError } from "../transport/resolve.js";
import { TransportSpecError } from "../transport/spec.js";
import { TarFormatError } from "../transport/tar-index.js";
import { CliError, ExitCode } from "./errors.js";

export interface RegistryFlags {
  insecure?: boolean;
  plainHttp?: boolean;
  caFile?: string[];
  certDir?: string;
  authfile?: string;
  creds?: string;
}

/** The exit codes every image command shares (docs/cli.md), shown at the end of --help. */
export const EXIT_CODES_HELP =
  "\nExit codes: 0 success, 2 bad usage or input (unknown flag, malformed reference,\nunreadable file), 3 the operation failed (network, registry error, authentication).";

/** Adds the shared registry flags, and the exit codes to the end of the command's --help. */
export function addRegistryFlags(command: Command): Command {
  return command
    .addHelpText("after", EXIT_CODES_HELP)
    .option("--insecure", "skip TLS verification (and fall back to plain HTTP)")
    .option("--plain-http", "speak plain HTTP to registries (loopback hosts always do)")
    .option("--ca-file <file>", "extra CA certificate to trust (PEM; repeatable)", collect, [])
    .option("--cert-dir <dir>", "certs.d-style directory: <dir>/<registry>/*.crt, *.cert, *.key")
    .option("--authfile <file>", "credentials file (default: docker and podman files)")
    .option("--creds <user:password>", "credentials for this command only");
}

/** A flag value that must be a positive integer (`-j 4`, `--chunk-size 5242880`). */
export function positiveInteger(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new CliError(`${flag} must be a positive whole number, not "${value}"`, ExitCode.Usage);
  }
  return n;
}

/** Commander collector for repeatable options (`--ca-file a --ca-file b`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registryOptionsFrom(flags: RegistryFlags): RegistryOptions {
  const options: RegistryOptions = {
    insecure: flags.insecure,
    plainHttp: flags.plainHttp,
    caFiles: flags.caFile,
    certDir: flags.certDir,
    authFile: flags.authfile,
  };
  if (flags.creds) {
    const colon = flags.creds.indexOf(":");
    if (colon <= 0) throw new CliError("--creds must be USER:PASSWORD", ExitCode.Usage);
    const credential = {
      username: flags.creds.slice(0, colon),
      password: flags.creds.slice(colon + 1),
    };
    options.credentials = async () => credential;
  }
  return options;
}

/** One sentence and an exit code for any error a command can meet. */
export function asCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  const cli = classify(err);
  if (err instanceof Error && err.stack) cli.stack = err.stack;
  return cli;
}

function classify(err: unknown): CliError {
  const message = err instanceof Error ? err.message : String(err);
  const usage =
    err instanceof TransportSpecError ||
    err instanceof ImageReferenceError ||
    err instanceof DigestError ||
    err instanceof LayoutError ||
    err instanceof DockerArchiveError ||
    err instanceof TarFormatError ||
    err instanceof TreeFileMissing ||
    err instanceof CredentialError ||
    (err instanceof ManifestError && /platform/.test(message));
  if (usage) return new CliError(message, ExitCode.Usage);
  if (
    err instanceof RegistryError ||
    err instanceof ResolveError ||
    err instanceof BlobVerificationError
  ) {
    return new CliError(message, ExitCode.Failure);
  }
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === "ENOENT" || code === "EACCES" || code === "EISDIR" || code === "ENOTDIR") {
    return new CliError(`${message.replace(/^\w+: /, "")}`, ExitCode.Usage);
  }
  return new CliError(message, ExitCode.Failure);
}

/** Wraps a command action so every failure becomes a CliError. */
export function cliAction<A extends unknown[]>(
  fn: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      throw asCliError(err);
    }
  };
}
