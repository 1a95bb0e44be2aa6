// Lenient JSON reading for the catalogers that parse package metadata written by other tools
// (npm, Composer, .NET, cargo auditable): a byte-order mark is tolerated, and malformed JSON
// is "nothing here" rather than an exception. Pure.

/** The parsed document, or undefined when `text` is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
