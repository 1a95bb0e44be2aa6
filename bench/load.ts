// Runs a separate load-generating process against one URL and parses its report: requests/s,
// p99 latency, errors (non-2xx/3xx responses and socket errors). GET goes through wrk; HEAD
// through head-load.ts, because wrk waits for a HEAD response's body (see there).
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface WrkResult {
  readonly requestsPerSecond: number;
  readonly p99Ms: number;
  readonly errors: number;
}

export interface WrkOptions {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  readonly method?: "GET" | "HEAD";
  readonly headers?: Record<string, string>;
  readonly scratchDir: string;
}

export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  if (options.method === "HEAD") return runHeadLoad(options);
  const script = join(options.scratchDir, `wrk-${options.method ?? "GET"}.lua`);
  writeFileSync(script, `wrk.method = "${options.method ?? "GET"}"\n`);
  // One wrk thread: on a 2-core machine the server gets one core and the load the other.
  // With two threads wrk takes both cores, and the starved server's tail latency is wrk's.
  const args = [
    "-t1",
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    "--latency",
    "-s",
    script,
    ...Object.entries(options.headers ?? {}).flatMap(([k, v]) => ["-H", `${k}: ${v}`]),
    options.url,
  ];
  const output = await capture("wrk", args);
  return parseWrk(output);
}

async function runHeadLoad(options: WrkOptions): Promise<WrkResult> {
  const script = join(import.meta.dirname, "head-load.ts");
  const output = await capture(process.execPath, [
    "--import",
    "tsx",
    script,
    options.url,
    String(options.connections),
    String(options.seconds),
    ...Object.entries(options.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
  ]);
  const r = JSON.parse(output.trim().split("\n").at(-1)!) as {
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

export function parseWrk(output: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  const p99 = /^\s*99%\s+([\d.]+)(us|ms|s)\s*$/m.exec(output);
  if (!rps || !p99) throw new Error(`could not parse wrk output:\n${output}`);
  const scale = p99[2] === "us" ? 0.001 : p99[2] === "s" ? 1000 : 1;
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(output);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    output,
  );
  const socketErrors = socket ? socket.slice(1, 5).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    requestsPerSecond: Number(rps[1]),
    p99Ms: Number(p99[1]) * scale,
    errors: (non2xx ? Number(non2xx[1]) : 0) + socketErrors,
  };
}

function capture(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} exited ${code}: ${out}`)),
    );
  });
}
