// Proxy-cache behaviour under upstream faults, with the test fault proxy (test/client/
// fault-proxy.ts: forwards to a real docker-registry, counts requests, injects 429s) between
// Berth and the upstream: four concurrent pulls of one uncached 6 MiB layer reach the
// upstream once and all get the right bytes; an upstream answering 429 gets the cached tag
// served, marked stale; a 429 for something never cached is a 503 with a clear message; over
// the project's quota a blob is served but not kept.
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berth } from "../cli/berth-cli.js";
import { FaultProxy, type FaultProxyOptions } from "../client/fault-proxy.js";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import { skopeoCopy } from "../support/container-tools.js";
import { type ReferenceRegistry, startReferenceRegistry } from "../support/reference-registry.js";
import { syntheticImageLayout } from "../support/synthetic-images.js";

const ADMIN_PASSWORD = "proxy-faults-admin-1";
const basic = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64")}`;

let work: string;
let server: BerthProcess;
let upstream: ReferenceRegistry;
let faults: FaultProxy;
const faultOptions: FaultProxyOptions = { faultPaths: /\/manifests\// };
let layerDigest: string;
let manifestDigest: string;

const env = { BERTH_SERVER: "", BERTH_USERNAME: "admin", BERTH_PASSWORD: ADMIN_PASSWORD };
const admin = (args: string[]) => berth(["admin", "--server", server.url, ...args], { env });
const v2 = (path: string) =>
  fetch(`${server.url}/v2/${path}`, {
    headers: { authorization: basic, accept: "application/vnd.oci.image.manifest.v1+json" },
  });

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-proxy-faults-"));
  [upstream, server] = await Promise.all([
    startReferenceRegistry(),
    startBerth({
      env: { BERTH_AUTH: "token", BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD, BERTH_LOG_LEVEL: "warn" },
    }),
  ]);
  const image = await syntheticImageLayout(join(work, "image"), "v", {
    label: "faults",
    layers: [{ seed: "proxy-faults-big", size: 6 * 1024 * 1024 }],
  });
  layerDigest = image.layers[0]!.digest;
  manifestDigest = image.manifest.digest;
  await skopeoCopy(image.reference, `docker://${upstream.host}/team/app:1`);
  faults = await FaultProxy.start(upstream.host, faultOptions);
  for (const args of [
    ["endpoint", "add", "flaky", "--url", `http://${faults.host}`],
    ["project", "create", "cache", "--proxy", "flaky", "--proxy-ttl", "0"],
    ["project", "create", "tiny", "--proxy", "flaky", "--quota", "1MiB"],
  ]) {
    const r = await admin(args);
    expect(r.code, r.stderr).toBe(0);
  }
}, 180_000);

afterAll(async () => {
  await faults?.stop();
  await Promise.all([server?.stop(), upstream?.stop()]);
  if (work) await rm(work, { recursive: true, force: true });
});

describe("proxy cache under upstream faults", () => {
  it("fetches one uncached blob from the upstream once for concurrent pulls", async () => {
    const answers = await Promise.all(
      [1, 2, 3, 4].map(async () => {
        const res = await v2(`cache/team/app/blobs/${layerDigest}`);
        const bytes = Buffer.from(await res.arrayBuffer());
        return {
          status: res.status,
          digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`,
        };
      }),
    );
    for (const a of answers) expect(a).toEqual({ status: 200, digest: layerDigest });
    expect(faults.blobGets(layerDigest)).toHaveLength(1);
    // Now cached: another pull does not reach the upstream.
    const again = await v2(`cache/team/app/blobs/${layerDigest}`);
    await again.arrayBuffer();
    expect(again.status).toBe(200);
    expect(faults.blobGets(layerDigest)).toHaveLength(1);
  });

  it("applies the project's quota: over it, the client gets the bytes but they are not kept", async () => {
    const path = `tiny/team/app/blobs/${layerDigest}`;
    for (const round of [1, 2]) {
      const res = await v2(path);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(res.status).toBe(200);
      expect(res.headers.get("x-berth-cache")).toBe("miss");
      expect(`sha256:${createHash("sha256").update(bytes).digest("hex")}`).toBe(layerDigest);
      // Not stored, so each pull goes upstream again (the first test fetched it once).
      await new Promise((r) => setTimeout(r, 500));
      expect(faults.blobGets(layerDigest)).toHaveLength(1 + round);
    }
  });

  it("serves the cached tag, marked stale, when the upstream answers 429", async () => {
    const first = await v2("cache/team/app/manifests/1");
    await first.arrayBuffer();
    expect(first.status).toBe(200);
    expect(first.headers.get("docker-content-digest")).toBe(manifestDigest);
    // The config blob was not cached yet: the proxy.cache job stores the manifest, then hits.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const hit = await v2("cache/team/app/manifests/1");
      await hit.arrayBuffer();
      if (hit.headers.get("x-berth-cache") === "hit") break;
      if (Date.now() > deadline) throw new Error("the manifest was never cached");
      await new Promise((r) => setTimeout(r, 250));
    }
    faultOptions.tooManyRequests = faults.injected429 + 1000;
    const stale = await v2("cache/team/app/manifests/1");
    await stale.arrayBuffer();
    expect(stale.status).toBe(200);
    expect(stale.headers.get("x-berth-cache")).toBe("stale");
    expect(stale.headers.get("docker-content-digest")).toBe(manifestDigest);
    expect(faults.injected429).toBeGreaterThan(0);
    const never = await v2("cache/team/other/manifests/1");
    expect(never.status).toBe(503);
    expect(never.headers.get("retry-after")).toBe("30");
    expect(await never.text()).toContain("is unavailable and this manifest is not cached");
  });
});
