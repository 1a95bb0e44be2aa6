// Debian package version ordering (dpkg, Debian Policy §5.6.12): `[epoch:]upstream[-revision]`,
// compared epoch numerically, then upstream and revision with dpkg's verrevcmp, where `~`
// sorts before everything (even the end of the string) and letters sort before non-letters.
// Pure: never touches the file system; ported from the Policy algorithm, not from dpkg source.

export interface DpkgVersion {
  readonly epoch: number;
  readonly upstream: string;
  readonly revision: string;
}

/** Parses a dpkg version; surrounding whitespace is ignored, as dpkg does. */
export function parseDpkgVersion(input: string): DpkgVersion {
  const text = input.trim();
  if (text === "") throw new Error("empty version");
  const colon = text.indexOf(":");
  let epoch = 0;
  let rest = text;
  if (colon !== -1) {
    const epochText = text.slice(0, colon);
    if (!/^\d+$/.test(epochText)) throw new Error(`bad epoch in version ${input}`);
    epoch = Number(epochText);
    if (!Number.isSafeInteger(epoch) || epoch > 2147483647)
      throw new Error(`epoch too big: ${input}`);
    rest = text.slice(colon + 1);
  }
  const hyphen = rest.lastIndexOf("-");
  const upstream = hyphen === -1 ? rest : rest.slice(0, hyphen);
  const revision = hyphen === -1 ? "" : rest.slice(hyphen + 1);
  if (upstream === "") throw new Error(`empty upstream version in ${input}`);
  if (/\s/.test(upstream) || /\s/.test(revision)) throw new Error(`space in version ${input}`);
  return { epoch, upstream, revision };
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isAlpha(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/** dpkg's character weight: `~` < end < letters < other characters. */
function order(code: number | undefined): number {
  if (code === undefined || isDigit(code)) return 0;
  if (isAlpha(code)) return code;
  if (code === 126) return -1; // '~'
  return code + 256;
}

/** dpkg's verrevcmp over one part (upstream or revision). */
export function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while (
      (i < a.length && !isDigit(a.charCodeAt(i))) ||
      (j < b.length && !isDigit(b.charCodeAt(j)))
    ) {
      const ac = order(i < a.length ? a.charCodeAt(i) : undefined);
      const bc = order(j < b.length ? b.charCodeAt(j) : undefined);
      if (ac !== bc) return Math.sign(ac - bc);
      i++;
      j++;
    }
    while (a.charCodeAt(i) === 48) i++;
    while (b.charCodeAt(j) === 48) j++;
    while (i < a.length && isDigit(a.charCodeAt(i)) && j < b.length && isDigit(b.charCodeAt(j))) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < a.length && isDigit(a.charCodeAt(i))) return 1;
    if (j < b.length && isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff) return Math.sign(firstDiff);
  }
  return 0;
}

export function compareDpkgParsed(a: DpkgVersion, b: DpkgVersion): number {
  if (a.epoch !== b.epoch) return a.epoch > b.epoch ? 1 : -1;
  return verrevcmp(a.upstream, b.upstream) || verrevcmp(a.revision, b.revision);
}

export function compareDpkg(a: string, b: string): number {
  return compareDpkgParsed(parseDpkgVersion(a), parseDpkgVersion(b));
}
