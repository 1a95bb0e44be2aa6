// The BlobStore contract suite: every storage driver (filesystem, S3) runs these same tests,
// as CNCF distribution's drivers all run driver/testsuites. A driver test file calls
// describeBlobStoreContract(name, factory) with a factory that returns a fresh, empty store,
// a second instance on the same storage (another replica, or the same one after a restart)
// and a cleanup function.
import { createHash } from "node:crypto";
import { Readable, Transform } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BlobNotFoundError, type BlobStore } from "../../src/storage/index.js";

export interface StoreUnderTest {
  store: BlobStore;
  /** Another instance on the same storage: what a second replica sees. */
  another(): BlobStore;
  cleanup(): Promise<void>;
}

function digestOf(data: Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

function bytes(size: number, fill: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + fill) & 0xff;
  return b;
}

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function chunked(data: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts);
}

async function upload(store: BlobStore, id: string, data: Buffer): Promise<string> {
  await store.createUpload(id);
  await store.writeUpload(id, 0, chunked(data, 64 * 1024));
  const digest = digestOf(data);
  await store.commitUpload(id, digest, data.length);
  return digest;
}

export function describeBlobStoreContract(name: string, factory: () => Promise<StoreUnderTest>) {
  describe(`BlobStore contract: ${name}`, () => {
    let t: StoreUnderTest;
    let store: BlobStore;
    beforeEach(async () => {
      t = await factory();
      store = t.store;
      await store.init();
    });
    afterEach(async () => {
      await t.cleanup();
    });

    it("is ready after init", async () => {
      await expect(store.check()).resolves.toBeUndefined();
      await store.init();
    });

    it("commits an upload as a content-addressed blob and reads it back", async () => {
      const data = bytes(300_000, 1);
      const digest = await upload(store, "u1", data);
      expect(await store.stat(digest)).toEqual({ size: data.length });
      expect((await collect(await store.read(digest))).equals(data)).toBe(true);
      expect(await store.uploadSize("u1")).toBeUndefined();
    });

    it("reads inclusive ranges", async () => {
      const data = bytes(10_000, 2);
      const digest = await upload(store, "u2", data);
      const part = await collect(await store.read(digest, { start: 100, end: 199 }));
      expect(part.equals(data.subarray(100, 200))).toBe(true);
      const tail = await collect(await store.read(digest, { start: 9_999, end: 9_999 }));
      expect(tail.equals(data.subarray(9_999))).toBe(true);
    });

    it("reports missing blobs", async () => {
      const digest = digestOf(Buffer.from("absent"));
      expect(await store.stat(digest)).toBeUndefined();
      await expect(store.read(digest)).rejects.toBeInstanceOf(BlobNotFoundError);
      expect(await store.delete(digest)).toBe(false);
    });

    it("appends chunks at offsets and overwrites a failed chunk's remains", async () => {
      const data = bytes(50_000, 3);
      await store.createUpload("u3");
      expect(await store.uploadSize("u3")).toBe(0);
      expect(await store.writeUpload("u3", 0, chunked(data.subarray(0, 20_000), 7_000))).toBe(
        20_000,
      );
      // A chunk that "failed" after writing garbage past the acknowledged offset.
      await store.writeUpload("u3", 20_000, Readable.from([Buffer.alloc(5_000, 0xee)]));
      expect(await store.uploadSize("u3")).toBe(25_000);
      // Retried from the acknowledged offset: the garbage is replaced.
      await store.writeUpload("u3", 20_000, chunked(data.subarray(20_000), 9_000));
      expect(await store.uploadSize("u3")).toBe(50_000);
      const held = await collect(store.readUpload("u3", 50_000));
      expect(held.equals(data)).toBe(true);
      expect((await collect(store.readUpload("u3", 10))).equals(data.subarray(0, 10))).toBe(true);
      expect((await collect(store.readUpload("u3", 0))).length).toBe(0);
      await store.commitUpload("u3", digestOf(data), data.length);
      expect((await collect(await store.read(digestOf(data)))).equals(data)).toBe(true);
    });

    it("refuses to write past the end of what it holds", async () => {
      await store.createUpload("u4");
      await expect(
        store.writeUpload("u4", 10, Readable.from([Buffer.from("x")])),
      ).rejects.toThrow();
    });

    it("propagates a failing source and keeps the upload usable", async () => {
      await store.createUpload("u5");
      async function* failing() {
        yield Buffer.from("abc");
        throw new Error("client went away");
      }
      await expect(store.writeUpload("u5", 0, Readable.from(failing()))).rejects.toThrow(
        "client went away",
      );
      await store.writeUpload("u5", 0, Readable.from([Buffer.from("hello")]));
      await store.commitUpload("u5", digestOf(Buffer.from("hello")), 5);
      expect(await store.stat(digestOf(Buffer.from("hello")))).toEqual({ size: 5 });
    });

    it("dedupes: committing an existing blob just removes the upload", async () => {
      const data = bytes(1000, 4);
      const digest = await upload(store, "u6", data);
      await upload(store, "u7", data);
      expect(await store.uploadSize("u7")).toBeUndefined();
      expect((await collect(await store.read(digest))).equals(data)).toBe(true);
    });

    it("commits only the first `size` bytes", async () => {
      const data = bytes(100, 5);
      await store.createUpload("u8");
      await store.writeUpload("u8", 0, Readable.from([data, Buffer.from("extra")]));
      await store.commitUpload("u8", digestOf(data), data.length);
      expect(await store.stat(digestOf(data))).toEqual({ size: 100 });
    });

    it("lists and deletes uploads, and deletes blobs", async () => {
      await store.createUpload("u9");
      await store.createUpload("u10");
      const ids = (await store.listUploads()).map((u) => u.id).sort();
      expect(ids).toEqual(["u10", "u9"]);
      for (const u of await store.listUploads()) expect(u.modifiedAt).toBeGreaterThan(0);
      await store.deleteUpload("u9");
      expect(await store.uploadSize("u9")).toBeUndefined();
      await store.deleteUpload("u9");
      const digest = await upload(store, "u11", bytes(10, 6));
      expect(await store.delete(digest)).toBe(true);
      expect(await store.stat(digest)).toBeUndefined();
    });

    it("handles the empty blob", async () => {
      const digest = await upload(store, "u12", Buffer.alloc(0));
      expect(await store.stat(digest)).toEqual({ size: 0 });
      expect((await collect(await store.read(digest))).length).toBe(0);
    });

    it("passes bytes through the caller's transform in the same pipeline", async () => {
      const data = bytes(200_000, 9);
      let seen = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          seen += chunk.length;
          done(null, chunk);
        },
      });
      await store.createUpload("u13");
      expect(await store.writeUpload("u13", 0, chunked(data, 10_000), counter)).toBe(200_000);
      expect(seen).toBe(200_000);
      const failing = new Transform({
        transform(_chunk, _enc, done) {
          done(new Error("refused by transform"));
        },
      });
      await expect(store.writeUpload("u13", 0, chunked(data, 10_000), failing)).rejects.toThrow(
        "refused by transform",
      );
    });

    it("continues a chunked upload on another instance, across small and large chunks", async () => {
      const MiB = 1024 * 1024;
      const data = bytes(19 * MiB + 12_345, 10);
      const other = t.another();
      await other.init();
      await store.createUpload("u14");
      // Small chunks (below S3's 5 MiB part minimum), then large ones, alternating instances.
      let offset = 0;
      const sizes = [700 * 1024, 700 * 1024, 3 * MiB, 6 * MiB, 1, 2 * MiB];
      for (const [i, size] of sizes.entries()) {
        const s = i % 2 === 0 ? store : other;
        const n = await s.writeUpload(
          "u14",
          offset,
          chunked(data.subarray(offset, offset + size), 256 * 1024),
        );
        expect(n).toBe(size);
        offset += size;
        expect(await (i % 2 === 0 ? other : store).uploadSize("u14")).toBe(offset);
      }
      // A retry from an offset inside what is held (a chunk acknowledged only in part).
      const rewind = 9 * MiB + 7;
      await other.writeUpload("u14", rewind, chunked(data.subarray(rewind, rewind + 3 * MiB), MiB));
      offset = rewind + 3 * MiB;
      expect(await store.uploadSize("u14")).toBe(offset);
      await store.writeUpload("u14", offset, chunked(data.subarray(offset), MiB));
      expect(await other.uploadSize("u14")).toBe(data.length);
      expect((await collect(other.readUpload("u14", data.length))).equals(data)).toBe(true);
      const digest = digestOf(data);
      await other.commitUpload("u14", digest, data.length);
      expect(await store.stat(digest)).toEqual({ size: data.length });
      expect((await collect(await store.read(digest))).equals(data)).toBe(true);
      const across = await collect(
        await other.read(digest, { start: 5 * MiB - 10, end: 12 * MiB }),
      );
      expect(across.equals(data.subarray(5 * MiB - 10, 12 * MiB + 1))).toBe(true);
      expect(await store.uploadSize("u14")).toBeUndefined();
    });

    it("announces a chunk minimum that chunked uploads of that size satisfy", async () => {
      const min = store.minChunkLength;
      if (min === undefined) return; // any chunk size is fine for this driver
      const data = bytes(min * 2 + 3, 11);
      await store.createUpload("u15");
      await store.writeUpload("u15", 0, chunked(data.subarray(0, min), 512 * 1024));
      await store.writeUpload("u15", min, chunked(data.subarray(min, 2 * min), 512 * 1024));
      await store.writeUpload("u15", 2 * min, Readable.from([data.subarray(2 * min)]));
      await store.commitUpload("u15", digestOf(data), data.length);
      expect((await collect(await store.read(digestOf(data)))).equals(data)).toBe(true);
    });

    it("lists committed blobs and quarantines one out of the namespace", async () => {
      const a = await upload(store, "u16", bytes(1234, 12));
      const b = await upload(store, "u17", bytes(4321, 13));
      const listed = [];
      for await (const blob of store.listBlobs()) listed.push(blob);
      expect(listed.sort((x, y) => x.digest.localeCompare(y.digest))).toEqual(
        [
          { digest: a, size: 1234 },
          { digest: b, size: 4321 },
        ].sort((x, y) => x.digest.localeCompare(y.digest)),
      );
      expect(await store.quarantine(a)).toBe(true);
      expect(await store.stat(a)).toBeUndefined();
      await expect(store.read(a)).rejects.toBeInstanceOf(BlobNotFoundError);
      expect(await store.quarantine(a)).toBe(false);
      const after = [];
      for await (const blob of store.listBlobs()) after.push(blob.digest);
      expect(after).toEqual([b]);
    });

    it("rejects digests and upload ids outside their grammars", async () => {
      await expect(store.stat("sha256:../../etc/passwd")).rejects.toThrow();
      await expect(store.read("sha256:../x")).rejects.toThrow();
      await expect(store.createUpload("../evil")).rejects.toThrow();
      await expect(store.writeUpload("a/b", 0, Readable.from([]))).rejects.toThrow();
    });

    it("rejects unknown uploads", async () => {
      await expect(store.writeUpload("nope", 0, Readable.from([]))).rejects.toThrow();
      await expect(store.commitUpload("nope", digestOf(Buffer.from("x")), 1)).rejects.toThrow();
      expect(await store.uploadSize("nope")).toBeUndefined();
    });
  });
}
