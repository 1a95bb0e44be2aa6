// Starts a real Berth registry for a test, exactly as a user would:
//   node bin/berth.js serve --listen 127.0.0.1:<free port> --data <dir>
// (bin/berth.js runs dist/, which the suite's globalSetup keeps current with src/), and
// waits until GET /healthz answers.
//
// Usage (reusable by any test or bench):
//   const berth = await startBerth();                  // fresh temp data dir
//   await fetch(`${berth.url}/v2/`);                   // berth.host is "127.0.0.1:PORT" for skopeo
//   await berth.kill9();                                // crash it (SIGKILL by PID)
//   const again = await startBerth({ dataDir: berth.dataDir });   // restart on the same data
//   await again.stop(); await again.removeData();       // SIGTERM (SIGKILL after a grace period)
// stop() deletes a temp data dir this module created, unless `keepData` is set; it never deletes
// a `dataDir` the caller passed in, and kill9() never deletes anything (call removeData()).
//
// Auth is off (BERTH_AUTH=none) unless the caller's env sets BERTH_AUTH (e.g. "token").
// It must never signal a process it did not start, and never bind anything but 127.0.0.1.
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Agent } from "undici";
import { startManagedServer } from "./managed-server.js";
import { withFreePort } from "./process-control.js";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const BERTH_BIN = join(REPO_ROOT, "bin", "berth.js");

export interface BerthProcess {
  /** http://127.0.0.1:PORT (https:// with `tls`) */
  url: string;
  /** 127.0.0.1:PORT (the registry host part of an image reference) */
  host: string;
  port: number;
  pid: number;
  dataDir: string;
  /** The last few KiB of Berth's stdout/stderr (its log), for failure messages. */
  output(): string;
  /** SIGTERM by PID (SIGKILL after `graceMs`), then deletes a temp data dir it created. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL by PID: a crash. Deletes nothing. */
  kill9(): Promise<void>;
  /** How the process ended (undefined while it runs): exit code, or the signal that killed it. */
  exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Deletes the data directory (call after stop/kill9, when no restart will follow). */
  removeData(): Promise<void>;
}

export interface StartBerthOptions {
  /** Data directory to use (for a restart on the same data); a fresh temp dir when omitted. */
  dataDir?: string;
  /** Extra environment (e.g. BERTH_* settings). */
  env?: NodeJS.ProcessEnv;
  /** Keep the data dir on stop() (to restart on it); a caller's `dataDir` is always kept. */
  keepData?: boolean;
  /** Extra arguments after `serve ...`. */
  args?: string[];
  /** Options for node itself, before the script (benchmarks: `--cpu-prof`, `--heapsnapshot-signal`). */
  nodeArgs?: string[];
  startTimeoutMs?: number;
  /**
   * Serve HTTPS (BERTH_TLS_CERT/BERTH_TLS_KEY are set from these); `ca` is the PEM that
   * signed the certificate, trusted by the health check. `url` is then https://127.0.0.1:PORT.
   */
  tls?: { cert: string; key: string; ca: string };
  /** Start under this umask (through `sh -c 'umask …; exec node …'`, so the PID is node's). */
  umask?: number;
}

export async function startBerth(options: StartBerthOptions = {}): Promise<BerthProcess> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "berth-data-")));
  const ownsData = options.dataDir === undefined && !options.keepData;
  const tls = options.tls;
  const scheme = tls ? "https" : "http";
  const { port, server } = await withFreePort(async (port) => {
    const listen = `127.0.0.1:${port}`;
    const started = await startManagedServer({
      name: "berth",
      ...commandFor(
        [
          ...(options.nodeArgs ?? []),
          BERTH_BIN,
          "serve",
          "--listen",
          listen,
          "--data",
          dataDir,
          ...(options.args ?? []),
        ],
        options.umask,
      ),
      // An open registry (no auth) unless the caller asks for auth with BERTH_AUTH.
      env: {
        ...process.env,
        BERTH_AUTH: "none",
        ...(tls ? { BERTH_TLS_CERT: tls.cert, BERTH_TLS_KEY: tls.key } : {}),
        ...options.env,
      },
      cwd: REPO_ROOT,
      healthUrl: `${scheme}://${listen}/healthz`,
      healthDispatcher: tls
        ? new Agent({ connect: { ca: readFileSync(tls.ca, "utf8") } })
        : undefined,
      startTimeoutMs: options.startTimeoutMs,
    });
    return { port, server: started };
  });
  const host = `127.0.0.1:${port}`;
  return {
    url: `${scheme}://${host}`,
    host,
    port,
    pid: server.pid,
    dataDir,
    output: server.output,
    stop: async (graceMs?: number) => {
      await server.stop(graceMs);
      if (ownsData) await rm(dataDir, { recursive: true, force: true });
    },
    kill9: server.kill9,
    exitStatus: server.exitStatus,
    removeData: () => rm(dataDir, { recursive: true, force: true }),
  };
}

/** node with `args`, or, given a umask, the same through a shell that sets it and execs node. */
function commandFor(
  args: string[],
  umask: number | undefined,
): { command: string; args: string[] } {
  if (umask === undefined) return { command: process.execPath, args };
  const octal = umask.toString(8).padStart(3, "0");
  return {
    command: "/bin/sh",
    args: ["-c", `umask ${octal} && exec "$0" "$@"`, process.execPath, ...args],
  };
}
