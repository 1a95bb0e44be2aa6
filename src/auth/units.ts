// Operator input for quotas (`10GiB`, `unlimited`) and robot expiry (`30d`, `never`): the
// "unlimited"/"never" words on top of the config module's size and duration parsers (one
// implementation of each unit table), bounded so that every value read here can be stored
// and turned into a date. Returns undefined for input it cannot read or that is out of range;
// callers answer with the matching *_HINT (400 / usage error), never let it reach SQL or Date.
import { parseByteSize, parseDuration as parseConfigDuration } from "../config/config.js";

/** The largest byte count Berth stores (an exact integer in JS, SQLite and PostgreSQL). */
export const MAX_BYTES = Number.MAX_SAFE_INTEGER;
/** The longest expiry a robot may be given (100 years); longer is `never`. */
export const MAX_DURATION_MS = 100 * 365 * 86400_000;

export const SIZE_HINT = "use e.g. 10GiB, 500MB or unlimited";
export const DURATION_HINT = "use e.g. 30d, 12h or never; longer than 0 and at most 36500d";

/** Bytes for a size, `null` for unlimited (`unlimited`, `none`, `-1`), undefined if unreadable. */
export function parseSize(text: string): number | null | undefined {
  const t = text.trim().toLowerCase();
  if (t === "unlimited" || t === "none" || t === "-1") return null;
  if (t === "0") return 0;
  try {
    const bytes = parseByteSize(t);
    return bytes <= MAX_BYTES ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Milliseconds for a duration (`30d`, `12h`), `null` for `never`, undefined if unreadable,
 * zero, or longer than MAX_DURATION_MS.
 */
export function parseDuration(text: string): number | null | undefined {
  const t = text.trim().toLowerCase();
  if (t === "never" || t === "none") return null;
  try {
    const ms = parseConfigDuration(t);
    return Number.isSafeInteger(ms) && ms > 0 && ms <= MAX_DURATION_MS ? ms : undefined;
  } catch {
    return undefined;
  }
}
