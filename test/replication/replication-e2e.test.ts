// Replication against real registries: a Berth process (token auth) replicates to and from
// the CNCF reference registry (docker-registry, no referrers API) and to a second Berth
// (credentials, OCI 1.1 referrers API), all driven by `berth admin endpoint|replication`.
// A multi-arch image signed in both schemes (cosign's `.sig` tag and an OCI 1.1 referrer)
// is pushed with skopeo; after each run digests are compared with `skopeo inspect --raw`
// and the signature is verified on the other side with `berth verify`. Also: a
// platform-filtered copy (an index listing only linux/arm64, the child's digest kept), a
// pull rule, an event rule fed by the outbox (a push, then a signature added later), a
// rerun that skips everything, a stop of a bandwidth-limited run, bad input, and the
// replication metrics.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestOf } from "../../src/oci/index.js";
import { BERTH_BIN, type BerthProcess, startBerth } from "../support/berth-process.js";
import { skopeo, skopeoCopy } from "../support/container-tools.js";
import { startCountingProxy } from "../support/counting-proxy.js";
import { run } from "../support/process-control.js";
import { parsePrometheusText, sampleValue } from "../support/prometheus-text.js";
import { type ReferenceRegistry, startReferenceRegistry } from "../support/reference-registry.js";
import { syntheticImageLayout, twoPlatformIndexLayout } from "../support/synthetic-images.js";

const PASSWORD = "replication-admin-1";
const PEER_PASSWORD = "replication-peer-2";
const KEY_PASSWORD = "key-password-3";
const creds = `admin:${PASSWORD}`;

let berth: BerthProcess;
let peer: BerthProcess;
let reference: ReferenceRegistry;
let work: string;
let indexDigest: string;
let arm64Digest: string;

const serverEnv = {
  BERTH_AUTH: "token",
  BERTH_JOBS_RETRY_BACKOFF: "200ms",
  BERTH_JOBS_POLL_INTERVAL: "200ms",
  BERTH_LOG_LEVEL: "warn",
};

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, [BERTH_BIN, ...args], {
    env: { ...process.env, COSIGN_PASSWORD: KEY_PASSWORD, ...env },
    timeoutMs: 180_000,
  });
}

async function admin(args: string[]) {
  const r = await cli(["admin", "--server", berth.url, "--format", "json", ...args], {
    BERTH_USERNAME: "admin",
    BERTH_PASSWORD: PASSWORD,
  });
  return { ...r, json: r.code === 0 && r.stdout.trim() ? JSON.parse(r.stdout) : undefined };
}

/** The error message a failed `--format json` command printed. */
function messageOf(r: { stdout: string; stderr: string }): string {
  try {
    return (JSON.parse(r.stdout) as { error: { message: string } }).error.message;
  } catch {
    return r.stdout + r.stderr;
  }
}

async function adminOk(args: string[]) {
  const r = await admin(args);
  expect(r.code, `${args.join(" ")}\n${r.stdout}\n${r.stderr}\n${berth.output()}`).toBe(0);
  return r.json;
}

async function raw(ref: string, credentials?: string): Promise<Buffer> {
  const r = await skopeo([
    "inspect",
    "--raw",
    "--tls-verify=false",
    ...(credentials ? ["--creds", credentials] : []),
    `docker://${ref}`,
  ]);
  expect(r.code, r.stderr).toBe(0);
  return Buffer.from(r.stdout, "utf8");
}

