// Operator input for quotas (`10GiB`, `unlimited`) and robot expiry (`30d`, `never`): the
// "unlimited"/"never" words on top of the config module's size and duration parsers (one
// implementation of each unit table). Returns undefined for input it cannot read.
import { parseByteSize, parseDuration as parseConfigDuration } from "../config/config.js";

/** Bytes for a size, `null` for unlimited (`unlimited`, `none`, `-1`), undefined if unreadable. */
export function parseSize(text: string): number | null | undefined {
  const t = text.trim().toLowerCase();
  if (t === "unlimited" || t === "none" || t === "-1") return null;
  if (t === "0") return 0;
  try {
    return parseByteSize(t);
  } catch {
    return undefined;
  }
}

/** Milliseconds for a duration (`30d`, `12h`), `null` for `never`, undefined if unreadable. */
export function parseDuration(text: string): number | null | undefined {
  const t = text.trim().toLowerCase();
  if (t === "never" || t === "none") return null;
  try {
    return parseConfigDuration(t);
  } catch {
    return undefined;
  }
}
