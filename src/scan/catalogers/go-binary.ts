// The Go binary cataloger: the module build information the Go linker embeds in every
// module-aware executable (what `go version -m` prints): the main module, each dependency
// (after `=>` replacements) and the Go toolchain as the `stdlib` package. The blob starts
// with the 16-byte-aligned magic "\xff Go buildinf:" (section `.go.buildinfo` in ELF);
// Go ≥ 1.18 stores the version and module strings inline as varint-prefixed bytes (flag
// bit 2), older linkers store pointers to Go string headers that are resolved through the
// ELF's loaded segments. Versions keep Go's `v` prefix (`v0.7.0`, stdlib `v1.21.3`), as in
// go.mod and in `pkg:golang` purls. Pure.
import { type LibraryDraft, library } from "./draft.js";
import { type ElfFile, parseElf } from "./elf.js";
import { purl } from "./purl.js";

const MAGIC = Buffer.from("\xff Go buildinf:", "latin1");
const HEADER_SIZE = 32;
const FLAG_BIG_ENDIAN = 0x1;
const FLAG_INLINE = 0x2;
const SENTINEL_LENGTH = 16;
/** How far past the magic a streamed scan reads before deciding it is not build info. */
const MAX_STREAMED_INFO = 4 * 1024 * 1024;

export interface GoBuildInfo {
  readonly goVersion: string;
  readonly modules: readonly { path: string; version: string; main: boolean }[];
}

export function parseGoBinary(bytes: Buffer, location: string): LibraryDraft[] {
  const info = readGoBuildInfo(bytes);
  return info ? goPackages(info, location) : [];
}

export function readGoBuildInfo(bytes: Buffer): GoBuildInfo | undefined {
  const elf = parseElf(bytes);
  if (!elf) return undefined;
  const section = elf.section(".go.buildinfo");
  const header = section && startsWithMagic(section) ? section : findAlignedMagic(bytes);
  if (!header || header.byteLength < HEADER_SIZE) return undefined;
  const ptrSize = header[14] as number;
  const flags = header[15] as number;
  let strings: [string, string] | undefined;
  if (flags & FLAG_INLINE) strings = inlineStrings(header);
  else if (ptrSize === 4 || ptrSize === 8)
    strings = pointerStrings(elf, header, ptrSize, (flags & FLAG_BIG_ENDIAN) === 0);
  if (!strings) return undefined;
  const [goVersion, modinfo] = strings;
  if (!goVersion) return undefined;
  return { goVersion, modules: parseModinfo(stripSentinels(modinfo)) };
}

function startsWithMagic(bytes: Uint8Array): boolean {
  return bytes.byteLength >= MAGIC.length && MAGIC.equals(bytes.subarray(0, MAGIC.length));
}

function findAlignedMagic(bytes: Buffer): Uint8Array | undefined {
  let at = bytes.indexOf(MAGIC);
  while (at !== -1) {
    if (at % 16 === 0 && at + HEADER_SIZE <= bytes.byteLength) return bytes.subarray(at);
    at = bytes.indexOf(MAGIC, at + 1);
  }
  return undefined;
}

function inlineStrings(blob: Uint8Array): [string, string] | undefined {
  const first = readVarintString(blob, HEADER_SIZE);
  if (!first) return undefined;
  const second = readVarintString(blob, first.next);
  return second ? [first.value, second.value] : undefined;
}

