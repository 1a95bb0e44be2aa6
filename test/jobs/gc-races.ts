// Online GC against a live registry (in-process, real HTTP): what it removes, dry run, and
// each race of src/jobs/gc.ts made deterministic with the test-only `pauseAt` hook: GC is
// held at a step, the competing request runs, GC resumes. gc-sqlite.test.ts and
// gc-postgres.test.ts run it on each metadata dialect.
import { stat } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { collectGarbage, type GcOptions, type GcStep } from "../../src/jobs/gc.js";
import type { FilesystemBlobStore } from "../../src/storage/index.js";
import {
  OCI_INDEX,
  OCI_MANIFEST,
  pushBlob,
  pushImage,
  randomBytes,
  sha256,
  startTestRegistry,
  type TestRegistry,
} from "../registry/harness.js";

/** A pause point: GC stops at (step, item) until release() is called. */
function gate(step: GcStep, match: (item: string) => boolean) {
  let release: () => void = () => {};
  let reached: () => void = () => {};
  const released = new Promise<void>((r) => {
    release = r;
  });
  const arrived = new Promise<void>((r) => {
    reached = r;
  });
  const pauseAt: GcOptions["pauseAt"] = async (s, item) => {
    if (s === step && match(item)) {
      reached();
      await released;
    }
  };
  return { pauseAt, arrived, release };
}

