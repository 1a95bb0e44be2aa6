// The Rust cataloger: crates from `Cargo.lock` (TOML; packages with a registry or git source; the
// workspace's own crates have none and are left out) and from the dependency list that
// `cargo auditable` embeds in binaries (ELF section `.dep-v0`: zlib-compressed JSON
// `{ "packages": [{ name, version, source, root? }] }`; the root crate and local crates
// are left out). Pure.
import { inflateSync } from "node:zlib";
import { type LibraryDraft, library } from "./draft.js";
import { parseElf } from "./elf.js";
import { isRecord, parseJson } from "./json.js";
import { parseTomlLock } from "./lock-parse.js";
import { purl } from "./purl.js";

const MAX_AUDIT_JSON = 8 * 1024 * 1024;

export function wantsCargoLock(path: string): boolean {
  return /(?:^|\/)Cargo\.lock$/.test(path);
}

export function parseCargoLock(text: string, location: string): LibraryDraft[] {
  const doc = parseTomlLock(text, "Cargo.lock");
  if (doc.package === undefined) return [];
  if (!Array.isArray(doc.package)) throw new Error('not a Cargo.lock: "package" is not an array');
  const out: LibraryDraft[] = [];
  for (const entry of doc.package) {
    if (!isRecord(entry)) continue;
    const { name, version, source } = entry;
    if (typeof name !== "string" || typeof version !== "string" || !name || !version) continue;
    if (typeof source !== "string" || source === "") continue;
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
