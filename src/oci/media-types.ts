// Media types of the OCI image spec and the Docker image formats that registries and
// clients exchange. Pure constants and predicates.

export const MediaType = {
  OciManifest: "application/vnd.oci.image.manifest.v1+json",
  OciIndex: "application/vnd.oci.image.index.v1+json",
  OciConfig: "application/vnd.oci.image.config.v1+json",
  OciLayer: "application/vnd.oci.image.layer.v1.tar",
  OciLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  OciLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  OciLayerNondistributable: "application/vnd.oci.image.layer.nondistributable.v1.tar",
  OciLayerNondistributableGzip: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
  OciEmpty: "application/vnd.oci.empty.v1+json",
  OciLayoutHeader: "application/vnd.oci.layout.header.v1+json",
  DockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  DockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  DockerConfig: "application/vnd.docker.container.image.v1+json",
  DockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  DockerForeignLayerGzip: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  DockerSchema1Signed: "application/vnd.docker.distribution.manifest.v1+prettyjws",
  DockerSchema1: "application/vnd.docker.distribution.manifest.v1+json",
} as const;

/** The empty JSON descriptor `{}` the OCI spec defines for artifacts without config. */
export const EMPTY_JSON_DIGEST =
  "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
export const EMPTY_JSON_SIZE = 2;

/** Manifest media types a registry stores and serves (single-image and index forms). */
export const IMAGE_MANIFEST_TYPES: readonly string[] = [
  MediaType.OciManifest,
  MediaType.DockerManifest,
];
export const INDEX_MANIFEST_TYPES: readonly string[] = [
  MediaType.OciIndex,
  MediaType.DockerManifestList,
];
export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  ...IMAGE_MANIFEST_TYPES,
  ...INDEX_MANIFEST_TYPES,
];

export function isIndexMediaType(mediaType: string): boolean {
  return INDEX_MANIFEST_TYPES.includes(mediaType);
}

export function isImageManifestMediaType(mediaType: string): boolean {
  return IMAGE_MANIFEST_TYPES.includes(mediaType);
}

export function isManifestMediaType(mediaType: string): boolean {
  return MANIFEST_MEDIA_TYPES.includes(mediaType);
}

export type LayerCompression = "none" | "gzip" | "zstd";

/** How a layer blob is compressed, judged from its media type. */
export function layerCompression(mediaType: string): LayerCompression {
  if (mediaType.endsWith("+zstd") || mediaType.endsWith(".zstd")) return "zstd";
  if (mediaType.endsWith("+gzip") || mediaType.endsWith(".gzip")) return "gzip";
  return "none";
}

/** Strips parameters (`; charset=utf-8`) and whitespace from a Content-Type value. */
export function baseMediaType(contentType: string): string {
  return contentType.split(";")[0]!.trim().toLowerCase();
}
