// What kind of thing a manifest is, in the words a registry user reads: an image, an index
// (multi-platform), a signature, an attestation, an SBOM, or some other artifact. Decided
// from the manifest media type, its artifact type (or config media type) and its tags
// (cosign's `sha256-<hex>.sig|.att|.sbom` tag scheme). Shared by the management API and
// the web UI's tables. Pure: imports nothing, no I/O.

export type ArtifactKind = "image" | "index" | "signature" | "attestation" | "sbom" | "other";

const INDEX_TYPES = new Set([
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
]);
const IMAGE_CONFIG_TYPES = new Set([
  "application/vnd.oci.image.config.v1+json",
  "application/vnd.docker.container.image.v1+json",
]);
const SIGNATURE_TYPES = new Set([
  "application/vnd.dev.cosign.artifact.sig.v1+json",
  "application/vnd.dev.sigstore.bundle.v0.3+json",
  "application/vnd.dev.sigstore.bundle+json;version=0.3",
  "application/vnd.cncf.notary.signature",
]);
const ATTESTATION_TYPES = new Set([
  "application/vnd.dev.cosign.artifact.att.v1+json",
  "application/vnd.in-toto+json",
  "application/vnd.dsse.envelope.v1+json",
]);
const SBOM_TYPES = new Set([
  "application/vnd.cyclonedx+json",
  "application/vnd.cyclonedx+xml",
  "application/spdx+json",
  "text/spdx",
  "application/vnd.dev.cosign.artifact.sbom.v1+json",
]);
const TAG_SCHEME = /^sha256-[a-f0-9]{64}\.(sig|att|sbom)$/;

export interface KindFacts {
  readonly mediaType: string;
  /** artifactType, or for an image manifest without one its config media type. */
  readonly artifactType: string | null | undefined;
  readonly tags?: readonly string[];
}

export function artifactKind(facts: KindFacts): ArtifactKind {
  if (INDEX_TYPES.has(facts.mediaType)) return "index";
  const type = (facts.artifactType ?? "").toLowerCase();
  if (SIGNATURE_TYPES.has(type)) return "signature";
  if (ATTESTATION_TYPES.has(type)) return "attestation";
  if (SBOM_TYPES.has(type) || type.includes("cyclonedx") || type.includes("spdx")) return "sbom";
  for (const tag of facts.tags ?? []) {
    const scheme = TAG_SCHEME.exec(tag)?.[1];
    if (scheme === "sig") return "signature";
    if (scheme === "att") return "attestation";
    if (scheme === "sbom") return "sbom";
  }
  if (type === "" || IMAGE_CONFIG_TYPES.has(type)) return "image";
  return "other";
}

/** The digest a tag-scheme attachment (`sha256-<hex>.sig`) belongs to, if the tag is one. */
export function tagSchemeSubject(tag: string): string | undefined {
  const match = TAG_SCHEME.exec(tag);
  return match ? `sha256:${tag.slice(7, 71)}` : undefined;
}
