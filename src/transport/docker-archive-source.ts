// Reads `docker save` archives (legacy `<id>/layer.tar` layout and the docker 25+ layout with
// `blobs/sha256/`), and `skopeo copy … docker-archive:` output, as an ImageSource. When the
// archive is also an OCI layout (docker 25+, `berth save`: index.json listing the original
// manifests), the image is read from that OCI view, so the original manifest (or the whole
// index) and its digest come back unchanged. Otherwise the archive holds no registry manifest
// and one is synthesised (OCI media types, layer compression sniffed from each layer's first
// bytes): the same archive always yields the same manifest digest.
// Reads through TarIndex: never unpacks the archive, never buffers a layer.
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  type Descriptor,
  digestOf,
  type ImageConfig,
  type ImageManifest,
  MediaType,
  parseImageReference,
  parseManifest,
} from "../oci/index.js";
import { ArchiveTree, type BlobTree } from "./blob-tree.js";
import { blobPath, OciLayoutSource, parseLayoutIndex } from "./oci-layout.js";
import { familiarName } from "./spec.js";
import type { ImageSource, ManifestBytes } from "./types.js";

export class DockerArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DockerArchiveError";
  }
}

export interface ArchiveImageEntry {
  readonly Config: string;
  readonly RepoTags: string[];
  readonly Layers: string[];
}

