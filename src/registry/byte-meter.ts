// Hashes and counts the bytes flowing into storage, so a blob is verified in the same pass
// that writes it (never a second read). A pass-through Transform placed between the request
// and the storage sink in one stream pipeline: chunks flow unchanged (no copies; async
// iteration would concatenate buffered chunks), backpressure and errors propagate, and a
// body longer than expected fails as soon as one byte too many arrives.
import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import type { DigestAlgorithm } from "../oci/index.js";
import { RegistryError } from "./errors.js";

export class ByteMeter extends Transform {
  bytes = 0;

  constructor(
    readonly hash: Hash,
    private readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {
    // Small buffers in the pass-through stages: the storage sink holds the big one.
    super({ highWaterMark: 256 * 1024 });
  }

  static fresh(algorithm: DigestAlgorithm, maxBytes?: number): ByteMeter {
    return new ByteMeter(createHash(algorithm), maxBytes);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      done(
        new RegistryError(
          "BLOB_UPLOAD_INVALID",
          `body is longer than the ${this.maxBytes} bytes declared`,
        ),
      );
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }
}
