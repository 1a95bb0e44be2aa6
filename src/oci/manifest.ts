// Manifest, index and config documents of the OCI image spec (and their Docker schema2
// equivalents): types, parsing and validation of untrusted bytes. Pure: no I/O. Never
// trusts a field it has not checked; errors name the field at fault.
import { DigestError, parseDigest } from "./digest.js";
import {
  baseMediaType,
  isImageManifestMediaType,
  isIndexMediaType,
  MediaType,
} from "./media-types.js";

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  "os.version"?: string;
  "os.features"?: string[];
  features?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  data?: string;
  artifactType?: string;
  platform?: Platform;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  "os.version"?: string;
  config?: {
    User?: string;
    ExposedPorts?: Record<string, object>;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Volumes?: Record<string, object>;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    StopSignal?: string;
    Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number };
  };
  rootfs: { type: string; diff_ids: string[] };
  history?: HistoryEntry[];
}

/** A validated manifest: exactly one of `image` or `index` is set. */
export type ParsedManifest =
  | { kind: "image"; mediaType: string; image: ImageManifest; subject?: Descriptor }
  | { kind: "index"; mediaType: string; index: ImageIndex; subject?: Descriptor };

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ManifestError";
  }
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Parses and validates manifest bytes. `contentType` is the media type the client declared
 * (the `Content-Type` of a PUT); when it is absent or generic the document's own
 * `mediaType` decides, and failing that its shape.
 */
export function parseManifest(bytes: Uint8Array, contentType?: string): ParsedManifest {
  const doc = parseJsonObject(bytes);
  if (doc.schemaVersion !== 2) {
    if (doc.schemaVersion === 1) {
      throw new ManifestError("Docker schema 1 manifests are not supported; push schema 2 or OCI");
    }
    throw new ManifestError("schemaVersion must be 2");
  }
  const mediaType = resolveMediaType(doc, contentType);
  if (isIndexMediaType(mediaType)) {
    const index = validateIndex(doc, mediaType);
    return { kind: "index", mediaType, index, subject: index.subject };
  }
  const image = validateImageManifest(doc, mediaType);
  return { kind: "image", mediaType, image, subject: image.subject };
}

/** Strict: a manifest with bytes that are not UTF-8 is refused, not decoded with U+FFFD. */
const UTF8 = new TextDecoder("utf-8", { fatal: true });

function parseJsonObject(bytes: Uint8Array): JsonObject {
  let text: string;
  let doc: unknown;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new ManifestError("manifest is not valid UTF-8");
  }
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ManifestError("manifest is not valid JSON");
  }
  if (!isObject(doc)) throw new ManifestError("manifest must be a JSON object");
  return doc;
}

function resolveMediaType(doc: JsonObject, contentType: string | undefined): string {
  const declared = contentType ? baseMediaType(contentType) : "";
  const own = doc.mediaType;
  if (own !== undefined && typeof own !== "string") {
    throw new ManifestError("mediaType must be a string");
  }
  const declaredIsManifest = isImageManifestMediaType(declared) || isIndexMediaType(declared);
  if (declaredIsManifest && own !== undefined && own !== declared) {
    throw new ManifestError(`mediaType "${own}" does not match Content-Type "${declared}"`);
  }
  const chosen = declaredIsManifest ? declared : (own ?? guessMediaType(doc));
  if (!isImageManifestMediaType(chosen) && !isIndexMediaType(chosen)) {
    throw new ManifestError(`unsupported manifest media type "${chosen}"`);
  }
  return chosen;
}

function guessMediaType(doc: JsonObject): string {
  if (Array.isArray(doc.manifests)) return MediaType.OciIndex;
  if (isObject(doc.config)) return MediaType.OciManifest;
  throw new ManifestError("cannot tell the manifest's media type: set Content-Type or mediaType");
}

function validateImageManifest(doc: JsonObject, mediaType: string): ImageManifest {
  if (doc.manifests !== undefined) {
    throw new ManifestError(`an image manifest (${mediaType}) must not have "manifests"`);
  }
  const config = validateDescriptor(doc.config, "config");
  if (!Array.isArray(doc.layers)) throw new ManifestError("layers must be an array");
  const layers = doc.layers.map((layer, i) => validateDescriptor(layer, `layers[${i}]`));
  if (mediaType === MediaType.DockerManifest && layers.length === 0) {
    throw new ManifestError("a Docker schema 2 manifest must have at least one layer");
  }
  const manifest: ImageManifest = { schemaVersion: 2, mediaType, config, layers };
  assignCommonFields(manifest, doc);
  return manifest;
}

function validateIndex(doc: JsonObject, mediaType: string): ImageIndex {
  if (!Array.isArray(doc.manifests)) throw new ManifestError("manifests must be an array");
  if (doc.config !== undefined || doc.layers !== undefined) {
    throw new ManifestError(`an index (${mediaType}) must not have "config" or "layers"`);
  }
  const manifests = doc.manifests.map((m, i) => validateDescriptor(m, `manifests[${i}]`));
  const index: ImageIndex = { schemaVersion: 2, mediaType, manifests };
  assignCommonFields(index, doc);
  return index;
}

