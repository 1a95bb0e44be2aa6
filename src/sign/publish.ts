// Writes signatures, attestations and SBOMs next to an image in a registry, in the scheme the
// caller picks: cosign's tag scheme (`sha256-<hex>.sig`/`.att`/`.sbom`, appending a layer to
// what is there) or an OCI 1.1 referrer (keeping the `sha256-<hex>` referrers tag index up to
// date when the registry does not process `subject` itself). Never overwrites another
// signature: layers are appended and deduplicated by digest.
import { Readable } from "node:stream";
import { RegistryError } from "../client/errors.js";
import type { RegistryClient } from "../client/registry-client.js";
import {
  type Descriptor,
  digestOf,
  type ImageIndex,
  MediaType,
  parseDigest,
  parseManifest,
} from "../oci/index.js";
import {
  type AttachmentBlob,
  type AttachmentKind,
  attachmentTag,
  EMPTY_CONFIG,
  referrerManifest,
  tagSchemeManifest,
} from "./attached.js";

export interface Published {
  /** The tag (tag scheme) or digest (referrer) the manifest was stored under. */
  reference: string;
  manifestDigest: string;
}

async function pushBlob(client: RegistryClient, repo: string, blob: AttachmentBlob): Promise<void> {
  if (await client.hasBlob(repo, blob.descriptor.digest)) return;
  await client.uploadBlob(repo, blob.descriptor, Readable.from([blob.bytes]));
}

async function existingLayers(
  client: RegistryClient,
  repo: string,
  tag: string,
): Promise<Descriptor[]> {
  try {
    const m = await client.getManifest(repo, tag);
    const parsed = parseManifest(m.bytes, m.mediaType);
    return parsed.kind === "image" ? parsed.image.layers : [];
  } catch (err) {
    if (err instanceof RegistryError && err.kind === "not-found") return [];
    throw err;
  }
}

/** Appends `layer` to the image's `.sig`/`.att`/`.sbom` manifest (created when absent). */
export async function attachByTag(
  client: RegistryClient,
  repo: string,
  subjectDigest: string,
  kind: AttachmentKind,
  layer: AttachmentBlob,
): Promise<Published> {
  const tag = attachmentTag(subjectDigest, kind);
  const { manifest, config } = tagSchemeManifest(
    await existingLayers(client, repo, tag),
    layer.descriptor,
  );
  await pushBlob(client, repo, layer);
  await pushBlob(client, repo, config);
  const bytes = Buffer.from(JSON.stringify(manifest));
  const digest = await client.putManifest(repo, tag, bytes, MediaType.OciManifest);
  return { reference: tag, manifestDigest: digest };
}

/** Stores an OCI 1.1 referrer of `subject` with the given layers. */
export async function attachAsReferrer(
  client: RegistryClient,
  repo: string,
  subject: Descriptor,
  artifactType: string,
  layers: AttachmentBlob[],
  annotations?: Record<string, string>,
): Promise<Published> {
  for (const blob of [EMPTY_CONFIG, ...layers]) await pushBlob(client, repo, blob);
  const manifest = referrerManifest(
    artifactType,
    layers.map((l) => l.descriptor),
    { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations,
  );
  const bytes = Buffer.from(JSON.stringify(manifest));
  const put = await client.putManifestAndSubject(
    repo,
    digestOf(bytes),
    bytes,
    MediaType.OciManifest,
  );
  if (!put.subjectProcessed) {
    await addToReferrersTag(client, repo, subject.digest, {
      mediaType: MediaType.OciManifest,
      digest: put.digest,
      size: bytes.length,
      artifactType,
      ...(annotations ? { annotations } : {}),
    });
  }
  return { reference: put.digest, manifestDigest: put.digest };
}

/** The referrers tag schema of OCI 1.1 for registries without the referrers API. */
async function addToReferrersTag(
  client: RegistryClient,
  repo: string,
  subjectDigest: string,
  entry: Descriptor,
): Promise<void> {
  const d = parseDigest(subjectDigest);
  const tag = `${d.algorithm}-${d.encoded}`;
  let manifests: Descriptor[] = [];
  try {
    const m = await client.getManifest(repo, tag);
    const parsed = parseManifest(m.bytes, m.mediaType);
    if (parsed.kind === "index") manifests = parsed.index.manifests;
  } catch (err) {
    if (!(err instanceof RegistryError && err.kind === "not-found")) throw err;
  }
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: manifests.filter((m) => m.digest !== entry.digest).concat(entry),
  };
  await client.putManifest(repo, tag, Buffer.from(JSON.stringify(index)), MediaType.OciIndex);
}
