// Manifest routes: GET/HEAD/PUT/DELETE by tag or digest. Stored bytes are served
// byte-for-byte with their own media type. A PUT is parsed and validated (oci/manifest.ts),
// every referenced blob and child manifest must already be in THIS repository, the digest
// in the URL (if any) must match the bytes, and the manifest, its references and its tag
// are stored in one transaction before 201 is sent.
//
// Content negotiation: the stored media type is served whatever `Accept` says (as CNCF
// distribution does for OCI manifests), with one exception: a manifest list or index asked
// for BY TAG by a client whose Accept lists single-image manifest types but no list or index
// type gets the linux/amd64 image of the list, if the repository has it. That is what old
// schema2-only clients need; by digest the client asked for exact bytes, so those are served.
import type { OutgoingHttpHeaders } from "node:http";
import type { Principal } from "../auth/access.js";
import {
  existingManifestDigests,
  findRepositoryId,
  getManifestByDigest,
  linkedBlobDigests,
  type ManifestToStore,
  MissingReferenceError,
  putManifest,
  resolveTag,
  type StoredManifest,
} from "../meta/index.js";
import {
  annotationsOf,
  baseMediaType,
  type Digest,
  digestOf,
  effectiveArtifactType,
  isIndexMediaType,
  isManifestMediaType,
  isValidTag,
  ManifestError,
  type ParsedManifest,
  parseManifest,
  placedDescriptors,
  referencedDescriptors,
  tryParseDigest,
} from "../oci/index.js";
import { authorize, repositoryTarget } from "./authorize.js";
import type { RegistryCall, RegistryContext } from "./context.js";
import { executeDeletion, planDeletion } from "./deletion.js";
import { RegistryError } from "./errors.js";
import { readLimitedBody, reply } from "./http.js";
import { CACHE_STATUS_HEADER } from "./pull-through.js";

type ManifestReference = { tag: string; digest?: undefined } | { tag?: undefined; digest: Digest };

function parseReference(reference: string): ManifestReference {
  if (reference.includes(":")) {
    const digest = tryParseDigest(reference);
    if (!digest)
      throw new RegistryError("DIGEST_INVALID", `invalid digest "${reference.slice(0, 80)}"`);
    return { digest };
  }
  if (!isValidTag(reference)) {
    throw new RegistryError("MANIFEST_INVALID", `invalid tag "${reference.slice(0, 140)}"`, {
      detail: { tag: reference.slice(0, 140) },
    });
  }
  return { tag: reference };
}

/**
 * A reference read by GET/HEAD. One that is neither a valid tag nor a digest names no
 * manifest, so it is answered `404 MANIFEST_UNKNOWN` as CNCF distribution does (a PUT of
 * such a reference stays a 400: the client sent something it can fix).
 */
function parsePullReference(reference: string): ManifestReference {
  try {
    return parseReference(reference);
  } catch (err) {
    if (err instanceof RegistryError) throw manifestUnknown(reference);
    throw err;
  }
}

function manifestUnknown(reference: string): RegistryError {
  return new RegistryError("MANIFEST_UNKNOWN", "manifest unknown", {
    detail: { reference: reference.slice(0, 200) },
  });
}

async function loadByDigest(
  ctx: RegistryContext,
  repository: string,
  digest: string,
): Promise<StoredManifest | undefined> {
  const cached = ctx.manifestCache.get(repository, digest);
  if (cached) return cached;
  const stored = await getManifestByDigest(ctx.db, repository, digest);
  if (stored) ctx.manifestCache.set(repository, stored);
  return stored;
}

export async function getManifest(ctx: RegistryContext, call: RegistryCall, reference: string) {
  const principal = await authorize(ctx, call, repositoryTarget(call.repository, "pull"));
  const ref = parsePullReference(reference);
  const proxied = await ctx.pullThrough?.manifest(
    ctx,
    call.repository,
    ref.tag !== undefined ? { tag: ref.tag } : { digest: ref.digest.value },
    principal,
  );
  if (proxied)
    call.res.setHeader(CACHE_STATUS_HEADER, proxied.kind === "local" ? proxied.status : "miss");
  if (proxied?.kind === "local" && proxied.status === "stale")
    call.res.setHeader("Warning", '110 - "Response is Stale"');
  if (proxied?.kind === "upstream") {
    await servePassThrough(ctx, call, principal, proxied, ref.tag);
    return;
  }
  const digest = ref.digest?.value ?? (await resolveTag(ctx.db, call.repository, ref.tag!));
  let manifest = digest ? await loadByDigest(ctx, call.repository, digest) : undefined;
  if (!manifest) throw manifestUnknown(reference);
  if (ref.tag !== undefined) manifest = await negotiate(ctx, call, manifest);
  await ctx.admission.beforeManifestPull?.({
    method: call.method === "HEAD" ? "HEAD" : "GET",
    repository: call.repository,
    digest: manifest.digest,
    tag: ref.tag,
    mediaType: manifest.mediaType,
    principal,
  });
  const headers: OutgoingHttpHeaders = {
    "Content-Type": manifest.mediaType,
    "Content-Length": manifest.content.length,
    "Docker-Content-Digest": manifest.digest,
    ETag: `"${manifest.digest}"`,
  };
  call.res.writeHead(200, headers);
  if (call.method === "HEAD") {
    call.res.end();
    return;
  }
  call.res.end(manifest.content);
  ctx.pullTimes.record(manifest.id);
  ctx.events.publish("manifest.pulled", {
    repository: call.repository,
    digest: manifest.digest,
    tag: ref.tag,
    mediaType: manifest.mediaType,
    principal: principal.name,
    remoteAddress: call.remoteAddress,
    at: Date.now(),
  });
}

