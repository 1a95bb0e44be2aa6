// The builder's local store: one directory laid out as an OCI image layout (blobs/sha256/…),
// holding pulled base images, the layers and configs a build makes, and the layer cache
// (cache/<key>.json → the layer a step produced). The finished image is read back out of it
// through OciLayoutSource and copied to the user's destination with transport/copy, so every
// output transport `berth copy` knows works for `berth build` too.
// Blobs enter only through a temp file renamed into place after their digest is known: the
// store never holds a blob whose bytes do not match its name. Cache entries are advisory: one
// that names a missing blob is a miss, never an error.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { type Descriptor, digestOf } from "../oci/index.js";
import { DirectoryTree } from "../transport/blob-tree.js";
import { blobPath, OciLayoutDestination, OciLayoutSource } from "../transport/oci-layout.js";
import type { ManifestBytes } from "../transport/types.js";
import { StatCache } from "./stat-cache.js";

/** What a cached step left: its layer (absent for metadata-only steps) and its diff id. */
export interface CachedLayer {
  readonly layer: Descriptor;
  readonly diffId: string;
}

export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "berth", "build");
}

export class BuildStore {
  private stats: Promise<StatCache> | undefined;

  private constructor(readonly directory: string) {}

  /** Content digests of context files by stat (stat-cache.json), loaded once per store. */
  statCache(): Promise<StatCache> {
    this.stats ??= StatCache.load(join(this.directory, "stat-cache.json"));
    return this.stats;
  }

  static async open(directory: string): Promise<BuildStore> {
    await mkdir(join(directory, "blobs", "sha256"), { recursive: true, mode: 0o700 });
    await mkdir(join(directory, "cache"), { recursive: true, mode: 0o700 });
    await mkdir(join(directory, "tmp"), { recursive: true, mode: 0o700 });
    await writeFile(join(directory, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    return new BuildStore(directory);
  }

  /** A fresh path for a temp file or directory inside the store (same filesystem as blobs). */
  tempPath(label: string): string {
    return join(this.directory, "tmp", `${label}-${randomBytes(8).toString("hex")}`);
  }

  blobFile(digest: string): string {
    return join(this.directory, blobPath(digest));
  }

  async hasBlob(digest: string, size?: number): Promise<boolean> {
    try {
      const info = await stat(this.blobFile(digest));
      return size === undefined || info.size === size;
    } catch {
      return false;
    }
  }

  /** Moves a finished temp file whose digest the caller computed while writing it. */
  async adoptFile(temp: string, digest: string): Promise<void> {
    await rename(temp, this.blobFile(digest));
  }

  /** Stores small bytes (a config, a manifest) and returns their descriptor. */
  async putBytes(bytes: Buffer, mediaType: string): Promise<Descriptor> {
    const digest = digestOf(bytes);
    if (!(await this.hasBlob(digest, bytes.length))) {
      const temp = this.tempPath("blob");
      await writeFile(temp, bytes, { mode: 0o600 });
      await this.adoptFile(temp, digest);
    }
    return { mediaType, digest, size: bytes.length };
  }

  async readBytes(digest: string): Promise<Buffer> {
    const bytes = await readFile(this.blobFile(digest));
    if (digestOf(bytes) !== digest) throw new Error(`build store blob ${digest} is corrupt`);
    return bytes;
  }

  /** A destination that writes blobs and manifests into the store (for pulling a base). */
  async destination(): Promise<OciLayoutDestination> {
    return OciLayoutDestination.open(this.directory, undefined, `build store ${this.directory}`);
  }

  /** The image with manifest `manifest`, read back out of the store. */
  source(manifest: Descriptor): OciLayoutSource {
    return OciLayoutSource.forEntry(
      new DirectoryTree(this.directory),
      manifest,
      `build store ${manifest.digest}`,
    );
  }

  async putManifest(bytes: Buffer, mediaType: string): Promise<ManifestBytes> {
    const descriptor = await this.putBytes(bytes, mediaType);
    return { bytes, mediaType, digest: descriptor.digest };
  }

  async getCached(key: string): Promise<CachedLayer | undefined> {
    let entry: CachedLayer;
    try {
      entry = JSON.parse(await readFile(this.cacheFile(key), "utf8")) as CachedLayer;
    } catch {
      return undefined;
    }
    if (!(await this.hasBlob(entry.layer.digest, entry.layer.size))) return undefined;
    return entry;
  }

  async putCached(key: string, entry: CachedLayer): Promise<void> {
    const temp = this.tempPath("cache");
    await writeFile(temp, JSON.stringify(entry), { mode: 0o600 });
    await rename(temp, this.cacheFile(key));
  }

  async removeTemp(path: string): Promise<void> {
    await rm(path, { recursive: true, force: true });
  }

  private cacheFile(key: string): string {
    return join(this.directory, "cache", `${key}.json`);
  }
}

/** A cache key: sha256 over the parts, each length-prefixed so no two part lists collide. */
export function cacheKey(parts: readonly string[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(`${Buffer.byteLength(part)}:${part}\n`);
  return hash.digest("hex");
}
