// Blob routes: GET and HEAD (whole or ranged, straight from storage with backpressure) and
// DELETE (unlinks the blob from the repository; its bytes stay until garbage collection
// finds nothing refers to them). A blob is served only if this repository links it; a
// manifest of the repository is also readable through the blob endpoint, as in CNCF
// distribution.
import type { OutgoingHttpHeaders } from "node:http";
import { pipeline } from "node:stream/promises";
import { findRepositoryBlob, getManifestByDigest, unlinkBlob } from "../meta/index.js";
import { type Digest, tryParseDigest } from "../oci/index.js";
import { BlobNotFoundError, type ByteRange } from "../storage/index.js";
import { authorize, repositoryTarget } from "./authorize.js";
import type { RegistryCall, RegistryContext } from "./context.js";
import { RegistryError } from "./errors.js";
import { reply } from "./http.js";

export function parseDigestParam(text: string): Digest {
  const digest = tryParseDigest(text);
  if (!digest) throw new RegistryError("DIGEST_INVALID", `invalid digest "${text.slice(0, 80)}"`);
  return digest;
}

export async function getBlob(
  ctx: RegistryContext,
  call: RegistryCall,
  ref: string,
): Promise<void> {
  const principal = await authorize(ctx, call, repositoryTarget(call.repository, "pull"));
  const digest = parseDigestParam(ref);
  let blob = await findRepositoryBlob(ctx.db, call.repository, digest.value);
  if (!blob && ctx.pullThrough) {
    // A proxy-cache project: the upstream answers (and the bytes are stored) on a miss; false
    // after waiting for another request's fetch of the same blob, now stored.
    if (await ctx.pullThrough.blob(ctx, call, digest.value, principal)) return;
    blob = await findRepositoryBlob(ctx.db, call.repository, digest.value);
  }
  if (!blob) {
    await serveManifestAsBlob(ctx, call, digest.value);
    return;
  }
  const headers: OutgoingHttpHeaders = {
    "Content-Type": "application/octet-stream",
    "Docker-Content-Digest": digest.value,
    ETag: `"${digest.value}"`,
    "Accept-Ranges": "bytes",
    "Cache-Control": "max-age=31536000",
  };
  const size = Number(blob.size);
  const range = parseRange(call.req.headers.range, size);
  if (range === "unsatisfiable") {
    throw new RegistryError("BLOB_UNKNOWN", "requested range not satisfiable", {
      status: 416,
      headers: { "Content-Range": `bytes */${size}` },
    });
  }
  if (call.method === "GET" && ctx.store.redirectUrl) {
    const url = await ctx.store.redirectUrl(digest.value);
    if (url) {
      reply(call.res, 307, { ...headers, Location: url });
      return;
    }
  }
  const status = range ? 206 : 200;
  headers["Content-Length"] = range ? range.end - range.start + 1 : size;
  if (range) headers["Content-Range"] = `bytes ${range.start}-${range.end}/${size}`;
  if (call.method === "HEAD") {
    call.res.writeHead(status, headers);
    call.res.end();
    return;
  }
  let stream: Awaited<ReturnType<typeof ctx.store.read>>;
  try {
    stream = await ctx.store.read(digest.value, range);
  } catch (err) {
    if (err instanceof BlobNotFoundError) {
      ctx.logger.error(
        { digest: digest.value },
        "blob recorded in metadata is missing from storage",
      );
      throw new RegistryError("BLOB_UNKNOWN", "blob unknown to registry", {
        detail: { digest: digest.value },
      });
    }
    throw err;
  }
  call.res.writeHead(status, headers);
  try {
    if (stream.sendTo) {
      await stream.sendTo(call.res);
      call.res.end();
    } else {
      await pipeline(stream, call.res);
    }
  } catch (err) {
    // The client went away, or storage failed mid-stream: nothing more can be said on this
    // response; make sure the connection is not reused with a short body.
    call.res.destroy();
    if (!call.req.destroyed && !isClientGone(err)) {
      ctx.logger.warn({ err, digest: digest.value }, "blob stream failed");
    }
  }
}

async function serveManifestAsBlob(ctx: RegistryContext, call: RegistryCall, digest: string) {
  const manifest =
    ctx.manifestCache.get(call.repository, digest) ??
    (await getManifestByDigest(ctx.db, call.repository, digest));
  if (!manifest) {
    throw new RegistryError("BLOB_UNKNOWN", "blob unknown to registry", { detail: { digest } });
  }
  const headers: OutgoingHttpHeaders = {
    "Content-Type": "application/octet-stream",
    "Docker-Content-Digest": digest,
    ETag: `"${digest}"`,
    "Content-Length": manifest.content.length,
  };
  call.res.writeHead(200, headers);
  call.res.end(call.method === "HEAD" ? undefined : manifest.content);
}

export async function deleteBlob(
  ctx: RegistryContext,
  call: RegistryCall,
  ref: string,
): Promise<void> {
  if (!ctx.config.deleteEnabled) {
    throw new RegistryError("UNSUPPORTED", "deletion is disabled on this registry");
  }
  const principal = await authorize(ctx, call, repositoryTarget(call.repository, "delete"));
  const digest = parseDigestParam(ref);
  if (!(await unlinkBlob(ctx.db, call.repository, digest.value))) {
    throw new RegistryError("BLOB_UNKNOWN", "blob unknown to registry", {
      detail: { digest: digest.value },
    });
  }
  ctx.events.publish("blob.deleted", {
    repository: call.repository,
    digest: digest.value,
    principal: principal.name,
    remoteAddress: call.remoteAddress,
    at: Date.now(),
  });
  reply(call.res, 202, { "Docker-Content-Digest": digest.value });
}

/**
 * Parses a single-range `Range: bytes=…` header against a blob of `size` bytes. Returns
 * undefined for "whole blob" (no header, or a form we serve whole, such as multiple ranges).
 */
export function parseRange(
  header: string | undefined,
  size: number,
): ByteRange | "unsatisfiable" | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  let start: number;
  let end: number;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) return "unsatisfiable";
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== "" && Number(m[2]) < start) return undefined;
  }
  if (start >= size || size === 0) return "unsatisfiable";
  return { start, end };
}

function isClientGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "ERR_STREAM_PREMATURE_CLOSE" || code === "ECONNRESET" || code === "EPIPE";
}
