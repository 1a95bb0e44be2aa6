// RPM version ordering: rpmvercmp (alphanumeric segments, numbers > letters, `~` sorts before
// anything, `^` after the base but before any other addition) applied to epoch, version and
// release (`[epoch:]version[-release]`). Pure; written from rpm's documented rules.

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

function isAlnum(c: string): boolean {
  return isDigit(c) || (c >= "a" && c <= "z") || (c >= "A" && c <= "Z");
}

function compareStrings(a: string, b: string): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

/** rpm's rpmvercmp over one version or release string. */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(a[i]) && a[i] !== "~" && a[i] !== "^") i++;
    while (j < b.length && !isAlnum(b[j]) && b[j] !== "~" && b[j] !== "^") j++;
    if (a[i] === "~" || b[j] === "~") {
      if (a[i] !== "~") return 1;
      if (b[j] !== "~") return -1;
      i++;
      j++;
      continue;
    }
    if (a[i] === "^" || b[j] === "^") {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== "^") return 1;
      if (b[j] !== "^") return -1;
      i++;
      j++;
      continue;
    }
    if (!(i < a.length && j < b.length)) break;
    const numeric = isDigit(a[i]);
    const test = numeric ? isDigit : (c: string) => isAlnum(c) && !isDigit(c);
    let ie = i;
    while (ie < a.length && test(a[ie])) ie++;
    let je = j;
    while (je < b.length && test(b[je])) je++;
    if (je === j) return numeric ? 1 : -1;
    let sa = a.slice(i, ie);
    let sb = b.slice(j, je);
    if (numeric) {
      sa = sa.replace(/^0+/, "");
      sb = sb.replace(/^0+/, "");
      if (sa.length !== sb.length) return sa.length > sb.length ? 1 : -1;
    }
    const rc = compareStrings(sa, sb);
    if (rc) return rc;
    i = ie;
    j = je;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

export interface RpmEvr {
  readonly epoch: number;
  readonly version: string;
  readonly release?: string;
}

export function parseRpmEvr(text: string): RpmEvr {
  const colon = text.indexOf(":");
  const epoch = colon > 0 && /^\d+$/.test(text.slice(0, colon)) ? Number(text.slice(0, colon)) : 0;
  const rest = colon > 0 ? text.slice(colon + 1) : text;
  const dash = rest.lastIndexOf("-");
  return dash === -1
    ? { epoch, version: rest }
    : { epoch, version: rest.slice(0, dash), release: rest.slice(dash + 1) };
}

/** Compares `[epoch:]version[-release]`; a missing release compares equal to any release. */
export function compareRpm(a: string, b: string): number {
  const x = parseRpmEvr(a);
  const y = parseRpmEvr(b);
  if (x.epoch !== y.epoch) return x.epoch > y.epoch ? 1 : -1;
  const v = rpmvercmp(x.version, y.version);
  if (v || x.release === undefined || y.release === undefined) return v;
  return rpmvercmp(x.release, y.release);
}
