// Keeps dist/ (what `npm install` and `npm test` build, and what users run) current for the
// tests: the suite runs `bin/berth.js` from dist/ as shipped, so when any file under src/
// is newer than the last build, globalSetup compiles it again (tsc, under a cross-process
// lock) before any test starts. It must never skip a failed build: a test run against
// stale JavaScript would test something nobody ships.
import { spawnSync } from "node:child_process";
import { mkdir, readdir, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { withFileLock } from "./file-lock.js";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CLI_BUILD = join(REPO_ROOT, "dist", "cli", "main.js");

/** The newest modification time of any file under `dir` (0 for an empty tree). */
export async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const time = entry.isDirectory() ? await newestMtime(path) : (await stat(path)).mtimeMs;
    newest = Math.max(newest, time);
  }
  return newest;
}

/** Compiles src/ into dist/ (tsc) unless the build is newer than every source file. */
export async function ensureCliBuild(): Promise<void> {
  const lockRoot = join(REPO_ROOT, "test", ".work");
  await mkdir(lockRoot, { recursive: true });
  await withFileLock(join(lockRoot, "cli-build.lock"), async () => {
    const built = await stat(CLI_BUILD).catch(() => undefined);
    const sources = Math.max(
      await newestMtime(join(REPO_ROOT, "src")),
      (await stat(join(REPO_ROOT, "tsconfig.json"))).mtimeMs,
      (await stat(join(REPO_ROOT, "tsconfig.build.json"))).mtimeMs,
    );
    if (built && built.mtimeMs > sources) return;
    process.stderr.write("berth tests: src/ changed since the last build, compiling dist/ (tsc)\n");
    const tsc = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
    const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
      cwd: REPO_ROOT,
      encoding: "utf8",
    });
    if (r.status !== 0) {
      throw new Error(
        `tsc -p tsconfig.build.json failed (exit ${r.status}):\n${r.stdout}${r.stderr}`,
      );
    }
  });
}
