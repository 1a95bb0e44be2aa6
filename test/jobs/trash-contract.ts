// The trash on a live registry, one suite for each metadata dialect (trash-sqlite.test.ts,
// trash-postgres.test.ts): /v2/ DELETE of a manifest moves it with its tags and referrers to
// one trash entry; GC keeps every blob a trashed artifact needs (also after its repository is
// deleted); restore brings the same bytes back under the same digest with tags and
// referrers; a tag taken since refuses the restore with nothing changed; a tag delete is its
// own entry; purge then GC frees exactly the trashed bytes; `trash.keep` 0 deletes at once.
import { stat } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { MetaRegistryView } from "../../src/api/registry-view.js";
import { collectGarbage } from "../../src/jobs/gc.js";
import { purgeTrashNow } from "../../src/jobs/trash-purge.js";
import { getTrashEntry, listTrash, restoreTrash, TrashRestoreError } from "../../src/meta/index.js";
import type { FilesystemBlobStore } from "../../src/storage/index.js";
import {
  OCI_MANIFEST,
  pushImage,
  randomBytes,
  startTestRegistry,
  type TestRegistry,
} from "../registry/harness.js";

const WHO = { principal: "tester", remoteAddress: "127.0.0.1" };
const PAGE = { page: 1, pageSize: 50, sort: "deletedAt" as const, descending: true };

