// Alpine apk version ordering, from apk-tools' version.c token grammar:
// `{digit}{.digit}…{letter}{_suffix{#}}…{-r#}`, pre-release suffixes (alpha, beta, pre, rc)
// before the release, post-release suffixes (cvs, svn, git, hg, p) after it, leading zeros
// after a dot compared as fractions. Pure; the token state machine mirrors version.c.

enum Token {
  Invalid = -1,
  DigitOrZero = 0,
  Digit = 1,
  Letter = 2,
  Suffix = 3,
  SuffixNo = 4,
  RevisionNo = 5,
  End = 6,
}

const PRE_SUFFIXES = ["alpha", "beta", "pre", "rc"];
const POST_SUFFIXES = ["cvs", "svn", "git", "hg", "p"];

interface Cursor {
  s: string;
  pos: number;
  type: Token;
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

function isLower(c: string | undefined): boolean {
  return c !== undefined && c >= "a" && c <= "z";
}

function nextToken(cur: Cursor): void {
  let n: Token = Token.Invalid;
  const c = cur.s[cur.pos];
  if (cur.pos >= cur.s.length) {
    n = Token.End;
  } else if ((cur.type === Token.Digit || cur.type === Token.DigitOrZero) && isLower(c)) {
    n = Token.Letter;
  } else if (cur.type === Token.Letter && isDigit(c)) {
    n = Token.Digit;
  } else if (cur.type === Token.Suffix && isDigit(c)) {
    n = Token.SuffixNo;
  } else {
    if (c === ".") n = Token.DigitOrZero;
    else if (c === "_") n = Token.Suffix;
    else if (c === "-") {
      if (cur.s[cur.pos + 1] === "r") {
        n = Token.RevisionNo;
        cur.pos++;
      } else n = Token.Invalid;
    }
    cur.pos++;
  }
  if (n < cur.type) {
    const allowed =
      (n === Token.DigitOrZero && cur.type === Token.Digit) ||
      (n === Token.Suffix && cur.type === Token.SuffixNo) ||
      (n === Token.Digit && cur.type === Token.Letter);
    if (!allowed) n = Token.Invalid;
  }
  cur.type = n;
}

function matchSuffix(cur: Cursor, list: string[]): number {
  for (let v = 0; v < list.length; v++) {
    if (cur.s.startsWith(list[v], cur.pos)) return v;
  }
  return -1;
}

function getToken(cur: Cursor): number {
  if (cur.pos >= cur.s.length) {
    cur.type = Token.End;
    return 0;
  }
  let v = 0;
  let i = 0;
  let forced: Token = Token.Invalid;
  const at = (k: number) => cur.s[cur.pos + k];
  // Leading zeros after a dot get a special treatment (compared as a fraction).
  const leadingZero = cur.type === Token.DigitOrZero && at(0) === "0";
  switch (leadingZero ? -2 : cur.type) {
    case -2:
      while (cur.pos + i < cur.s.length && at(i) === "0") i++;
      forced = Token.Digit;
      v = -i;
      break;
    case Token.DigitOrZero:
    case Token.Digit:
    case Token.SuffixNo:
    case Token.RevisionNo:
      while (cur.pos + i < cur.s.length && isDigit(at(i))) {
        v = v * 10 + (at(i).charCodeAt(0) - 48);
        i++;
      }
      break;
    case Token.Letter:
      v = at(0).charCodeAt(0);
      i = 1;
      break;
    case Token.Suffix: {
      const pre = matchSuffix(cur, PRE_SUFFIXES);
      if (pre !== -1) {
        v = pre - PRE_SUFFIXES.length;
        i = PRE_SUFFIXES[pre].length;
        break;
      }
      const post = matchSuffix(cur, POST_SUFFIXES);
      if (post !== -1) {
        v = post;
        i = POST_SUFFIXES[post].length;
        break;
      }
      cur.type = Token.Invalid;
      return -1;
    }
    default:
      cur.type = Token.Invalid;
      return -1;
  }
  cur.pos += i;
  if (cur.pos >= cur.s.length) cur.type = Token.End;
  else if (forced !== Token.Invalid) cur.type = forced;
  else nextToken(cur);
  return v;
}

/** True when the version follows apk's grammar. */
export function isValidApkVersion(version: string): boolean {
  const cur: Cursor = { s: version, pos: 0, type: Token.Digit };
  while (cur.type !== Token.End && cur.type !== Token.Invalid) getToken(cur);
  return cur.type === Token.End;
}

export function compareApk(a: string, b: string): number {
  const x: Cursor = { s: a, pos: 0, type: Token.Digit };
  const y: Cursor = { s: b, pos: 0, type: Token.Digit };
  let av = 0;
  let bv = 0;
  while (x.type === y.type && x.type !== Token.End && x.type !== Token.Invalid && av === bv) {
    av = getToken(x);
    bv = getToken(y);
  }
  if (av < bv) return -1;
  if (av > bv) return 1;
  if (x.type === y.type) return 0;
  if (x.type === Token.Suffix && getToken({ ...x }) < 0) return -1;
  if (y.type === Token.Suffix && getToken({ ...y }) < 0) return 1;
  if (x.type > y.type) return -1;
  if (y.type > x.type) return 1;
  return 0;
}