export function describeGcRaces(name: string, env: () => Promise<Record<string, string>>) {
  describe(`online GC: ${name}`, () => {
    let registry: TestRegistry;
    beforeEach(async () => {
      registry = await startTestRegistry({
        env: {
          BERTH_AUTH: "none",
          BERTH_JOBS_WORKERS: "0",
          BERTH_GC_GRACE: "0",
          // Deletes here are final (the trash has its own tests: test/jobs/trash-*.ts).
          BERTH_TRASH_KEEP: "0",
          ...(await env()),
        },
      });
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
    const blobFile = (digest: string) =>
      (registry.context.store as FilesystemBlobStore).blobPath(digest);
    const exists = (path: string) =>
      stat(path).then(
        () => true,
        () => false,
      );
    /** Pushes with a temporary tag, then deletes the tag (a tag-only delete): untagged. */
    const pushUntagged = async (repo: string, options: Parameters<typeof pushImage>[3]) => {
      const image = await pushImage(registry.url, repo, "scratch", options);
      const res = await fetch(`${registry.url}/v2/${repo}/manifests/scratch`, { method: "DELETE" });
      if (res.status !== 202) throw new Error(`tag delete failed: ${res.status}`);
      return image;
    };
    const head = async (repo: string, digest: string) =>
      (await fetch(`${registry.url}/v2/${repo}/blobs/${digest}`, { method: "HEAD" })).status;

    it("removes a deleted image's own blobs, keeps shared ones, and a dry run says so first", async () => {
      const shared = randomBytes(3000, 50);
      const a = await pushImage(registry.url, "g/app", "a", {
        layers: [shared, randomBytes(500, 1)],
        seed: 1,
      });
      const b = await pushImage(registry.url, "g/app", "b", {
        layers: [shared, randomBytes(700, 2)],
        seed: 2,
      });
      expect(
        (await fetch(`${registry.url}/v2/g/app/manifests/${b.digest}`, { method: "DELETE" }))
          .status,
      ).toBe(202);
      const dry = await gc({ dryRun: true });
      expect(dry).toMatchObject({ dryRun: true, blobs: 2, manifests: 0, links: 2 });
      expect(new Set(dry.items.blobs)).toEqual(new Set([b.config, b.layers[1]]));
      expect(dry.bytesFreed).toBe(700 + (await stat(blobFile(b.config))).size);
      expect(await exists(blobFile(b.layers[1]!))).toBe(true); // a dry run changes nothing
      const real = await gc();
      expect(real).toMatchObject({ dryRun: false, blobs: 2, links: 2, bytesFreed: dry.bytesFreed });
      expect(await exists(blobFile(b.layers[1]!))).toBe(false);
      expect(await exists(blobFile(b.config))).toBe(false);
      for (const d of [a.config, ...a.layers]) {
        expect(await exists(blobFile(d))).toBe(true);
        expect(await head("g/app", d)).toBe(200);
      }
      expect((await fetch(`${registry.url}/v2/g/app/manifests/a`)).status).toBe(200);
      expect(await gc()).toMatchObject({ blobs: 0, links: 0, manifests: 0 });
    });

    it("--delete-untagged removes untagged manifests and orphan referrers, keeps a tagged image's referrers", async () => {
      const kept = await pushImage(registry.url, "u/app", "v1", { seed: 3 });
      const signature = await pushUntagged("u/app", {
        seed: 4,
        artifactType: "application/vnd.example.sig",
        subject: { mediaType: OCI_MANIFEST, digest: kept.digest, size: kept.bytes.length },
      });
      const untagged = await pushImage(registry.url, "u/app", "tmp", { seed: 5 });
      const referrerOfUntagged = await pushUntagged("u/app", {
        seed: 6,
        subject: { mediaType: OCI_MANIFEST, digest: untagged.digest, size: untagged.bytes.length },
      });
      // An untagged index and its (untagged) child go together.
      const child = await pushUntagged("u/app", { seed: 8 });
      const index = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_INDEX,
          manifests: [{ mediaType: OCI_MANIFEST, digest: child.digest, size: child.bytes.length }],
        }),
      );
      const put = await fetch(`${registry.url}/v2/u/app/manifests/${sha256(index)}`, {
        method: "PUT",
        headers: { "Content-Type": OCI_INDEX },
        body: index,
      });
      expect(put.status).toBe(201);
      await fetch(`${registry.url}/v2/u/app/manifests/tmp`, { method: "DELETE" });
      const report = await gc({ deleteUntagged: true });
      expect(new Set(report.items.manifests)).toEqual(
        new Set(
          [untagged.digest, referrerOfUntagged.digest, child.digest, sha256(index)].map(
            (d) => `u/app@${d}`,
          ),
        ),
      );
      expect((await fetch(`${registry.url}/v2/u/app/manifests/v1`)).status).toBe(200);
      expect((await fetch(`${registry.url}/v2/u/app/manifests/${signature.digest}`)).status).toBe(
        200,
      );
      expect(await exists(blobFile(untagged.layers[0]!))).toBe(false);
      expect(await exists(blobFile(kept.layers[0]!))).toBe(true);
      expect(await exists(blobFile(signature.layers[0]!))).toBe(true);
      // Without the flag untagged manifests stay.
      const again = await pushUntagged("u/app", { seed: 9 });
      expect((await gc()).manifests).toBe(0);
      expect((await fetch(`${registry.url}/v2/u/app/manifests/${again.digest}`)).status).toBe(200);
    });

    it("a blob re-uploaded while GC deletes the same digest is kept, bytes and row", async () => {
      const data = randomBytes(4000, 11);
      const digest = await pushBlob(registry.url, "r/app", data);
      await fetch(`${registry.url}/v2/r/app/blobs/${digest}`, { method: "DELETE" });
      const g = gate("claimed", (d) => d === digest);
      const running = gc({ pauseAt: g.pauseAt });
      await g.arrived; // GC claimed the blob; its bytes are still there
      let acknowledged = false;
      const upload = pushBlob(registry.url, "r/app", data).then((d) => {
        acknowledged = true;
        return d;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(acknowledged).toBe(false); // the upload waits for GC to finish the claimed blob
      g.release();
      expect((await running).blobs).toBe(1);
      expect(await upload).toBe(digest);
      expect(await head("r/app", digest)).toBe(200);
      const got = await fetch(`${registry.url}/v2/r/app/blobs/${digest}`);
      expect(Buffer.from(await got.arrayBuffer()).equals(data)).toBe(true);
      // Linked again just now: inside a grace period it is kept.
      expect(await gc({ graceMs: 60_000 })).toMatchObject({ blobs: 0, links: 0 });
    });

    it("a mount while GC removes the source link keeps the blob for the target", async () => {
      const data = randomBytes(2500, 12);
      const digest = await pushBlob(registry.url, "m/src", data);
      const g = gate("before-link", (item) => item === `m/src@${digest}`);
      const running = gc({ pauseAt: g.pauseAt });
      await g.arrived;
      const mount = await fetch(
        `${registry.url}/v2/m/dst/blobs/uploads/?mount=${digest}&from=m/src`,
        { method: "POST" },
      );
      expect(mount.status).toBe(201);
      g.release();
      const report = await running;
      expect(report.links).toBe(1); // the source's unreferenced link went
      expect(report.blobs).toBe(0); // the bytes stay: the target links them
      expect(await head("m/src", digest)).toBe(404);
      expect(await head("m/dst", digest)).toBe(200);
      expect(await exists(blobFile(digest))).toBe(true);
    });

    it("a manifest PUT referencing a blob GC is collecting: stored and kept, or refused before any ack", async () => {
      const layer = randomBytes(1500, 13);
      const configBytes = Buffer.from(
        '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
      );
      const config = await pushBlob(registry.url, "p/app", configBytes);
      const layerDigest = await pushBlob(registry.url, "p/app", layer);
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: {
            mediaType: "application/vnd.oci.image.config.v1+json",
            digest: config,
            size: configBytes.length,
          },
          layers: [
            {
              mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
              digest: layerDigest,
              size: layer.length,
            },
          ],
        }),
      );
      const putManifest = () =>
        fetch(`${registry.url}/v2/p/app/manifests/v1`, {
          method: "PUT",
          headers: { "Content-Type": OCI_MANIFEST },
          body: manifest,
        });
      // Order 1: GC is about to remove the links; the PUT commits first: GC keeps everything.
      const g1 = gate("before-link", () => true);
      const run1 = gc({ pauseAt: g1.pauseAt });
      await g1.arrived;
      expect((await putManifest()).status).toBe(201);
      g1.release();
      expect(await run1).toMatchObject({ blobs: 0 });
      expect(await exists(blobFile(layerDigest))).toBe(true);
      expect(await head("p/app", layerDigest)).toBe(200);
      // Order 2: GC removed the links first: the PUT is refused (nothing acknowledged) and
      // the blobs, uploaded again, are kept.
      await fetch(`${registry.url}/v2/p/app/manifests/${sha256(manifest)}`, { method: "DELETE" });
      const g2 = gate("before-claim", (d) => d === layerDigest);
      const run2 = gc({ pauseAt: g2.pauseAt });
      await g2.arrived;
      const refused = await putManifest();
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe(
        "MANIFEST_BLOB_UNKNOWN",
      );
      await pushBlob(registry.url, "p/app", layer);
      await pushBlob(registry.url, "p/app", configBytes);
      expect((await putManifest()).status).toBe(201);
      g2.release();
      await run2;
      expect(await exists(blobFile(layerDigest))).toBe(true);
      expect(await exists(blobFile(config))).toBe(true);
      expect((await fetch(`${registry.url}/v2/p/app/manifests/v1`)).status).toBe(200);
    });

    it("a tag pushed onto a manifest GC is collecting keeps it, whichever commits first", async () => {
      const image = await pushImage(registry.url, "t/app", "tmp", { seed: 14 });
      await fetch(`${registry.url}/v2/t/app/manifests/tmp`, { method: "DELETE" });
      await fetch(`${registry.url}/v2/t/app/manifests/${image.digest}`, { method: "HEAD" });
      const tagIt = () =>
        fetch(`${registry.url}/v2/t/app/manifests/v2`, {
          method: "PUT",
          headers: { "Content-Type": OCI_MANIFEST },
          body: image.bytes,
        });
      // The tag commits before GC deletes the manifest: GC's re-check keeps it.
      const g1 = gate("before-manifest", (item) => item === `t/app@${image.digest}`);
      const run1 = gc({ deleteUntagged: true, pauseAt: g1.pauseAt });
      await g1.arrived;
      expect((await tagIt()).status).toBe(201);
      g1.release();
      // Kept on re-check: the manifest, its two blob links and their two blobs.
      expect(await run1).toMatchObject({ manifests: 0, links: 0, blobs: 0, kept: 5 });
      // GC deleted the manifest, then the tag push arrives before GC reaches the links.
      await fetch(`${registry.url}/v2/t/app/manifests/v2`, { method: "DELETE" });
      const g2 = gate("before-link", () => true);
      const run2 = gc({ deleteUntagged: true, pauseAt: g2.pauseAt });
      await g2.arrived;
      expect((await fetch(`${registry.url}/v2/t/app/manifests/${image.digest}`)).status).toBe(404);
      expect((await tagIt()).status).toBe(201);
      g2.release();
      expect(await run2).toMatchObject({ manifests: 1, links: 0, blobs: 0 });
      const got = await fetch(`${registry.url}/v2/t/app/manifests/v2`);
      expect(Buffer.from(await got.arrayBuffer()).equals(image.bytes)).toBe(true);
      for (const d of [image.config, ...image.layers]) {
        expect(await head("t/app", d)).toBe(200);
        expect(await exists(blobFile(d))).toBe(true);
      }
    });

    it("sweeps in several batches: 1,100 unreferenced blobs all go, and nothing else", async () => {
      const keep = await pushImage(registry.url, "batch/app", "v1", { seed: 90 });
      const digests: string[] = [];
      for (let i = 0; i < 1100; i++) {
        digests.push(await pushBlob(registry.url, "batch/app", randomBytes(64 + i, 1000 + i)));
      }
      const seen: string[] = [];
      const report = await gc({ progress: (p) => p.phase === "blobs" && seen.push(p.phase) });
      expect(report).toMatchObject({ links: 1100, blobs: 1100, manifests: 0, kept: 0 });
      expect(seen).toHaveLength(1100);
      for (const d of digests) expect(await exists(blobFile(d))).toBe(false);
      for (const d of [keep.config, ...keep.layers]) expect(await head("batch/app", d)).toBe(200);
      expect(await gc()).toMatchObject({ blobs: 0, links: 0 });
    });
  });
}
