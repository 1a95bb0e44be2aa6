// fsck on a live registry, one suite for each metadata dialect (fsck-sqlite.test.ts,
// fsck-postgres.test.ts): a clean store is clean; corrupt bytes, missing bytes, orphan bytes
// and an orphan upload are each reported without changing anything; --repair quarantines,
// forgets and removes exactly those and names the manifests left broken; pushing the image
// again heals it and fsck is clean again.
import { mkdir, readdir, unlink, utimes, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkStore } from "../../src/jobs/fsck.js";
import type { FilesystemBlobStore } from "../../src/storage/index.js";
import {
  pushImage,
  randomBytes,
  sha256,
  startTestRegistry,
  type TestRegistry,
} from "../registry/harness.js";

export function describeFsck(dialect: string, env: () => Promise<Record<string, string>>) {
  describe(`fsck (${dialect})`, () => {
    let registry: TestRegistry;
    beforeEach(async () => {
      registry = await startTestRegistry({
        env: { BERTH_AUTH: "none", BERTH_JOBS_WORKERS: "0", ...(await env()) },
      });
    });
    afterEach(async () => {
      await registry.destroy();
    });

    it("reports each kind of damage, repairs only what is safe, and a re-push heals", async () => {
      const { url } = registry;
      const db = registry.context.db;
      const store = registry.context.store as FilesystemBlobStore;
      const one = await pushImage(url, "f/app", "v1", {
        layers: [randomBytes(3000, 11)],
        seed: 11,
      });
      const two = await pushImage(url, "f/app", "v2", {
        layers: [randomBytes(2000, 12)],
        seed: 12,
      });
      const clean = await checkStore(db, store);
      expect(clean.clean).toBe(true);
      expect(clean.blobsChecked).toBe(4);
      expect(clean.manifestsChecked).toBe(2);

      const corrupt = one.layers[0]!;
      const missing = two.layers[0]!;
      const orphanBytes = randomBytes(700, 13);
      const orphan = sha256(orphanBytes);
      await writeFile(store.blobPath(corrupt), randomBytes(3000, 99));
      await unlink(store.blobPath(missing));
      await mkdir(dirname(store.blobPath(orphan)), { recursive: true });
      await writeFile(store.blobPath(orphan), orphanBytes);
      const uploadDir = join(registry.dataDir, "uploads", "stale-upload");
      await mkdir(uploadDir, { recursive: true });
      await writeFile(join(uploadDir, "data"), "partial");
      const old = new Date(Date.now() - 2 * 3600_000);
      await utimes(join(uploadDir, "data"), old, old);
      await utimes(uploadDir, old, old);

      const found = await checkStore(db, store);
      expect(found.clean).toBe(false);
      expect(found.counts).toEqual({
        "corrupt-blob": 1,
        "missing-bytes": 1,
        "orphan-bytes": 1,
        "orphan-upload": 1,
      });
      expect(found.actions).toEqual([]);
      const subjects = found.problems.map((p) => `${p.kind} ${p.subject}`).sort();
      expect(subjects).toEqual(
        [
          `corrupt-blob ${corrupt}`,
          `missing-bytes ${missing}`,
          `orphan-bytes ${orphan}`,
          "orphan-upload stale-upload",
        ].sort(),
      );
      // A check changes nothing.
      expect((await store.stat(orphan))?.size).toBe(700);
      expect((await fetch(`${url}/v2/f/app/blobs/${corrupt}`, { method: "HEAD" })).status).toBe(
        200,
      );

      const repaired = await checkStore(db, store, { repair: true });
      expect(repaired.clean).toBe(false);
      const actions = repaired.actions.map((a) => `${a.action} ${a.subject}`).sort();
      expect(actions).toEqual(
        [
          `quarantined ${corrupt}`,
          `forgot-row ${missing}`,
          `removed-orphan-bytes ${orphan}`,
          "removed-upload stale-upload",
        ].sort(),
      );
      const quarantined = repaired.actions.find((a) => a.action === "quarantined")!;
      expect(quarantined.brokenManifests).toEqual([`f/app@${one.digest}`]);
      expect(await readdir(join(registry.dataDir, "quarantine"))).toEqual([
        expect.stringMatching(new RegExp(`^${corrupt.replace(":", "-")}-\\d+$`)),
      ]);
      expect(await store.stat(corrupt)).toBeUndefined();
      expect(await store.stat(orphan)).toBeUndefined();
      expect(await store.listUploads()).toEqual([]);
      expect((await fetch(`${url}/v2/f/app/blobs/${corrupt}`, { method: "HEAD" })).status).toBe(
        404,
      );

      // Left: the two manifests whose blobs went. Reported, never deleted.
      const after = await checkStore(db, store);
      expect(after.counts).toEqual({ "manifest-missing-blob": 2 });
      expect(after.problems.map((p) => p.subject).sort()).toEqual(
        [`f/app@${one.digest}`, `f/app@${two.digest}`].sort(),
      );

      // Pushing the images again uploads the blobs again: clean.
      await pushImage(url, "f/app", "v1", { layers: [randomBytes(3000, 11)], seed: 11 });
      await pushImage(url, "f/app", "v2", { layers: [randomBytes(2000, 12)], seed: 12 });
      const healed = await checkStore(db, store);
      expect(healed.problems).toEqual([]);
      expect(healed.clean).toBe(true);
    }, 120_000);

    it("a corrupt manifest and an index missing a child are reported, not repaired", async () => {
      const { url } = registry;
      const db = registry.context.db;
      const store = registry.context.store as FilesystemBlobStore;
      const image = await pushImage(url, "f/idx", "v1", { seed: 21 });
      await db
        .updateTable("manifests")
        .set({ content: Buffer.from("{}") })
        .where("digest", "=", image.digest)
        .execute();
      const manifest = await db
        .selectFrom("manifests")
        .select("id")
        .where("digest", "=", image.digest)
        .executeTakeFirstOrThrow();
      const ghost = sha256("no such child");
      await db
        .insertInto("manifest_references")
        .values({ manifest_id: manifest.id, kind: "manifest", digest: ghost })
        .execute();
      const report = await checkStore(db, store, { repair: true });
      expect(report.counts).toEqual({ "corrupt-manifest": 1, "index-missing-child": 1 });
      expect(report.actions).toEqual([]);
      expect((await fetch(`${url}/v2/f/idx/manifests/v1`, { method: "HEAD" })).status).toBe(200);
    }, 60_000);
  });
}
