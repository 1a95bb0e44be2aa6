// Writes OCI image layouts (https://github.com/opencontainers/image-spec/blob/main/image-layout.md)
// from test code: `oci-layout`, `blobs/sha256/<hex>`, `index.json`. Used to hand real clients
// (skopeo, podman) images whose every digest the test knows in advance. Also reads a layout
// back (index.json, blobs) so a round trip can be compared digest by digest.
// Media types, descriptors and digests come from src/oci (one implementation of each); the
// layout writing itself is the test's own, so fixtures never depend on Berth's transport code.
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { type Descriptor, digestOf, MediaType, parseDigest } from "../../src/oci/index.js";
import { REF_NAME_ANNOTATION } from "../../src/transport/oci-layout.js";

export type { Descriptor, Platform } from "../../src/oci/index.js";
export { REF_NAME_ANNOTATION };

/** A pass-through stream that hashes (sha256) and counts what flows through it. */
export class HashingPassThrough extends Transform {
  private readonly hash = createHash("sha256");
  size = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    callback(null, chunk);
  }
  /** The digest; valid once the stream has ended. */
  digest(): string {
    return `sha256:${this.hash.digest("hex")}`;
  }
}

function hexOf(digest: string): string {
  const parsed = parseDigest(digest);
  if (parsed.algorithm !== "sha256") throw new Error(`unexpected digest ${digest}`);
  return parsed.encoded;
}

/** Builds one OCI layout directory. Blobs are content-addressed, so writing one twice is harmless. */
export class OciLayoutWriter {
  private readonly manifests: Descriptor[] = [];
  private constructor(readonly dir: string) {}

  static async create(dir: string): Promise<OciLayoutWriter> {
    await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
    await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    return new OciLayoutWriter(dir);
  }

  blobPath(digest: string): string {
    return join(this.dir, "blobs", "sha256", hexOf(digest));
  }

  async writeBlob(bytes: Uint8Array | string, mediaType: string): Promise<Descriptor> {
    const data = typeof bytes === "string" ? Buffer.from(bytes) : bytes;
    const digest = digestOf(data);
    await writeFile(this.blobPath(digest), data);
    return { mediaType, digest, size: data.length };
  }

  /** Serialises `value` once and stores exactly those bytes (the digest covers them). */
  async writeJson(value: unknown, mediaType: string): Promise<Descriptor> {
    return this.writeBlob(JSON.stringify(value), mediaType);
  }

  /** Streams a blob in, hashing as it goes; returns its descriptor. */
  async writeBlobStream(source: NodeJS.ReadableStream, mediaType: string): Promise<Descriptor> {
    const temp = join(this.dir, "blobs", `.incoming-${process.pid}-${Date.now()}-${Math.random()}`);
    const hasher = new HashingPassThrough();
    await pipeline(source, hasher, createWriteStream(temp));
    const digest = hasher.digest();
    await rename(temp, this.blobPath(digest));
    return { mediaType, digest, size: hasher.size };
  }

  /** Adds a manifest (or index) to index.json, optionally named by a tag. */
  addManifest(descriptor: Descriptor, tag?: string): void {
    const annotations = tag
      ? { ...descriptor.annotations, [REF_NAME_ANNOTATION]: tag }
      : descriptor.annotations;
    this.manifests.push(annotations ? { ...descriptor, annotations } : descriptor);
  }

  async finish(): Promise<void> {
    const index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: this.manifests };
    await writeFile(join(this.dir, "index.json"), JSON.stringify(index, null, 2));
  }
}

/** Reads a layout's index.json and finds the descriptor tagged `tag` (or the only one). */
export async function readLayoutEntry(dir: string, tag?: string): Promise<Descriptor> {
  const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as {
    manifests: Descriptor[];
  };
  const entries = tag
    ? index.manifests.filter((m) => m.annotations?.[REF_NAME_ANNOTATION] === tag)
    : index.manifests;
  if (entries.length !== 1) {
    throw new Error(
      `expected one manifest${tag ? ` tagged ${tag}` : ""} in ${dir}, found ${entries.length}`,
    );
  }
  return entries[0];
}

/** Reads a blob out of a layout, checking that its bytes match its digest. */
export async function readLayoutBlob(dir: string, digest: string): Promise<Buffer> {
  const bytes = await readFile(join(dir, "blobs", "sha256", hexOf(digest)));
  const actual = digestOf(bytes);
  if (actual !== digest) throw new Error(`blob ${digest} in ${dir} has bytes of ${actual}`);
  return bytes;
}
