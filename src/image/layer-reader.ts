// Reads a layer blob as a sequence of tar entries, decompressing gzip or zstd on the fly
// (detected from the stream's magic bytes, so mislabelled layers still read) and decoding
// OCI whiteouts. Used by analyze/, scan/ and build/. Streams only: never buffers a layer,
// never writes to disk. `readImageLayer` is the one way to read a layer of an ImageSource:
// it checks the blob against its descriptor's digest and size while it streams.
import { type Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { Decompress } from "fzstd";
import * as tar from "tar-stream";
import { BlobVerificationError, VerifyingStream } from "../client/verifying-stream.js";
import type { Descriptor } from "../oci/index.js";
import type { ImageSource } from "../transport/types.js";

export type LayerEntryType = "file" | "directory" | "symlink" | "hardlink" | "other";

export interface LayerEntry {
  /** Normalised path without leading `./` or `/` and without trailing `/`: `usr/bin/ls`. */
  readonly path: string;
  readonly type: LayerEntryType;
  /** Size of the file's content (0 for everything but regular files). */
  readonly size: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Modification time in seconds since the epoch (0 when the header has none). */
  readonly mtime?: number;
  /** Target of a symlink or hard link (hard links: a normalised path in the same layer). */
  readonly linkname?: string;
  /**
   * `file`: this entry deletes `path` from lower layers (it was `.wh.<name>`).
   * `opaque`: directory `path` hides everything lower layers put in it (`.wh..wh..opq`).
   */
  readonly whiteout?: "file" | "opaque";
}

/** Visits every entry; `content` may be read or ignored (what is left is drained after). */
export type LayerVisitor = (
  entry: LayerEntry,
  content: AsyncIterable<Uint8Array>,
) => Promise<void> | void;

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
const WHITEOUT_PREFIX = ".wh.";
const OPAQUE_MARKER = ".wh..wh..opq";

export class LayerFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LayerFormatError";
  }
}

/** What reading a layer measured on the way through. */
export interface LayerReadSummary {
  /** Bytes of the uncompressed tar stream (the size of the layer's diff_id content). */
  readonly tarBytes: number;
}

export async function readLayer(blob: Readable, visit: LayerVisitor): Promise<LayerReadSummary> {
  const extract = tar.extract();
  const consume = (async () => {
    for await (const raw of extract) {
      const entry = toLayerEntry(raw.header);
      if (entry) await visit(entry, raw as AsyncIterable<Uint8Array>);
      raw.resume();
    }
  })();
  const tarStream = await decompressed(blob);
  const counter = new ByteCounter();
  const feeding = pipeline(tarStream, counter, extract).catch((err: unknown) => {
    throw new LayerFormatError(`layer is not a readable tar stream: ${messageOf(err)}`);
  });
  await Promise.all([feeding, consume]);
  return { tarBytes: counter.bytes };
}

/** What reading an image's layer measured: the tar stream and the blob as stored. */
export interface ImageLayerReadSummary extends LayerReadSummary {
  /** Bytes of the blob as stored and transferred (compressed). */
  readonly blobBytes: number;
}

/**
 * Streams layer `descriptor` of `source` through `visit`, verifying the blob's size and
 * digest on the way. Rejects with BlobVerificationError when the bytes do not match the
 * descriptor, LayerFormatError when they are not a readable layer, or the source's error.
 */
export async function readImageLayer(
  source: ImageSource,
  descriptor: Descriptor,
  visit: LayerVisitor,
): Promise<ImageLayerReadSummary> {
  const verifier = new VerifyingStream({ digest: descriptor.digest, size: descriptor.size });
  const blob = await source.getBlob(descriptor);
  let mismatch: BlobVerificationError | undefined;
  verifier.once("error", (err) => {
    if (err instanceof BlobVerificationError) mismatch = err;
  });
  blob.once("error", (err) => verifier.destroy(err));
  try {
    const { tarBytes } = await readLayer(blob.pipe(verifier), visit);
    return { tarBytes, blobBytes: verifier.bytesReceived };
  } catch (err) {
    blob.destroy();
    verifier.destroy();
    throw mismatch ?? err;
  }
}

class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

export function normaliseLayerPath(name: string): string {
  let path = name.replace(/^(\.\/|\/)+/, "").replace(/\/+$/, "");
  path = path.replace(/\/\.\//g, "/").replace(/\/{2,}/g, "/");
  return path === "." ? "" : path;
}

function toLayerEntry(header: tar.Header): LayerEntry | undefined {
  const full = normaliseLayerPath(header.name);
  if (full === "") return undefined;
  const slash = full.lastIndexOf("/");
  const dir = slash === -1 ? "" : full.slice(0, slash + 1);
  const base = full.slice(slash + 1);
  const common = {
    size: header.type === "file" || header.type === "contiguous-file" ? (header.size ?? 0) : 0,
    mode: header.mode ?? 0,
    uid: header.uid ?? 0,
    gid: header.gid ?? 0,
    mtime: header.mtime ? Math.floor(header.mtime.getTime() / 1000) : 0,
  };
  if (base === OPAQUE_MARKER) {
    return { ...common, path: dir.replace(/\/$/, ""), type: "directory", whiteout: "opaque" };
  }
  if (base.startsWith(WHITEOUT_PREFIX)) {
    const path = dir + base.slice(WHITEOUT_PREFIX.length);
    return { ...common, path, type: "other", whiteout: "file" };
  }
  const type = entryType(header.type);
  const linkname =
    header.linkname == null
      ? undefined
      : type === "hardlink"
        ? normaliseLayerPath(header.linkname)
        : header.linkname;
  return { ...common, path: full, type, linkname };
}

function entryType(type: tar.Header["type"]): LayerEntryType {
  switch (type) {
    case "file":
    case "contiguous-file":
      return "file";
    case "directory":
      return "directory";
    case "symlink":
      return "symlink";
    case "link":
      return "hardlink";
    default:
      return "other";
  }
}

/** Decompresses gzip or zstd, judged from the first bytes; plain tar passes through. */
async function decompressed(blob: Readable): Promise<Readable> {
  const head = await peek(blob, 4);
  if (startsWith(head, GZIP_MAGIC)) return chain(blob, createGunzip());
  if (startsWith(head, ZSTD_MAGIC)) return chain(blob, new ZstdDecompressor());
  return blob;
}

/** `blob.pipe(next)` that also fails `next` when `blob` fails (pipe alone would hang). */
function chain(blob: Readable, next: Transform): Readable {
  blob.once("error", (err) => next.destroy(err));
  return blob.pipe(next);
}

/** Reads up to `n` bytes without consuming them (they are pushed back). */
function peek(stream: Readable, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const finish = (chunk: Buffer) => {
      stream.off("readable", onReadable).off("end", onEnd).off("error", reject);
      if (chunk.length > 0) stream.unshift(chunk);
      resolve(chunk);
    };
    const onReadable = () => {
      const chunk: Buffer | null = stream.read(n);
      if (chunk !== null) finish(chunk);
    };
    const onEnd = () => finish(Buffer.alloc(0));
    stream.on("readable", onReadable).once("end", onEnd).once("error", reject);
    onReadable();
  });
}

/** fzstd's push-based zstd decompressor as a stream Transform. */
export class ZstdDecompressor extends Transform {
  private readonly zstd = new Decompress((data) => {
    this.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.zstd.push(chunk);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.zstd.push(new Uint8Array(0), true);
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}

function startsWith(buffer: Buffer, magic: number[]): boolean {
  return buffer.length >= magic.length && magic.every((b, i) => buffer[i] === b);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
