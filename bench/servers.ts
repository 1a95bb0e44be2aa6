// The registries a benchmark compares: Berth as shipped (compiled, from dist/; token auth on,
// private projects `bench` and `catalog` and a public `pub`, a user `bench` who is maintainer
// of each, whose
// Basic credentials every client sends), Berth with auth off (`berth-open`, BERTH_AUTH=none:
// the ceiling the authorization path is measured against) and the CNCF reference registry
// (`docker-registry`, open), each on 127.0.0.1 with a fresh data directory under bench/.work/
// (same disk for all). Reads peak RSS (VmHWM) from /proc and resets it between measurements.
// Stops only the processes it started, by PID.
import { readFileSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { basicHeader } from "../src/auth/credentials.js";
import { startBerth } from "../test/support/berth-process.js";
import { startReferenceRegistry } from "../test/support/reference-registry.js";

export type ServerName = "berth" | "berth-open" | "reference";

/** The account scenarios act as on Berth as shipped (maintainer of `bench` and `catalog`). */
export const BENCH_USER = { username: "bench", password: "bench-password-1" } as const;
const ADMIN_PASSWORD = "bench-admin-password-1";
/** Projects the scenarios' repositories live in: private bench/…, catalog/…; public pub/…. */
const BENCH_PROJECTS = [
  { name: "bench", public: false },
  { name: "catalog", public: false },
  { name: "pub", public: true },
];

export interface BenchServer {
  readonly name: ServerName;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** 127.0.0.1:PORT */
  readonly host: string;
  readonly pid: number;
  /** `Authorization` value every client sends (Basic of BENCH_USER), when auth is on. */
  readonly auth?: string;
  /** `user:password` for clients that take credentials that way (curl -u, skopeo --creds). */
  readonly creds?: string;
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
  const shipped = name === "berth";
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  // BERTH_FROM_SOURCE="" makes bin/berth.js run the compiled dist/ (npm run build first);
  // the access log is off, as it is for the reference registry.
  const berth = await startBerth({
    dataDir,
    ...(profileDir && shipped ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] } : {}),
    env: {
      BERTH_FROM_SOURCE: "",
      BERTH_LOG_LEVEL: "warn",
      ...(shipped ? { BERTH_AUTH: "token", BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD } : {}),
      ...berthEnv,
    },
  });
  if (shipped) await provisionBenchAccount(berth.url);
  return {
    name,
    url: berth.url,
    host: berth.host,
    pid: berth.pid,
    ...(shipped
      ? {
          auth: basicHeader(BENCH_USER.username, BENCH_USER.password),
          creds: `${BENCH_USER.username}:${BENCH_USER.password}`,
        }
      : {}),
    stop: async () => {
      await berth.stop();
      await berth.removeData();
    },
  };
}

/** Through the management API as the admin: the projects, the bench user and its roles. */
async function provisionBenchAccount(base: string): Promise<void> {
  const admin = basicHeader("admin", ADMIN_PASSWORD);
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { authorization: admin, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  };
  await post("/api/v1/users", { ...BENCH_USER, isAdmin: false });
  for (const project of BENCH_PROJECTS) {
    await post("/api/v1/projects", project);
    await post(`/api/v1/projects/${project.name}/members`, {
      username: BENCH_USER.username,
      role: "maintainer",
    });
  }
}

/** A Bearer token for `scope` from Berth's token endpoint, for BENCH_USER. */
export async function bearerToken(server: BenchServer, scope: string): Promise<string> {
  if (!server.auth) throw new Error(`${server.name} has no token endpoint`);
  const res = await fetch(
    `${server.url}/service/token?service=berth&scope=${encodeURIComponent(scope)}`,
    { headers: { authorization: server.auth } },
  );
  if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`);
  return `Bearer ${((await res.json()) as { token: string }).token}`;
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
