// Runs one command of a benchmark as a child process and measures it: wall time, and peak RSS
// (VmHWM from /proc/PID/status, sampled every 50 ms until it exits). Rejects with the
// command's stderr when it fails. Never signals anything.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

function vmHwm(pid: number): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Runs a command, sampling its VmHWM every 50 ms; resolves with wall time, peak RSS and stdout. */
export function measured(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ seconds: number; peak: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    let peak = 0;
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setInterval(() => {
      if (child.pid) peak = Math.max(peak, vmHwm(child.pid));
    }, 50);
    child.on("exit", (code) => {
      clearInterval(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code === 0) resolve({ seconds, peak, stdout });
      else reject(new Error(`${command} ${args.join(" ")} exited ${code}: ${stderr}`));
    });
  });
}
