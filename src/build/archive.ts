// ADD's local archives, as Docker reads them: a context file whose bytes (after gzip, bzip2,
// xz or zstd decompression, judged from its magic bytes, never from its name) begin with a
// valid tar header is unpacked into the destination directory; any other file is copied as
// it is. Entries keep the archive's modes, owners and times; paths are cleaned so an entry
// can never climb above the destination (`../x` lands at the destination's `x`); hard links
// stay hard links (to a file unpacked before them); devices, fifos and whiteout markers are skipped. File
// contents are streamed to a temp directory the caller owns, never held in memory.
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { PassThrough, Readable, type Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { createGunzip } from "node:zlib";
import { readLayer, ZstdDecompressor } from "../image/layer-reader.js";
import { joinImage } from "./context.js";
import type { LayerFile } from "./layer-writer.js";
import { cleanImagePath } from "./rootfs.js";

/** unbzip2-stream is CommonJS without typings: a factory of a through (duplex) stream. */
const require = createRequire(import.meta.url);
const unbzip2 = require("unbzip2-stream") as () => NodeJS.ReadWriteStream;
/** xz-decompress is CommonJS too (a WebAssembly xz decoder over web streams). */
const { XzReadableStream } = require("xz-decompress") as typeof import("xz-decompress");

export type Compression = "gzip" | "bzip2" | "xz" | "zstd" | "none";

/** The compression of a file, from its first bytes (as Docker's archive.DetectCompression). */
export function compressionOf(head: Uint8Array): Compression {
  const starts = (magic: number[]) =>
    head.length >= magic.length && magic.every((b, i) => head[i] === b);
  if (starts([0x1f, 0x8b, 0x08])) return "gzip";
  if (starts([0x42, 0x5a, 0x68])) return "bzip2";
  if (starts([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return "xz";
  if (starts([0x28, 0xb5, 0x2f, 0xfd])) return "zstd";
  return "none";
}

/** Whether a 512-byte block is a tar header: its checksum field matches its bytes. */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.length < 512 || block[0] === 0) return false;
  const field = Buffer.from(block.subarray(148, 156)).toString("latin1");
  const stored = Number.parseInt(field.replace(/\0.*$/s, "").trim(), 8);
  if (!Number.isFinite(stored)) return false;
  let unsigned = 0;
  for (let i = 0; i < 512; i++) unsigned += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
  return stored === unsigned;
}

async function headOf(file: string, n: number): Promise<Buffer> {
  const handle = await open(file, "r");
  try {
    const buffer = Buffer.alloc(n);
    const { bytesRead } = await handle.read(buffer, 0, n, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The file's bytes, decompressed as its magic bytes say. */
export async function decompressedStream(file: string): Promise<Readable> {
  const kind = compressionOf(await headOf(file, 8));
  const raw = createReadStream(file);
  switch (kind) {
    case "none":
      return raw;
    case "gzip":
      return chain(raw, createGunzip());
    case "zstd":
      return chain(raw, new ZstdDecompressor());
    case "bzip2": {
      // unbzip2-stream is a classic `through` stream: re-expose it as a modern Readable.
      const bz = unbzip2();
      const out = new PassThrough();
      bz.once("error", (err: Error) => out.destroy(err));
      out.once("close", () => raw.destroy());
      return chain(raw, bz as unknown as Transform).pipe(out);
    }
    case "xz": {
      const web = Readable.toWeb(raw) as unknown as ReadableStream<Uint8Array>;
      return Readable.fromWeb(new XzReadableStream(web) as unknown as WebReadableStream);
    }
  }
}

function chain(source: Readable, next: Transform): Readable {
  source.once("error", (err) => next.destroy(err));
  next.once("close", () => source.destroy());
  return source.pipe(next);
}

/** Whether ADD unpacks this file: its (decompressed) content starts with a tar header. */
export async function isTarArchive(file: string): Promise<boolean> {
  const stream = await decompressedStream(file);
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(Buffer.from(chunk as Uint8Array));
      length += (chunk as Uint8Array).length;
      if (length >= 512) break;
    }
  } catch {
    return false; // corrupt compressed data: not an archive ADD can unpack, so a plain file
  } finally {
    stream.destroy();
  }
  return isTarHeader(Buffer.concat(chunks, length));
}

/**
 * The archive's entries as layer entries under image directory `dest`; regular files'
 * contents are written to `tempDir` (created here; the caller removes it).
 */
export async function extractArchive(
  file: string,
  dest: string,
  tempDir: string,
): Promise<LayerFile[]> {
  await mkdir(tempDir, { recursive: true, mode: 0o700 });
  const files: LayerFile[] = [];
  const sources = new Map<string, LayerFile>();
  let n = 0;
  await readLayer(await decompressedStream(file), async (entry, content) => {
    if (entry.whiteout) return;
    const rel = cleanImagePath(entry.path);
    if (rel === "") return;
    const path = joinImage(dest, rel);
    const common = {
      path,
      mode: entry.mode & 0o7777,
      uid: entry.uid,
      gid: entry.gid,
      mtime: entry.mtime ?? 0,
    };
    if (entry.type === "directory") files.push({ ...common, type: "directory" });
    else if (entry.type === "symlink")
      files.push({ ...common, type: "symlink", linkname: entry.linkname ?? "" });
    else if (entry.type === "file") {
      const source = join(tempDir, String(n++));
      await pipeline(Readable.from(content), createWriteStream(source, { mode: 0o600 }));
      const f: LayerFile = { ...common, type: "file", source, size: entry.size };
      files.push(f);
      sources.set(path, f);
    } else if (entry.type === "hardlink") {
      const target = joinImage(dest, cleanImagePath(entry.linkname ?? ""));
      if (sources.has(target)) files.push({ ...common, type: "hardlink", linkname: target });
    }
  });
  return files;
}
