// Writes `docker save` archives the way docker 25+ does: one tar that is both a docker-archive
// (manifest.json with Config/RepoTags/Layers, repositories) and an OCI image layout
// (oci-layout, index.json, blobs/sha256/ holding the original manifests, configs and layers),
// the two views sharing the same blob entries. `docker load`/`podman load` read it, and
// berth reads the OCI view back so every digest survives. An index is kept whole in the OCI
// view; the docker view lists the one platform image of it chosen by `platform` (docker's
// format has no indexes). Several images share one archive (blobs deduplicated). Layers are
// stored as they come (compressed layers stay compressed: both loaders decompress). Streams
// each blob into the tar; the archive appears at its path only when complete (temp + rename).
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar-stream";
import { VerifyingStream } from "../client/verifying-stream.js";
import {
  type Descriptor,
  formatPlatform,
  type ImageIndex,
  MediaType,
  type Platform,
  parseDigest,
  parseManifest,
  parsePlatform,
} from "../oci/index.js";
import { blobPath, REF_NAME_ANNOTATION } from "./oci-layout.js";
import { choosePlatform, hostPlatform } from "./resolve.js";
import type { ImageDestination, ManifestBytes, ManifestPlacement } from "./types.js";

interface SavedImage {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

export class DockerArchiveWriter {
  private readonly written = new Set<string>();
  private readonly images: SavedImage[] = [];
  private readonly indexEntries: Descriptor[] = [];
  /** Manifests written so far (small), so an index's docker-view image can be listed. */
  private readonly manifests = new Map<string, ManifestBytes>();
  private lock: Promise<unknown> = Promise.resolve();
  private finished = false;

  private constructor(
    private readonly file: string,
    private readonly temp: string,
    private readonly pack: tar.Pack,
    private readonly output: Promise<void>,
  ) {}