function readVarintString(
  bytes: Uint8Array,
  at: number,
): { value: string; next: number } | undefined {
  let length = 0;
  let shift = 0;
  let pos = at;
  for (;;) {
    if (pos >= bytes.byteLength || shift > 28) return undefined;
    const b = bytes[pos++] as number;
    length |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  if (pos + length > bytes.byteLength) return undefined;
  return {
    value: Buffer.from(bytes.subarray(pos, pos + length)).toString("utf8"),
    next: pos + length,
  };
}

function pointerStrings(
  elf: ElfFile,
  blob: Uint8Array,
  ptrSize: number,
  le: boolean,
): [string, string] | undefined {
  const readPtr = (bytes: Uint8Array, at: number): bigint | undefined => {
    if (at + ptrSize > bytes.byteLength) return undefined;
    const dv = new DataView(bytes.buffer, bytes.byteOffset + at, ptrSize);
    return ptrSize === 8 ? dv.getBigUint64(0, le) : BigInt(dv.getUint32(0, le));
  };
  const goString = (headerAddress: bigint | undefined): string | undefined => {
    if (headerAddress === undefined) return undefined;
    const header = elf.readAt(headerAddress, ptrSize * 2);
    if (!header) return undefined;
    const data = readPtr(header, 0);
    const length = readPtr(header, ptrSize);
    if (data === undefined || length === undefined || length > 1n << 24n) return undefined;
    if (length === 0n) return "";
    const bytes = elf.readAt(data, Number(length));
    return bytes ? Buffer.from(bytes).toString("utf8") : undefined;
  };
  const version = goString(readPtr(blob, 16));
  const modinfo = goString(readPtr(blob, 16 + ptrSize));
  return version === undefined || modinfo === undefined ? undefined : [version, modinfo];
}

/** The module text is wrapped in 16-byte sentinels (so the linker can find it). */
function stripSentinels(modinfo: string): string {
  if (modinfo.length >= 33 && modinfo[modinfo.length - 17] === "\n") {
    return modinfo.slice(SENTINEL_LENGTH, modinfo.length - SENTINEL_LENGTH);
  }
  return modinfo;
}

/** Lines: `mod path version sum`, `dep path version sum`, `=> path version sum`. */
export function parseModinfo(text: string): { path: string; version: string; main: boolean }[] {
  const modules: { path: string; version: string; main: boolean }[] = [];
  for (const line of text.split("\n")) {
    const [kind, path, version] = line.split("\t");
    if (!path) continue;
    if (kind === "mod" || kind === "dep") {
      modules.push({ path, version: version ?? "", main: kind === "mod" });
    } else if (kind === "=>" && modules.length > 0 && isModuleReplacement(path, version)) {
      const replaced = modules[modules.length - 1] as {
        path: string;
        version: string;
        main: boolean;
      };
      modules[modules.length - 1] = { ...replaced, path, version };
    }
  }
  return modules;
}

/** A local directory replacement (`=> ../lib (devel)`) keeps the required module's identity. */
function isModuleReplacement(path: string, version: string | undefined): boolean {
  return !!version && version !== "(devel)" && !path.startsWith(".") && !path.startsWith("/");
}

/**
 * Finds Go ≥ 1.18 (inline) build info in an executable too large to hold in memory, fed
 * chunk by chunk: looks for the magic at 16-byte-aligned file offsets, then keeps only the
 * bytes after it until both strings are complete. Pointer-format (Go < 1.18) info needs
 * random access to the file and is not found this way.
 */
export class GoBuildInfoScanner {
  private offset = 0;
  private carry: Buffer = Buffer.alloc(0);
  private tail: Buffer | undefined;
  private info: GoBuildInfo | undefined;

  push(chunk: Buffer): void {
    if (this.info) return;
    if (this.tail) {
      this.tail = Buffer.concat([this.tail, chunk]);
      this.tryParseTail();
      return;
    }
    const window = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    let at = window.indexOf(MAGIC);
    while (at !== -1 && (this.offset + at) % 16 !== 0) at = window.indexOf(MAGIC, at + 1);
    if (at !== -1) {
      this.tail = Buffer.from(window.subarray(at));
      this.offset += at;
      this.carry = Buffer.alloc(0);
      this.tryParseTail();
      return;
    }
    const keep = Math.min(window.length, MAGIC.length - 1);
    this.carry = Buffer.from(window.subarray(window.length - keep));
    this.offset += window.length - keep;
  }

  result(): GoBuildInfo | undefined {
    return this.info;
  }

  private tryParseTail(): void {
    const tail = this.tail as Buffer;
    if (tail.length < HEADER_SIZE) return;
    const strings = (tail[15] as number) & FLAG_INLINE ? inlineStrings(tail) : undefined;
    if (strings?.[0].startsWith("go")) {
      this.info = { goVersion: strings[0], modules: parseModinfo(stripSentinels(strings[1])) };
      this.tail = undefined;
      return;
    }
    const complete =
      strings !== undefined ||
      tail.length > MAX_STREAMED_INFO ||
      !((tail[15] as number) & FLAG_INLINE);
    if (!complete) return;
    // Not build info after all (the magic also appears in programs that read build info):
    // search on after this occurrence.
    this.tail = undefined;
    const rest = tail.subarray(MAGIC.length);
    this.offset += MAGIC.length;
    this.push(Buffer.from(rest));
  }
}

export function goPackagesFromInfo(
  info: GoBuildInfo | undefined,
  location: string,
): LibraryDraft[] {
  return info ? goPackages(info, location) : [];
}

function goPackages(info: GoBuildInfo, location: string): LibraryDraft[] {
  const out: LibraryDraft[] = [];
  for (const mod of info.modules) {
    // A main module built from a checkout has no version ("(devel)"): nothing to match.
    if (!mod.version || mod.version === "(devel)") continue;
    out.push(goDraft(mod.path, mod.version, location));
  }
  const toolchain = toolchainVersion(info.goVersion);
  if (toolchain) out.push(goDraft("stdlib", toolchain, location));
  return out;
}

/**
 * `go1.21.3` → `v1.21.3`; `go1.20` (the first 1.20 release) → `v1.20.0`; `go1.21rc2` →
 * `v1.21.0-rc.2`: the semantic versions the Go vulnerability database uses for `stdlib`.
 * Development builds (`devel …`) have none.
 */
export function toolchainVersion(goVersion: string): string | undefined {
  const m = /^go(\d+)\.(\d+)(?:\.(\d+))?(?:(rc|beta)(\d+))?/.exec(goVersion);
  if (!m) return undefined;
  const pre = m[4] ? `-${m[4]}.${m[5]}` : "";
  return `v${m[1]}.${m[2]}.${m[3] ?? "0"}${pre}`;
}

/** A Go module as a package: `pkg:golang/<path without its last element>/<last>@<version>`. */
export function goDraft(path: string, version: string, location: string): LibraryDraft {
  const slash = path.lastIndexOf("/");
  return library(
    {
      name: path,
      version,
      ecosystem: "Go",
      type: "library",
      purl: purl({
        type: "golang",
        namespace: slash > 0 ? path.slice(0, slash) : undefined,
        name: slash > 0 ? path.slice(slash + 1) : path,
        version,
      }),
    },
    location,
  );
}
