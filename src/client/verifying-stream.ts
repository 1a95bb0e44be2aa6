// A pass-through stream that hashes blob bytes as they flow and fails the stream when the
// total size or digest does not match the descriptor. Used wherever blob bytes cross a trust
// boundary (registry downloads, archive reads, uploads). Never buffers: bytes pass straight on.
import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { parseDigest } from "../oci/index.js";

export class BlobVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BlobVerificationError";
  }
}

export interface VerifyingOptions {
  digest: string;
  /** Expected total size; omitted when unknown. */
  size?: number;
  /** Bytes already received before this stream (a resumed download): pre-hashed state. */
  hash?: Hash;
  offset?: number;
}

/** Verifies `digest`/`size` over every byte written through it (plus any resumed prefix). */
export class VerifyingStream extends Transform {
  readonly hash: Hash;
  private received: number;

  constructor(private readonly options: VerifyingOptions) {
    super();
    this.hash = options.hash ?? createHash(parseDigest(options.digest).algorithm);
    this.received = options.offset ?? 0;
  }

  get bytesReceived(): number {
    return this.received;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.received += chunk.length;
    const { size } = this.options;
    if (size !== undefined && this.received > size) {
      done(
        new BlobVerificationError(
          `blob ${short(this.options.digest)} is larger than ${size} bytes`,
        ),
      );
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    const { size, digest } = this.options;
    if (size !== undefined && this.received !== size) {
      done(
        new BlobVerificationError(
          `blob ${short(digest)} ended after ${this.received} of ${size} bytes`,
        ),
      );
      return;
    }
    const algorithm = parseDigest(digest).algorithm;
    const actual = `${algorithm}:${this.hash.digest("hex")}`;
    if (actual !== digest) {
      done(
        new BlobVerificationError(`blob content is ${short(actual)}, expected ${short(digest)}`),
      );
      return;
    }
    done();
  }
}

export function short(digest: string): string {
  const colon = digest.indexOf(":");
  return colon === -1 ? digest : `${digest.slice(0, colon + 13)}`;
}
