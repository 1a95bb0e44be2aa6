// Key files and signing flags shared by `berth key`, `sign`, `verify`, `attest` and
// `verify-attestation`: reads keys in cosign's formats, takes the private key's password from
// COSIGN_PASSWORD (as cosign does) or a hidden prompt, and parses `-a key=value`. Never
// prints a password or key material.
import type { KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { KeyDecryptionError } from "../sign/encrypted-key.js";
import {
  KeyFormatError,
  loadPrivateKey,
  loadPublicKey,
  privateKeyNeedsPassword,
} from "../sign/keys.js";
import { CliError, ExitCode } from "./errors.js";
import { prompt } from "./prompt.js";

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read the key file ${path} (${code ?? "error"})`, ExitCode.Usage);
  }
}

/** The password from COSIGN_PASSWORD, else asked for on the terminal. */
export async function keyPassword(question: string, confirm: boolean): Promise<string> {
  const fromEnv = process.env.COSIGN_PASSWORD;
  if (fromEnv !== undefined) return fromEnv;
  if (!process.stdin.isTTY) {
    throw new CliError(
      "set COSIGN_PASSWORD (stdin is not a terminal to ask for the password)",
      ExitCode.Usage,
    );
  }
  const first = await prompt(question, true);
  if (confirm && (await prompt("Enter password for private key again: ", true)) !== first) {
    throw new CliError("the two passwords differ", ExitCode.Usage);
  }
  return first;
}

export async function privateKeyFromFile(path: string): Promise<KeyObject> {
  const pem = readKeyFile(path);
  try {
    const password = privateKeyNeedsPassword(pem)
      ? await keyPassword("Enter password for private key: ", false)
      : "";
    return loadPrivateKey(pem, () => password);
  } catch (err) {
    if (err instanceof KeyDecryptionError || err instanceof KeyFormatError) {
      throw new CliError(`${path}: ${err.message}`, ExitCode.Usage);
    }
    throw err;
  }
}

export function publicKeysFromFiles(paths: string[]): KeyObject[] {
  if (paths.length === 0) throw new CliError("give --key PUBLIC_KEY_FILE", ExitCode.Usage);
  return paths.map((path) => {
    try {
      return loadPublicKey(readKeyFile(path));
    } catch (err) {
      if (err instanceof KeyFormatError)
        throw new CliError(`${path}: ${err.message}`, ExitCode.Usage);
      throw err;
    }
  });
}

/** `-a key=value` (repeatable) as a map. */
export function parseAnnotations(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq <= 0) throw new CliError(`-a takes key=value, not "${v}"`, ExitCode.Usage);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** `--registry-referrers-mode`: cosign's names (`legacy`, `oci-1-1`). */
export function referrersMode(value: string): "legacy" | "oci-1-1" {
  if (value === "legacy" || value === "oci-1-1") return value;
  throw new CliError(
    `--registry-referrers-mode is legacy or oci-1-1, not "${value}"`,
    ExitCode.Usage,
  );
}
