// Garbage collection, fsck and quotas with blobs on S3 (a real Ceph radosgw, test/support/
// ceph-rgw.ts): GC removes the objects of what nothing references and keeps shared ones; a
// GC stopped part-way (or killed after claiming a blob) continues where it was on the next
// run instead of starting over; fsck finds corrupt, missing and orphan objects and stale
// uploads in the bucket and repairs them; a push over a project's quota leaves nothing in
// the bucket.
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { checkStore } from "../../src/jobs/fsck.js";
import { collectGarbage, type GcOptions } from "../../src/jobs/gc.js";
import type { S3BlobStore } from "../../src/storage/index.js";
import {
  pushImage,
  randomBytes,
  sha256,
  startTestRegistry,
  type TestRegistry,
} from "../registry/harness.js";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import { type CephRgw, freshBucket, s3Client, s3Env, sharedCephRgw } from "../support/ceph-rgw.js";

let rgw: CephRgw;
let client: ReturnType<typeof s3Client>;
beforeAll(async () => {
  rgw = await sharedCephRgw();
  client = s3Client(rgw);
});
afterAll(() => client?.destroy());

describe("lifecycle on S3", () => {
  let registry: TestRegistry;
  let bucket: string;
  let store: S3BlobStore;
  beforeEach(async () => {
    bucket = await freshBucket(rgw, "lifecycle");
    registry = await startTestRegistry({
      env: {
        BERTH_AUTH: "none",
        BERTH_JOBS_WORKERS: "0",
        BERTH_GC_GRACE: "0",
        BERTH_TRASH_KEEP: "0", // deletes are final: GC then reclaims their objects
        ...(s3Env(rgw, bucket, "reg") as Record<string, string>),
      },
    });
    store = registry.context.store as S3BlobStore;
    expect(store.driver).toBe("s3");
  });
  afterEach(async () => {
    await registry.destroy();
  });

  const gc = (options: Partial<GcOptions> = {}) =>
    collectGarbage(registry.context.db, registry.context.store, {
      graceMs: 0,
      onManifestDeleted: (repo, digest) => registry.context.manifestCache.evict(repo, digest),
      ...options,
    });
  const blobKeys = async () => {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: "reg/blobs/" }),
    );
    return new Set((page.Contents ?? []).map((o) => `sha256:${o.Key!.split("/").at(-1)}`));
  };
  const deleteManifest = async (repo: string, digest: string) => {
    const res = await fetch(`${registry.url}/v2/${repo}/manifests/${digest}`, { method: "DELETE" });
    expect(res.status).toBe(202);
  };

  it("/readyz answers 503 while the bucket is gone and 200 once it is back", async () => {
    expect((await fetch(`${registry.url}/readyz`)).status).toBe(200);
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    expect((await fetch(`${registry.url}/readyz`)).status).toBe(503);
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    expect((await fetch(`${registry.url}/readyz`)).status).toBe(200);
  });

  it("GC deletes the objects only a deleted image used and keeps shared ones", async () => {
    const shared = randomBytes(4000, 1);
    const keep = await pushImage(registry.url, "lc/app", "keep", { layers: [shared], seed: 1 });
    const gone = await pushImage(registry.url, "lc/app", "gone", {
      layers: [shared, randomBytes(5000, 2)],
      seed: 2,
    });
    await deleteManifest("lc/app", gone.digest);
    const report = await gc();
    expect(report.blobs).toBe(2); // its config and its own layer
    const left = await blobKeys();
    expect(left.has(gone.layers[1]!)).toBe(false);
    expect(left.has(gone.config)).toBe(false);
    for (const d of [keep.config, ...keep.layers]) expect(left.has(d)).toBe(true);
    const layer = await fetch(`${registry.url}/v2/lc/app/blobs/${sha256(shared)}`);
    expect(Buffer.from(await layer.arrayBuffer()).equals(shared)).toBe(true);
  });

  it("a GC stopped part-way, or killed after a claim, continues where it was", async () => {
    const images = [];
    for (let i = 0; i < 6; i++) {
      images.push(
        await pushImage(registry.url, "lc/many", `t${i}`, {
          layers: [randomBytes(3000, 10 + i)],
          seed: 10 + i,
        }),
      );
    }
    for (const image of images) await deleteManifest("lc/many", image.digest);
    const total = images.length * 2; // a config and a layer each
    // First run: stopped after four blobs are gone (an operator's cancel, a deploy). A stop
    // takes effect between sweep batches: two blobs per batch here.
    const stop = new AbortController();
    await expect(
      gc({
        batchSize: 2,
        signal: stop.signal,
        progress: (p) => {
          if (p.phase === "blobs" && p.done === 4) stop.abort(new Error("stopped"));
        },
      }),
    ).rejects.toThrow("stopped");
    expect((await blobKeys()).size).toBe(total - 4);
    // Second run: killed (here: fails) right after claiming its first blob.
    await expect(
      gc({
        batchSize: 1,
        pauseAt: async (step) => {
          if (step === "claimed") throw new Error("killed");
        },
      }),
    ).rejects.toThrow("killed");
    // Third run: finishes the left claim first, then only what is still there.
    const last = await gc();
    expect(last.blobs).toBe(total - 4 - 1);
    expect(await blobKeys()).toEqual(new Set());
    const again = await gc();
    expect(again.blobs + again.links + again.manifests).toBe(0);
  });

  it("fsck finds corrupt, missing and orphan objects and stale uploads, and repairs them", async () => {
    const one = await pushImage(registry.url, "lc/f", "v1", {
      layers: [randomBytes(3000, 21)],
      seed: 21,
    });
    const two = await pushImage(registry.url, "lc/f", "v2", {
      layers: [randomBytes(2000, 22)],
      seed: 22,
    });
    expect((await checkStore(registry.context.db, store)).clean).toBe(true);
    const corrupt = one.layers[0]!;
    const missing = two.layers[0]!;
    const orphanBytes = randomBytes(700, 23);
    const orphan = sha256(orphanBytes);
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: store.blobKey(corrupt),
        Body: randomBytes(3000, 99),
      }),
    );
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: store.blobKey(missing) }));
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: store.blobKey(orphan), Body: orphanBytes }),
    );
    await store.createUpload("stale-upload");
    const later = () => Date.now() + 48 * 3600_000; // the upload looks two days old
    const found = await checkStore(registry.context.db, store, { now: later });
    expect(found.counts).toEqual({
      "corrupt-blob": 1,
      "missing-bytes": 1,
      "orphan-bytes": 1,
      "orphan-upload": 1,
    });
    const repaired = await checkStore(registry.context.db, store, { repair: true, now: later });
    expect(repaired.actions.map((a) => `${a.action} ${a.subject}`).sort()).toEqual(
      [
        `quarantined ${corrupt}`,
        `forgot-row ${missing}`,
        `removed-orphan-bytes ${orphan}`,
        "removed-upload stale-upload",
      ].sort(),
    );
    const quarantined = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: "reg/quarantine/" }),
    );
    expect(
      quarantined.Contents?.map((o) => o.Key!.split("/").at(-1)!.split("-").slice(0, 2).join(":")),
    ).toEqual([corrupt]);
    // Pushing the images again heals them.
    await pushImage(registry.url, "lc/f", "v1", { layers: [randomBytes(3000, 21)], seed: 21 });
    await pushImage(registry.url, "lc/f", "v2", { layers: [randomBytes(2000, 22)], seed: 22 });
    expect((await checkStore(registry.context.db, store)).clean).toBe(true);
  });
});

