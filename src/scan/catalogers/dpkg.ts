// The dpkg cataloger: installed packages from `/var/lib/dpkg/status` and from the
// one-file-per-package `/var/lib/dpkg/status.d/` directory distroless images use. Keeps the
// `Source:` field (Debian advisories are keyed by source package), including the
// `Source: name (version)` form used when a binary's version differs from its source's.
// Licenses come from the package's DEP-5 `/usr/share/doc/<package>/copyright` file.
// Pure: parses bytes it is given.
import { parseStanzas, type Stanza } from "./control-fields.js";
import type { OsPackageDraft } from "./draft.js";

export function wantsDpkg(path: string): boolean {
  if (path === "var/lib/dpkg/status") return true;
  if (!path.startsWith("var/lib/dpkg/status.d/")) return false;
  const base = path.slice("var/lib/dpkg/status.d/".length);
  return base !== "" && !base.includes("/") && !base.endsWith(".md5sums");
}

/** `/usr/share/doc/<package>/copyright`, where Debian packages state their licenses. */
export function wantsDebianCopyright(path: string): boolean {
  return /^usr\/share\/doc\/[^/]+\/copyright$/.test(path);
}

export function debianCopyrightPath(packageName: string): string {
  return `usr/share/doc/${packageName}/copyright`;
}

/**
 * The license names a machine-readable (DEP-5) copyright file gives in its `License:`
 * fields, in order of first appearance; none for free-form files.
 */
export function parseDebianCopyright(text: string): string[] {
  if (!/^Format:/m.test(text)) return [];
  const licenses = new Set<string>();
  for (const m of text.matchAll(/^License:[ \t]*(\S[^\r\n]*)$/gm)) {
    const name = (m[1] as string).trim();
    if (name.length <= 200) licenses.add(name);
  }
  return [...licenses];
}

export function parseDpkgStatus(text: string, location: string): OsPackageDraft[] {
  const out: OsPackageDraft[] = [];
  for (const stanza of parseStanzas(text)) {
    const draft = toDraft(stanza, location);
    if (draft) out.push(draft);
  }
  return out;
}

function toDraft(stanza: Stanza, location: string): OsPackageDraft | undefined {
  const name = stanza.get("Package");
  const version = stanza.get("Version");
  if (!name || !version) return undefined;
  // status.d files carry no Status field: their presence means installed.
  const status = stanza.get("Status");
  if (status !== undefined && !isInstalled(status)) return undefined;
  const source = parseSource(stanza.get("Source"), name, version);
  const arch = stanza.get("Architecture");
  return {
    kind: "os",
    manager: "dpkg",
    name,
    version,
    arch: arch || undefined,
    sourceName: source.name,
    sourceVersion: source.version,
    location,
  };
}

/** `Status: want flag state`; only the `installed` state means the files are there. */
function isInstalled(status: string): boolean {
  const words = status.split(/\s+/);
  return words[words.length - 1] === "installed";
}

function parseSource(
  field: string | undefined,
  name: string,
  version: string,
): { name: string; version: string } {
  if (!field) return { name, version };
  const match = /^(\S+)(?:\s+\(([^)]+)\))?/.exec(field.trim());
  if (!match) return { name, version };
  return { name: match[1] ?? name, version: match[2]?.trim() || version };
}
