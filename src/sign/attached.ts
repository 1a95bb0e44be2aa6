// How signatures, attestations and SBOMs are attached to an image in a registry, in cosign's
// layouts (its `pkg/oci`): the tag scheme (`sha256-<hex>.sig` / `.att` / `.sbom` manifests
// whose layers carry the payloads) and OCI 1.1 referrers (a manifest with `subject`). Builds
// those manifests and reads candidate signatures back out of them. Pure: the bytes come in
// and go out; ./discover.ts does the registry I/O.
import { createHash } from "node:crypto";
import {
  type Descriptor,
  EMPTY_JSON_DIGEST,
  EMPTY_JSON_SIZE,
  type ImageManifest,
  MediaType,
  parseDigest,
} from "../oci/index.js";
import { BUNDLE_V03_MEDIA_TYPE } from "./bundle.js";

export const SIMPLE_SIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json";
export const DSSE_MEDIA_TYPE = "application/vnd.dsse.envelope.v1+json";
export const SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
export const PREDICATE_TYPE_ANNOTATION = "predicateType";
/** artifactType of a cosign signature stored as an OCI 1.1 referrer. */
export const COSIGN_SIGNATURE_ARTIFACT_TYPE = "application/vnd.dev.cosign.artifact.sig.v1+json";
/** artifactType of a cosign attestation stored as an OCI 1.1 referrer. */
export const COSIGN_ATTESTATION_ARTIFACT_TYPE = "application/vnd.dev.cosign.artifact.att.v1+json";
export const BUNDLE_CONTENT_ANNOTATION = "dev.sigstore.bundle.content";
export const BUNDLE_PREDICATE_ANNOTATION = "dev.sigstore.bundle.predicateType";

export type AttachmentKind = "sig" | "att" | "sbom";

/** `sha256-<hex>.sig` (or .att/.sbom): the tag cosign's tag scheme uses for `digest`. */
export function attachmentTag(digest: string, kind: AttachmentKind): string {
  const d = parseDigest(digest);
  return `${d.algorithm}-${d.encoded}.${kind}`;
}

/** One blob to upload with the manifest that lists it. */
export interface AttachmentBlob {
  descriptor: Descriptor;
  bytes: Buffer;
}

export function blobOf(
  bytes: Buffer,
  mediaType: string,
  annotations?: Record<string, string>,
): AttachmentBlob {
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  const descriptor: Descriptor = { mediaType, digest, size: bytes.length };
  if (annotations) descriptor.annotations = annotations;
  return { descriptor, bytes };
}

export const EMPTY_CONFIG: AttachmentBlob = {
  descriptor: { mediaType: MediaType.OciEmpty, digest: EMPTY_JSON_DIGEST, size: EMPTY_JSON_SIZE },
  bytes: Buffer.from("{}"),
};

/** The config cosign writes for a tag-scheme signature image: its layers as diff_ids. */
export function tagSchemeConfig(layers: Descriptor[]): AttachmentBlob {
  const config = {
    architecture: "",
    created: "0001-01-01T00:00:00Z",
    history: [{ created: "0001-01-01T00:00:00Z" }],
    os: "",
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
    config: {},
  };
  return blobOf(Buffer.from(JSON.stringify(config)), MediaType.OciConfig);
}

/** Same payload and same annotations (one payload may carry several signatures). */
function sameLayer(a: Descriptor, b: Descriptor): boolean {
  return (
    a.digest === b.digest &&
    JSON.stringify(a.annotations ?? {}) === JSON.stringify(b.annotations ?? {})
  );
}

/** A tag-scheme manifest (`.sig`/`.att`): the existing layers plus the new one, deduplicated. */
export function tagSchemeManifest(
  existing: Descriptor[],
  added: Descriptor,
): { manifest: ImageManifest; config: AttachmentBlob } {
  const layers = existing.filter((l) => !sameLayer(l, added)).concat(added);
  const config = tagSchemeConfig(layers);
  return {
    manifest: {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: config.descriptor,
      layers,
    },
    config,
  };
}

/** An OCI 1.1 referrer manifest with the empty config. */
export function referrerManifest(
  artifactType: string,
  layers: Descriptor[],
  subject: Descriptor,
  annotations?: Record<string, string>,
): ImageManifest {
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType,
    config: EMPTY_CONFIG.descriptor,
    layers,
    subject,
  };
  if (annotations) manifest.annotations = annotations;
  return manifest;
}

export type SignatureFormat = "simplesigning" | "dsse" | "bundle";

/** A layer that may hold a signature or attestation, as found in an attached manifest. */
export interface CandidateLayer {
  format: SignatureFormat;
  descriptor: Descriptor;
  /** The manifest that lists the layer, and how it was found. */
  manifestDigest: string;
  scheme: "tag" | "referrer";
}

/** The layers of an attached manifest that carry signatures or attestations. */
export function candidateLayers(
  manifest: ImageManifest,
  manifestDigest: string,
  scheme: "tag" | "referrer",
): CandidateLayer[] {
  const out: CandidateLayer[] = [];
  for (const layer of manifest.layers ?? []) {
    const format = formatOfLayer(layer.mediaType);
    if (format) out.push({ format, descriptor: layer, manifestDigest, scheme });
  }
  return out;
}

function formatOfLayer(mediaType: string): SignatureFormat | undefined {
  if (mediaType === SIMPLE_SIGNING_MEDIA_TYPE) return "simplesigning";
  if (mediaType === DSSE_MEDIA_TYPE) return "dsse";
  if (
    mediaType === BUNDLE_V03_MEDIA_TYPE ||
    mediaType.startsWith("application/vnd.dev.sigstore.bundle")
  )
    return "bundle";
  return undefined;
}

const ATTACHMENT_TAG = /^sha256-[0-9a-f]{64}(\.(sig|att|sbom))?$/;
const ATTACHMENT_ARTIFACT_TYPES = new Set([
  COSIGN_SIGNATURE_ARTIFACT_TYPE,
  COSIGN_ATTESTATION_ARTIFACT_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
]);

/**
 * Whether a manifest is itself a signature, attestation, SBOM or other attachment (which a
 * trust policy never gates: verifiers must be able to fetch them): it has a `subject`, is
 * stored under a `sha256-<hex>[.sig|.att|.sbom]` tag, or carries signature layers.
 */
export function isAttachmentArtifact(
  manifest: { subject?: Descriptor; artifactType?: string; layers?: Descriptor[] },
  tag?: string,
): boolean {
  if (manifest.subject) return true;
  if (tag !== undefined && ATTACHMENT_TAG.test(tag)) return true;
  if (manifest.artifactType && ATTACHMENT_ARTIFACT_TYPES.has(manifest.artifactType)) return true;
  return (manifest.layers ?? []).some((l) => formatOfLayer(l.mediaType) !== undefined);
}
