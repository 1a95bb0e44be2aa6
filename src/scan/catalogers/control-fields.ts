// Parses Debian-control-style stanzas ("Field: value" lines, continuation lines starting
// with whitespace, blank lines between stanzas), the format of dpkg's status database and
// of Python's METADATA/PKG-INFO headers. Pure.

/** One stanza: field names as written (first occurrence wins for repeated fields). */
export type Stanza = ReadonlyMap<string, string>;

export function parseStanzas(text: string): Stanza[] {
  const stanzas: Stanza[] = [];
  let current = new Map<string, string>();
  let lastField: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") {
      if (current.size > 0) stanzas.push(current);
      current = new Map();
      lastField = undefined;
      continue;
    }
    if ((line.startsWith(" ") || line.startsWith("\t")) && lastField !== undefined) {
      current.set(lastField, `${current.get(lastField) ?? ""}\n${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const field = line.slice(0, colon);
    lastField = field;
    if (!current.has(field)) current.set(field, line.slice(colon + 1).trim());
  }
  if (current.size > 0) stanzas.push(current);
  return stanzas;
}

/** Reads the header block of an RFC 822-style document (up to the first blank line). */
export function parseHeaderBlock(text: string): {
  first: Stanza;
  all: ReadonlyMap<string, readonly string[]>;
} {
  const end = text.search(/\r?\n\r?\n/);
  const head = end === -1 ? text : text.slice(0, end);
  const all = new Map<string, string[]>();
  let lastField: string | undefined;
  for (const line of head.split(/\r?\n/)) {
    if ((line.startsWith(" ") || line.startsWith("\t")) && lastField !== undefined) continue;
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    lastField = line.slice(0, colon);
    const values = all.get(lastField) ?? [];
    values.push(line.slice(colon + 1).trim());
    all.set(lastField, values);
  }
  const first = new Map<string, string>();
  for (const [k, v] of all) first.set(k, v[0] ?? "");
  return { first, all };
}