/** The images listed in an archive's manifest.json. */
export async function readArchiveManifest(tree: BlobTree): Promise<ArchiveImageEntry[]> {
  if (!(await tree.exists("manifest.json"))) {
    throw new DockerArchiveError(`${tree.location} is not a docker archive (no manifest.json)`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse((await tree.readSmall("manifest.json")).toString("utf8"));
  } catch {
    throw new DockerArchiveError(`${tree.location}: manifest.json is not valid JSON`);
  }
  if (!Array.isArray(doc) || doc.length === 0) {
    throw new DockerArchiveError(`${tree.location}: manifest.json lists no images`);
  }
  return doc.map((entry, i) => {
    const e = entry as Partial<ArchiveImageEntry>;
    if (typeof e.Config !== "string" || !Array.isArray(e.Layers)) {
      throw new DockerArchiveError(
        `${tree.location}: manifest.json entry ${i} lacks Config/Layers`,
      );
    }
    return { Config: e.Config, RepoTags: e.RepoTags ?? [], Layers: e.Layers };
  });
}

/** Chooses an image of the archive by RepoTags name, by index, or the only one. */
export function selectArchiveImage(
  entries: ArchiveImageEntry[],
  where: string,
  select: { reference?: string; index?: number },
): ArchiveImageEntry {
  if (select.index !== undefined) {
    const found = entries[select.index];
    if (!found) throw new DockerArchiveError(`${where} has no image @${select.index}`);
    return found;
  }
  if (select.reference !== undefined) {
    const wanted = normalizeTag(select.reference);
    const found = entries.find((e) => e.RepoTags.some((t) => normalizeTag(t) === wanted));
    if (!found) throw new DockerArchiveError(`${where} has no image named ${select.reference}`);
    return found;
  }
  if (entries.length === 1 && entries[0]) return entries[0];
  throw new DockerArchiveError(
    `${where} holds ${entries.length} images; name one with :NAME:TAG or :@N`,
  );
}

function normalizeTag(name: string): string {
  try {
    return familiarName(parseImageReference(name));
  } catch {
    return name;
  }
}

export class DockerArchiveSource implements ImageSource {
  private readonly paths = new Map<string, string>();
  private manifest!: ManifestBytes;

  private constructor(
    readonly description: string,
    private readonly tree: BlobTree,
  ) {}

  static async open(
    path: string,
    select: { reference?: string; index?: number },
    description: string,
  ): Promise<ImageSource> {
    const tree = await ArchiveTree.open(path);
    return DockerArchiveSource.fromTree(tree, select, description);
  }

  /** The selected image: from the OCI view when the archive has one, else synthesised. */
  static async fromTree(
    tree: BlobTree,
    select: { reference?: string; index?: number },
    description: string,
  ): Promise<ImageSource> {
    const entries = await readArchiveManifest(tree);
    const entry = selectArchiveImage(entries, tree.location, select);
    const original = await ociViewOf(tree, entry, select.reference);
    if (original) return OciLayoutSource.forEntry(tree, original, description);
    const source = new DockerArchiveSource(description, tree);
    await source.synthesize(entry);
    return source;
  }

  private async synthesize(entry: ArchiveImageEntry): Promise<void> {
    const configBytes = await this.tree.readSmall(entry.Config);
    const configDigest = digestOf(configBytes);
    this.paths.set(configDigest, entry.Config);
    const config = parseConfig(configBytes, this.tree.location);
    const layers: Descriptor[] = [];
    for (const [i, layerPath] of entry.Layers.entries()) {
      layers.push(await this.describeLayer(layerPath, config.rootfs.diff_ids[i]));
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configDigest, size: configBytes.length },
      layers,
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    this.manifest = { bytes, digest: digestOf(bytes), mediaType: MediaType.OciManifest };
  }

  private async describeLayer(path: string, diffId: string | undefined): Promise<Descriptor> {
    const size = await this.tree.size(path);
    const compression = await sniffCompression(await this.tree.stream(path));
    const named = /(?:^|\/)blobs\/sha256\/([a-f0-9]{64})$/.exec(path);
    let digest: string;
    if (named) digest = `sha256:${named[1]}`;
    else if (compression === "none" && diffId) digest = diffId;
    else digest = await hashStream(await this.tree.stream(path));
    this.paths.set(digest, path);
    const mediaType =
      compression === "gzip"
        ? MediaType.OciLayerGzip
        : compression === "zstd"
          ? MediaType.OciLayerZstd
          : MediaType.OciLayer;
    return { mediaType, digest, size };
  }

  async getManifest(digest?: string): Promise<ManifestBytes> {
    if (digest !== undefined && digest !== this.manifest.digest) {
      throw new DockerArchiveError(`${this.tree.location} has no manifest ${digest}`);
    }
    return this.manifest;
  }

  async getBlob(descriptor: Descriptor): Promise<Readable> {
    const path = this.paths.get(descriptor.digest);
    if (!path)
      throw new DockerArchiveError(`${this.tree.location} has no blob ${descriptor.digest}`);
    return this.tree.stream(path);
  }

  async close(): Promise<void> {}
}

const IMAGE_NAME_ANNOTATION = "io.containerd.image.name";

/**
 * The index.json entry of the archive's OCI view that holds `entry` (same config): the image
 * manifest, or an index with it among its children. An index some of whose children are not in
 * the archive (docker saves only the platforms it has) yields that child alone. Entries named
 * like the selection (or the entry's RepoTags) win. Undefined when there is no usable OCI view.
 */
async function ociViewOf(
  tree: BlobTree,
  entry: ArchiveImageEntry,
  reference: string | undefined,
): Promise<Descriptor | undefined> {
  if (!(await tree.exists("index.json"))) return undefined;
  let index: ReturnType<typeof parseLayoutIndex>;
  try {
    index = parseLayoutIndex(await tree.readSmall("index.json"), tree.location);
  } catch {
    return undefined;
  }
  const configDigest = digestOf(await tree.readSmall(entry.Config));
  const wanted = new Set(
    (reference !== undefined ? [reference] : entry.RepoTags).map((n) => normalizeTag(n)),
  );
  let fallback: Descriptor | undefined;
  for (const top of index.manifests) {
    const holding = await holdingDescriptor(tree, top, configDigest);
    if (!holding) continue;
    const name = top.annotations?.[IMAGE_NAME_ANNOTATION];
    if (name !== undefined && wanted.has(normalizeTag(name))) return holding;
    fallback ??= holding;
  }
  return fallback;
}

/** `top` itself, or the child of it, that holds the image with `configDigest`; verified. */
async function holdingDescriptor(
  tree: BlobTree,
  top: Descriptor,
  configDigest: string,
): Promise<Descriptor | undefined> {
  const parsed = await readViewManifest(tree, top);
  if (!parsed) return undefined;
  if (parsed.kind === "image") {
    return parsed.image.config.digest === configDigest ? top : undefined;
  }
  let match: Descriptor | undefined;
  let complete = true;
  for (const child of parsed.index.manifests) {
    const childParsed = await readViewManifest(tree, child);
    if (!childParsed) complete = false;
    else if (childParsed.kind === "image" && childParsed.image.config.digest === configDigest)
      match = child;
  }
  if (!match) return undefined;
  return complete ? top : match;
}

async function readViewManifest(tree: BlobTree, descriptor: Descriptor) {
  let path: string;
  try {
    path = blobPath(descriptor.digest);
  } catch {
    return undefined;
  }
  if (!(await tree.exists(path))) return undefined;
  const bytes = await tree.readSmall(path);
  if (bytes.length !== descriptor.size || digestOf(bytes) !== descriptor.digest) return undefined;
  try {
    return parseManifest(bytes, descriptor.mediaType);
  } catch {
    return undefined;
  }
}

function parseConfig(bytes: Buffer, where: string): ImageConfig {
  try {
    const config = JSON.parse(bytes.toString("utf8")) as ImageConfig;
    if (!config.rootfs || !Array.isArray(config.rootfs.diff_ids)) throw new Error("no rootfs");
    return config;
  } catch {
    throw new DockerArchiveError(`${where}: an image config is not valid (no rootfs.diff_ids)`);
  }
}

async function sniffCompression(stream: Readable): Promise<"gzip" | "zstd" | "none"> {
  let head = Buffer.alloc(0);
  for await (const chunk of stream) {
    head = Buffer.concat([head, chunk as Buffer]);
    if (head.length >= 4) break;
  }
  stream.destroy();
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return "zstd";
  return "none";
}

async function hashStream(stream: Readable): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(
    stream,
    new Writable({
      write(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        done();
      },
    }),
  );
  return `sha256:${hash.digest("hex")}`;
}
