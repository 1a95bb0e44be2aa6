// Replication survives a crash: a push rule copies four images from a Berth (token auth) to
// the CNCF reference registry (docker-registry), throttled so the run lasts a few seconds;
// the Berth process is killed with SIGKILL while the execution is running (at least one
// task done, at least one still open), then restarted on the same data directory with a
// short job lease. The execution's job is taken up again once its lease expires and ends
// "succeeded": one execution, one task per image, none twice, and on the destination
// exactly the four repositories, each with its one tag, the pushed digest, and every blob
// readable (skopeo copies each image out, checking digests).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestOf } from "../../src/oci/index.js";
import { BERTH_BIN, type BerthProcess, startBerth } from "../support/berth-process.js";
import { skopeo, skopeoCopy } from "../support/container-tools.js";
import { run } from "../support/process-control.js";
import { type ReferenceRegistry, startReferenceRegistry } from "../support/reference-registry.js";
import { syntheticImageLayout } from "../support/synthetic-images.js";

const PASSWORD = "replication-crash-admin-1";
const creds = `admin:${PASSWORD}`;
const REPOS = ["crash/a", "crash/b", "crash/c", "crash/d"];
const env = {
  BERTH_AUTH: "token",
  BERTH_ADMIN_PASSWORD: PASSWORD,
  BERTH_LOG_LEVEL: "warn",
  BERTH_JOBS_POLL_INTERVAL: "200ms",
  BERTH_JOBS_RETRY_BACKOFF: "200ms",
  BERTH_JOBS_LEASE: "2s",
};

let work: string;
let berth: BerthProcess;
let reference: ReferenceRegistry;
const pushed = new Map<string, string>();

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${berth.url}/api/v1${path}`, {
    ...init,
    headers: {
      authorization: `Basic ${Buffer.from(creds).toString("base64")}`,
      "content-type": "application/json",
    },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${berth.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Execution {
  id: number;
  state: string;
  total: number;
}
interface Task {
  sourceRepository: string;
  destinationRepository: string;
  state: string;
  digest: string | null;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-replication-crash-"));
  [berth, reference] = await Promise.all([
    startBerth({ env, keepData: true }),
    startReferenceRegistry(),
  ]);
  const made = await run(
    process.execPath,
    [BERTH_BIN, "admin", "--server", berth.url, "project", "create", "crash"],
    { env: { ...process.env, BERTH_USERNAME: "admin", BERTH_PASSWORD: PASSWORD } },
  );
  expect(made.code, made.stderr).toBe(0);
  for (const repo of REPOS) {
    const name = repo.split("/")[1]!;
    const layout = await syntheticImageLayout(join(work, name), "v1", {
      label: `crash-${name}`,
      layers: [
        { seed: `crash-${name}-a`, size: 160 * 1024 },
        { seed: `crash-${name}-b`, size: 96 * 1024 },
      ],
    });
    const copied = await skopeoCopy(layout.reference, `docker://${berth.host}/${repo}:v1`, [
      "--dest-creds",
      creds,
    ]);
    expect(copied.code, copied.stderr).toBe(0);
    pushed.set(repo, layout.manifest.digest);
  }
}, 180_000);

afterAll(async () => {
  await berth?.stop();
  await berth?.removeData();
  await reference?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("replication and kill -9", () => {
  it("takes the run up again after its lease and ends complete, nothing twice", async () => {
    await api("/registries", {
      method: "POST",
      body: JSON.stringify({ name: "dr", url: reference.url }),
    });
    await api("/replication/policies", {
      method: "POST",
      body: JSON.stringify({
        name: "crash",
        endpoint: "dr",
        mode: "push",
        repositories: { include: ["crash/*"] },
        bandwidthKbps: 192,
        concurrency: 1,
      }),
    });
    const started = await api<Execution>("/replication/executions", {
      method: "POST",
      body: JSON.stringify({ policy: "crash" }),
    });
    // Mid-run: some task finished, some still open.
    await until("a task done and one open", async () => {
      const tasks = await api<Task[]>(`/replication/executions/${started.id}/tasks`);
      const done = tasks.filter((t) => t.state === "succeeded").length;
      return tasks.length === REPOS.length && done >= 1 && done < REPOS.length ? true : undefined;
    });
    await berth.kill9();
    expect(berth.exitStatus()?.signal).toBe("SIGKILL");
    berth = await startBerth({ dataDir: berth.dataDir, env });
    const finished = await until("the resumed execution to finish", async () => {
      const e = await api<Execution>(`/replication/executions/${started.id}`);
      return ["succeeded", "failed", "stopped"].includes(e.state) ? e : undefined;
    });
    expect(finished.state, JSON.stringify(finished)).toBe("succeeded");
    const executions = await api<Execution[]>("/replication/executions?policy=crash");
    expect(executions.map((e) => e.id)).toEqual([started.id]);
    const tasks = await api<Task[]>(`/replication/executions/${started.id}/tasks`);
    expect(tasks.map((t) => t.sourceRepository).sort()).toEqual(REPOS);
    for (const t of tasks) {
      // A task whose copy ended just before the kill is found complete there: skipped.
      expect(["succeeded", "skipped"], JSON.stringify(t)).toContain(t.state);
    }
    const catalog = (await (await fetch(`${reference.url}/v2/_catalog`)).json()) as {
      repositories: string[];
    };
    expect(catalog.repositories.sort()).toEqual(REPOS);
    for (const repo of REPOS) {
      const tags = (await (await fetch(`${reference.url}/v2/${repo}/tags/list`)).json()) as {
        tags: string[];
      };
      expect(tags.tags).toEqual(["v1"]);
      const inspected = await skopeo([
        ...["inspect", "--raw", "--tls-verify=false", `docker://${reference.host}/${repo}:v1`],
      ]);
      expect(digestOf(Buffer.from(inspected.stdout, "utf8"))).toBe(pushed.get(repo));
      const out = await skopeo([
        ...["copy", "--src-tls-verify=false", `docker://${reference.host}/${repo}:v1`],
        `dir:${join(work, `out-${repo.replace("/", "-")}`)}`,
      ]);
      expect(out.code, out.stderr).toBe(0);
    }
  });
});