export function describeTrash(dialect: string, env: () => Promise<Record<string, string>>) {
  describe(`trash (${dialect})`, () => {
    let registry: TestRegistry;
    const start = async (extra: Record<string, string> = {}) => {
      registry = await startTestRegistry({
        env: {
          BERTH_AUTH: "none",
          BERTH_JOBS_WORKERS: "0",
          BERTH_GC_GRACE: "0",
          ...(await env()),
          ...extra,
        },
      });
      return registry;
    };
    afterEach(async () => {
      await registry?.destroy();
    });

    const gc = () =>
      collectGarbage(registry.context.db, registry.context.store, {
        graceMs: 0,
        deleteUntagged: true,
        onManifestDeleted: (repo, digest) => registry.context.manifestCache.evict(repo, digest),
      });
    const onDisk = (digest: string) =>
      stat((registry.context.store as FilesystemBlobStore).blobPath(digest)).then(
        () => true,
        () => false,
      );
    const manifestStatus = async (repo: string, ref: string) =>
      (
        await fetch(`${registry.url}/v2/${repo}/manifests/${ref}`, {
          headers: { accept: OCI_MANIFEST },
        })
      ).status;

    /** An image tagged v1 and latest with a signature-like referrer tagged sig. */
    const pushSigned = async (repo: string, seed: number) => {
      const image = await pushImage(registry.url, repo, "v1", {
        layers: [randomBytes(4000, seed)],
        seed,
      });
      await fetch(`${registry.url}/v2/${repo}/manifests/latest`, {
        method: "PUT",
        headers: { "content-type": OCI_MANIFEST },
        body: image.bytes,
      });
      const referrer = await pushImage(registry.url, repo, "sig", {
        layers: [randomBytes(300, seed + 1)],
        seed: seed + 1,
        artifactType: "application/vnd.dev.cosign.artifact.sig.v1+json",
        subject: { digest: image.digest, size: image.bytes.length, mediaType: OCI_MANIFEST },
      });
      return { image, referrer };
    };

    it("a manifest delete goes to the trash with its tags and referrers; GC keeps its blobs; restore brings the same digest back", async () => {
      await start();
      const { image, referrer } = await pushSigned("t/app", 21);
      const del = await fetch(`${registry.url}/v2/t/app/manifests/${image.digest}`, {
        method: "DELETE",
      });
      expect(del.status).toBe(202);
      expect(await manifestStatus("t/app", image.digest)).toBe(404);
      expect(await manifestStatus("t/app", referrer.digest)).toBe(404);

      const { items, total } = await listTrash(registry.context.db, {}, PAGE);
      expect(total).toBe(1);
      const entry = items[0]!;
      expect(entry).toMatchObject({
        repository: "t/app",
        kind: "artifact",
        digest: image.digest,
        manifests: 2,
        reason: "deleted",
      });
      expect(entry.tags.sort()).toEqual(["latest", "sig", "v1"]);
      const detail = await getTrashEntry(registry.context.db, entry.id);
      expect(detail?.contents.map((c) => c.digest)).toEqual([image.digest, referrer.digest]);
      // Filters.
      expect((await listTrash(registry.context.db, { project: "t" }, PAGE)).total).toBe(1);
      expect((await listTrash(registry.context.db, { project: "other" }, PAGE)).total).toBe(0);
      expect((await listTrash(registry.context.db, { kind: "tag" }, PAGE)).total).toBe(0);
      expect((await listTrash(registry.context.db, { q: "lates" }, PAGE)).total).toBe(1);

      // GC (untagged manifests too, grace 0) keeps every blob the trashed artifact needs.
      const report = await gc();
      expect(report.blobs).toBe(0);
      for (const d of [image.config, ...image.layers, referrer.config, ...referrer.layers])
        expect(await onDisk(d)).toBe(true);

      const restored = await restoreTrash(registry.context.db, entry.id, WHO);
      expect(restored?.manifests.map((m) => m.digest)).toEqual([image.digest, referrer.digest]);
      const back = await fetch(`${registry.url}/v2/t/app/manifests/v1`, {
        headers: { accept: OCI_MANIFEST },
      });
      expect(back.status).toBe(200);
      expect(back.headers.get("docker-content-digest")).toBe(image.digest);
      expect(Buffer.from(await back.arrayBuffer()).equals(image.bytes)).toBe(true);
      expect(await manifestStatus("t/app", "latest")).toBe(200);
      expect(await manifestStatus("t/app", "sig")).toBe(200);
      const layer = await fetch(`${registry.url}/v2/t/app/blobs/${image.layers[0]}`);
      expect(layer.status).toBe(200);
      const referrers = (await (
        await fetch(`${registry.url}/v2/t/app/referrers/${image.digest}`)
      ).json()) as { manifests: { digest: string }[] };
      expect(referrers.manifests.map((m) => m.digest)).toEqual([referrer.digest]);
      expect((await listTrash(registry.context.db, {}, PAGE)).total).toBe(0);
      // A restored artifact is an ordinary one again: GC keeps it.
      expect((await gc()).blobs).toBe(0);
    });

    it("a tag taken since refuses the restore and changes nothing; a tag delete is its own entry", async () => {
      await start();
      const one = await pushImage(registry.url, "t/app", "v1", { seed: 31 });
      await fetch(`${registry.url}/v2/t/app/manifests/${one.digest}`, { method: "DELETE" });
      const two = await pushImage(registry.url, "t/app", "v1", { seed: 32 });
      const [entry] = (await listTrash(registry.context.db, {}, PAGE)).items;
      const refused = await restoreTrash(registry.context.db, entry!.id, WHO).catch((e) => e);
      expect(refused).toBeInstanceOf(TrashRestoreError);
      expect((refused as TrashRestoreError).code).toBe("tag-taken");
      expect((refused as Error).message).toContain(`t/app:v1 (now ${two.digest})`);
      expect(await manifestStatus("t/app", one.digest)).toBe(404);
      expect((await listTrash(registry.context.db, {}, PAGE)).total).toBe(1);

      // Deleting the tag (OCI 1.1 tag delete) trashes the tag only; then the restore fits.
      expect(
        (await fetch(`${registry.url}/v2/t/app/manifests/v1`, { method: "DELETE" })).status,
      ).toBe(202);
      const tagEntry = (await listTrash(registry.context.db, { kind: "tag" }, PAGE)).items[0]!;
      expect(tagEntry).toMatchObject({ kind: "tag", tag: "v1", digest: two.digest });
      // GC with --delete-untagged keeps the manifest the trashed tag points at.
      await gc();
      expect(await manifestStatus("t/app", two.digest)).toBe(200);
      expect((await restoreTrash(registry.context.db, entry!.id, WHO))?.manifests).toEqual([
        { digest: one.digest, tags: ["v1"] },
      ]);
      // Now the tag entry's tag is taken by the first image: refused, clearly.
      await expect(restoreTrash(registry.context.db, tagEntry.id, WHO)).rejects.toThrow(
        /t\/app:v1 \(now sha256:/,
      );
      await fetch(`${registry.url}/v2/t/app/manifests/v1`, { method: "DELETE" });
      const restoredTag = await restoreTrash(registry.context.db, tagEntry.id, WHO);
      expect(restoredTag?.manifests).toEqual([{ digest: two.digest, tags: ["v1"] }]);
      const head = await fetch(`${registry.url}/v2/t/app/manifests/v1`, {
        method: "HEAD",
        headers: { accept: OCI_MANIFEST },
      });
      expect(head.headers.get("docker-content-digest")).toBe(two.digest);
      expect(await restoreTrash(registry.context.db, tagEntry.id, WHO)).toBeUndefined();
    });

    it("a deleted repository's artifacts stay restorable; purge then GC frees exactly their bytes", async () => {
      await start();
      const { image, referrer } = await pushSigned("t/gone", 41);
      const kept = await pushImage(registry.url, "t/kept", "v1", { seed: 47 });
      const view = new MetaRegistryView(registry.context.db, registry.context);
      expect(await view.deleteRepository("t/gone", WHO)).toBe(true);
      expect(await manifestStatus("t/gone", "v1")).toBe(404);
      const { items } = await listTrash(registry.context.db, { repository: "t/gone" }, PAGE);
      expect(items.map((e) => [e.digest, e.reason, e.manifests])).toEqual([
        [image.digest, "repository deleted", 2],
      ]);
      await gc();
      const trashed = [image.config, ...image.layers, referrer.config, ...referrer.layers];
      for (const d of trashed) expect(await onDisk(d)).toBe(true);

      // Restore into the re-created repository, then delete again and purge for good.
      await restoreTrash(registry.context.db, items[0]!.id, WHO);
      expect(await manifestStatus("t/gone", "v1")).toBe(200);
      expect((await fetch(`${registry.url}/v2/t/gone/blobs/${image.layers[0]}`)).status).toBe(200);
      expect(await view.deleteRepository("t/gone", WHO)).toBe(true);

      // Not yet expired (keep 7 days): the scheduled purge leaves it.
      expect((await purgeTrashNow(registry.context.db, {}, 7 * 86_400_000)).purged).toBe(0);
      const purged = await purgeTrashNow(registry.context.db, { all: true }, 7 * 86_400_000);
      expect(purged.purged).toBe(1);
      expect(purged.items[0]).toMatchObject({ repository: "t/gone", digest: image.digest });
      const after = await gc();
      expect(after.blobs).toBe(trashed.length);
      for (const d of trashed) expect(await onDisk(d)).toBe(false);
      for (const d of [kept.config, ...kept.layers]) expect(await onDisk(d)).toBe(true);
    });

    it("expired entries are purged by age; trash.keep 0 makes deletes final at once", async () => {
      await start({ BERTH_TRASH_KEEP: "0" });
      const image = await pushImage(registry.url, "t/app", "v1", { seed: 51 });
      await fetch(`${registry.url}/v2/t/app/manifests/${image.digest}`, { method: "DELETE" });
      expect((await listTrash(registry.context.db, {}, PAGE)).total).toBe(0);
      expect((await gc()).blobs).toBe(2);
      await registry.destroy();

      await start({ BERTH_TRASH_KEEP: "1h" });
      const other = await pushImage(registry.url, "t/app", "v1", { seed: 52 });
      await fetch(`${registry.url}/v2/t/app/manifests/${other.digest}`, { method: "DELETE" });
      const keep = 3600_000;
      const soon = await purgeTrashNow(registry.context.db, {}, keep, { now: Date.now() + 60_000 });
      expect(soon.purged).toBe(0);
      const later = await purgeTrashNow(registry.context.db, {}, keep, {
        now: Date.now() + keep + 60_000,
      });
      expect(later.purged).toBe(1);
      expect((await gc()).blobs).toBe(2);
    });
  });
}
