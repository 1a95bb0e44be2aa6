// Proxy-cache projects against real things: the CNCF reference registry (docker-registry,
// htpasswd auth) as the upstream, a real Berth, podman and skopeo as clients. A pull through
// `proxy/library/alpine:3.20` with podman gets the upstream's digest and fills the cache; with
// the upstream stopped, skopeo still copies the whole image (manifest marked stale) while an
// uncached tag answers 503; after a restart (a new port: the endpoint is updated) and a new
// image pushed under the same tag, the next pull after the TTL sees the new digest. Pushes
// into the proxy project are refused, an endpoint in use cannot be deleted, a project bound
// to an unknown endpoint is not created, and /metrics counts hits, misses and stale serves.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berth } from "../cli/berth-cli.js";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import {
  type ContainerStorage,
  podman,
  privateContainerStorage,
  skopeo,
  skopeoCopy,
} from "../support/container-tools.js";
import { run } from "../support/process-control.js";
import { parsePrometheusText, sampleValue } from "../support/prometheus-text.js";
import { type ReferenceRegistry, startReferenceRegistry } from "../support/reference-registry.js";
import { syntheticImageLayout } from "../support/synthetic-images.js";

const ADMIN_PASSWORD = "proxy-admin-pass-1";
const UP_USER = "hub";
const UP_PASSWORD = "hub-Password-8c1e";
const TTL_SECONDS = 2;

let work: string;
let server: BerthProcess;
let upstream: ReferenceRegistry;
let storage: ContainerStorage;
let firstDigest: string;
let secondDigest: string;

const env = { BERTH_SERVER: "", BERTH_USERNAME: "admin", BERTH_PASSWORD: ADMIN_PASSWORD };
const admin = (args: string[]) => berth(["admin", "--server", server.url, ...args], { env });
const berthCreds = ["--creds", `admin:${ADMIN_PASSWORD}`];
const basic = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64")}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pushUpstream(label: string, seed: string): Promise<string> {
  const image = await syntheticImageLayout(join(work, label), "v", {
    label,
    layers: [
      { seed: `${seed}-a`, size: 300 * 1024 },
      { seed: `${seed}-b`, size: 40 * 1024 },
    ],
  });
  await skopeoCopy(image.reference, `docker://${upstream.host}/library/alpine:3.20`, [
    "--dest-creds",
    `${UP_USER}:${UP_PASSWORD}`,
  ]);
  return image.manifest.digest;
}

