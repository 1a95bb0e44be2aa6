// Runs the load generator (http-load.ts, a separate process: see there for why not wrk)
// against one URL and returns its report: requests/s, p99 latency, errors (non-2xx/3xx
// responses and socket errors).
import { spawn } from "node:child_process";

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly p99Ms: number;
  readonly errors: number;
}

export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  readonly method: "GET" | "HEAD";
  readonly headers?: Record<string, string>;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const script = new URL("./http-load.ts", import.meta.url).pathname;
  const output = await capture(process.execPath, [
    "--import",
    "tsx",
    script,
    options.method,
    options.url,
    String(options.connections),
    String(options.seconds),
    ...Object.entries(options.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
  ]);
  const r = JSON.parse(output) as {
    requestsPerSecond: number;
    p99Ms: number;
    non2xx: number;
    socketErrors: number;
  };
  return {
    requestsPerSecond: r.requestsPerSecond,
    p99Ms: r.p99Ms,
    errors: r.non2xx + r.socketErrors,
  };
}

function capture(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} exited ${code}: ${err}${out}`)),
    );
  });
}
