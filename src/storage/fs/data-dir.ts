// The data directory's permissions: created owner-only (0700) whatever the umask, and a
// check, at start-up, for an existing directory or top-level entry that other local users
// can read or write (a berth.db readable by all exposes password hashes, blobs may be
// private layers). Only reports looser modes (the caller warns); never changes an existing
// directory an operator made, never walks the blob tree (it may hold millions of files).
import { mkdir, readdir, stat } from "node:fs/promises";
import { join } from "node:path";

export const PRIVATE_DIR_MODE = 0o700;

/** mkdir -p with 0700 for every directory it creates. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

export interface LooseMode {
  readonly path: string;
  /** Permission bits, e.g. 0o755. */
  readonly mode: number;
}

/** `dir` and its direct entries whose mode grants anything to group or others. */
export async function looseModes(dir: string): Promise<LooseMode[]> {
  const loose: LooseMode[] = [];
  const check = async (path: string) => {
    try {
      const mode = (await stat(path)).mode & 0o777;
      if ((mode & 0o077) !== 0) loose.push({ path, mode });
    } catch {
      // vanished between readdir and stat: nothing to report
    }
  };
  await check(dir);
  for (const name of (await readdir(dir)).sort()) await check(join(dir, name));
  return loose;
}

/** `0755` for log lines. */
export function formatMode(mode: number): string {
  return `0${mode.toString(8).padStart(3, "0")}`;
}
