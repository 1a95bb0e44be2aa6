// The OCI image layout (https://github.com/opencontainers/image-spec/blob/main/image-layout.md)
// as an image source (a directory or, through ArchiveTree, an oci-archive tar) and as a
// destination directory. Tags are the `org.opencontainers.image.ref.name` annotation in
// index.json, as skopeo and buildah write them. Blobs are written to a temp file, verified
// while streaming and renamed into place: a layout never holds a blob whose bytes do not
// match its name.
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { VerifyingStream } from "../client/verifying-stream.js";
import {
  type Descriptor,
  digestOf,
  type ImageIndex,
  MediaType,
  parseDigest,
  parseManifest,
  validateDescriptor,
} from "../oci/index.js";
import type { BlobTree } from "./blob-tree.js";
import type { ImageDestination, ImageSource, ManifestBytes, ManifestPlacement } from "./types.js";

export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";

export class LayoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LayoutError";
  }
}

export function blobPath(digest: string): string {
  const d = parseDigest(digest);
  return `blobs/${d.algorithm}/${d.encoded}`;
}

/** Parses a layout's index.json (an OCI image index). */
export function parseLayoutIndex(bytes: Buffer, where: string): ImageIndex {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new LayoutError(`${where}/index.json is not valid JSON`);
  }
  const manifests = (doc as { manifests?: unknown }).manifests;
  if (!Array.isArray(manifests)) throw new LayoutError(`${where}/index.json has no manifests`);
  return {
    ...(doc as ImageIndex),
    schemaVersion: 2,
    manifests: manifests.map((m, i) => validateDescriptor(m, `index.json manifests[${i}]`)),
  };
}

/** Picks the index.json entry a tag names; without a tag, the only entry. */
export function selectLayoutEntry(index: ImageIndex, tag: string | undefined, where: string) {
  if (tag !== undefined) {
    const found = index.manifests.find((m) => m.annotations?.[REF_NAME_ANNOTATION] === tag);
    if (!found) throw new LayoutError(`${where} has no image tagged "${tag}"`);
    return found;
  }
  if (index.manifests.length === 1 && index.manifests[0]) return index.manifests[0];
  if (index.manifests.length === 0) throw new LayoutError(`${where} holds no images`);
  const names = index.manifests
    .map((m) => m.annotations?.[REF_NAME_ANNOTATION])
    .filter((n): n is string => n !== undefined);
  throw new LayoutError(
    `${where} holds ${index.manifests.length} images; name one with :TAG (${names.join(", ") || "none are tagged"})`,
  );
}

export class OciLayoutSource implements ImageSource {
  private constructor(
    readonly description: string,
    private readonly tree: BlobTree,
    private readonly top: Descriptor,
  ) {}

  static async open(tree: BlobTree, tag: string | undefined, description: string) {
    if (!(await tree.exists("index.json"))) {
      throw new LayoutError(`${tree.location} is not an OCI image layout (no index.json)`);
    }
    const index = parseLayoutIndex(await tree.readSmall("index.json"), tree.location);
    return new OciLayoutSource(description, tree, selectLayoutEntry(index, tag, tree.location));
  }

  /** The image (or index) `top` describes, read from `tree` (a docker archive's OCI view). */
  static forEntry(tree: BlobTree, top: Descriptor, description: string): OciLayoutSource {
    return new OciLayoutSource(description, tree, top);
  }

  async getManifest(digest?: string): Promise<ManifestBytes> {
    const wanted = digest ?? this.top.digest;
    const bytes = await this.tree.readSmall(blobPath(wanted));
    if (digestOf(bytes, parseDigest(wanted).algorithm) !== wanted) {
      throw new LayoutError(`${this.tree.location}: manifest ${wanted} does not match its digest`);
    }
    const declared = digest === undefined ? this.top.mediaType : undefined;
    return { bytes, digest: wanted, mediaType: declared ?? parseManifest(bytes).mediaType };
  }

  async getBlob(descriptor: Descriptor): Promise<Readable> {
    return this.tree.stream(blobPath(descriptor.digest));
  }

  async close(): Promise<void> {}
}

/** Writes into an OCI layout directory, creating it when missing; index.json on close. */
export class OciLayoutDestination implements ImageDestination {
  private index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };

  private constructor(
    readonly description: string,
    readonly directory: string,
    private readonly tag: string | undefined,
  ) {}

  static async open(directory: string, tag: string | undefined, description: string) {
    const dest = new OciLayoutDestination(description, directory, tag);
    await mkdir(join(directory, "blobs", "sha256"), { recursive: true });
    await writeFile(join(directory, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    try {
      dest.index = parseLayoutIndex(await readFile(join(directory, "index.json")), directory);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    return dest;
  }

  async hasBlob(descriptor: Descriptor): Promise<boolean> {
    try {
      const info = await stat(join(this.directory, blobPath(descriptor.digest)));
      return info.size === descriptor.size;
    } catch {
      return false;
    }
  }

  async putBlob(descriptor: Descriptor, content: Readable): Promise<void> {
    const target = join(this.directory, blobPath(descriptor.digest));
    await mkdir(join(target, ".."), { recursive: true });
    const temp = `${target}.tmp-${randomBytes(6).toString("hex")}`;
    try {
      const verify = new VerifyingStream({ digest: descriptor.digest, size: descriptor.size });
      await pipeline(content, verify, createWriteStream(temp, { flush: true }));
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  async putManifest(
    manifest: ManifestBytes,
    tag?: string,
    placement?: ManifestPlacement,
  ): Promise<void> {
    const target = join(this.directory, blobPath(manifest.digest));
    await writeFile(target, manifest.bytes, { flush: true });
    if ((placement ?? (tag ? "top" : "child")) !== "top") return;
    const name = tag ?? this.tag;
    const entry: Descriptor = {
      mediaType: manifest.mediaType,
      digest: manifest.digest,
      size: manifest.bytes.length,
    };
    if (name) entry.annotations = { [REF_NAME_ANNOTATION]: name };
    const others = this.index.manifests.filter((m) =>
      name ? m.annotations?.[REF_NAME_ANNOTATION] !== name : m.digest !== manifest.digest,
    );
    this.index = { ...this.index, manifests: [...others, entry] };
  }

  async close(): Promise<void> {
    const path = join(this.directory, "index.json");
    const temp = `${path}.tmp-${randomBytes(6).toString("hex")}`;
    await writeFile(temp, JSON.stringify(this.index), { flush: true });
    await rename(temp, path);
  }
}
