// The transport factory: turns a user's image string into an ImageSource or ImageDestination.
// `docker://REF` or a bare REF (a registry), `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`,
// `docker-archive:FILE[:REF|:@N]`. Also re-exports resolveImage, the one-platform resolver
// analyze/scan/save use. Never touches the network for file transports.
import { DirectoryTree } from "./blob-tree.js";
import { DockerArchiveSource } from "./docker-archive-source.js";
import { DockerArchiveWriter } from "./docker-archive-writer.js";
import { OciArchiveDestination, openOciArchiveSource } from "./oci-archive.js";
import { OciLayoutDestination, OciLayoutSource } from "./oci-layout.js";
import { openRegistryDestination, openRegistrySource, type RegistryOptions } from "./registry.js";
import { familiarName, parseTransportSpec, type TransportSpec } from "./spec.js";
import type { ImageDestination, ImageSource } from "./types.js";

export type { RegistryOptions } from "./registry.js";
export { hostPlatform, type ResolvedImage, readSmallBlob, resolveImage } from "./resolve.js";
export { parseTransportSpec, type TransportSpec } from "./spec.js";
export type * from "./types.js";

export interface TransportOptions {
  /** How to reach registries (TLS, credentials, retries); defaults read docker/podman files. */
  registry?: RegistryOptions;
}

/** Opens an image for reading, e.g. `openImageSource("oci:./layout:1.0")`. */
export async function openImageSource(
  spec: string | TransportSpec,
  options: TransportOptions = {},
): Promise<ImageSource> {
  const s = typeof spec === "string" ? parseTransportSpec(spec) : spec;
  switch (s.kind) {
    case "registry":
      return openRegistrySource(s.reference, options.registry ?? {}, s.text);
    case "oci":
      return OciLayoutSource.open(new DirectoryTree(s.path), s.tag, s.text);
    case "oci-archive":
      return openOciArchiveSource(s.path, s.tag, s.text);
    case "docker-archive":
      return DockerArchiveSource.open(s.path, { reference: s.reference, index: s.index }, s.text);
  }
}

/** Opens an image location for writing; call `close()` to finish (archives need it). */
export async function openImageDestination(
  spec: string | TransportSpec,
  options: TransportOptions = {},
): Promise<ImageDestination> {
  const s = typeof spec === "string" ? parseTransportSpec(spec) : spec;
  switch (s.kind) {
    case "registry":
      return openRegistryDestination(s.reference, options.registry ?? {}, s.text);
    case "oci":
      return OciLayoutDestination.open(s.path, s.tag, s.text);
    case "oci-archive":
      return OciArchiveDestination.open(s.path, s.tag, s.text);
    case "docker-archive": {
      const writer = await DockerArchiveWriter.create(s.path);
      const tags = s.reference ? [familiarName(parseRepoTag(s.reference))] : [];
      return writer.soleImageDestination(tags, s.text);
    }
  }
}

function parseRepoTag(text: string) {
  const spec = parseTransportSpec(`docker://${text}`);
  if (spec.kind !== "registry") throw new Error("unreachable");
  return spec.reference;
}
