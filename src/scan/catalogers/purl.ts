// Package URLs (https://github.com/package-url/purl-spec): builds the canonical string for a
// package from its parts, percent-encoding each part as the spec says. Pure.

export interface PurlParts {
  readonly type: string;
  /** Slash-separated namespace; each segment is encoded on its own. */
  readonly namespace?: string;
  readonly name: string;
  readonly version?: string;
  readonly qualifiers?: Readonly<Record<string, string | undefined>>;
  readonly subpath?: string;
}

export function purl(parts: PurlParts): string {
  let out = `pkg:${parts.type}/`;
  if (parts.namespace) out += `${segments(parts.namespace)}/`;
  out += encodePart(parts.name);
  if (parts.version) out += `@${encodePart(parts.version)}`;
  const qualifiers = Object.entries(parts.qualifiers ?? {})
    .filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== "")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (qualifiers.length > 0) {
    out += `?${qualifiers.map(([k, v]) => `${k.toLowerCase()}=${encodePart(v)}`).join("&")}`;
  }
  if (parts.subpath) out += `#${segments(parts.subpath)}`;
  return out;
}

function segments(path: string): string {
  return path
    .split("/")
    .filter((s) => s !== "")
    .map(encodePart)
    .join("/");
}

/** Percent-encodes everything but unreserved characters (RFC 3986), as purl requires. */
function encodePart(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
