// The two registries a benchmark compares: Berth (compiled, from dist/) and the CNCF
// reference registry (`docker-registry`), each on 127.0.0.1 with a fresh data directory
// under bench/.work/ (same disk for both). Reads peak RSS (VmHWM) from /proc and resets it
// between measurements. Stops only the processes it started, by PID.
import { readFileSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { startBerth } from "../test/support/berth-process.js";
import { startReferenceRegistry } from "../test/support/reference-registry.js";

export type ServerName = "berth" | "reference";

export interface BenchServer {
  readonly name: ServerName;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** 127.0.0.1:PORT */
  readonly host: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startServer(
  name: ServerName,
  workDir: string,
  berthEnv: Record<string, string> = {},
): Promise<BenchServer> {
  await mkdir(workDir, { recursive: true });
  if (name === "reference") {
    const ref = await startReferenceRegistry();
    return { name, url: ref.url, host: ref.host, pid: ref.pid, stop: ref.stop };
  }
  const dataDir = await mkdtemp(join(workDir, "berth-"));
  // BERTH_FROM_SOURCE="" makes bin/berth.js run the compiled dist/ (npm run build first);
  // the access log is off, as it is for the reference registry.
  const berth = await startBerth({
    dataDir,
    env: { BERTH_FROM_SOURCE: "", BERTH_LOG_LEVEL: "warn", ...berthEnv },
  });
  return {
    name,
    url: berth.url,
    host: berth.host,
    pid: berth.pid,
    stop: async () => {
      await berth.stop();
      await berth.removeData();
    },
  };
}

/** User + system CPU time the process has used so far, in seconds (/proc/PID/stat). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may contain spaces) start at ") ".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}

/** USER_HZ: the unit of /proc/PID/stat times; 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Peak resident set size in bytes since the last reset (VmHWM). */
export function peakRss(pid: number): number {
  return statusField(pid, "VmHWM");
}

export function currentRss(pid: number): number {
  return statusField(pid, "VmRSS");
}

/** Resets VmHWM to the current RSS (Linux: write 5 to /proc/PID/clear_refs). */
export function resetPeakRss(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
  } catch {
    // Not permitted here: peaks then cover the server's whole life, which only overstates.
  }
}

function statusField(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}
