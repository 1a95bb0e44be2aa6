// Finds what is attached to an image: signatures and attestations in every scheme cosign
// uses (the `sha256-<hex>.sig` / `.att` tags, OCI 1.1 referrers of the cosign artifact types,
// and Sigstore bundles as referrers), and for `berth tree` every other referrer and the
// `.sbom` tag. Talks to a registry only through the small AttachmentReader interface, so the
// CLI (over HTTP) and the registry (over its own metadata) share it. Reads at most
// MAX_ATTACHMENT_BYTES per blob; never follows a referrer into another repository.
import { type Descriptor, type ImageManifest, parseManifest } from "../oci/index.js";
import {
  type AttachmentKind,
  attachmentTag,
  COSIGN_ATTESTATION_ARTIFACT_TYPE,
  COSIGN_SIGNATURE_ARTIFACT_TYPE,
  candidateLayers,
} from "./attached.js";
import { BUNDLE_V03_MEDIA_TYPE } from "./bundle.js";
import type { SignatureEvidence } from "./verify.js";

export const MAX_ATTACHMENT_BYTES = 4 * 1024 * 1024;

export interface StoredManifest {
  bytes: Buffer;
  digest: string;
  mediaType: string;
}

/** Read access to one repository: what discovery needs and nothing more. */
export interface AttachmentReader {
  /** A manifest by tag or digest; undefined when there is none. */
  manifest(reference: string): Promise<StoredManifest | undefined>;
  /** A blob's bytes (small: signatures, payloads, bundles). */
  blob(descriptor: Descriptor): Promise<Buffer>;
  /** The referrers of a digest (the registry's API, or its tag fallback). */
  referrers(digest: string): Promise<Descriptor[]>;
}

const SIGNATURE_ARTIFACT_TYPES = new Set([
  COSIGN_SIGNATURE_ARTIFACT_TYPE,
  COSIGN_ATTESTATION_ARTIFACT_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
]);

function imageManifestOf(m: StoredManifest): ImageManifest | undefined {
  try {
    const parsed = parseManifest(m.bytes, m.mediaType);
    return parsed.kind === "image" ? parsed.image : undefined;
  } catch {
    return undefined;
  }
}

async function evidenceOf(
  reader: AttachmentReader,
  m: StoredManifest,
  scheme: "tag" | "referrer",
): Promise<SignatureEvidence[]> {
  const image = imageManifestOf(m);
  if (!image) return [];
  const out: SignatureEvidence[] = [];
  for (const layer of candidateLayers(image, m.digest, scheme)) {
    if (layer.descriptor.size > MAX_ATTACHMENT_BYTES) continue;
    out.push({ ...layer, bytes: await reader.blob(layer.descriptor) });
  }
  return out;
}

/** Every signature and attestation attached to `digest`, by both schemes. */
export async function discoverSignatures(
  reader: AttachmentReader,
  digest: string,
): Promise<SignatureEvidence[]> {
  const found: SignatureEvidence[] = [];
  for (const kind of ["sig", "att"] as const) {
    const m = await reader.manifest(attachmentTag(digest, kind));
    if (m) found.push(...(await evidenceOf(reader, m, "tag")));
  }
  for (const r of await reader.referrers(digest)) {
    if (!r.artifactType || !SIGNATURE_ARTIFACT_TYPES.has(r.artifactType)) continue;
    const m = await reader.manifest(r.digest);
    if (m) found.push(...(await evidenceOf(reader, m, "referrer")));
  }
  return found;
}

/** One thing attached to an image, for `berth tree`. */
export interface Attachment {
  scheme: "tag" | "referrer";
  kind: AttachmentKind | "referrer";
  /** The tag (tag scheme) or the referrer manifest's digest. */
  reference: string;
  manifestDigest: string;
  artifactType?: string;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** Everything attached to `digest`: the three cosign tags and every referrer. */
export async function listAttachments(
  reader: AttachmentReader,
  digest: string,
): Promise<Attachment[]> {
  const out: Attachment[] = [];
  for (const kind of ["sig", "att", "sbom"] as const) {
    const tag = attachmentTag(digest, kind);
    const m = await reader.manifest(tag);
    const image = m && imageManifestOf(m);
    if (m && image) {
      out.push({
        scheme: "tag",
        kind,
        reference: tag,
        manifestDigest: m.digest,
        layers: image.layers,
      });
    }
  }
  for (const r of await reader.referrers(digest)) {
    const m = await reader.manifest(r.digest);
    const image = m && imageManifestOf(m);
    out.push({
      scheme: "referrer",
      kind: "referrer",
      reference: r.digest,
      manifestDigest: r.digest,
      artifactType: r.artifactType ?? image?.artifactType ?? image?.config.mediaType,
      layers: image?.layers ?? [],
      annotations: r.annotations ?? image?.annotations,
    });
  }
  return out;
}