/** A proxy-cache miss served from the upstream's bytes (the cache stores them meanwhile). */
async function servePassThrough(
  ctx: RegistryContext,
  call: RegistryCall,
  principal: Principal,
  m: { content: Buffer; mediaType: string; digest: string },
  tag: string | undefined,
): Promise<void> {
  // Pull admission (signatures required, vulnerability gate) as for a stored manifest.
  await ctx.admission.beforeManifestPull?.({
    method: call.method === "HEAD" ? "HEAD" : "GET",
    repository: call.repository,
    digest: m.digest,
    tag,
    mediaType: m.mediaType,
    principal,
    content: m.content,
  });
  call.res.writeHead(200, {
    "Content-Type": m.mediaType,
    "Content-Length": m.content.length,
    "Docker-Content-Digest": m.digest,
    ETag: `"${m.digest}"`,
  });
  if (call.method === "HEAD") {
    call.res.end();
    return;
  }
  call.res.end(m.content);
  ctx.events.publish("manifest.pulled", {
    repository: call.repository,
    digest: m.digest,
    tag,
    mediaType: m.mediaType,
    principal: principal.name,
    remoteAddress: call.remoteAddress,
    at: Date.now(),
  });
}

/** The manifest to serve for a tag given the client's Accept header (see module header). */
async function negotiate(
  ctx: RegistryContext,
  call: RegistryCall,
  manifest: StoredManifest,
): Promise<StoredManifest> {
  if (!isIndexMediaType(manifest.mediaType)) return manifest;
  const accepted = acceptedTypes(call.req.headers.accept);
  if (accepted.size === 0 || accepted.has("*/*")) return manifest;
  const wantsSingle = [...accepted].some((t) => isManifestMediaType(t) && !isIndexMediaType(t));
  const wantsIndex = [...accepted].some((t) => isIndexMediaType(t));
  if (!wantsSingle || wantsIndex) return manifest;
  const index = JSON.parse(manifest.content.toString("utf8")) as {
    manifests?: { digest?: string; platform?: { os?: string; architecture?: string } }[];
  };
  const child = index.manifests?.find(
    (m) => m.platform?.os === "linux" && m.platform?.architecture === "amd64",
  );
  if (!child?.digest) return manifest;
  return (await loadByDigest(ctx, call.repository, child.digest)) ?? manifest;
}

function acceptedTypes(header: string | undefined): Set<string> {
  const types = new Set<string>();
  if (!header) return types;
  for (const part of header.split(",")) {
    const type = baseMediaType(part);
    if (type) types.add(type);
  }
  return types;
}

export async function putManifestRoute(
  ctx: RegistryContext,
  call: RegistryCall,
  reference: string,
) {
  const principal = await authorize(ctx, call, repositoryTarget(call.repository, "push"));
  const ref = parseReference(reference);
  const bytes = await readLimitedBody(call.req, ctx.config.manifests.maxBytes);
  const digest = digestOf(bytes, ref.digest?.algorithm ?? "sha256");
  if (ref.digest && ref.digest.value !== digest) {
    throw new RegistryError("DIGEST_INVALID", "the manifest's digest does not match the URL", {
      detail: { expected: ref.digest.value, computed: digest },
    });
  }
  const parsed = parseOrReject(bytes, call.req.headers["content-type"]);
  await requireReferencesPresent(ctx, call.repository, parsed);
  await ctx.admission.beforeManifestPut?.({
    repository: call.repository,
    reference,
    tag: ref.tag,
    digest,
    manifest: parsed,
    bytes,
    principal,
  });
  const refs = referencedDescriptors(parsed);
  await storeManifest(ctx, {
    repository: call.repository,
    digest,
    mediaType: parsed.mediaType,
    content: bytes,
    artifactType: effectiveArtifactType(parsed),
    subjectDigest: parsed.subject?.digest,
    annotations: annotationsOf(parsed),
    references: [
      ...refs.blobs.map((d) => ({ kind: "blob" as const, digest: d.digest })),
      ...refs.manifests.map((d) => ({ kind: "manifest" as const, digest: d.digest })),
    ],
    tag: ref.tag,
    actor: { principal: principal.name, remoteAddress: call.remoteAddress },
  });
  const headers: OutgoingHttpHeaders = {
    Location: `/v2/${call.repository}/manifests/${digest}`,
    "Docker-Content-Digest": digest,
  };
  if (parsed.subject) headers["OCI-Subject"] = parsed.subject.digest;
  reply(call.res, 201, headers);
  publishPushed(ctx, call, principal, parsed, digest, bytes.length, ref.tag);
}

