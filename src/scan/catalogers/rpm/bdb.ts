// Reads header blobs from the Berkeley DB hash database `/var/lib/rpm/Packages` (rpm < 4.16:
// RHEL/CentOS 5–8, Amazon Linux 2). Layout (libdb dbinc/db_page.h): page 0 is the hash
// metadata page (magic 0x061561, page size, last page number); hash pages (type 13, or 2
// for unsorted) hold key/value item offsets in pairs after the 26-byte page header; a value
// of type HOFFPAGE (3) names the first of a chain of overflow pages (type 7) whose bytes,
// concatenated, are one header blob. Byte order follows the metadata magic. Pure.

const HASH_MAGIC = 0x061561;
const PAGE_HEADER_SIZE = 26;
const PAGE_TYPE_HASH_UNSORTED = 2;
const PAGE_TYPE_OVERFLOW = 7;
const PAGE_TYPE_HASH_META = 8;
const PAGE_TYPE_HASH = 13;
const ITEM_OFFPAGE = 3;
const VALID_PAGE_SIZES = new Set([512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]);

export class BdbError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BdbError";
  }
}

export function isBdbHashDatabase(bytes: Uint8Array): boolean {
  if (bytes.byteLength < 512) return false;
  const dv = view(bytes);
  return dv.getUint32(12, true) === HASH_MAGIC || dv.getUint32(12, false) === HASH_MAGIC;
}

export function readBdbRpmBlobs(bytes: Uint8Array): Uint8Array[] {
  if (!isBdbHashDatabase(bytes)) throw new BdbError("not a Berkeley DB hash database");
  const dv = view(bytes);
  const le = dv.getUint32(12, true) === HASH_MAGIC;
  const pageSize = dv.getUint32(20, le);
  if (!VALID_PAGE_SIZES.has(pageSize)) throw new BdbError(`unexpected page size ${pageSize}`);
  if (bytes[25] !== PAGE_TYPE_HASH_META) throw new BdbError("page 0 is not hash metadata");
  if (bytes[24] !== 0) throw new BdbError("encrypted Berkeley DB is not supported");
  const lastPage = Math.min(dv.getUint32(32, le), Math.floor(bytes.byteLength / pageSize) - 1);
  const blobs: Uint8Array[] = [];
  for (let page = 1; page <= lastPage; page++) {
    const base = page * pageSize;
    const type = bytes[base + 25];
    if (type !== PAGE_TYPE_HASH && type !== PAGE_TYPE_HASH_UNSORTED) continue;
    const entries = dv.getUint16(base + 20, le);
    // Items come in key/value pairs; the values are the odd-numbered ones.
    for (let i = 1; i < entries; i += 2) {
      const itemAt = base + dv.getUint16(base + PAGE_HEADER_SIZE + i * 2, le);
      if (itemAt >= base + pageSize || bytes[itemAt] !== ITEM_OFFPAGE) continue;
      const firstPage = dv.getUint32(itemAt + 4, le);
      const length = dv.getUint32(itemAt + 8, le);
      blobs.push(readOverflowChain(bytes, dv, le, pageSize, firstPage, length));
    }
  }
  return blobs;
}

function readOverflowChain(
  bytes: Uint8Array,
  dv: DataView,
  le: boolean,
  pageSize: number,
  firstPage: number,
  length: number,
): Uint8Array {
  const out = new Uint8Array(length);
  let filled = 0;
  let page = firstPage;
  const seen = new Set<number>();
  while (page !== 0 && filled < length) {
    if (seen.has(page)) throw new BdbError("overflow page chain loops");
    seen.add(page);
    const base = page * pageSize;
    if (base + pageSize > bytes.byteLength) throw new BdbError("overflow page out of range");
    if (bytes[base + 25] !== PAGE_TYPE_OVERFLOW) throw new BdbError("broken overflow chain");
    const next = dv.getUint32(base + 16, le);
    // On overflow pages the "high free offset" field holds the bytes used on the page.
    const used = dv.getUint16(base + 22, le);
    const take = Math.min(used, pageSize - PAGE_HEADER_SIZE, length - filled);
    out.set(bytes.subarray(base + PAGE_HEADER_SIZE, base + PAGE_HEADER_SIZE + take), filled);
    filled += take;
    page = next;
  }
  if (filled !== length) throw new BdbError("overflow chain is shorter than its item");
  return out;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
