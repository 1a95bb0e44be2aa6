// The registry client and the transports against a real registry (CNCF distribution 2.8):
// monolithic and chunked uploads, HEAD before upload, cross-repository mounts, tag listing,
// the referrers fallback to the `sha256-<hex>` tag schema (distribution 2.8 has no referrers
// API), and resilience through a fault-injecting proxy: 429 and 5xx answers and dropped
// connections are retried with backoff (and given up on after the set attempts), a download
// cut mid-blob resumes with Range.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryClient } from "../../src/client/registry-client.js";
import { digestOf, MediaType } from "../../src/oci/index.js";
import { copyImage } from "../../src/transport/copy.js";
import { openImageDestination, openImageSource } from "../../src/transport/index.js";
import { type ReferenceRegistry, startReferenceRegistry } from "../support/reference-registry.js";
import {
  artifactFor,
  deterministicBytes,
  syntheticImageLayout,
} from "../support/synthetic-images.js";
import { FaultProxy } from "./fault-proxy.js";

let registry: ReferenceRegistry;
let work: string;
let client: RegistryClient;

beforeAll(async () => {
  registry = await startReferenceRegistry();
  work = await mkdtemp(join(tmpdir(), "berth-client-test-"));
  client = new RegistryClient(registry.host, { backoffMs: 10 });
});

afterAll(async () => {
  await client?.close();
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function pushBlob(repo: string, bytes: Buffer, chunkSize?: number) {
  const descriptor = {
    mediaType: "application/octet-stream",
    digest: digestOf(bytes),
    size: bytes.length,
  };
  await client.uploadBlob(repo, descriptor, Readable.from([bytes]), { chunkSize });
  return descriptor;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe("registry client", () => {
  it("uploads monolithically and in chunks, checks existence, and streams blobs back", async () => {
    const small = deterministicBytes("mono", 100_000);
    const big = deterministicBytes("chunked", 700_000);
    const a = await pushBlob("client/blobs", small);
    const b = await pushBlob("client/blobs", big, 256 * 1024);
    expect(await client.hasBlob("client/blobs", a.digest)).toBe(true);
    expect(await client.hasBlob("client/blobs", b.digest)).toBe(true);
    expect(await client.hasBlob("client/blobs", digestOf("absent"))).toBe(false);
    expect((await readAll(await client.getBlob("client/blobs", b))).equals(big)).toBe(true);
  });

  it("mounts a blob across repositories instead of uploading it", async () => {
    const bytes = deterministicBytes("mount", 50_000);
    const d = await pushBlob("client/mount-from", bytes);
    expect(await client.hasBlob("client/mount-to", d.digest)).toBe(false);
    expect(await client.mountBlob("client/mount-to", d.digest, "client/mount-from")).toBe(true);
    expect(await client.hasBlob("client/mount-to", d.digest)).toBe(true);
  });

  it("rejects a download whose bytes do not match the digest it was asked for", async () => {
    const bytes = deterministicBytes("liar", 10_000);
    const d = await pushBlob("client/liar", bytes);
    const wrongSize = { ...d, size: d.size - 1 };
    await expect(readAll(await client.getBlob("client/liar", wrongSize))).rejects.toThrow(
      /larger than|ended after/,
    );
  });

  it("lists tags and finds referrers through the sha256-<hex> tag fallback", async () => {
    const image = await syntheticImageLayout(join(work, "ref"), "1.0", {
      layers: [{ seed: "ref-l", size: 20_000 }],
    });
    const src = await openImageSource(image.reference);
    const dst = await openImageDestination(`${registry.host}/client/referred:1.0`);
    await copyImage(src, dst);
    await src.close();
    await dst.close();
    expect(await client.listTags("client/referred")).toEqual(["1.0"]);
    // A loopback registry named `localhost` is spoken to over plain HTTP with no flag.
    const byName = new RegistryClient(registry.host.replace("127.0.0.1", "localhost"));
    expect(byName.http.baseUrl).toMatch(/^http:\/\/localhost:\d+$/);
    expect(await byName.listTags("client/referred")).toEqual(["1.0"]);
    await byName.close();

    const artifact = artifactFor(image.manifest, "application/vnd.example.sbom", '{"sbom":true}');
    for (const blob of artifact.blobs) await pushBlob("client/referred", blob.bytes);
    await client.putManifest(
      "client/referred",
      artifact.manifest.digest,
      artifact.manifestBytes,
      MediaType.OciManifest,
    );
    const fallbackIndex = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        manifests: [{ ...artifact.manifest, artifactType: artifact.artifactType }],
      }),
    );
    const hex = image.manifest.digest.slice("sha256:".length);
    await client.putManifest("client/referred", `sha256-${hex}`, fallbackIndex, MediaType.OciIndex);

    const found = await client.referrers("client/referred", image.manifest.digest);
    expect(found.map((d) => d.digest)).toEqual([artifact.manifest.digest]);
    expect(
      await client.referrers("client/referred", image.manifest.digest, "application/other"),
    ).toEqual([]);
  });
});

