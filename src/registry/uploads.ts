// Upload routes (/v2/<name>/blobs/uploads/…): POST (new session, monolithic `?digest=`, or
// cross-repository mount `?mount=&from=`), PATCH (chunked with Content-Range, or streamed
// without), PUT (close, optionally with a final chunk), GET (status) and DELETE (cancel).
// The session mechanics are in upload-sessions.ts; this file is HTTP in and out.
import type { OutgoingHttpHeaders } from "node:http";
import type { Principal } from "../auth/access.js";
import { findRepositoryBlob, linkBlob } from "../meta/index.js";
import { type Digest, isValidRepositoryName } from "../oci/index.js";
import { authorize, repositoryTarget } from "./authorize.js";
import { parseDigestParam } from "./blobs.js";
import type { RegistryCall, RegistryContext } from "./context.js";
import { RegistryError } from "./errors.js";
import { declaredLength, hasBody, reply, uploadRange } from "./http.js";
import { type ChunkBody, type ChunkRange, uploadLocation } from "./upload-sessions.js";

function blobLocation(repository: string, digest: string): string {
  return `/v2/${repository}/blobs/${digest}`;
}

export async function postUpload(ctx: RegistryContext, call: RegistryCall): Promise<void> {
  const principal = await authorize(ctx, call, repositoryTarget(call.repository, "push"));
  const mount = call.query.get("mount");
  if (mount !== null) {
    const digest = parseDigestParam(mount);
    const from = call.query.get("from");
    if (from && (await tryMount(ctx, call, principal, digest, from))) return;
  }
  const digestParam = call.query.get("digest");
  if (digestParam !== null) {
    const digest = parseDigestParam(digestParam);
    const size = await ctx.uploads.uploadWhole(
      call.repository,
      digest,
      chunkBody(call, false),
      beforeCommit(ctx, call, principal, digest),
      { principal: principal.name, remoteAddress: call.remoteAddress },
    );
    blobCommitted(ctx, call, principal, digest.value, size, false);
    return;
  }
  if (hasBody(call.req)) call.req.resume();
  const id = await ctx.uploads.start(call.repository);
  const headers: OutgoingHttpHeaders = {
    Location: uploadLocation(call.repository, id),
    Range: "0-0",
    "Docker-Upload-UUID": id,
  };
  if (ctx.store.minChunkLength !== undefined) {
    headers["OCI-Chunk-Min-Length"] = ctx.store.minChunkLength;
  }
  reply(call.res, 202, headers);
}

/** Links `digest` from `from` if the caller may pull there and `from` has it; else false. */
async function tryMount(
  ctx: RegistryContext,
  call: RegistryCall,
  principal: Principal,
  digest: Digest,
  from: string,
): Promise<boolean> {
  if (!isValidRepositoryName(from)) return false;
  const decision = await ctx.access.check({
    headers: call.req.headers,
    remoteAddress: call.remoteAddress,
    target: repositoryTarget(from, "pull"),
  });
  if (!decision.allowed) return false;
  const blob = await findRepositoryBlob(ctx.db, from, digest.value);
  if (!blob) return false;
  await beforeCommit(ctx, call, principal, digest)(Number(blob.size));
  // Refused while garbage collection deletes the blob: the client uploads it instead.
  const actor = { principal: principal.name, remoteAddress: call.remoteAddress };
  if (!(await linkBlob(ctx.db, call.repository, digest.value, actor))) return false;
  if (hasBody(call.req)) call.req.resume();
  blobCommitted(ctx, call, principal, digest.value, Number(blob.size), true);
  return true;
}

export async function patchUpload(ctx: RegistryContext, call: RegistryCall, id: string) {
  await authorize(ctx, call, repositoryTarget(call.repository, "push"));
  const size = await ctx.uploads.append(call.repository, id, chunkBody(call, true));
  reply(call.res, 202, {
    Location: uploadLocation(call.repository, id),
    Range: uploadRange(size),
    "Docker-Upload-UUID": id,
  });
}

export async function putUpload(ctx: RegistryContext, call: RegistryCall, id: string) {
  const principal = await authorize(ctx, call, repositoryTarget(call.repository, "push"));
  const digestParam = call.query.get("digest");
  if (digestParam === null) {
    throw new RegistryError("DIGEST_INVALID", "closing an upload needs ?digest=");
  }
  const digest = parseDigestParam(digestParam);
  const finalChunk = hasBody(call.req) ? chunkBody(call, true) : undefined;
  const size = await ctx.uploads.complete(
    call.repository,
    id,
    digest,
    finalChunk,
    beforeCommit(ctx, call, principal, digest),
    { principal: principal.name, remoteAddress: call.remoteAddress },
  );
  blobCommitted(ctx, call, principal, digest.value, size, false);
}

export async function getUpload(ctx: RegistryContext, call: RegistryCall, id: string) {
  await authorize(ctx, call, repositoryTarget(call.repository, "push"));
  const size = await ctx.uploads.status(call.repository, id);
  reply(call.res, 204, {
    Location: uploadLocation(call.repository, id),
    Range: uploadRange(size),
    "Docker-Upload-UUID": id,
  });
}

export async function deleteUpload(ctx: RegistryContext, call: RegistryCall, id: string) {
  await authorize(ctx, call, repositoryTarget(call.repository, "push"));
  await ctx.uploads.cancel(call.repository, id);
  reply(call.res, 204, {});
}

function chunkBody(call: RegistryCall, allowRange: boolean): ChunkBody {
  const header = call.req.headers["content-range"];
  return {
    source: call.req,
    declaredLength: declaredLength(call.req),
    range: allowRange && header !== undefined ? parseContentRange(header) : undefined,
  };
}

/** `start-end` as the spec writes it; `bytes start-end[/total]` and `bytes=…` are tolerated. */
export function parseContentRange(header: string): ChunkRange {
  const m = /^\s*(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?\s*$/.exec(header);
  if (!m) throw new RegistryError("BLOB_UPLOAD_INVALID", `malformed Content-Range "${header}"`);
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) {
    throw new RegistryError(
      "BLOB_UPLOAD_INVALID",
      `Content-Range "${header}" ends before it starts`,
    );
  }
  return { start, end };
}

function beforeCommit(
  ctx: RegistryContext,
  call: RegistryCall,
  principal: Principal,
  digest: Digest,
): (size: number) => Promise<void> {
  return async (size) => {
    await ctx.admission.beforeBlobCommit?.({
      repository: call.repository,
      digest: digest.value,
      size,
      principal,
    });
  };
}

function blobCommitted(
  ctx: RegistryContext,
  call: RegistryCall,
  principal: Principal,
  digest: string,
  size: number,
  mounted: boolean,
): void {
  reply(call.res, 201, {
    Location: blobLocation(call.repository, digest),
    "Docker-Content-Digest": digest,
  });
  ctx.events.publish("blob.committed", {
    repository: call.repository,
    digest,
    size,
    mounted,
    principal: principal.name,
    remoteAddress: call.remoteAddress,
    at: Date.now(),
  });
}
