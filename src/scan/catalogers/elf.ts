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

export function isElf(bytes: Uint8Array): boolean {
  return (
    bytes.byteLength >= 52 &&
    bytes[0] === 0x7f &&
    bytes[1] === 0x45 &&
    bytes[2] === 0x4c &&
    bytes[3] === 0x46
  );
}

export function parseElf(bytes: Uint8Array): ElfFile | undefined {
  if (!isElf(bytes)) return undefined;
  const is64 = bytes[4] === 2;
  const le = bytes[5] === 1;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const word = (at: number): bigint =>
    is64 ? dv.getBigUint64(at, le) : BigInt(dv.getUint32(at, le));
  const inside = (at: number, len: number) => at >= 0 && len >= 0 && at + len <= bytes.byteLength;
  if (!inside(0, is64 ? 64 : 52)) return undefined;
  const phoff = Number(word(is64 ? 0x20 : 0x1c));
  const shoff = Number(word(is64 ? 0x28 : 0x20));
  const phentsize = dv.getUint16(is64 ? 0x36 : 0x2a, le);
  const phnum = dv.getUint16(is64 ? 0x38 : 0x2c, le);
  const shentsize = dv.getUint16(is64 ? 0x3a : 0x2e, le);
  const shnum = dv.getUint16(is64 ? 0x3c : 0x30, le);
  const shstrndx = dv.getUint16(is64 ? 0x3e : 0x32, le);

  const segments: { vaddr: bigint; offset: number; filesz: number }[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (!inside(at, is64 ? 56 : 32)) break;
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

  const sections = new Map<string, { offset: number; size: number }>();
  const sectionHeader = (i: number) => {
    const at = shoff + i * shentsize;
    if (!inside(at, is64 ? 64 : 40)) return undefined;
    return {
      name: dv.getUint32(at, le),
      offset: Number(word(at + (is64 ? 0x18 : 0x10))),
      size: Number(word(at + (is64 ? 0x20 : 0x14))),
      type: dv.getUint32(at + 4, le),
    };
  };
  const strtab = shoff > 0 ? sectionHeader(shstrndx) : undefined;
  if (strtab && inside(strtab.offset, strtab.size)) {
    for (let i = 0; i < shnum; i++) {
      const sh = sectionHeader(i);
      if (!sh || sh.type === 8 /* SHT_NOBITS */) continue;
      const nameAt = strtab.offset + sh.name;
      const end = bytes.indexOf(0, nameAt);
      if (end === -1 || nameAt >= strtab.offset + strtab.size) continue;
      const name = Buffer.from(bytes.subarray(nameAt, end)).toString("latin1");
      if (inside(sh.offset, sh.size)) sections.set(name, { offset: sh.offset, size: sh.size });
    }
  }

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
        if (!inside(at, length) || at + length > seg.offset + seg.filesz) return undefined;
        return bytes.subarray(at, at + length);
      }
      return undefined;
    },
  };
}