/** Tags of a repository on docker-registry (open; an HTTP read, polled by several tests). */
async function listTags(repo: string): Promise<string[]> {
  const res = await fetch(`${reference.url}/v2/${repo}/tags/list`);
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`tags of ${repo}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { tags: string[] | null }).tags ?? [];
}

/** A management API read as the admin: polls use it instead of starting a CLI each time. */
async function apiGet<T>(path: string): Promise<T> {
  const res = await fetch(`${berth.url}/api/v1${path}`, {
    headers: { authorization: `Basic ${Buffer.from(creds).toString("base64")}` },
  });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${berth.output()}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-replication-"));
  [berth, peer, reference] = await Promise.all([
    startBerth({ env: { ...serverEnv, BERTH_ADMIN_PASSWORD: PASSWORD } }),
    startBerth({ env: { ...serverEnv, BERTH_ADMIN_PASSWORD: PEER_PASSWORD } }),
    startReferenceRegistry(),
  ]);
  for (const project of ["team", "back", "live", "slow"])
    await adminOk(["project", "create", project]);
  const peerProject = await cli(["admin", "--server", peer.url, "project", "create", "team"], {
    BERTH_USERNAME: "admin",
    BERTH_PASSWORD: PEER_PASSWORD,
  });
  expect(peerProject.code, peerProject.stderr).toBe(0);
  const index = await twoPlatformIndexLayout(join(work, "multi"), "v1", "repl");
  indexDigest = index.index.digest;
  arm64Digest = index.images.find((i) => i.platform.architecture === "arm64")!.image.manifest
    .digest;
  const copied = await skopeoCopy(index.reference, `docker://${berth.host}/team/app:v1`, [
    "--all",
    "--dest-creds",
    creds,
  ]);
  expect(copied.code, copied.stderr).toBe(0);
  const key = join(work, "cosign");
  expect((await cli(["key", "generate", "--output-key-prefix", key])).code).toBe(0);
  const image = `${berth.host}/team/app:v1`;
  const tagSigned = await cli(["sign", "--key", `${key}.key`, "--creds", creds, image]);
  expect(tagSigned.code, tagSigned.stderr).toBe(0);
  const refSigned = await cli([
    "sign",
    "--key",
    `${key}.key`,
    "--new-bundle-format",
    "--creds",
    creds,
    image,
  ]);
  expect(refSigned.code, refSigned.stderr).toBe(0);
  await adminOk(["endpoint", "add", "dr", "--url", `http://${reference.host}`]);
  await adminOk([
    "endpoint",
    "add",
    "peer",
    "--url",
    `http://${peer.host}`,
    "--creds",
    `admin:${PEER_PASSWORD}`,
  ]);
}, 240_000);

