// Composer (Packagist) version ordering: Composer normalizes a version (drops a leading `v`,
// pads to four numeric parts, keeps the stability suffix) and compares with PHP's
// version_compare, whose special words order dev < alpha = a < beta = b < RC = rc < # (a
// number) < pl = p, and any other word before dev. Pure.

/** PHP's special forms in lookup order; a word takes the order of the first form it starts with. */
const SPECIAL: ReadonlyArray<readonly [string, number]> = [
  ["dev", 0],
  ["alpha", 1],
  ["a", 1],
  ["beta", 2],
  ["b", 2],
  ["RC", 3],
  ["rc", 3],
  ["#", 4],
  ["pl", 5],
  ["p", 5],
];

function specialOrder(word: string): number {
  for (const [form, order] of SPECIAL) if (word.startsWith(form)) return order;
  return -1;
}

/** PHP's php_canonicalize_version followed by splitting on dots. */
function phpParts(version: string): string[] {
  let out = "";
  let prev = "";
  for (const c of version) {
    const kind = /[0-9]/.test(c) ? "d" : /[-_+.]/.test(c) ? "s" : "a";
    if (kind === "s") {
      if (!out.endsWith(".")) out += ".";
    } else {
      if (prev && prev !== kind && prev !== "s" && !out.endsWith(".")) out += ".";
      out += c;
    }
    prev = kind;
  }
  return out.split(".").filter((p) => p !== "");
}

function comparePart(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return Math.sign(Number(a) - Number(b));
  if (!an && !bn) return Math.sign(specialOrder(a) - specialOrder(b));
  return an
    ? Math.sign(specialOrder("#") - specialOrder(b))
    : Math.sign(specialOrder(a) - specialOrder("#"));
}

/** PHP version_compare(a, b). */
export function phpVersionCompare(a: string, b: string): number {
  const x = phpParts(a);
  const y = phpParts(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const c = comparePart(x[i], y[i]);
    if (c) return c;
  }
  if (x.length === y.length) return 0;
  if (x.length > y.length) return /^\d/.test(x[n]) ? 1 : comparePart(x[n], "#");
  return /^\d/.test(y[n]) ? -1 : comparePart("#", y[n]);
}

/** Composer's VersionParser::normalize for the common forms (`v1.2`, `1.2.3-beta1`). */
export function normalizeComposer(version: string): string {
  const text = version
    .trim()
    .replace(/^v/i, "")
    .replace(/@[a-z]+$/i, "");
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?(.*)$/.exec(text);
  if (!m) return text;
  const numeric = [m[1], m[2] ?? "0", m[3] ?? "0", m[4] ?? "0"].join(".");
  const suffix = m[5].replace(/^[-_.+]/, "");
  return suffix ? `${numeric}-${suffix}` : numeric;
}

export function compareComposer(a: string, b: string): number {
  return phpVersionCompare(normalizeComposer(a), normalizeComposer(b));
}
