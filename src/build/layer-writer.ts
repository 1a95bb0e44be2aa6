// Writes one reproducible image layer (gzip-compressed tar) into the build store from a list
// of entries: entries sorted by path, times clamped to the build's epoch, owners numeric with
// empty owner names, no access/change times, gzip with no file name and mtime 0 in its header
// (node:zlib writes exactly that). The same entries and contents always give the same bytes,
// hence the same digest. Streams file contents from disk; never holds a file in memory.
// Hashes the tar (diff id) and the gzip (blob digest) while it writes.
import { createHash, type Hash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import * as tar from "tar-stream";
import { type Descriptor, MediaType } from "../oci/index.js";
import type { BuildStore, CachedLayer } from "./store.js";

export type LayerFileType = "file" | "directory" | "symlink" | "hardlink" | "whiteout" | "opaque";

export interface LayerFile {
  /** Path in the image without a leading `/`: `app/server.js`. */
  readonly path: string;
  readonly type: LayerFileType;
  /** Permission bits (and setuid/setgid/sticky). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Seconds since the epoch, before clamping. */
  readonly mtime: number;
  /** A symlink's target; a hard link's target path in the same layer (`app/a`). */
  readonly linkname?: string;
  /** Host file with the content of a regular file. */
  readonly source?: string;
  readonly size?: number;
}

class Hashing extends Transform {
  readonly hash: Hash = createHash("sha256");
  size = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    done(null, chunk);
  }
}

/**
 * Sorts by path with parents first, dropping later duplicates of one path; hard links go
 * last (also sorted) so each follows the file it names, as a tar reader needs.
 */
export function orderedEntries(files: readonly LayerFile[]): LayerFile[] {
  const byPath = new Map<string, LayerFile>();
  for (const f of files) byPath.set(f.path, f);
  const sorted = [...byPath.values()].sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : 0,
  );
  return [
    ...sorted.filter((f) => f.type !== "hardlink"),
    ...sorted.filter((f) => f.type === "hardlink"),
  ];
}

function headerOf(file: LayerFile, epoch: number): tar.Header {
  const mtime = new Date(Math.min(Math.floor(file.mtime), epoch) * 1000);
  const common = {
    mode: file.mode & 0o7777,
    uid: file.uid,
    gid: file.gid,
    uname: "",
    gname: "",
    mtime,
    size: 0,
    linkname: "",
    devmajor: 0,
    devminor: 0,
  };
  const slash = file.path.lastIndexOf("/");
  const dir = slash === -1 ? "" : file.path.slice(0, slash + 1);
  const base = file.path.slice(slash + 1);
  switch (file.type) {
    case "directory":
      return { ...common, name: `${file.path}/`, type: "directory" };
    case "symlink":
      return { ...common, name: file.path, type: "symlink", linkname: file.linkname ?? "" };
    case "hardlink":
      return { ...common, name: file.path, type: "link", linkname: file.linkname ?? "" };
    case "whiteout":
      return { ...common, name: `${dir}.wh.${base}`, type: "file", size: 0, mode: 0 };
    case "opaque":
      return { ...common, name: `${file.path}/.wh..wh..opq`, type: "file", size: 0, mode: 0 };
    case "file":
      return { ...common, name: file.path, type: "file", size: file.size ?? 0 };
  }
}

async function packEntries(pack: tar.Pack, files: LayerFile[], epoch: number): Promise<void> {
  for (const file of files) {
    const header = headerOf(file, epoch);
    if (file.type === "file" && file.source && (file.size ?? 0) > 0) {
      const entry = pack.entry(header);
      await pipeline(createReadStream(file.source), entry);
    } else {
      // tar-stream waits for the content of every "file" entry, even an empty one (empty
      // files, whiteouts): give those an empty buffer, or the pack never finishes.
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error | null) => (err ? reject(err) : resolve());
        if (header.type === "file") pack.entry(header, Buffer.alloc(0), done);
        else pack.entry(header, done);
      });
    }
  }
  pack.finalize();
}

/** Writes `files` as a gzip layer into `store`; returns its descriptor and diff id. */
export async function writeLayer(
  store: BuildStore,
  files: readonly LayerFile[],
  epoch: number,
): Promise<CachedLayer> {
  const pack = tar.pack();
  const tarHash = new Hashing();
  const gzHash = new Hashing();
  const temp = store.tempPath("layer");
  const writing = pipeline(
    pack,
    tarHash,
    createGzip({ level: 6 }),
    gzHash,
    createWriteStream(temp, { mode: 0o600 }),
  );
  try {
    await Promise.all([packEntries(pack, orderedEntries(files), epoch), writing]);
  } catch (err) {
    pack.destroy();
    await store.removeTemp(temp);
    throw err;
  }
  const digest = `sha256:${gzHash.hash.digest("hex")}`;
  await store.adoptFile(temp, digest);
  const layer: Descriptor = { mediaType: MediaType.OciLayerGzip, digest, size: gzHash.size };
  return { layer, diffId: `sha256:${tarHash.hash.digest("hex")}` };
}