describe("quotas on S3", () => {
  let quotaRegistry: BerthProcess;
  let bucket: string;
  beforeEach(async () => {
    bucket = await freshBucket(rgw, "quota");
    quotaRegistry = await startBerth({
      env: {
        BERTH_AUTH: "token",
        BERTH_ADMIN_PASSWORD: "admin-password-1",
        ...(s3Env(rgw, bucket, "reg") as Record<string, string>),
      },
    });
  });
  afterEach(async () => {
    await quotaRegistry?.stop();
  });

  it("a push over the project quota is refused and leaves nothing in the bucket", async () => {
    const admin = `Basic ${Buffer.from("admin:admin-password-1").toString("base64")}`;
    const api = (method: string, path: string, body: unknown) =>
      fetch(`${quotaRegistry.url}${path}`, {
        method,
        headers: { "Content-Type": "application/json", Authorization: admin },
        body: JSON.stringify(body),
      });
    expect(
      (await api("POST", "/api/v1/projects", { name: "small", quotaBytes: 3000 })).status,
    ).toBe(201);
    const layer = randomBytes(6000, 31);
    const res = await fetch(
      `${quotaRegistry.url}/v2/small/app/blobs/uploads/?digest=${sha256(layer)}`,
      {
        method: "POST",
        headers: { "Content-Type": "application/octet-stream", Authorization: admin },
        body: layer,
      },
    );
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("quota exceeded");
    const everything = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: "reg/" }),
    );
    expect(everything.KeyCount).toBe(0);
  });
});
