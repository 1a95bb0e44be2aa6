// Read access to a file tree that holds an image layout: either a directory on disk or a tar
// archive (read through TarIndex without unpacking). OCI layout and docker-archive sources
// are written once against this. Streams files; reads whole only small ones (manifests).
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { TarIndex } from "./tar-index.js";

export interface BlobTree {
  readonly location: string;
  exists(path: string): Promise<boolean>;
  readSmall(path: string): Promise<Buffer>;
  stream(path: string): Promise<Readable>;
  /** Size in bytes of the file at `path`. */
  size(path: string): Promise<number>;
}

export class TreeFileMissing extends Error {
  constructor(location: string, path: string) {
    super(`${location} has no ${path}`);
    this.name = "TreeFileMissing";
  }
}

export class DirectoryTree implements BlobTree {
  constructor(readonly location: string) {}

  async exists(path: string): Promise<boolean> {
    try {
      return (await stat(join(this.location, path))).isFile();
    } catch {
      return false;
    }
  }

  async readSmall(path: string): Promise<Buffer> {
    try {
      return await readFile(join(this.location, path));
    } catch {
      throw new TreeFileMissing(this.location, path);
    }
  }

  async stream(path: string): Promise<Readable> {
    if (!(await this.exists(path))) throw new TreeFileMissing(this.location, path);
    return createReadStream(join(this.location, path));
  }

  async size(path: string): Promise<number> {
    try {
      return (await stat(join(this.location, path))).size;
    } catch {
      throw new TreeFileMissing(this.location, path);
    }
  }
}

export class ArchiveTree implements BlobTree {
  private constructor(
    readonly location: string,
    private readonly index: TarIndex,
  ) {}

  static async open(path: string): Promise<ArchiveTree> {
    return new ArchiveTree(path, await TarIndex.open(path));
  }

  async exists(path: string): Promise<boolean> {
    return this.index.find(path) !== undefined;
  }

  async readSmall(path: string): Promise<Buffer> {
    return this.index.readSmall(this.entry(path));
  }

  async stream(path: string): Promise<Readable> {
    return this.index.stream(this.entry(path));
  }

  async size(path: string): Promise<number> {
    return this.entry(path).size;
  }

  private entry(path: string) {
    const entry = this.index.find(path);
    if (!entry) throw new TreeFileMissing(this.location, path);
    return entry;
  }
}
