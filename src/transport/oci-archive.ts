// `oci-archive:FILE[:TAG]`: an OCI image layout packed in a tar. Reading goes through
// ArchiveTree (no unpacking). Writing fills a layout in a temp directory beside the target
// and packs it into FILE on close (temp file + rename, so FILE is never half-written).
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar-stream";
import type { Descriptor } from "../oci/index.js";
import { ArchiveTree } from "./blob-tree.js";
import { OciLayoutDestination, OciLayoutSource } from "./oci-layout.js";
import type { ImageDestination, ImageSource, ManifestBytes, ManifestPlacement } from "./types.js";

export async function openOciArchiveSource(
  path: string,
  tag: string | undefined,
  description: string,
): Promise<ImageSource> {
  return OciLayoutSource.open(await ArchiveTree.open(path), tag, description);
}

export class OciArchiveDestination implements ImageDestination {
  private constructor(
    readonly description: string,
    private readonly file: string,
    private readonly workDir: string,
    private readonly layout: OciLayoutDestination,
  ) {}

  static async open(file: string, tag: string | undefined, description: string) {
    const workDir = await mkdtemp(join(dirname(file), `.${basename(file)}.berth-`));
    const layout = await OciLayoutDestination.open(workDir, tag, description);
    return new OciArchiveDestination(description, file, workDir, layout);
  }

  hasBlob(descriptor: Descriptor): Promise<boolean> {
    return this.layout.hasBlob(descriptor);
  }

  putBlob(descriptor: Descriptor, content: Readable): Promise<void> {
    return this.layout.putBlob(descriptor, content);
  }

  putManifest(m: ManifestBytes, tag?: string, placement?: ManifestPlacement): Promise<void> {
    return this.layout.putManifest(m, tag, placement);
  }

  async abort(): Promise<void> {
    await rm(this.workDir, { recursive: true, force: true });
  }

  async close(): Promise<void> {
    try {
      await this.layout.close();
      const temp = `${this.file}.tmp-${randomBytes(6).toString("hex")}`;
      await packDirectory(this.workDir, temp);
      await rename(temp, this.file);
    } finally {
      await rm(this.workDir, { recursive: true, force: true });
    }
  }
}

/** Packs a directory's regular files into a tar at `target`, streaming each file. */
export async function packDirectory(directory: string, target: string): Promise<void> {
  const pack = tar.pack();
  const writing = pipeline(pack, createWriteStream(target, { flush: true }));
  for (const file of await listFiles(directory)) {
    const info = await stat(file);
    const name = relative(directory, file).split("\\").join("/");
    const entry = pack.entry({ name, size: info.size, mode: 0o644, mtime: new Date(0) });
    await pipeline(createReadStream(file), entry);
  }
  pack.finalize();
  await writing;
}

async function listFiles(directory: string): Promise<string[]> {
  const out: string[] = [];
  for (const dirent of await readdir(directory, { withFileTypes: true })) {
    const full = join(directory, dirent.name);
    if (dirent.isDirectory()) out.push(...(await listFiles(full)));
    else if (dirent.isFile()) out.push(full);
  }
  return out.sort();
}
