// Writes `docker save` archives: manifest.json (Config, RepoTags, Layers), repositories, the
// config and layer blobs under blobs/sha256/, plus oci-layout and index.json, the layout
// docker 25+ writes, so the file loads with `docker load` and `podman load` and also reads as
// an OCI archive. Several images share one archive (blobs deduplicated). Layers are stored as
// they come (compressed layers stay compressed: both loaders decompress). Streams each blob
// into the tar; the archive appears at its path only when complete (temp file + rename).
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar-stream";
import { VerifyingStream } from "../client/verifying-stream.js";
import { type Descriptor, MediaType, parseDigest, parseManifest } from "../oci/index.js";
import { blobPath, REF_NAME_ANNOTATION } from "./oci-layout.js";
import type { ImageDestination, ManifestBytes } from "./types.js";

interface SavedImage {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

export class DockerArchiveWriter {
  private readonly written = new Set<string>();
  private readonly images: SavedImage[] = [];
  private readonly indexEntries: Descriptor[] = [];
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

  /** A destination for one image of the archive, saved under `repoTags`. */
  imageDestination(repoTags: string[], description: string): ImageDestination {
    return new ArchiveImageDestination(this, repoTags, description, false);
  }

  /** A destination that owns the archive: closing it completes the file. */
  soleImageDestination(repoTags: string[], description: string): ImageDestination {
    return new ArchiveImageDestination(this, repoTags, description, true);
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
  }

  recordImage(manifest: ManifestBytes, repoTags: string[]): void {
    const parsed = parseManifest(manifest.bytes, manifest.mediaType);
    if (parsed.kind !== "image") {
      throw new Error("a docker archive holds single-platform images only; choose --platform");
    }
    this.images.push({
      Config: blobPath(parsed.image.config.digest),
      RepoTags: repoTags,
      Layers: parsed.image.layers.map((l) => blobPath(l.digest)),
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
  readonly acceptsIndex = false;
  readonly maxParallelBlobs = 1;

  constructor(
    private readonly writer: DockerArchiveWriter,
    private readonly repoTags: string[],
    readonly description: string,
    private readonly ownsWriter: boolean,
  ) {}

  async hasBlob(descriptor: Descriptor): Promise<boolean> {
    return this.writer.has(descriptor.digest);
  }

  putBlob(descriptor: Descriptor, content: Readable): Promise<void> {
    return this.writer.writeBlob(descriptor, content);
  }

  async putManifest(manifest: ManifestBytes, _tag?: string): Promise<void> {
    parseDigest(manifest.digest);
    await this.writer.writeManifest(manifest);
    this.writer.recordImage(manifest, this.repoTags);
  }

  async close(): Promise<void> {
    if (this.ownsWriter) await this.writer.close();
  }

  async abort(): Promise<void> {
    if (this.ownsWriter) await this.writer.abort();
  }
}
