// The apk cataloger: installed packages from Alpine's `/lib/apk/db/installed` (also used by
// Wolfi/Chainguard). Each stanza is `X:value` lines; `o:` is the origin (source) package.
// Pure: parses bytes it is given.
import type { OsPackageDraft } from "./draft.js";

export const APK_DB_PATH = "lib/apk/db/installed";

export function parseApkInstalled(text: string, location: string): OsPackageDraft[] {
  const out: OsPackageDraft[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const fields = new Map<string, string>();
    for (const line of block.split(/\r?\n/)) {
      if (line.length < 2 || line[1] !== ":") continue;
      const key = line[0] as string;
      if (!fields.has(key)) fields.set(key, line.slice(2));
    }
    const name = fields.get("P");
    const version = fields.get("V");
    if (!name || !version) continue;
    const license = fields.get("L");
    out.push({
      kind: "os",
      manager: "apk",
      name,
      version,
      arch: fields.get("A") || undefined,
      sourceName: fields.get("o") || name,
      sourceVersion: version,
      licenses: license ? [license] : undefined,
      location,
    });
  }
  return out;
}
