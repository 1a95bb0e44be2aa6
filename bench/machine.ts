// Facts about the machine a benchmark ran on, and the hardware limits that bound the blob
// scenarios: sha256 throughput (openssl speed) and sequential write with fdatasync (dd).
// Only reads the machine; writes one scratch file it removes.
import { execFileSync, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { join } from "node:path";

export interface MachineInfo {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryBytes: number;
  readonly kernel: string;
  readonly node: string;
}

export interface MachineLimits {
  /** sha256 MB/s for 16 KiB blocks, from `openssl speed -evp sha256`. */
  readonly sha256MBps?: number;
  /** Sequential write MB/s of 1 GiB with fdatasync at the end, from `dd`. */
  readonly writeFdatasyncMBps?: number;
}

export function machineInfo(): MachineInfo {
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryBytes: totalmem(),
    kernel: release(),
    node: process.version,
  };
}

export function measureLimits(scratchDir: string): MachineLimits {
  return { sha256MBps: sha256Speed(), writeFdatasyncMBps: writeSpeed(scratchDir) };
}

function sha256Speed(): number | undefined {
  try {
    const out = execFileSync(
      "openssl",
      ["speed", "-seconds", "2", "-bytes", "16384", "-evp", "sha256"],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    // Last line: "sha256   123456.78k" (in 1000s of bytes per second)
    const line = out.trim().split("\n").pop() ?? "";
    const match = /([\d.]+)k\s*$/.exec(line);
    return match ? (Number(match[1]) * 1000) / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

function writeSpeed(dir: string): number | undefined {
  const file = join(dir, "dd-scratch");
  try {
    const result = spawnSync(
      "dd",
      ["if=/dev/zero", `of=${file}`, "bs=1M", "count=1024", "conv=fdatasync"],
      { encoding: "utf8" },
    );
    return parseDdRate(result.stderr ?? "");
  } finally {
    rmSync(file, { force: true });
  }
}

function parseDdRate(text: string): number | undefined {
  // "1073741824 bytes (1.1 GB, 1.0 GiB) copied, 1.2 s, 890 MB/s"
  const match = /copied, ([\d.]+) s/.exec(text);
  return match ? 1073741824 / Number(match[1]) / 1e6 : undefined;
}
