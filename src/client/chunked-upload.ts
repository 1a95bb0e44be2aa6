// Chunked blob upload (PATCH with Content-Range, one chunk after another) for registries or
// proxies that limit request sizes. The blob's size is known, so each chunk's length is too:
// every chunk is a sub-stream that reads exactly its bytes straight from the source while it
// is sent. Nothing is buffered beyond the source's own read-ahead.
import { Readable } from "node:stream";
import { RegistryError } from "./errors.js";
import { headerOf } from "./http.js";
import type { RegistryClient } from "./registry-client.js";

/** Sends `content` (`total` bytes) in chunks of `chunkSize`; returns the final Location. */
export async function uploadChunked(
  client: RegistryClient,
  repo: string,
  startLocation: string,
  content: Readable,
  chunkSize: number,
  total: number,
): Promise<string> {
  const reader = new ExactReader(content);
  let location = startLocation;
  for (let offset = 0; offset < total; ) {
    const length = Math.min(chunkSize, total - offset);
    const res = await client.http.send({
      method: "PATCH",
      path: location,
      scopes: [`repository:${repo}:pull,push`],
      headers: {
        "content-type": "application/octet-stream",
        "content-length": String(length),
        "content-range": `${offset}-${offset + length - 1}`,
      },
      body: Readable.from(reader.take(length)),
    });
    if (res.statusCode !== 202) await client.http.fail(res, `a chunk of an upload to ${repo}`);
    await res.body.dump();
    const next = headerOf(res, "location");
    if (!next)
      throw new RegistryError("protocol", `${client.registry} accepted a chunk without a Location`);
    location = new URL(next, client.http.baseUrl).toString();
    offset += length;
  }
  return location;
}

/** Hands out consecutive, exactly sized slices of a stream as async iterables. */
class ExactReader {
  private readonly source: AsyncIterator<unknown>;
  private carry: Buffer | undefined;

  constructor(content: Readable) {
    this.source = content[Symbol.asyncIterator]();
  }

  async *take(length: number): AsyncGenerator<Buffer> {
    let left = length;
    while (left > 0) {
      const piece = this.carry ?? (await this.next());
      this.carry = undefined;
      if (piece.length > left) {
        this.carry = piece.subarray(left);
        yield piece.subarray(0, left);
        return;
      }
      left -= piece.length;
      yield piece;
    }
  }

  private async next(): Promise<Buffer> {
    const result = await this.source.next();
    if (result.done) throw new RegistryError("protocol", "the blob ended before its declared size");
    return result.value as Buffer;
  }
}
