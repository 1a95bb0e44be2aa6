// The Rust cataloger: crates from `Cargo.lock` (packages with a registry or git source; the
// workspace's own crates have none and are left out) and from the dependency list that
// `cargo auditable` embeds in binaries (ELF section `.dep-v0`: zlib-compressed JSON
// `{ "packages": [{ name, version, source, root? }] }`; the root crate and local crates
// are left out). Pure.
import { inflateSync } from "node:zlib";
import { type LibraryDraft, library } from "./draft.js";
import { parseElf } from "./elf.js";
import { isRecord, parseJson } from "./json.js";
import { purl } from "./purl.js";

const MAX_AUDIT_JSON = 8 * 1024 * 1024;

export function wantsCargoLock(path: string): boolean {
  return /(?:^|\/)Cargo\.lock$/.test(path);
}

export function parseCargoLock(text: string, location: string): LibraryDraft[] {
  const out: LibraryDraft[] = [];
  for (const block of text.split(/^\[\[package\]\]\s*$/m).slice(1)) {
    const fields = new Map<string, string>();
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith("[")) break;
      const m = /^(\w+)\s*=\s*"([^"]*)"/.exec(line.trim());
      if (m) fields.set(m[1] as string, m[2] as string);
    }
    const name = fields.get("name");
    const version = fields.get("version");
    if (!name || !version || !fields.get("source")) continue;
    out.push(crateDraft(name, version, location));
  }
  return out;
}

export function parseCargoAuditable(bytes: Buffer, location: string): LibraryDraft[] {
  const section = parseElf(bytes)?.section(".dep-v0");
  if (!section) return [];
  let json: string;
  try {
    json = inflateSync(section, { maxOutputLength: MAX_AUDIT_JSON }).toString("utf8");
  } catch {
    return [];
  }
  const doc = parseJson(json);
  if (!isRecord(doc) || !Array.isArray(doc.packages)) return [];
  const out: LibraryDraft[] = [];
  for (const entry of doc.packages) {
    if (!isRecord(entry) || entry.root === true) continue;
    const { name, version, source } = entry;
    if (typeof name !== "string" || typeof version !== "string") continue;
    if (source === "local") continue;
    out.push(crateDraft(name, version, location));
  }
  return out;
}

function crateDraft(name: string, version: string, location: string): LibraryDraft {
  return library(
    {
      name,
      version,
      ecosystem: "crates.io",
      type: "library",
      purl: purl({ type: "cargo", name, version }),
    },
    location,
  );
}
