// Parses the transport strings users type: `docker://REF` (and a bare REF), `oci:DIR[:TAG]`,
// `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:REF|:@N]`. Pure: no I/O. The first colon
// after a file transport separates the path from the tag, as in skopeo.
import { type ImageReference, parseImageReference } from "../oci/index.js";

export type TransportSpec =
  | { kind: "registry"; reference: ImageReference; text: string }
  | { kind: "oci"; path: string; tag?: string; text: string }
  | { kind: "oci-archive"; path: string; tag?: string; text: string }
  | {
      kind: "docker-archive";
      path: string;
      /** `name:tag` picking an image by its RepoTags entry. */
      reference?: string;
      /** `@N`: the N-th image of manifest.json. */
      index?: number;
      text: string;
    };

export class TransportSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TransportSpecError";
  }
}

const FILE_TRANSPORTS = ["oci", "oci-archive", "docker-archive"] as const;

export function parseTransportSpec(text: string): TransportSpec {
  if (text.startsWith("docker://")) return registrySpec(text.slice("docker://".length), text);
  for (const kind of FILE_TRANSPORTS) {
    if (!text.startsWith(`${kind}:`)) continue;
    const rest = text.slice(kind.length + 1);
    const colon = rest.indexOf(":");
    const path = colon === -1 ? rest : rest.slice(0, colon);
    const suffix = colon === -1 ? undefined : rest.slice(colon + 1);
    if (path === "") throw new TransportSpecError(`"${text}" names no path`);
    if (kind === "docker-archive") return dockerArchiveSpec(path, suffix, text);
    if (suffix !== undefined && suffix === "") {
      throw new TransportSpecError(`"${text}" has an empty tag`);
    }
    return { kind, path, tag: suffix, text };
  }
  return registrySpec(text, text);
}

function registrySpec(ref: string, text: string): TransportSpec {
  try {
    return { kind: "registry", reference: parseImageReference(ref), text };
  } catch (err) {
    throw new TransportSpecError(err instanceof Error ? err.message : String(err));
  }
}

function dockerArchiveSpec(path: string, suffix: string | undefined, text: string): TransportSpec {
  if (suffix === undefined || suffix === "") return { kind: "docker-archive", path, text };
  if (suffix.startsWith("@")) {
    const index = Number(suffix.slice(1));
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new TransportSpecError(`"${text}": @N must be a non-negative image index`);
    }
    return { kind: "docker-archive", path, index, text };
  }
  return { kind: "docker-archive", path, reference: suffix, text };
}

/** The docker "familiar" name of a reference, as `docker save` writes it in RepoTags. */
export function familiarName(ref: ImageReference): string {
  let name = `${ref.registry}/${ref.repository}`;
  if (ref.registry === "docker.io") {
    name = ref.repository.startsWith("library/") ? ref.repository.slice(8) : ref.repository;
  }
  return `${name}:${ref.tag ?? "latest"}`;
}