/**
 * putManifest, with a reference that vanished between the first check and the commit
 * (garbage collection took an unreferenced link meanwhile) answered as the spec's error.
 */
async function storeManifest(ctx: RegistryContext, m: ManifestToStore): Promise<void> {
  try {
    await putManifest(ctx.db, m);
  } catch (err) {
    if (!(err instanceof MissingReferenceError)) throw err;
    throw new RegistryError(
      "MANIFEST_BLOB_UNKNOWN",
      err.kind === "blob"
        ? "manifest references a blob unknown to this repository"
        : "index references a manifest unknown to this repository",
      { detail: { digest: err.digest } },
    );
  }
}

function parseOrReject(bytes: Buffer, contentType: string | undefined): ParsedManifest {
  try {
    return parseManifest(bytes, contentType);
  } catch (err) {
    if (err instanceof ManifestError) {
      throw new RegistryError("MANIFEST_INVALID", `manifest invalid: ${err.message}`);
    }
    throw err;
  }
}

/**
 * Every config/layer blob and child manifest must be in this repository, with the size the
 * descriptor declares (clients read exactly `size` bytes; a wrong size breaks pulls).
 */
async function requireReferencesPresent(
  ctx: RegistryContext,
  repository: string,
  parsed: ParsedManifest,
): Promise<void> {
  const placed = placedDescriptors(parsed);
  if (placed.length === 0) return;
  const repositoryId = await findRepositoryId(ctx.db, repository);
  const digestsOf = (kind: "blob" | "manifest") =>
    placed.filter((p) => p.kind === kind).map((p) => p.descriptor.digest);
  const none = new Map<string, number>();
  const blobs =
    repositoryId === undefined
      ? none
      : await linkedBlobDigests(ctx.db, repositoryId, digestsOf("blob"));
  const children =
    repositoryId === undefined
      ? none
      : await existingManifestDigests(ctx.db, repositoryId, digestsOf("manifest"));
  for (const { place, kind, descriptor } of placed) {
    const stored = (kind === "blob" ? blobs : children).get(descriptor.digest);
    if (stored === undefined) {
      throw new RegistryError(
        "MANIFEST_BLOB_UNKNOWN",
        kind === "blob"
          ? "manifest references a blob unknown to this repository"
          : "index references a manifest unknown to this repository",
        { detail: { digest: descriptor.digest } },
      );
    }
    if (stored !== descriptor.size) {
      throw new RegistryError(
        "MANIFEST_INVALID",
        `manifest invalid: ${place}.size is ${descriptor.size} but ${descriptor.digest} has ${stored} bytes`,
        { detail: { descriptor: place, digest: descriptor.digest, size: descriptor.size, stored } },
      );
    }
  }
}

function publishPushed(
  ctx: RegistryContext,
  call: RegistryCall,
  principal: Principal,
  parsed: ParsedManifest,
  digest: string,
  size: number,
  tag: string | undefined,
): void {
  ctx.events.publish("manifest.pushed", {
    repository: call.repository,
    digest,
    tag,
    mediaType: parsed.mediaType,
    size,
    artifactType: effectiveArtifactType(parsed),
    subject: parsed.subject?.digest,
    principal: principal.name,
    remoteAddress: call.remoteAddress,
    at: Date.now(),
  });
}

export async function deleteManifestRoute(
  ctx: RegistryContext,
  call: RegistryCall,
  reference: string,
) {
  if (!ctx.config.deleteEnabled) {
    throw new RegistryError("UNSUPPORTED", "deletion is disabled on this registry");
  }
  const principal = await authorize(ctx, call, repositoryTarget(call.repository, "delete"));
  const ref = parseReference(reference);
  const target = ref.tag !== undefined ? { tag: ref.tag } : { digest: ref.digest.value };
  const plan = await planDeletion(ctx.db, call.repository, target);
  if (!plan) throw manifestUnknown(reference);
  // /v2/ never forces: a manifest an index lists is refused (see registry/deletion.ts).
  await executeDeletion(ctx, plan, {
    principal: principal.name,
    remoteAddress: call.remoteAddress,
  });
  reply(call.res, 202, {});
}
