// Repository names, tags and image references, following the OCI distribution spec's
// grammars and docker's reference rules (default registry, `library/` for official images).
// Pure: no I/O.
import { isDigest } from "./digest.js";

const PATH_COMPONENT = "[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*";
const NAME_PATTERN = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** Docker's limit on a full repository name. */
export const MAX_NAME_LENGTH = 255;

export const DEFAULT_REGISTRY = "docker.io";
const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

export class ImageReferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImageReferenceError";
  }
}

export function isValidRepositoryName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_NAME_LENGTH && NAME_PATTERN.test(name);
}

export function isValidTag(tag: string): boolean {
  return TAG_PATTERN.test(tag);
}

/** A manifest reference in a registry URL: a tag or a digest. */
export function isValidManifestReference(reference: string): boolean {
  return isValidTag(reference) || isDigest(reference);
}

/** The project of a repository: its first path component (`team/app/web` → `team`). */
export function projectOf(repository: string): string {
  const slash = repository.indexOf("/");
  return slash === -1 ? repository : repository.slice(0, slash);
}

export interface ImageReference {
  /** Registry host[:port], e.g. `docker.io`, `localhost:5000`. */
  readonly registry: string;
  /** Repository path within the registry, e.g. `library/alpine`. */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/**
 * Parses `[registry/]repository[:tag][@digest]` with docker's rules: the first component
 * is a registry when it contains `.` or `:` or is `localhost`; Docker Hub names without a
 * slash gain `library/`. A reference with neither tag nor digest is left without either
 * (callers choose whether `latest` applies).
 */
export function parseImageReference(text: string): ImageReference {
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw new ImageReferenceError(`invalid digest in reference "${text}"`);
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(":");
  if (lastColon > rest.lastIndexOf("/")) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!isValidTag(tag))
      throw new ImageReferenceError(`invalid tag "${tag}" in reference "${text}"`);
  }
  let registry = DEFAULT_REGISTRY;
  let repository = rest;
  const slash = rest.indexOf("/");
  const first = slash === -1 ? "" : rest.slice(0, slash);
  if (slash !== -1 && (first.includes(".") || first.includes(":") || first === "localhost")) {
    registry = first;
    repository = rest.slice(slash + 1);
  }
  if (DOCKER_HUB_ALIASES.has(registry)) {
    registry = DEFAULT_REGISTRY;
    if (!repository.includes("/")) repository = `library/${repository}`;
  }
  if (!isValidRepositoryName(repository)) {
    throw new ImageReferenceError(`invalid repository name "${repository}" in reference "${text}"`);
  }
  return { registry, repository, tag, digest };
}

/** The canonical string of a reference: `registry/repository[:tag][@digest]`. */
export function formatImageReference(ref: ImageReference): string {
  let out = `${ref.registry}/${ref.repository}`;
  if (ref.tag) out += `:${ref.tag}`;
  if (ref.digest) out += `@${ref.digest}`;
  return out;
}
