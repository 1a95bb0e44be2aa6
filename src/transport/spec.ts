// Parses the transport strings users type: `docker://REF` (and a bare REF), `oci:DIR[:TAG]`,
// `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:REF|:@N]`. Pure: no I/O. The first colon
// after a file transport separates the path from the tag, as in skopeo. A string that names a
// transport Berth does not have (`dir:`, `containers-storage:`, `SCHEME://`, or `WORD:` followed
// by something that is neither a tag nor a port) is an error naming the known transports, never
// a Docker Hub reference.
//
// Short names. A bare reference must name its registry: its first path component must be a
// host (contain `.` or `:`, or be `localhost`), the rule docker uses to tell a host from a
// namespace and podman's short-name policy builds on. A bare reference without one (`alpine:3.20`,
// `team/app`, `unknown-transport:foo`, which is syntactically also image `unknown-transport` tag
// `foo`) is refused: Berth does not guess a registry (Docker Hub or any other) for a typo or a
// transport it does not know. The error names the known transports and the qualified spelling
// (`docker.io/library/alpine:3.20`). An explicit `docker://` keeps docker's normalisation
// (`docker://alpine` is `docker.io/library/alpine`, as in skopeo): the transport was named, so
// nothing is ambiguous. Policy files and Dockerfiles may still use short names; they are read
// by their own code, not here.
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

/** The transports Berth reads and writes, as users write them. */
export const KNOWN_TRANSPORTS = ["docker://", "oci:", "oci-archive:", "docker-archive:"] as const;

/** containers/image transports that Berth does not implement (skopeo's other names). */
const FOREIGN_TRANSPORTS = new Set([
  "containers-storage",
  "dir",
  "docker-daemon",
  "ostree",
  "sif",
  "tarball",
]);

const TAG_AND_DIGEST = /^[\w][\w.-]{0,127}(?:@[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+)?$/;

/** The transport name `text` starts with when it is not one Berth knows, else undefined. */
export function unknownTransportOf(text: string): string | undefined {
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(text);
  if (scheme) return scheme[1] === "docker" ? undefined : `${scheme[1]}://`;
  const prefix = /^([a-z0-9][a-z0-9_-]*):(.*)$/s.exec(text);
  if (!prefix) return undefined;
  const [, name = "", rest = ""] = prefix;
  if ((FILE_TRANSPORTS as readonly string[]).includes(name)) return undefined;
  if (FOREIGN_TRANSPORTS.has(name)) return `${name}:`;
  // `host:port/repo` and `repo:tag[@digest]` stay registry references.
  if (/^\d+(?:\/|$)/.test(rest) || TAG_AND_DIGEST.test(rest)) return undefined;
  return `${name}:`;
}

export function parseTransportSpec(text: string): TransportSpec {
  const unknown = unknownTransportOf(text);
  if (unknown !== undefined) {
    throw new TransportSpecError(
      `"${text}" names the transport "${unknown}", which berth does not know; use ${KNOWN_TRANSPORTS.join(", ")} or a registry reference`,
    );
  }
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
  refuseShortName(text);
  return registrySpec(text, text);
}

/** Whether a bare reference starts with a registry host (docker's rule: `.`, `:` or localhost). */
export function namesRegistryHost(ref: string): boolean {
  const slash = ref.indexOf("/");
  if (slash === -1) return false;
  const first = ref.slice(0, slash);
  return first.includes(".") || first.includes(":") || first === "localhost";
}

/** Throws for a bare reference with no registry host (see "Short names" above). */
export function refuseShortName(text: string): void {
  if (namesRegistryHost(text)) return;
  const spec = registrySpec(text, text); // a malformed reference says so first
  if (spec.kind !== "registry") return;
  const { registry, repository, tag, digest } = spec.reference;
  const qualified = `${registry}/${repository}${tag ? `:${tag}` : ""}${digest ? `@${digest}` : ""}`;
  throw new TransportSpecError(
    `"${text}" names no registry host and no transport berth knows (${KNOWN_TRANSPORTS.join(", ")}); berth does not guess a registry for a short name: write e.g. ${qualified}`,
  );
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
