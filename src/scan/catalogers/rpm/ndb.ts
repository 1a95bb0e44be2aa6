// Reads header blobs from rpm's own "ndb" database (`Packages.db`, SUSE/openSUSE). Layout
// (rpm lib/backend/ndb/rpmpkg.c), little-endian: a 32-byte header (magic "RpmP", version 0,
// generation, slot page count); slot pages of 4096 bytes holding 16-byte slots ("Slot",
// package index, block offset, block count; the first two slots are the header); each
// used slot points at 16-byte blocks starting with a blob header ("BlbS", package index,
// checksum, length) followed by the header blob. Pure.

const HEADER_MAGIC = 0x506d7052; // "RpmP"
const SLOT_MAGIC = 0x746f6c53; // "Slot"
const BLOB_MAGIC = 0x53626c42; // "BlbS"
const SLOT_PAGE_SIZE = 4096;
const SLOT_SIZE = 16;
const BLOCK_SIZE = 16;
const BLOB_HEADER_SIZE = 16;
const MAX_SLOT_PAGES = 2048;

export class NdbError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NdbError";
  }
}

export function isNdbDatabase(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 16 && view(bytes).getUint32(0, true) === HEADER_MAGIC;
}

export function readNdbRpmBlobs(bytes: Uint8Array): Uint8Array[] {
  const dv = view(bytes);
  if (!isNdbDatabase(bytes)) throw new NdbError("not an rpm ndb database (bad magic)");
  if (dv.getUint32(4, true) !== 0) throw new NdbError("unsupported rpm ndb version");
  const slotPages = dv.getUint32(12, true);
  if (slotPages === 0 || slotPages > MAX_SLOT_PAGES) {
    throw new NdbError(`implausible rpm ndb slot page count ${slotPages}`);
  }
  const slotsEnd = Math.min(slotPages * SLOT_PAGE_SIZE, bytes.byteLength);
  const blobs: Uint8Array[] = [];
  for (let at = 2 * SLOT_SIZE; at + SLOT_SIZE <= slotsEnd; at += SLOT_SIZE) {
    if (dv.getUint32(at, true) !== SLOT_MAGIC) throw new NdbError("bad rpm ndb slot magic");
    const pkgIndex = dv.getUint32(at + 4, true);
    if (pkgIndex === 0) continue;
    const blobAt = dv.getUint32(at + 8, true) * BLOCK_SIZE;
    if (blobAt + BLOB_HEADER_SIZE > bytes.byteLength)
      throw new NdbError("rpm ndb slot out of range");
    if (dv.getUint32(blobAt, true) !== BLOB_MAGIC || dv.getUint32(blobAt + 4, true) !== pkgIndex) {
      throw new NdbError(`rpm ndb blob for package ${pkgIndex} is missing`);
    }
    const length = dv.getUint32(blobAt + 12, true);
    const start = blobAt + BLOB_HEADER_SIZE;
    if (start + length > bytes.byteLength) throw new NdbError("rpm ndb blob is truncated");
    blobs.push(bytes.subarray(start, start + length));
  }
  return blobs;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
