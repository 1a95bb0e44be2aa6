// Random access into a tar file on disk: reads only the 512-byte headers (skipping over
// contents with seeks) to map entry names to byte ranges, then streams any entry's bytes
// straight from the file. Lets docker-archive and oci-archive sources read one blob without
// unpacking the archive. Understands ustar, pax (`path`, `size`, `linkpath`) and GNU long
// names. Never reads a whole entry into memory unless asked for a small one (`readSmall`).

import { createReadStream } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import { posix } from "node:path";
import { Readable } from "node:stream";

export interface TarEntry {
  readonly name: string;
  /** Offset of the first content byte. */
  readonly offset: number;
  readonly size: number;
  readonly type: "file" | "directory" | "symlink" | "hardlink" | "other";
  readonly linkname?: string;
}

export class TarFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TarFormatError";
  }
}

const BLOCK = 512;

export class TarIndex {
  private constructor(
    readonly path: string,
    private readonly entries: Map<string, TarEntry>,
  ) {}

  /** Indexes the tar at `path`; every failure names the file. */
  static async open(path: string): Promise<TarIndex> {
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (err) {
      throw new TarFormatError(`cannot read ${path}: ${reasonOf(err)}`);
    }
    try {
      return new TarIndex(path, await indexEntries(handle));
    } catch (err) {
      if (err instanceof TarFormatError) throw new TarFormatError(`${path} ${err.message}`);
      throw new TarFormatError(`cannot read ${path}: ${reasonOf(err)}`);
    } finally {
      await handle.close();
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  /** The regular-file entry at `name`, following symlinks and hard links inside the archive. */
  find(name: string): TarEntry | undefined {
    let current = this.entries.get(normalize(name));
    for (let hops = 0; current && hops < 16; hops++) {
      if (current.type === "file") return current;
      if (current.type === "hardlink" && current.linkname !== undefined) {
        current = this.entries.get(normalize(current.linkname));
      } else if (current.type === "symlink" && current.linkname !== undefined) {
        const target = posix.join(posix.dirname(current.name), current.linkname);
        current = this.entries.get(normalize(target));
      } else {
        return undefined;
      }
    }
    return undefined;
  }

  stream(entry: TarEntry): Readable {
    if (entry.size === 0) return Readable.from([]);
    return createReadStream(this.path, {
      start: entry.offset,
      end: entry.offset + entry.size - 1,
    });
  }

  /** Reads a small entry (a manifest or config) fully; refuses entries over `limit` bytes. */
  async readSmall(entry: TarEntry, limit = 64 * 1024 * 1024): Promise<Buffer> {
    if (entry.size > limit) {
      throw new TarFormatError(`${entry.name} is ${entry.size} bytes, more than ${limit}`);
    }
    const handle = await open(this.path, "r");
    try {
      const buf = Buffer.alloc(entry.size);
      await readExactly(handle, buf, entry.offset);
      return buf;
    } finally {
      await handle.close();
    }
  }
}

function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "it is a directory, not an archive";
  if (code === "EACCES") return "permission denied";
  return err instanceof Error ? err.message : String(err);
}

function normalize(name: string): string {
  let n = name;
  while (n.startsWith("./")) n = n.slice(2);
  while (n.startsWith("/")) n = n.slice(1);
  while (n.endsWith("/")) n = n.slice(0, -1);
  return posix.normalize(n === "" ? "." : n);
}

async function indexEntries(handle: FileHandle): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>();
  const { size: fileSize } = await handle.stat();
  const header = Buffer.alloc(BLOCK);
  let position = 0;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  while (position + BLOCK <= fileSize) {
    await readExactly(handle, header, position);
    if (header.every((b) => b === 0)) break;
    verifyChecksum(header, position);
    const typeflag = String.fromCharCode(header[156] ?? 0x30);
    const size = Number(pax.size ?? parseNumber(header.subarray(124, 136)));
    const dataOffset = position + BLOCK;
    position = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
    if (typeflag === "x" || typeflag === "L" || typeflag === "K" || typeflag === "g") {
      const body = Buffer.alloc(size);
      await readExactly(handle, body, dataOffset);
      if (typeflag === "x") pax = parsePax(body);
      if (typeflag === "L") longName = cString(body);
      if (typeflag === "K") longLink = cString(body);
      continue;
    }
    const name = normalize(pax.path ?? longName ?? ustarName(header));
    const linkname = pax.linkpath ?? longLink ?? cString(header.subarray(157, 257));
    entries.set(name, {
      name,
      offset: dataOffset,
      size: typeflag === "0" || typeflag === "\0" || typeflag === "7" ? size : 0,
      type: entryType(typeflag),
      linkname: linkname || undefined,
    });
    pax = {};
    longName = undefined;
    longLink = undefined;
  }
  return entries;
}

function entryType(flag: string): TarEntry["type"] {
  if (flag === "0" || flag === "\0" || flag === "7") return "file";
  if (flag === "5") return "directory";
  if (flag === "2") return "symlink";
  if (flag === "1") return "hardlink";
  return "other";
}

function ustarName(header: Buffer): string {
  const name = cString(header.subarray(0, 100));
  const magic = header.subarray(257, 262).toString("latin1");
  const prefix = magic === "ustar" ? cString(header.subarray(345, 500)) : "";
  return prefix ? `${prefix}/${name}` : name;
}

function cString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.subarray(0, end === -1 ? buf.length : end).toString("utf8");
}

function parseNumber(field: Buffer): number {
  if ((field[0] ?? 0) & 0x80) {
    // base-256 (GNU) encoding for sizes over 8 GiB
    let value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] ?? 0);
    return value;
  }
  const text = cString(field).trim();
  return text === "" ? 0 : Number.parseInt(text, 8);
}

function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    const space = body.indexOf(0x20, i);
    if (space === -1) break;
    const length = Number.parseInt(body.subarray(i, space).toString("ascii"), 10);
    if (!Number.isFinite(length) || length <= 0) break;
    const record = body.subarray(space + 1, i + length - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (eq !== -1) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += length;
  }
  return out;
}

function verifyChecksum(header: Buffer, position: number): void {
  const stored = parseNumber(header.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  if (sum !== stored)
    throw new TarFormatError(`is not a tar archive (bad header at byte ${position})`);
}

async function readExactly(handle: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await handle.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new TarFormatError("ends in the middle of an entry (truncated)");
    done += bytesRead;
  }
}
