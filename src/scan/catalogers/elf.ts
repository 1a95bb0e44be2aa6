// Just enough of the ELF format (System V ABI) to find data inside executables: section
// lookup by name and virtual-address-to-file-offset translation through PT_LOAD segments.
// 32/64-bit, little/big-endian. Pure; every offset is bounds-checked.

export interface ElfFile {
  readonly is64: boolean;
  readonly littleEndian: boolean;
  section(name: string): Uint8Array | undefined;
  /** Bytes at a virtual address, or undefined when no loaded segment maps it. */
  readAt(address: bigint, length: number): Uint8Array | undefined;
}

const PT_LOAD = 1;
const SHT_NOBITS = 8;

/** Whether `bytes` starts with the ELF magic `\x7fELF` (enough to sniff a file's first chunk). */
export function hasElfMagic(bytes: Uint8Array): boolean {
  return (
    bytes.byteLength >= 4 &&
    bytes[0] === 0x7f &&
    bytes[1] === 0x45 &&
    bytes[2] === 0x4c &&
    bytes[3] === 0x46
  );
}

/** An ELF file at least as long as the smallest (32-bit) ELF header. */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 52 && hasElfMagic(bytes);
}

/** Bounds-checked readers over one ELF file's bytes, in its class (32/64) and byte order. */
interface ElfReader {
  readonly bytes: Uint8Array;
  readonly dv: DataView;
  readonly is64: boolean;
  readonly le: boolean;
  /** A 32- or 64-bit address/offset/size field, by class. */
  word(at: number): bigint;
  inside(at: number, length: number): boolean;
}

interface LoadSegment {
  readonly vaddr: bigint;
  readonly offset: number;
  readonly filesz: number;
}

interface SectionSpan {
  readonly offset: number;
  readonly size: number;
}

export function parseElf(bytes: Uint8Array): ElfFile | undefined {
  if (!isElf(bytes)) return undefined;
  const is64 = bytes[4] === 2;
  const le = bytes[5] === 1;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r: ElfReader = {
    bytes,
    dv,
    is64,
    le,
    word: (at) => (is64 ? dv.getBigUint64(at, le) : BigInt(dv.getUint32(at, le))),
    inside: (at, len) => at >= 0 && len >= 0 && at + len <= bytes.byteLength,
  };
  if (!r.inside(0, is64 ? 64 : 52)) return undefined;
  const segments = loadSegments(r);
  const sections = namedSections(r);
  return {
    is64,
    littleEndian: le,
    section(name) {
      const s = sections.get(name);
      return s ? bytes.subarray(s.offset, s.offset + s.size) : undefined;
    },
    readAt(address, length) {
      for (const seg of segments) {
        if (address < seg.vaddr || address >= seg.vaddr + BigInt(seg.filesz)) continue;
        const at = seg.offset + Number(address - seg.vaddr);
        if (!r.inside(at, length) || at + length > seg.offset + seg.filesz) return undefined;
        return bytes.subarray(at, at + length);
      }
      return undefined;
    },
  };
}

/** The PT_LOAD program headers: how virtual addresses map to file offsets. */
function loadSegments(r: ElfReader): LoadSegment[] {
  const { dv, is64, le } = r;
  const phoff = Number(r.word(is64 ? 0x20 : 0x1c));
  const phentsize = dv.getUint16(is64 ? 0x36 : 0x2a, le);
  const phnum = dv.getUint16(is64 ? 0x38 : 0x2c, le);
  const segments: LoadSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (!r.inside(at, is64 ? 56 : 32)) break;
    if (dv.getUint32(at, le) !== PT_LOAD) continue;
    segments.push(
      is64
        ? {
            offset: Number(dv.getBigUint64(at + 8, le)),
            vaddr: dv.getBigUint64(at + 16, le),
            filesz: Number(dv.getBigUint64(at + 32, le)),
          }
        : {
            offset: dv.getUint32(at + 4, le),
            vaddr: BigInt(dv.getUint32(at + 8, le)),
            filesz: dv.getUint32(at + 16, le),
          },
    );
  }
  return segments;
}

/** Sections with file content, by name (from the section header string table). */
function namedSections(r: ElfReader): Map<string, SectionSpan> {
  const { bytes, dv, is64, le } = r;
  const shoff = Number(r.word(is64 ? 0x28 : 0x20));
  const shentsize = dv.getUint16(is64 ? 0x3a : 0x2e, le);
  const shnum = dv.getUint16(is64 ? 0x3c : 0x30, le);
  const shstrndx = dv.getUint16(is64 ? 0x3e : 0x32, le);
  const sectionHeader = (i: number) => {
    const at = shoff + i * shentsize;
    if (!r.inside(at, is64 ? 64 : 40)) return undefined;
    return {
      name: dv.getUint32(at, le),
      offset: Number(r.word(at + (is64 ? 0x18 : 0x10))),
      size: Number(r.word(at + (is64 ? 0x20 : 0x14))),
      type: dv.getUint32(at + 4, le),
    };
  };
  const sections = new Map<string, SectionSpan>();
  const strtab = shoff > 0 ? sectionHeader(shstrndx) : undefined;
  if (!strtab || !r.inside(strtab.offset, strtab.size)) return sections;
  for (let i = 0; i < shnum; i++) {
    const sh = sectionHeader(i);
    if (!sh || sh.type === SHT_NOBITS) continue;
    const nameAt = strtab.offset + sh.name;
    const end = bytes.indexOf(0, nameAt);
    if (end === -1 || nameAt >= strtab.offset + strtab.size) continue;
    const name = Buffer.from(bytes.subarray(nameAt, end)).toString("latin1");
    if (r.inside(sh.offset, sh.size)) sections.set(name, { offset: sh.offset, size: sh.size });
  }
  return sections;
}