/** GET of a manifest on Berth as the admin: status, digest and cache headers. */
async function getManifest(repository: string, reference: string) {
  const res = await fetch(`${server.url}/v2/${repository}/manifests/${reference}`, {
    headers: {
      authorization: basic,
      accept: "application/vnd.oci.image.manifest.v1+json,application/vnd.oci.image.index.v1+json",
    },
  });
  await res.arrayBuffer();
  return {
    status: res.status,
    digest: res.headers.get("docker-content-digest"),
    cache: res.headers.get("x-berth-cache"),
    warning: res.headers.get("warning"),
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

async function metric(result: string): Promise<number> {
  const res = await fetch(`${server.url}/metrics`, { headers: { authorization: basic } });
  const families = parsePrometheusText(await res.text());
  return sampleValue(families, "berth_proxy_cache_requests_total", { result });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-proxy-"));
  storage = await privateContainerStorage();
  [upstream, server] = await Promise.all([
    startReferenceRegistry({
      htpasswd: { username: UP_USER, password: UP_PASSWORD },
      keepData: true,
    }),
    startBerth({
      env: {
        BERTH_AUTH: "token",
        BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
        BERTH_LOG_LEVEL: "warn",
        BERTH_PROXY_UPSTREAM_TIMEOUT: "3s",
      },
    }),
  ]);
  firstDigest = await pushUpstream("first", "proxy-first");
}, 180_000);

afterAll(async () => {
  await Promise.all([server?.stop(), upstream?.stop()]);
  await upstream?.removeData();
  await storage?.remove();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("proxy-cache project", () => {
  it("is created with --proxy and refuses an unknown endpoint without leaving a project", async () => {
    const bad = await admin(["project", "create", "ghost", "--proxy", "nope"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('registry endpoint "nope" not found');
    const projects = await admin(["--format", "json", "project", "list"]);
    expect(projects.stdout).not.toContain('"ghost"');
    const added = await admin([
      ...["endpoint", "add", "hub", "--url", upstream.url],
      ...["--creds", `${UP_USER}:${UP_PASSWORD}`, "--test"],
    ]);
    expect(added.code, added.stderr).toBe(0);
    const made = await admin([
      ...["--format", "json", "project", "create", "proxy", "--proxy", "hub"],
      ...["--proxy-ttl", `${TTL_SECONDS}s`],
    ]);
    expect(made.code, made.stderr).toBe(0);
    expect(JSON.parse(made.stdout).proxy).toMatchObject({ endpoint: "hub", ttlSeconds: 2 });
    const inUse = await admin(["endpoint", "rm", "hub"]);
    expect(inUse.code).toBe(3);
    expect(inUse.stderr).toContain('in use by proxy project "proxy"');
  });

  it("pulls through with podman on a miss, then serves from the cache", async () => {
    const ref = `${server.host}/proxy/library/alpine:3.20`;
    await podman(storage, ["pull", "--tls-verify=false", ...berthCreds, ref]);
    const inspected = await podman(storage, ["image", "inspect", "--format", "{{.Digest}}", ref]);
    expect(inspected.stdout.trim()).toBe(firstDigest);
    // The manifest is stored once its blobs are (the proxy.cache job): then a hit.
    await until("the cached manifest", async () => {
      const m = await getManifest("proxy/library/alpine", "3.20");
      return m.cache === "hit" ? m : undefined;
    });
    const byDigest = await getManifest("proxy/library/alpine", firstDigest);
    expect(byDigest).toMatchObject({ status: 200, digest: firstDigest, cache: "hit" });
    expect(await metric("miss")).toBeGreaterThan(0);
    expect(await metric("hit")).toBeGreaterThan(0);
  });

  it("brings in signatures of a proxied image in both schemes; berth verify passes through it", async () => {
    const keyEnv = { env: { COSIGN_PASSWORD: "proxy-key-password-1" } };
    const key = join(work, "cosign");
    expect((await berth(["key", "generate", "--output-key-prefix", key], keyEnv)).code).toBe(0);
    const image = `${upstream.host}/library/alpine:3.20`;
    const upCreds = ["--creds", `${UP_USER}:${UP_PASSWORD}`];
    for (const scheme of [[], ["--new-bundle-format"]]) {
      const signed = await berth(
        ["sign", "--key", `${key}.key`, ...scheme, ...upCreds, image],
        keyEnv,
      );
      expect(signed.code, signed.stderr).toBe(0);
    }
    const hex = firstDigest.slice("sha256:".length);
    // cosign's tag scheme: the .sig tag is a proxied manifest like any other.
    expect((await getManifest("proxy/library/alpine", `sha256-${hex}.sig`)).status).toBe(200);
    // OCI 1.1 referrers (docker-registry keeps them under the referrers tag): listed here.
    const res = await fetch(`${server.url}/v2/proxy/library/alpine/referrers/${firstDigest}`, {
      headers: { authorization: basic },
    });
    const index = (await res.json()) as { manifests: { artifactType?: string }[] };
    expect(res.status).toBe(200);
    expect(index.manifests.map((m) => m.artifactType)).toContain(
      "application/vnd.dev.sigstore.bundle.v0.3+json",
    );
    const verified = await berth([
      ...["verify", "--key", `${key}.pub`, ...berthCreds],
      `${server.host}/proxy/library/alpine:3.20`,
    ]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  });

  it("refuses pushes into the proxy project", async () => {
    const image = await syntheticImageLayout(join(work, "push"), "v", {
      label: "push",
      layers: [{ seed: "proxy-push", size: 1024 }],
    });
    const pushed = await run(
      "skopeo",
      [
        ...[
          "copy",
          "--quiet",
          "--dest-tls-verify=false",
          "--dest-creds",
          `admin:${ADMIN_PASSWORD}`,
        ],
        image.reference,
        `docker://${server.host}/proxy/library/mine:1`,
      ],
      { timeoutMs: 120_000 },
    );
    expect(pushed.code).not.toBe(0);
    expect(pushed.stderr).toContain("is a proxy cache");
  });

  it("admits cached manifests through the push checks: the project's quality gate", async () => {
    const made = await admin(["project", "create", "gated", "--proxy", "hub"]);
    expect(made.code, made.stderr).toBe(0);
    const policy = join(work, "gate.yaml");
    await writeFile(policy, "requiredLabels:\n  berth.test.label: '^approved$'\n");
    const set = await admin(["gate", "set", "gated", policy]);
    expect(set.code, set.stderr).toBe(0);
    const refused = await fetch(`${server.url}/v2/gated/library/alpine/manifests/3.20`, {
      headers: { authorization: basic, accept: "application/vnd.oci.image.manifest.v1+json" },
    });
    const body = await refused.text();
    expect(refused.status, body).toBe(403);
    expect(body).toContain("DENIED");
    expect(body).toContain("quality gate");
    const listed = await fetch(`${server.url}/api/v1/projects/gated/repositories`, {
      headers: { authorization: basic },
    });
    // No artifact stored (the config blob, brought in for the gate to judge, may be).
    const { items } = (await listed.json()) as { items: { artifactCount: number }[] };
    expect(items.map((r) => r.artifactCount).filter((n) => n > 0)).toEqual([]);
    // Without the policy the same pull is cached: the refusal was the gate's.
    expect((await admin(["gate", "rm", "gated"])).code).toBe(0);
    const m = await getManifest("gated/library/alpine", "3.20");
    expect(m).toMatchObject({ status: 200, digest: firstDigest });
  });

  it("judges a first pull by the upstream's signatures (trust policy) and by its scan (prevent unscanned)", async () => {
    // The signatures made upstream in the test above (both schemes) are brought in with the
    // image on its first pull, before the trust check; an unsigned image is refused.
    expect((await admin(["project", "create", "trusted", "--proxy", "hub"])).code).toBe(0);
    const set = await admin([
      ...["trust", "set", "trusted", "--mode", "enforce"],
      ...["--key", `${join(work, "cosign")}.pub`],
    ]);
    expect(set.code, set.stderr).toBe(0);
    expect(await getManifest("trusted/library/alpine", "3.20")).toMatchObject({
      status: 200,
      digest: firstDigest,
    });
    const unsigned = await syntheticImageLayout(join(work, "unsigned"), "v", {
      label: "unsigned",
      layers: [{ seed: "proxy-unsigned", size: 2048 }],
    });
    await skopeoCopy(unsigned.reference, `docker://${upstream.host}/library/unsigned:1`, [
      "--dest-creds",
      `${UP_USER}:${UP_PASSWORD}`,
    ]);
    const refused = await fetch(`${server.url}/v2/trusted/library/unsigned/manifests/1`, {
      headers: { authorization: basic, accept: "application/vnd.oci.image.manifest.v1+json" },
    });
    const body = await refused.text();
    expect(refused.status, body).toBe(403);
    expect(body).toContain("DENIED");
    // The vulnerability gate judges such a miss too: unscanned images refused, never stored.
    expect((await admin(["project", "create", "scanned", "--proxy", "hub"])).code).toBe(0);
    const policy = await admin(["scan-policy", "set", "scanned", "--prevent-unscanned"]);
    expect(policy.code, policy.stderr).toBe(0);
    const unscanned = await fetch(`${server.url}/v2/scanned/library/unsigned/manifests/1`, {
      headers: { authorization: basic, accept: "application/vnd.oci.image.manifest.v1+json" },
    });
    const why = await unscanned.text();
    expect(unscanned.status, why).toBe(403);
    expect(why).toContain("DENIED");
  });

  it("serves the cached image, marked stale, while the upstream is down", async () => {
    await upstream.stop();
    await sleep(TTL_SECONDS * 1000 + 200);
    const m = await getManifest("proxy/library/alpine", "3.20");
    expect(m).toMatchObject({ status: 200, digest: firstDigest, cache: "stale" });
    expect(m.warning).toContain("110");
    // The whole image, blobs included, with a client that fetches everything.
    await skopeo([
      ...["copy", "--quiet", "--src-tls-verify=false", "--src-creds", `admin:${ADMIN_PASSWORD}`],
      `docker://${server.host}/proxy/library/alpine:3.20`,
      `oci:${join(work, "offline")}:copy`,
    ]);
    const raw = await skopeo(["inspect", "--raw", `oci:${join(work, "offline")}:copy`]);
    expect(raw.stdout.length).toBeGreaterThan(0);
    // Nothing cached for this one: a clear 503, not a hang or a 500 without a message.
    const res = await fetch(`${server.url}/v2/proxy/library/busybox/manifests/latest`, {
      headers: { authorization: basic },
    });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("unavailable and this manifest is not cached");
    expect(await metric("stale")).toBeGreaterThan(0);
  });

  it("sees a changed tag after the TTL once the upstream is back", async () => {
    upstream = await startReferenceRegistry({
      dataDir: upstream.dataDir,
      keepData: true,
      htpasswd: { username: UP_USER, password: UP_PASSWORD },
    });
    const moved = await admin(["endpoint", "update", "hub", "--url", upstream.url]);
    expect(moved.code, moved.stderr).toBe(0);
    secondDigest = await pushUpstream("second", "proxy-second");
    expect(secondDigest).not.toBe(firstDigest);
    await sleep(TTL_SECONDS * 1000 + 200);
    const ref = `${server.host}/proxy/library/alpine:3.20`;
    await podman(storage, ["pull", "--tls-verify=false", ...berthCreds, ref]);
    const inspected = await podman(storage, ["image", "inspect", "--format", "{{.Digest}}", ref]);
    expect(inspected.stdout.trim()).toBe(secondDigest);
    await until("the new digest cached", async () => {
      const m = await getManifest("proxy/library/alpine", "3.20");
      return m.cache === "hit" && m.digest === secondDigest ? m : undefined;
    });
    // The old image stays readable by digest.
    expect((await getManifest("proxy/library/alpine", firstDigest)).status).toBe(200);
  });
});
