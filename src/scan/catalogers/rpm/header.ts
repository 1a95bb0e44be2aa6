// Decodes one rpm header blob as the rpm database stores it (all three backends hold the
// same blob): big-endian `il` (index entry count) and `dl` (data length), `il` 16-byte
// index entries (tag, type, offset, count), then the data store. Only the tags the
// cataloger needs are read. Pure; never trusts an offset it has not bounds-checked.
import type { OsPackageDraft } from "../draft.js";

export class RpmHeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RpmHeaderError";
  }
}

export const RpmTag = {
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  LICENSE: 1014,
  ARCH: 1022,
  SOURCERPM: 1044,
} as const;

const TYPE_INT32 = 4;
const TYPE_STRING = 6;
const TYPE_STRING_ARRAY = 8;
const TYPE_I18NSTRING = 9;
const INDEX_ENTRY_SIZE = 16;
const MAX_INDEX_ENTRIES = 0xffff;

export interface RpmHeader {
  string(tag: number): string | undefined;
  int32(tag: number): number | undefined;
}

export function parseRpmHeader(blob: Uint8Array): RpmHeader {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (blob.byteLength < 8) throw new RpmHeaderError("rpm header blob is too short");
  const il = view.getUint32(0);
  const dl = view.getUint32(4);
  const dataStart = 8 + il * INDEX_ENTRY_SIZE;
  if (il > MAX_INDEX_ENTRIES || dataStart + dl > blob.byteLength) {
    throw new RpmHeaderError(`rpm header blob is truncated (il=${il}, dl=${dl})`);
  }
  const entries = new Map<number, { type: number; offset: number; count: number }>();
  for (let i = 0; i < il; i++) {
    const at = 8 + i * INDEX_ENTRY_SIZE;
    const tag = view.getUint32(at);
    const type = view.getUint32(at + 4);
    const offset = view.getInt32(at + 8);
    const count = view.getUint32(at + 12);
    if (offset < 0 || offset >= dl) continue;
    entries.set(tag, { type, offset, count });
  }
  const data = blob.subarray(dataStart, dataStart + dl);
  return {
    string(tag) {
      const entry = entries.get(tag);
      if (!entry) return undefined;
      if (![TYPE_STRING, TYPE_STRING_ARRAY, TYPE_I18NSTRING].includes(entry.type)) return undefined;
      const end = data.indexOf(0, entry.offset);
      return Buffer.from(data.subarray(entry.offset, end === -1 ? data.length : end)).toString(
        "utf8",
      );
    },
    int32(tag) {
      const entry = entries.get(tag);
      if (!entry || entry.type !== TYPE_INT32 || entry.offset + 4 > data.length) return undefined;
      return new DataView(data.buffer, data.byteOffset + entry.offset, 4).getInt32(0);
    },
  };
}

/** The package a header describes; `undefined` for pseudo-packages such as `gpg-pubkey`. */
export function rpmDraft(header: RpmHeader, location: string): OsPackageDraft | undefined {
  const name = header.string(RpmTag.NAME);
  const version = header.string(RpmTag.VERSION);
  const release = header.string(RpmTag.RELEASE);
  if (!name || !version) return undefined;
  // Imported signing keys are stored as headers without an architecture or source rpm.
  if (name === "gpg-pubkey") return undefined;
  const epoch = header.int32(RpmTag.EPOCH);
  const evr = `${epoch !== undefined ? `${epoch}:` : ""}${version}${release ? `-${release}` : ""}`;
  const source = parseSourceRpm(header.string(RpmTag.SOURCERPM), epoch);
  const license = header.string(RpmTag.LICENSE);
  return {
    kind: "os",
    manager: "rpm",
    name,
    version: evr,
    epoch,
    arch: header.string(RpmTag.ARCH) || undefined,
    sourceName: source?.name ?? name,
    sourceVersion: source?.version ?? evr,
    licenses: license ? [license] : undefined,
    location,
  };
}

/** `openssl-3.0.7-24.el9.src.rpm` → `{ name: "openssl", version: "3.0.7-24.el9" }`. */
export function parseSourceRpm(
  sourceRpm: string | undefined,
  epoch: number | undefined,
): { name: string; version: string } | undefined {
  if (!sourceRpm) return undefined;
  const base = sourceRpm.replace(/\.(?:no)?src\.rpm$/, "");
  const releaseDash = base.lastIndexOf("-");
  const versionDash = releaseDash > 0 ? base.lastIndexOf("-", releaseDash - 1) : -1;
  if (versionDash <= 0) return undefined;
  const prefix = epoch !== undefined ? `${epoch}:` : "";
  return { name: base.slice(0, versionDash), version: prefix + base.slice(versionDash + 1) };
}
