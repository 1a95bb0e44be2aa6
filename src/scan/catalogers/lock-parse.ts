// Strict reading of lock files (JSON: Pipfile.lock, composer.lock, packages.lock.json,
// package-lock.json; TOML: poetry.lock, uv.lock, Cargo.lock): unlike installed-package
// metadata, a lock file that does not parse is worth a warning, so these throw a one-line
// error naming the format, which the registry reports with the file's path. Pure.
import { parse as parseToml } from "smol-toml";
import { isRecord } from "./json.js";

export function parseLockJson(text: string, what: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new Error(`not a valid ${what} (JSON): ${err instanceof Error ? err.message : err}`);
  }
  if (!isRecord(doc)) throw new Error(`not a valid ${what}: the top level is not a JSON object`);
  return doc;
}

/** Parses a TOML lock file, naming what it should have been when it is not TOML. */
export function parseTomlLock(text: string, what: string): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (err) {
    const first = (err instanceof Error ? err.message : String(err)).split("\n")[0];
    throw new Error(`not a valid ${what} (TOML): ${first}`);
  }
}
