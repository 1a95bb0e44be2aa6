// Hashes and counts the bytes flowing into storage, so a blob is verified in the same pass
// that writes it (never a second read). Wraps the request body as an async iterable that
// storage drivers consume with backpressure; refuses a body longer than expected as soon
// as one byte too many arrives.
import { createHash, type Hash } from "node:crypto";
import type { DigestAlgorithm } from "../oci/index.js";
import { RegistryError } from "./errors.js";

export class ByteMeter {
  bytes = 0;

  constructor(
    readonly hash: Hash,
    private readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {}

  static fresh(algorithm: DigestAlgorithm, maxBytes?: number): ByteMeter {
    return new ByteMeter(createHash(algorithm), maxBytes);
  }

  async *pass(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      this.bytes += chunk.length;
      if (this.bytes > this.maxBytes) {
        throw new RegistryError(
          "BLOB_UPLOAD_INVALID",
          `body is longer than the ${this.maxBytes} bytes declared`,
        );
      }
      this.hash.update(chunk);
      yield chunk;
    }
  }
}