describe("resilience (through a fault-injecting proxy in front of the real registry)", () => {
  it("retries requests answered with 429", async () => {
    const proxy = await FaultProxy.start(registry.host, { tooManyRequests: 3 });
    const retries: string[] = [];
    const viaProxy = new RegistryClient(proxy.host, {
      backoffMs: 10,
      onRetry: (e) => retries.push(e.reason),
    });
    try {
      const bytes = deterministicBytes("429", 30_000);
      const d = {
        mediaType: "application/octet-stream",
        digest: digestOf(bytes),
        size: bytes.length,
      };
      await pushBlob("client/throttled", bytes);
      expect(await viaProxy.hasBlob("client/throttled", d.digest)).toBe(true);
      expect((await readAll(await viaProxy.getBlob("client/throttled", d))).equals(bytes)).toBe(
        true,
      );
      expect(proxy.injected429).toBe(3);
      expect(retries.filter((r) => r.includes("429")).length).toBe(3);
    } finally {
      await viaProxy.close();
      await proxy.stop();
    }
  });

  it("retries 5xx answers and dropped connections with backoff", async () => {
    const bytes = deterministicBytes("5xx", 20_000);
    const d = await pushBlob("client/flaky", bytes);
    const proxy = await FaultProxy.start(registry.host, { serverErrors: 2, resetConnections: 2 });
    const retries: string[] = [];
    const viaProxy = new RegistryClient(proxy.host, {
      backoffMs: 10,
      onRetry: (e) => retries.push(e.reason),
    });
    try {
      expect(await viaProxy.hasBlob("client/flaky", d.digest)).toBe(true);
      expect(proxy.injected503).toBe(2);
      expect(proxy.injectedResets).toBe(2);
      expect(retries.filter((r) => r.includes("503"))).toHaveLength(2);
      expect(retries).toHaveLength(4);
      expect(proxy.requests.at(-1)?.status).toBe(200);
    } finally {
      await viaProxy.close();
      await proxy.stop();
    }
    const down = await FaultProxy.start(registry.host, { serverErrors: 10 });
    const givesUp = new RegistryClient(down.host, { backoffMs: 1, attempts: 3 });
    try {
      await expect(givesUp.hasBlob("client/flaky", d.digest)).rejects.toThrow(/HTTP 503/);
      expect(down.injected503).toBe(3);
    } finally {
      await givesUp.close();
      await down.stop();
    }
  });

  it("resumes a blob download cut mid-way with a Range request", async () => {
    const bytes = deterministicBytes("resume", 2 * 1024 * 1024);
    const d = await pushBlob("client/resume", bytes);
    const proxy = await FaultProxy.start(registry.host, {
      cutBlob: { digest: d.digest, bytes: 700_000 },
    });
    const viaProxy = new RegistryClient(proxy.host, { backoffMs: 10 });
    try {
      const back = await readAll(await viaProxy.getBlob("client/resume", d));
      expect(digestOf(back)).toBe(d.digest);
      const gets = proxy.blobGets(d.digest);
      expect(gets.length).toBe(2);
      expect(gets[1]?.range).toMatch(/^bytes=\d+-$/);
      const resumedAt = Number(/bytes=(\d+)-/.exec(gets[1]?.range ?? "")?.[1]);
      expect(resumedAt).toBeGreaterThan(0);
    } finally {
      await viaProxy.close();
      await proxy.stop();
    }
  });
});
