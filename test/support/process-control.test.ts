// The harness's `run` must finish when the command does, even if the command left a
// background job holding its stdout/stderr (a docs block that failed before `kill $PID`),
// and a timeout must take that job down too — otherwise the test hangs until vitest's timeout.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isAlive, run } from "./process-control.js";

/** Running: exists and is not a zombie (killed, orphaned, not yet reaped by init). */
function running(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && running(pid); i++) await new Promise((r) => setTimeout(r, 20));
  return !running(pid);
}

describe("run with processGroup", () => {
  it("returns when the command exits, killing the background job that holds its pipes", async () => {
    const result = await run("bash", ["-c", "sleep 300 & echo $!; exit 4"], {
      processGroup: true,
    });
    expect(result.code).toBe(4);
    expect(result.timedOut).toBeUndefined();
    const pid = Number(result.stdout.trim());
    expect(pid).toBeGreaterThan(0);
    expect(await gone(pid)).toBe(true);
  }, 20_000);

  it("on timeout kills the command and its background jobs and says it timed out", async () => {
    const result = await run("bash", ["-c", "sleep 300 & echo $!; sleep 300"], {
      processGroup: true,
      timeoutMs: 1_000,
    });
    expect(result.timedOut).toBe(true);
    expect(result.code).not.toBe(0);
    const pid = Number(result.stdout.trim());
    expect(pid).toBeGreaterThan(0);
    expect(await gone(pid)).toBe(true);
  }, 20_000);

  it("keeps the output the command wrote before it exited", async () => {
    const result = await run("bash", ["-c", "(sleep 300 &); printf 'a%.0s' {1..100000}"], {
      processGroup: true,
    });
    expect(result.code).toBe(0);
    expect(result.stdout.length).toBe(100_000);
  }, 20_000);
});
