// A small, pure ZIP reader for osv.dev's `all.zip` files: finds the central directory
// (ZIP64 included), then reads one entry at a time with positioned reads and inflates it with
// node:zlib, checking its CRC-32. Never loads the whole archive into memory.
import { open } from "node:fs/promises";
import { crc32, inflateRawSync } from "node:zlib";

export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly crc: number;
  readonly localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

class ZipError extends Error {}

function u64(buf: Buffer, at: number): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipError("zip offset too large");
  return Number(v);
}

interface Directory {
  readonly offset: number;
  readonly size: number;
  readonly count: number;
}

async function readAt(
  fh: import("node:fs/promises").FileHandle,
  position: number,
  length: number,
): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  if (bytesRead !== length) throw new ZipError("truncated zip file");
  return buf;
}

async function findDirectory(
  fh: import("node:fs/promises").FileHandle,
  fileSize: number,
): Promise<Directory> {
  const tailLength = Math.min(fileSize, 65535 + 22 + 20);
  const tail = await readAt(fh, fileSize - tailLength, tailLength);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD) {
      at = i;
      break;
    }
  }
  if (at === -1) throw new ZipError("not a zip file (no end of central directory)");
  let count = tail.readUInt16LE(at + 10);
  let size = tail.readUInt32LE(at + 12);
  let offset = tail.readUInt32LE(at + 16);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const loc = at - 20;
    if (loc < 0 || tail.readUInt32LE(loc) !== ZIP64_LOCATOR)
      throw new ZipError("bad zip64 locator");
    const z = await readAt(fh, u64(tail, loc + 8), 56);
    if (z.readUInt32LE(0) !== ZIP64_EOCD) throw new ZipError("bad zip64 end of central directory");
    count = u64(z, 32);
    size = u64(z, 40);
    offset = u64(z, 48);
  }
  return { offset, size, count };
}

/**
 * Walks the whole central directory (its byte size is reliable); the 16-bit entry count is
 * only checked modulo 65536, because some writers without ZIP64 wrap it past 65,535 entries.
 */
function parseDirectory(cd: Buffer, count: number): ZipEntry[] {
  const entries: ZipEntry[] = [];
  let p = 0;
  while (p < cd.length) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL)
      throw new ZipError("corrupt central directory");
    const method = cd.readUInt16LE(p + 10);
    const crc = cd.readUInt32LE(p + 16);
    let compressedSize = cd.readUInt32LE(p + 20);
    let size = cd.readUInt32LE(p + 24);
    const nameLength = cd.readUInt16LE(p + 28);
    const extraLength = cd.readUInt16LE(p + 30);
    const commentLength = cd.readUInt16LE(p + 32);
    let localHeaderOffset = cd.readUInt32LE(p + 42);
    const name = cd.toString("utf8", p + 46, p + 46 + nameLength);
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = cd.readUInt16LE(e);
      const len = cd.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) {
          size = u64(cd, q);
          q += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = u64(cd, q);
          q += 8;
        }
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = u64(cd, q);
      }
      e += 4 + len;
    }
    entries.push({ name, method, compressedSize, size, crc, localHeaderOffset });
    p = extraEnd + commentLength;
  }
  if (entries.length % 65536 !== count % 65536)
    throw new ZipError("central directory entry count mismatch");
  return entries;
}

/** Opens a zip file and yields its file entries' names and bytes, one at a time. */
export async function* readZip(path: string): AsyncGenerator<{ name: string; data: Buffer }> {
  const fh = await open(path, "r");
  try {
    const { size: fileSize } = await fh.stat();
    const dir = await findDirectory(fh, fileSize);
    const entries = parseDirectory(await readAt(fh, dir.offset, dir.size), dir.count);
    for (const entry of entries) {
      if (entry.name.endsWith("/")) continue;
      yield { name: entry.name, data: await readEntry(fh, entry) };
    }
  } catch (err) {
    if (err instanceof ZipError) throw new Error(`${path}: ${err.message}`);
    throw err;
  } finally {
    await fh.close();
  }
}

async function readEntry(
  fh: import("node:fs/promises").FileHandle,
  entry: ZipEntry,
): Promise<Buffer> {
  const local = await readAt(fh, entry.localHeaderOffset, 30);
  if (local.readUInt32LE(0) !== LOCAL) throw new ZipError(`bad local header for ${entry.name}`);
  const dataStart = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  const raw = await readAt(fh, dataStart, entry.compressedSize);
  let data: Buffer;
  if (entry.method === 0) data = raw;
  else if (entry.method === 8) data = inflateRawSync(raw);
  else throw new ZipError(`${entry.name}: unsupported compression method ${entry.method}`);
  if (data.length !== entry.size || crc32(data) !== entry.crc) {
    throw new ZipError(`${entry.name}: CRC or size mismatch (corrupt zip)`);
  }
  return data;
}
