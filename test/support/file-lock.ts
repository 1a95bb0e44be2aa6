// A cross-process lock for test fixtures that are built once and cached under test/.work/
// (vitest runs test files in parallel forks). The lock is a directory created atomically
// with mkdir, holding the owner's PID; a lock whose owner is dead is taken over.
// It must never delete a lock held by a live process.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isAlive } from "./process-control.js";

async function lockOwner(lockDir: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(join(lockDir, "pid"), "utf8"), 10);
    return Number.isFinite(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function tryAcquire(lockDir: string): Promise<boolean> {
  try {
    await mkdir(lockDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  await writeFile(join(lockDir, "pid"), String(process.pid));
  return true;
}

/** Runs `work` while holding the lock at `lockDir`; waits (up to `timeoutMs`) for another holder. */
export async function withFileLock<T>(
  lockDir: string,
  work: () => Promise<T>,
  timeoutMs = 30 * 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let ownerlessSince: number | undefined;
  while (!(await tryAcquire(lockDir))) {
    const owner = await lockOwner(lockDir);
    if (owner !== undefined && !isAlive(owner)) {
      await rm(lockDir, { recursive: true, force: true });
      continue;
    }
    // A lock directory with no pid file yet is being created; if it stays so, its creator died.
    if (owner === undefined) {
      ownerlessSince ??= Date.now();
      if (Date.now() - ownerlessSince > 10_000) {
        await rm(lockDir, { recursive: true, force: true });
        ownerlessSince = undefined;
        continue;
      }
    } else {
      ownerlessSince = undefined;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for the lock ${lockDir} (held by pid ${owner})`);
    await sleep(500);
  }
  try {
    return await work();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}