function assignCommonFields(target: ImageManifest | ImageIndex, doc: JsonObject): void {
  if (doc.subject !== undefined) target.subject = validateDescriptor(doc.subject, "subject");
  if (doc.artifactType !== undefined) {
    target.artifactType = validateMediaTypeField(doc.artifactType, "artifactType");
  }
  if (doc.annotations !== undefined) {
    target.annotations = validateAnnotations(doc.annotations, "annotations");
  }
}

const MEDIA_TYPE_GRAMMAR =
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

function validateMediaTypeField(value: unknown, field: string): string {
  if (typeof value !== "string" || !MEDIA_TYPE_GRAMMAR.test(value)) {
    throw new ManifestError(`${field} must be a media type (type/subtype)`);
  }
  return value;
}

/** Validates one descriptor; `field` names it in errors (`layers[2].digest`). */
export function validateDescriptor(value: unknown, field: string): Descriptor {
  if (!isObject(value)) throw new ManifestError(`${field} must be an object`);
  const mediaType = validateMediaTypeField(value.mediaType, `${field}.mediaType`);
  if (typeof value.digest !== "string") throw new ManifestError(`${field}.digest is required`);
  try {
    parseDigest(value.digest);
  } catch (err) {
    if (err instanceof DigestError) throw new ManifestError(`${field}.digest: ${err.message}`);
    throw err;
  }
  const size = value.size;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw new ManifestError(`${field}.size must be a non-negative integer`);
  }
  const descriptor: Descriptor = { mediaType, digest: value.digest, size };
  if (value.urls !== undefined) {
    if (!Array.isArray(value.urls) || !value.urls.every((u) => typeof u === "string")) {
      throw new ManifestError(`${field}.urls must be an array of strings`);
    }
    descriptor.urls = value.urls as string[];
  }
  if (value.annotations !== undefined) {
    descriptor.annotations = validateAnnotations(value.annotations, `${field}.annotations`);
  }
  if (value.artifactType !== undefined) {
    descriptor.artifactType = validateMediaTypeField(value.artifactType, `${field}.artifactType`);
  }
  if (value.platform !== undefined) {
    descriptor.platform = validatePlatform(value.platform, `${field}.platform`);
  }
  if (value.data !== undefined) {
    if (typeof value.data !== "string") throw new ManifestError(`${field}.data must be base64`);
    descriptor.data = value.data;
  }
  return descriptor;
}

function validateAnnotations(value: unknown, field: string): Record<string, string> {
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === "string")) {
    throw new ManifestError(`${field} must map strings to strings`);
  }
  return value as Record<string, string>;
}

function validatePlatform(value: unknown, field: string): Platform {
  if (!isObject(value)) throw new ManifestError(`${field} must be an object`);
  if (typeof value.architecture !== "string" || typeof value.os !== "string") {
    throw new ManifestError(`${field} needs string "architecture" and "os"`);
  }
  if (value.variant !== undefined && typeof value.variant !== "string") {
    throw new ManifestError(`${field}.variant must be a string`);
  }
  return value as unknown as Platform;
}

/** Every descriptor a manifest points at that must exist in the same repository. */
export function referencedDescriptors(parsed: ParsedManifest): {
  blobs: Descriptor[];
  manifests: Descriptor[];
} {
  if (parsed.kind === "index") return { blobs: [], manifests: parsed.index.manifests };
  // Layers with `urls` are foreign (non-distributable) and may legitimately live elsewhere.
  const layers = parsed.image.layers.filter((l) => !(l.urls && l.urls.length > 0));
  return { blobs: [parsed.image.config, ...layers], manifests: [] };
}

/**
 * Every descriptor the manifest requires the registry to hold, each with its place in the
 * document (`config`, `layers[2]`, `manifests[0]`) for error messages. Foreign layers (with
 * `urls`) are left out, as in referencedDescriptors.
 */
export function placedDescriptors(
  parsed: ParsedManifest,
): { place: string; kind: "blob" | "manifest"; descriptor: Descriptor }[] {
  if (parsed.kind === "index") {
    return parsed.index.manifests.map((descriptor, i) => ({
      place: `manifests[${i}]`,
      kind: "manifest" as const,
      descriptor,
    }));
  }
  const placed = [{ place: "config", kind: "blob" as const, descriptor: parsed.image.config }];
  parsed.image.layers.forEach((descriptor, i) => {
    if (!(descriptor.urls && descriptor.urls.length > 0)) {
      placed.push({ place: `layers[${i}]`, kind: "blob" as const, descriptor });
    }
  });
  return placed;
}

/** The artifact type the referrers API reports: `artifactType`, else the config type. */
export function effectiveArtifactType(parsed: ParsedManifest): string | undefined {
  if (parsed.kind === "index") return parsed.index.artifactType;
  return parsed.image.artifactType ?? parsed.image.config.mediaType;
}

export function annotationsOf(parsed: ParsedManifest): Record<string, string> | undefined {
  return parsed.kind === "index" ? parsed.index.annotations : parsed.image.annotations;
}

/** `os/arch[/variant]` as users and tools write platforms. */
export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

export function parsePlatform(text: string): Platform {
  const parts = text.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p.length === 0)) {
    throw new ManifestError(`platform must be os/arch[/variant], got "${text}"`);
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return variant ? { os, architecture, variant } : { os, architecture };
}
