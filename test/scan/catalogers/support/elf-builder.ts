// Writes minimal 64-bit little-endian ELF executables for binary cataloger tests: an ELF
// header, one PT_LOAD segment mapping the whole file at LOAD_ADDRESS, the given sections
// (16-byte aligned, in order, the first at FIRST_SECTION_OFFSET), `.shstrtab` and the
// section header table. Enough for tools that read sections and map addresses, like
// `go version -m` and Berth's catalogers.

export const LOAD_ADDRESS = 0x400000n;
const EHDR = 64;
const PHDR = 56;
const SHDR = 64;
export const FIRST_SECTION_OFFSET = align(EHDR + PHDR);

export interface ElfSection {
  name: string;
  data: Buffer;
}

function align(n: number): number {
  return Math.ceil(n / 16) * 16;
}

export function buildElf(sections: ElfSection[]): Buffer {
  const names = ["", ...sections.map((s) => s.name), ".shstrtab"];
  const nameOffsets: number[] = [];
  let strtab = Buffer.alloc(0);
  for (const n of names) {
    nameOffsets.push(strtab.length);
    strtab = Buffer.concat([strtab, Buffer.from(`${n}\0`, "latin1")]);
  }
  const placed: { offset: number; size: number }[] = [];
  let cursor = FIRST_SECTION_OFFSET;
  for (const s of sections) {
    placed.push({ offset: cursor, size: s.data.length });
    cursor = align(cursor + s.data.length);
  }
  const strtabOffset = cursor;
  const shoff = align(strtabOffset + strtab.length);
  const shnum = sections.length + 2;
  const file = Buffer.alloc(shoff + shnum * SHDR);
  file.write("\x7fELF", 0, "latin1");
  file[4] = 2; // 64-bit
  file[5] = 1; // little-endian
  file[6] = 1; // ELF version
  file.writeUInt16LE(2, 16); // ET_EXEC
  file.writeUInt16LE(62, 18); // x86-64
  file.writeUInt32LE(1, 20);
  file.writeBigUInt64LE(LOAD_ADDRESS + BigInt(FIRST_SECTION_OFFSET), 24); // entry
  file.writeBigUInt64LE(BigInt(EHDR), 32); // phoff
  file.writeBigUInt64LE(BigInt(shoff), 40);
  file.writeUInt16LE(EHDR, 52);
  file.writeUInt16LE(PHDR, 54);
  file.writeUInt16LE(1, 56);
  file.writeUInt16LE(SHDR, 58);
  file.writeUInt16LE(shnum, 60);
  file.writeUInt16LE(shnum - 1, 62);
  // PT_LOAD, R+X, the whole file.
  file.writeUInt32LE(1, EHDR);
  file.writeUInt32LE(5, EHDR + 4);
  file.writeBigUInt64LE(0n, EHDR + 8);
  file.writeBigUInt64LE(LOAD_ADDRESS, EHDR + 16);
  file.writeBigUInt64LE(LOAD_ADDRESS, EHDR + 24);
  file.writeBigUInt64LE(BigInt(file.length), EHDR + 32);
  file.writeBigUInt64LE(BigInt(file.length), EHDR + 40);
  file.writeBigUInt64LE(0x1000n, EHDR + 48);
  for (const [i, s] of sections.entries()) s.data.copy(file, placed[i]?.offset ?? 0);
  strtab.copy(file, strtabOffset);
  const header = (index: number, type: number, offset: number, size: number, flags: bigint) => {
    const at = shoff + index * SHDR;
    file.writeUInt32LE(nameOffsets[index] ?? 0, at);
    file.writeUInt32LE(type, at + 4);
    file.writeBigUInt64LE(flags, at + 8);
    file.writeBigUInt64LE(flags === 0n ? 0n : LOAD_ADDRESS + BigInt(offset), at + 16);
    file.writeBigUInt64LE(BigInt(offset), at + 24);
    file.writeBigUInt64LE(BigInt(size), at + 32);
    file.writeBigUInt64LE(16n, at + 48);
  };
  for (const [i, p] of placed.entries())
    header(i + 1, 1 /* PROGBITS */, p.offset, p.size, 2n /* ALLOC */);
  header(shnum - 1, 3 /* STRTAB */, strtabOffset, strtab.length, 0n);
  return file;
}

/** The address the loaded image gives to `offset` bytes into the first section. */
export function firstSectionAddress(offset: number): bigint {
  return LOAD_ADDRESS + BigInt(FIRST_SECTION_OFFSET + offset);
}
