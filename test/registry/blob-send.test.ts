// The filesystem driver's direct copy of a blob into a writable (BlobFileStream.sendTo, the
// GET data path): exact bytes for the whole blob and for ranges that start, end and cross
// 1 MiB read boundaries; a slow sink with a tiny buffer is never overrun (backpressure) and
// still gets every byte in order; a sink destroyed mid-blob makes sendTo reject and the
// blob's file is closed (no descriptor left open).
import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FilesystemBlobStore } from "../../src/storage/index.js";

const MiB = 1024 * 1024;
let root: string;
let store: FilesystemBlobStore;
let data: Buffer;
let digest: string;

/** A sink that takes `delayMs` per chunk and keeps what it got; counts its peak backlog. */
class SlowSink extends Writable {
  readonly chunks: Buffer[] = [];
  peakBacklog = 0;

  constructor(private readonly delayMs: number) {
    super({ highWaterMark: 64 * 1024 });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void) {
    this.peakBacklog = Math.max(this.peakBacklog, this.writableLength);
    // Copy: the sender reuses its buffers once the write callback ran.
    this.chunks.push(Buffer.from(chunk));
    setTimeout(done, this.delayMs);
  }
}

async function openFds(): Promise<number> {
  return (await readdir("/proc/self/fd")).length;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "berth-blob-send-"));
  store = new FilesystemBlobStore(root, { fsync: false });
  await store.init();
  data = Buffer.alloc(3 * MiB + 12345);
  for (let i = 0; i < data.length; i++) data[i] = (i * 131 + (i >> 13)) & 0xff;
  digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
  await store.createUpload("u");
  await store.writeUpload("u", 0, Readable.from([data]));
  await store.commitUpload("u", digest, data.length);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("BlobFileStream.sendTo", () => {
  it.each([
    ["whole blob", undefined],
    ["first byte", { start: 0, end: 0 }],
    ["across a 1 MiB boundary", { start: MiB - 10, end: MiB + 10 }],
    ["exactly the second MiB", { start: MiB, end: 2 * MiB - 1 }],
    ["the tail", { start: 3 * MiB, end: 3 * MiB + 12344 }],
  ])("copies %s exactly, never overrunning a slow sink", async (_name, range) => {
    const stream = await store.read(digest, range);
    expect(stream.sendTo).toBeTypeOf("function");
    const sink = new SlowSink(1);
    await stream.sendTo!(sink);
    const got = Buffer.concat(sink.chunks);
    const want = range ? data.subarray(range.start, range.end + 1) : data;
    expect(got.equals(want)).toBe(true);
    // At most one chunk beyond the sink's high-water mark waits in it at any time.
    expect(sink.peakBacklog).toBeLessThanOrEqual(64 * 1024 + MiB);
  });

  it("rejects when the sink is destroyed mid-blob, and closes the file", async () => {
    const before = await openFds();
    const stream = await store.read(digest);
    const sink = new SlowSink(5);
    setTimeout(() => sink.destroy(), 20);
    await expect(stream.sendTo!(sink)).rejects.toThrow();
    expect(Buffer.concat(sink.chunks).length).toBeLessThan(data.length);
    expect(await openFds()).toBe(before);
  });

  it("still serves as a plain Readable, with the same bytes", async () => {
    const chunks: Buffer[] = [];
    for await (const c of await store.read(digest, { start: 5, end: 2 * MiB })) chunks.push(c);
    expect(Buffer.concat(chunks).equals(data.subarray(5, 2 * MiB + 1))).toBe(true);
  });
});
