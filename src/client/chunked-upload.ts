// Chunked blob upload (PATCH with Content-Range, one chunk after another) for registries or
// proxies that limit request sizes. Each chunk is streamed from the source as a sub-stream of
// known length; at most one chunk's bytes are in flight, never the whole blob.
import { PassThrough, type Readable } from "node:stream";
import { RegistryError } from "./errors.js";
import { headerOf } from "./http.js";
import type { RegistryClient } from "./registry-client.js";

/** Sends `content` in chunks of `chunkSize`; returns the Location for the final PUT. */
export async function uploadChunked(
  client: RegistryClient,
  repo: string,
  startLocation: string,
  content: Readable,
  chunkSize: number,
): Promise<string> {
  let location = startLocation;
  let offset = 0;
  for await (const chunk of chunksOf(content, chunkSize)) {
    const res = await client.http.send({
      method: "PATCH",
      path: location,
      scopes: [`repository:${repo}:pull,push`],
      headers: {
        "content-type": "application/octet-stream",
        "content-length": String(chunk.length),
        "content-range": `${offset}-${offset + chunk.length - 1}`,
      },
      body: chunk.stream,
    });
    if (res.statusCode !== 202) await client.http.fail(res, `a chunk of an upload to ${repo}`);
    await res.body.dump();
    const next = headerOf(res, "location");
    if (!next) throw new RegistryError("protocol", `${client.registry} accepted a chunk without a Location`);
    location = new URL(next, client.http.baseUrl).toString();
    offset += chunk.length;
  }
  return location;
}

interface Chunk {
  readonly length: number;
  readonly stream: Readable;
}

/**
 * Splits a stream into consecutive chunks of `size` bytes (the last may be shorter). Reads
 * ahead at most one chunk: a chunk's bytes are only buffered up to `size` before being sent.
 */
async function* chunksOf(content: Readable, size: number): AsyncGenerator<Chunk> {
  let pending: Buffer[] = [];
  let pendingLength = 0;
  for await (const raw of content) {
    let data = raw as Buffer;
    while (data.length > 0) {
      const take = Math.min(size - pendingLength, data.length);
      pending.push(data.subarray(0, take));
      pendingLength += take;
      data = data.subarray(take);
      if (pendingLength === size) {
        yield toChunk(pending, pendingLength);
        pending = [];
        pendingLength = 0;
      }
    }
  }
  if (pendingLength > 0) yield toChunk(pending, pendingLength);
}

function toChunk(parts: Buffer[], length: number): Chunk {
  const stream = new PassThrough();
  for (const part of parts) stream.write(part);
  stream.end();
  return { length, stream };
}