  static async create(file: string): Promise<DockerArchiveWriter> {
    const temp = `${file}.tmp-${randomBytes(6).toString("hex")}`;
    const pack = tar.pack();
    const output = pipeline(pack, createWriteStream(temp, { flush: true }));
    output.catch(() => {});
    const writer = new DockerArchiveWriter(file, temp, pack, output);
    await writer.addFile("oci-layout", Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
    return writer;
  }

  /**
   * A destination for one image of the archive, saved under `repoTags`; `platform` picks the
   * image of an index that the docker view lists (default: this machine's).
   */
  imageDestination(
    repoTags: string[],
    description: string,
    platform?: string | Platform,
  ): ImageDestination {
    return new ArchiveImageDestination(this, repoTags, description, false, platform);
  }

  /** A destination that owns the archive: closing it completes the file. */
  soleImageDestination(
    repoTags: string[],
    description: string,
    platform?: string | Platform,
  ): ImageDestination {
    return new ArchiveImageDestination(this, repoTags, description, true, platform);
  }

  has(digest: string): boolean {
    return this.written.has(digest);
  }

  async writeBlob(descriptor: Descriptor, content: Readable): Promise<void> {
    await this.exclusive(async () => {
      if (this.written.has(descriptor.digest)) {
        content.destroy();
        return;
      }
      const entry = this.pack.entry({
        name: blobPath(descriptor.digest),
        size: descriptor.size,
        mode: 0o644,
        mtime: new Date(0),
      });
      const verify = new VerifyingStream({ digest: descriptor.digest, size: descriptor.size });
      await pipeline(content, verify, entry);
      this.written.add(descriptor.digest);
    });
  }

  async writeManifest(manifest: ManifestBytes): Promise<void> {
    const descriptor = {
      mediaType: manifest.mediaType,
      digest: manifest.digest,
      size: manifest.bytes.length,
    };
    await this.writeBlob(descriptor, Readable.from([manifest.bytes]));
    this.manifests.set(manifest.digest, manifest);
  }

  /**
   * Lists a top-level manifest in both views: index.json (the manifest or index itself) and
   * manifest.json (the image, or the index's image for `platform`).
   */
  recordImage(manifest: ManifestBytes, repoTags: string[], platform?: string | Platform): void {
    const parsed = parseManifest(manifest.bytes, manifest.mediaType);
    const image =
      parsed.kind === "image" ? parsed.image : this.platformImage(parsed.index, platform).image;
    this.images.push({
      Config: blobPath(image.config.digest),
      RepoTags: repoTags,
      Layers: image.layers.map((l) => blobPath(l.digest)),
    });
    for (const tag of repoTags.length > 0 ? repoTags : [undefined]) {
      const entry: Descriptor = {
        mediaType: manifest.mediaType,
        digest: manifest.digest,
        size: manifest.bytes.length,
      };
      if (tag) {
        entry.annotations = {
          "io.containerd.image.name": tag,
          [REF_NAME_ANNOTATION]: tag.slice(tag.lastIndexOf(":") + 1),
        };
      }
      this.indexEntries.push(entry);
    }
  }

  /** The image of `index` the docker view lists: `platform`'s, else the host's, else the first. */
  private platformImage(index: ImageIndex, platform?: string | Platform) {
    const wanted = typeof platform === "string" ? parsePlatform(platform) : platform;
    const written = index.manifests.filter((m) => this.manifests.has(m.digest));
    const chosen =
      choosePlatform(written, wanted ?? hostPlatform(), wanted !== undefined) ??
      (wanted === undefined ? written.find((m) => m.platform?.os !== "unknown") : undefined);
    const bytes = chosen && this.manifests.get(chosen.digest);
    const parsed = bytes ? parseManifest(bytes.bytes, bytes.mediaType) : undefined;
    if (parsed?.kind !== "image") {
      const which = wanted ? formatPlatform(wanted) : "any platform";
      throw new Error(`the index holds no image for ${which} to list in the docker archive`);
    }
    return parsed;
  }

  async close(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    try {
      await this.addFile("manifest.json", Buffer.from(JSON.stringify(this.images)));
      await this.addFile("repositories", Buffer.from(JSON.stringify(repositoriesOf(this.images))));
      const index = {
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        manifests: this.indexEntries,
      };
      await this.addFile("index.json", Buffer.from(JSON.stringify(index)));
      this.pack.finalize();
      await this.output;
      await rename(this.temp, this.file);
    } catch (err) {
      this.pack.destroy();
      await rm(this.temp, { force: true });
      throw err;
    }
  }

  /** Abandons the archive: nothing appears at the target path. */
  async abort(): Promise<void> {
    this.finished = true;
    this.pack.destroy();
    await rm(this.temp, { force: true });
  }

  private async addFile(name: string, bytes: Buffer): Promise<void> {
    await this.exclusive(
      () =>
        new Promise<void>((resolve, reject) => {
          this.pack.entry(
            { name, size: bytes.length, mode: 0o644, mtime: new Date(0) },
            bytes,
            (err) => (err ? reject(err) : resolve()),
          );
        }),
    );
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work, work);
    this.lock = run.catch(() => {});
    return run;
  }
}

function repositoriesOf(images: SavedImage[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const image of images) {
    const top = image.Layers[image.Layers.length - 1];
    if (!top) continue;
    const hex = top.slice(top.lastIndexOf("/") + 1);
    for (const repoTag of image.RepoTags) {
      const colon = repoTag.lastIndexOf(":");
      const name = repoTag.slice(0, colon);
      out[name] = { ...out[name], [repoTag.slice(colon + 1)]: hex };
    }
  }
  return out;
}

class ArchiveImageDestination implements ImageDestination {
  readonly acceptsIndex = true;
  readonly maxParallelBlobs = 1;

  constructor(
    private readonly writer: DockerArchiveWriter,
    private readonly repoTags: string[],
    readonly description: string,
    private readonly ownsWriter: boolean,
    private readonly platform: string | Platform | undefined,
  ) {}

  async hasBlob(descriptor: Descriptor): Promise<boolean> {
    return this.writer.has(descriptor.digest);
  }

  putBlob(descriptor: Descriptor, content: Readable): Promise<void> {
    return this.writer.writeBlob(descriptor, content);
  }

  async putManifest(
    manifest: ManifestBytes,
    _tag?: string,
    placement?: ManifestPlacement,
  ): Promise<void> {
    parseDigest(manifest.digest);
    await this.writer.writeManifest(manifest);
    if (placement !== "child") this.writer.recordImage(manifest, this.repoTags, this.platform);
  }

  async close(): Promise<void> {
    if (this.ownsWriter) await this.writer.close();
  }

  async abort(): Promise<void> {
    if (this.ownsWriter) await this.writer.abort();
  }
}
