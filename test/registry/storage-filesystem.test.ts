// Runs the BlobStore contract against the filesystem driver, plus filesystem specifics:
// the content-addressed layout and no temp files left behind by a commit.
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { FilesystemBlobStore } from "../../src/storage/index.js";
import { describeBlobStoreContract } from "./storage-contract.js";

describeBlobStoreContract("filesystem", async () => {
  const root = await mkdtemp(join(tmpdir(), "berth-fs-store-"));
  return {
    store: new FilesystemBlobStore(root),
    another: () => new FilesystemBlobStore(root),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe("filesystem layout", () => {
  it("stores blobs under blobs/<alg>/<2 hex>/<hex> and leaves no upload behind", async () => {
    const root = await mkdtemp(join(tmpdir(), "berth-fs-layout-"));
    try {
      const store = new FilesystemBlobStore(root);
      await store.init();
      await store.createUpload("abc");
      await store.writeUpload("abc", 0, Readable.from([Buffer.from("hello")]));
      const digest = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
      await store.commitUpload("abc", digest, 5);
      const s = await stat(join(root, "blobs", "sha256", "2c", digest.slice(7)));
      expect(s.size).toBe(5);
      expect(await readdir(join(root, "uploads"))).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("refuses digests and upload ids that could escape the root", async () => {
    const store = new FilesystemBlobStore("/nonexistent-root");
    await expect(store.stat("sha256:../../etc/passwd")).rejects.toThrow();
    await expect(store.createUpload("../evil")).rejects.toThrow();
  });
});
