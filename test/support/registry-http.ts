// A deliberately small, independent HTTP client for the OCI Distribution API, built on undici,
// for tests that need the raw protocol (artifacts with a subject, referrers, chunked uploads
// across a crash, byte-for-byte pulls). It follows the spec literally and hides nothing: every
// call returns the status and headers so tests can assert on them.
// It must never use Berth's own registry client (src/client is itself under test).
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { request } from "undici";
import { digestOf, MANIFEST_MEDIA_TYPES } from "../../src/oci/index.js";

export const MANIFEST_ACCEPT = MANIFEST_MEDIA_TYPES.join(", ");

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

type Body = Buffer | Uint8Array | string | NodeJS.ReadableStream | AsyncIterable<Uint8Array>;

function flattenHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined)
      flat[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}

export class RegistryHttp {
  constructor(readonly baseUrl: string) {}

  /** Resolves a Location header (absolute or relative) against the registry. */
  resolve(location: string): string {
    return new URL(location, this.baseUrl).toString();
  }

  async send(
    method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE",
    pathOrUrl: string,
    options: { headers?: Record<string, string>; body?: Body } = {},
  ): Promise<HttpAnswer> {
    const url = pathOrUrl.startsWith("http") ? pathOrUrl : `${this.baseUrl}${pathOrUrl}`;
    const response = await request(url, {
      method,
      headers: options.headers,
      body: options.body as Buffer | string | undefined,
    });
    const body = Buffer.from(await response.body.arrayBuffer());
    return { status: response.statusCode, headers: flattenHeaders(response.headers), body };
  }

  /** POST a new upload session; returns the absolute upload URL. */
  async startUpload(repository: string): Promise<string> {
    const answer = await this.send("POST", `/v2/${repository}/blobs/uploads/`);
    if (answer.status !== 202 || !answer.headers.location) {
      throw new Error(
        `POST upload for ${repository}: HTTP ${answer.status} ${answer.body.toString().slice(0, 300)}`,
      );
    }
    return this.resolve(answer.headers.location);
  }

  /** Monolithic push (POST, then PUT ?digest= with the whole body); returns the PUT answer. */
  async pushBlob(repository: string, bytes: Buffer, digest = digestOf(bytes)): Promise<HttpAnswer> {
    const uploadUrl = await this.startUpload(repository);
    const answer = await this.send("PUT", withDigest(uploadUrl, digest), {
      headers: {
        "content-type": "application/octet-stream",
        "content-length": String(bytes.length),
      },
      body: bytes,
    });
    if (answer.status !== 201) {
      throw new Error(
        `PUT blob ${digest} to ${repository}: HTTP ${answer.status} ${answer.body.toString().slice(0, 300)}`,
      );
    }
    return answer;
  }

  async putManifest(
    repository: string,
    reference: string,
    bytes: Buffer,
    mediaType: string,
  ): Promise<HttpAnswer> {
    return this.send("PUT", `/v2/${repository}/manifests/${reference}`, {
      headers: { "content-type": mediaType },
      body: bytes,
    });
  }

  async getManifest(
    repository: string,
    reference: string,
    accept = MANIFEST_ACCEPT,
  ): Promise<HttpAnswer> {
    return this.send("GET", `/v2/${repository}/manifests/${reference}`, { headers: { accept } });
  }

  /** Streams a blob and hashes it without keeping it; returns status, digest and size. */
  async hashBlob(
    repository: string,
    digest: string,
  ): Promise<{ status: number; digest: string; size: number }> {
    const response = await request(`${this.baseUrl}/v2/${repository}/blobs/${digest}`, {
      method: "GET",
    });
    const hash = createHash("sha256");
    let size = 0;
    for await (const chunk of response.body) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    return { status: response.statusCode, digest: `sha256:${hash.digest("hex")}`, size };
  }

  async referrers(repository: string, digest: string, artifactType?: string): Promise<HttpAnswer> {
    const query = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : "";
    return this.send("GET", `/v2/${repository}/referrers/${digest}${query}`);
  }
}

export function withDigest(uploadUrl: string, digest: string): string {
  const url = new URL(uploadUrl);
  url.searchParams.set("digest", digest);
  return url.toString();
}

/** A request whose body stops part-way and never finishes: the client side of a crash test. */
export interface StalledRequest {
  /** Resolves once `stallAfter` bytes of the body have been handed to the request stream. */
  stalled: Promise<void>;
  /** Bytes handed to the request stream so far (an upper bound on what the server got). */
  bytesSent(): number;
  /** Settles when the request ends (normally with an error once the server is killed). */
  settled: Promise<unknown>;
  /** Aborts the request (call after the server is gone, to free the socket). */
  abort(): void;
}

/**
 * Sends `method url` with a Content-Length of `declaredLength` but only the first `stallAfter`
 * bytes of `source`, then waits forever — so the server is mid-request when the test kills it.
 */
export function sendStalled(
  method: "PATCH" | "PUT",
  url: string,
  headers: Record<string, string>,
  source: AsyncIterable<Buffer>,
  stallAfter: number,
): StalledRequest {
  let sent = 0;
  let markStalled: () => void = () => undefined;
  let failStalled: (reason: Error) => void = () => undefined;
  const stalled = new Promise<void>((resolve, reject) => {
    markStalled = resolve;
    failStalled = reject;
  });
  const controller = new AbortController();
  const forever = new Promise<void>((resolve) =>
    controller.signal.addEventListener("abort", () => resolve()),
  );
  async function* body(): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      const room = stallAfter - sent;
      const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
      sent += piece.length;
      yield piece;
      if (sent >= stallAfter) break;
    }
    markStalled();
    await forever;
  }
  const settled = request(url, {
    method,
    headers,
    body: Readable.from(body()),
    signal: controller.signal,
  }).then(
    async (response) => {
      await response.body.dump();
      return response.statusCode;
    },
    (error: unknown) => error,
  );
  // A request that ends before it stalled (an early answer, a bad argument) fails `stalled`.
  void settled.then((outcome) =>
    failStalled(new Error(`${method} ${url} ended before stalling: ${String(outcome)}`)),
  );
  return { stalled, bytesSent: () => sent, settled, abort: () => controller.abort() };
}