afterAll(async () => {
  await berth?.stop();
  await peer?.stop();
  await reference?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("replication", () => {
  it("pushes a signed multi-arch image to docker-registry with digests and signatures kept", async () => {
    await adminOk([
      "replication",
      "add",
      "to-dr",
      "--endpoint",
      "dr",
      "--mode",
      "push",
      "--repo",
      "team/**",
      "--dest-namespace",
      "mirror",
    ]);
    const e = await adminOk(["replication", "run", "to-dr", "--wait"]);
    expect(e.state, JSON.stringify(e)).toBe("succeeded");
    expect(e.succeeded).toBe(1);
    expect(e.bytes).toBeGreaterThan(0);
    const there = await raw(`${reference.host}/mirror/app:v1`);
    const here = await raw(`${berth.host}/team/app:v1`, creds);
    expect(digestOf(there)).toBe(indexDigest);
    expect(there.equals(here)).toBe(true);
    const tags = await listTags("mirror/app");
    const hex = indexDigest.slice("sha256:".length);
    // cosign's tag scheme, and the OCI 1.1 referrers tag (docker-registry has no referrers API)
    expect(tags).toContain(`sha256-${hex}.sig`);
    expect(tags).toContain(`sha256-${hex}`);
    const verified = await cli([
      "verify",
      "--key",
      join(work, "cosign.pub"),
      `${reference.host}/mirror/app:v1`,
    ]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    const tasks = await adminOk(["replication", "tasks", String(e.id)]);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({
      operation: "copy",
      sourceRepository: "team/app",
      reference: "v1",
      destinationRepository: "mirror/app",
      state: "succeeded",
      digest: indexDigest,
    });
    expect(tasks[0].referrers).toBeGreaterThanOrEqual(2);
    expect(tasks[0].durationMs).toBeGreaterThanOrEqual(0);
  });

  it("skips what the destination has on a rerun", async () => {
    const e = await adminOk(["replication", "run", "to-dr", "--wait"]);
    expect(e.state).toBe("succeeded");
    expect(e.skipped).toBe(1);
    const [task] = await adminOk(["replication", "tasks", String(e.id)]);
    expect(task.state).toBe("skipped");
    expect(task.error).toBe("up to date");
  });

  it("mounts blobs a second repository shares from one already on the destination", async () => {
    const counted = await startCountingProxy(reference);
    try {
      await adminOk(["endpoint", "add", "counted", "--url", counted.url]);
      const shared = [
        { seed: "mount-shared-a", size: 200 * 1024 },
        { seed: "mount-shared-b", size: 100 * 1024 },
      ];
      const images = [];
      for (const name of ["one", "two"]) {
        const layout = await syntheticImageLayout(join(work, `mount-${name}`), "v1", {
          label: `mount-${name}`,
          layers: [...shared, { seed: `mount-own-${name}`, size: 50 * 1024 }],
        });
        const pushed = await skopeoCopy(
          layout.reference,
          `docker://${berth.host}/team/${name}:v1`,
          ["--dest-creds", creds],
        );
        expect(pushed.code, pushed.stderr).toBe(0);
        images.push(layout);
        await adminOk([
          ...["replication", "add", `mount-${name}`, "--endpoint", "counted", "--mode", "push"],
          ...["--repo", `team/${name}`, "--dest-namespace", "mnt"],
        ]);
      }
      const first = await adminOk(["replication", "run", "mount-one", "--wait"]);
      expect(first.state, JSON.stringify(first)).toBe("succeeded");
      counted.seen.length = 0;
      const second = await adminOk(["replication", "run", "mount-two", "--wait"]);
      expect(second.state, JSON.stringify(second)).toBe("succeeded");
      const seen = counted.seen.map((r) => `${r.method} ${decodeURIComponent(r.url)} ${r.status}`);
      const [, two] = images;
      for (const layer of two!.layers.slice(0, 2)) {
        const head = seen.indexOf(`HEAD /v2/mnt/two/blobs/${layer.digest} 404`);
        const mount = seen.findIndex((l) =>
          l.startsWith(`POST /v2/mnt/two/blobs/uploads/?mount=${layer.digest}&from=mnt/one 201`),
        );
        expect(head, seen.join("\n")).toBeGreaterThanOrEqual(0);
        expect(mount, seen.join("\n")).toBeGreaterThan(head);
        expect(seen.filter((l) => l.startsWith("PUT") && l.includes(layer.digest))).toEqual([]);
      }
      // The layer only this image has is uploaded (no repository there holds it).
      const own = two!.layers[2]!.digest;
      expect(seen.some((l) => l.startsWith("PUT") && l.includes(`digest=${own}`))).toBe(true);
      expect(digestOf(await raw(`${reference.host}/mnt/two:v1`))).toBe(two!.manifest.digest);
      const copied = await skopeo([
        ...["copy", "--src-tls-verify=false", `docker://${reference.host}/mnt/two:v1`],
        `dir:${join(work, "mount-check")}`,
      ]);
      expect(copied.code, copied.stderr).toBe(0);
    } finally {
      await counted.stop();
    }
  });

  it("copies only the chosen platforms to another Berth and writes a matching index", async () => {
    await adminOk([
      "replication",
      "add",
      "arm-to-peer",
      "--endpoint",
      "peer",
      "--mode",
      "push",
      "--repo",
      "team/app",
      "--platform",
      "linux/arm64",
    ]);
    const e = await adminOk(["replication", "run", "arm-to-peer", "--wait"]);
    expect(e.state, JSON.stringify(e)).toBe("succeeded");
    const doc = JSON.parse(
      (await raw(`${peer.host}/team/app:v1`, `admin:${PEER_PASSWORD}`)).toString("utf8"),
    ) as { manifests: { digest: string; platform: { architecture: string } }[] };
    expect(doc.manifests.map((m) => m.platform.architecture)).toEqual(["arm64"]);
    expect(doc.manifests[0]!.digest).toBe(arm64Digest);
    const child = await raw(`${peer.host}/team/app@${arm64Digest}`, `admin:${PEER_PASSWORD}`);
    expect(digestOf(child)).toBe(arm64Digest);
  });

  it("pulls from docker-registry into Berth, signatures included", async () => {
    await adminOk([
      "replication",
      "add",
      "from-dr",
      "--endpoint",
      "dr",
      "--mode",
      "pull",
      "--repo",
      "mirror/app",
      "--tag",
      "v*",
      "--dest-namespace",
      "back",
    ]);
    const e = await adminOk(["replication", "run", "from-dr", "--wait"]);
    expect(e.state, JSON.stringify(e)).toBe("succeeded");
    expect(digestOf(await raw(`${berth.host}/back/app:v1`, creds))).toBe(indexDigest);
    const verified = await cli([
      "verify",
      "--key",
      join(work, "cosign.pub"),
      "--creds",
      creds,
      `${berth.host}/back/app:v1`,
    ]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  });

  it("replicates pushes and later signatures on events", async () => {
    await adminOk([
      "replication",
      "add",
      "live",
      "--endpoint",
      "dr",
      "--mode",
      "push",
      "--repo",
      "live/**",
      "--trigger",
      "event",
      "--deletion",
    ]);
    const layout = await syntheticImageLayout(join(work, "live"), "v2", {
      label: "live",
      layers: [{ seed: "live-layer", size: 64 * 1024 }],
    });
    const pushed = await skopeoCopy(layout.reference, `docker://${berth.host}/live/app:v2`, [
      "--dest-creds",
      creds,
    ]);
    expect(pushed.code, pushed.stderr).toBe(0);
    await until("the event copy", async () => (await listTags("live/app")).includes("v2"));
    expect(digestOf(await raw(`${reference.host}/live/app:v2`))).toBe(layout.manifest.digest);
    const signed = await cli([
      "sign",
      "--key",
      join(work, "cosign.key"),
      "--creds",
      creds,
      `${berth.host}/live/app:v2`,
    ]);
    expect(signed.code, signed.stderr).toBe(0);
    const sigTag = `sha256-${layout.manifest.digest.slice(7)}.sig`;
    await until("the signature", async () => (await listTags("live/app")).includes(sigTag));
    const verified = await cli([
      "verify",
      "--key",
      join(work, "cosign.pub"),
      `${reference.host}/live/app:v2`,
    ]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    const executions = await adminOk(["replication", "executions", "live"]);
    expect(executions.length).toBeGreaterThanOrEqual(2);
    expect(executions.every((x: { trigger: string }) => x.trigger === "event")).toBe(true);
    // --deletion: deleting the manifest here deletes it there
    const deleted = await cli([
      "delete",
      "--creds",
      creds,
      `${berth.host}/live/app@${layout.manifest.digest}`,
    ]);
    expect(deleted.code, deleted.stderr).toBe(0);
    await until("the deletion", async () => !(await listTags("live/app")).includes("v2"));
  });

  it("runs cron rules on the scheduler", async () => {
    await adminOk([
      "replication",
      "add",
      "every-second",
      "--endpoint",
      "dr",
      "--mode",
      "push",
      "--repo",
      "team/app",
      "--dest-namespace",
      "cron",
      "--trigger",
      "cron:* * * * * *",
    ]);
    const ran = await until("a cron execution", async () => {
      const list = await apiGet<{ trigger: string; state: string; createdBy: string }[]>(
        "/replication/executions?policy=every-second",
      );
      return list.find(
        (e: { trigger: string; state: string }) => e.trigger === "cron" && e.state === "succeeded",
      );
    });
    expect(ran.createdBy).toBe("scheduler");
    await adminOk(["replication", "rm", "every-second"]);
    expect(digestOf(await raw(`${reference.host}/cron/app:v1`))).toBe(indexDigest);
  });

  it("stops a running execution", async () => {
    const layout = await syntheticImageLayout(join(work, "big"), "v1", {
      label: "big",
      layers: [{ seed: "big-layer", size: 4 * 1024 * 1024 }],
    });
    const pushed = await skopeoCopy(layout.reference, `docker://${berth.host}/slow/app:v1`, [
      "--dest-creds",
      creds,
    ]);
    expect(pushed.code, pushed.stderr).toBe(0);
    await adminOk([
      "replication",
      "add",
      "slow",
      "--endpoint",
      "dr",
      "--mode",
      "push",
      "--repo",
      "slow/*",
      "--bandwidth",
      "64",
    ]);
    const started = await adminOk(["replication", "run", "slow"]);
    await until("the run to start", async () => {
      const e = await apiGet<{ state: string }>(`/replication/executions/${started.id}`);
      return e.state === "running" && e;
    });
    const stopped = await adminOk(["replication", "stop", String(started.id)]);
    expect(["stopping", "stopped"]).toContain(stopped.state);
    const final = await until("the stop", async () => {
      const e = await apiGet<{ id: number; state: string }>(
        `/replication/executions/${started.id}`,
      );
      return e.state === "stopped" && e;
    });
    expect(final.id).toBe(started.id);
    const [task] = await adminOk(["replication", "tasks", String(started.id)]);
    expect(task.state).toBe("stopped");
    expect(await listTags("slow/app")).not.toContain("v1");
    const again = await admin(["replication", "stop", String(started.id)]);
    expect(again.code).toBe(3);
    expect(messageOf(again)).toMatch(/has finished/);
  });

  it("refuses bad rules with a clear message and stores nothing", async () => {
    const badPlatform = await admin([
      "replication",
      "add",
      "bad",
      "--endpoint",
      "dr",
      "--mode",
      "push",
      "--platform",
      "amd64",
    ]);
    expect(badPlatform.code).toBe(2);
    expect(messageOf(badPlatform)).toMatch(/platform "amd64"/);
    const noEndpoint = await admin([
      "replication",
      "add",
      "bad",
      "--endpoint",
      "nowhere",
      "--mode",
      "push",
    ]);
    expect(noEndpoint.code).toBe(2);
    expect(messageOf(noEndpoint)).toMatch(/endpoint "nowhere" does not exist/);
    const names = (await adminOk(["replication", "ls"])).map((r: { name: string }) => r.name);
    expect(names).not.toContain("bad");
    const missing = await admin(["replication", "run", "nope", "--wait"]);
    expect(missing.code).toBe(3);
    expect(messageOf(missing)).toMatch(/not found/);
  });

  it("counts replication in /metrics", async () => {
    const res = await fetch(`${berth.url}/metrics`, {
      headers: { authorization: `Basic ${Buffer.from(creds).toString("base64")}` },
    });
    expect(res.status).toBe(200);
    const families = parsePrometheusText(await res.text());
    const bytes = sampleValue(families, "berth_replication_bytes_total", { direction: "push" });
    expect(bytes).toBeGreaterThan(0);
    const pulled = sampleValue(families, "berth_replication_bytes_total", { direction: "pull" });
    expect(pulled).toBeGreaterThan(0);
    const skipped = sampleValue(families, "berth_replication_artifacts_total", {
      direction: "push",
      outcome: "skipped",
    });
    expect(skipped).toBeGreaterThanOrEqual(1);
  });
});
