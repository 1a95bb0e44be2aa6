// Maven version ordering, after Maven's ComparableVersion: a version is a tree of integer,
// qualifier and sub-list items (`-` and digit/letter transitions open sub-lists), trailing
// "null" items (0, "", empty lists) are dropped, and qualifiers order as
// alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp < others.
// This is the Maven 3.0 ComparableVersion parse (a sub-list only for digit-hyphen-digit),
// the one whose ComparableVersionTest vectors test/scan/versions checks. Pure.

type Item = IntItem | StringItem | ListItem;

interface IntItem {
  kind: "int";
  value: bigint;
}

interface StringItem {
  kind: "string";
  value: string;
}

interface ListItem {
  kind: "list";
  items: Item[];
}

const QUALIFIERS = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const ALIASES: Record<string, string> = { ga: "", final: "", release: "", cr: "rc" };
const RELEASE_INDEX = String(QUALIFIERS.indexOf(""));

function stringItem(raw: string, followedByDigit: boolean): StringItem {
  let value = raw;
  if (followedByDigit && value.length === 1) {
    value = value === "a" ? "alpha" : value === "b" ? "beta" : value === "m" ? "milestone" : value;
  }
  return { kind: "string", value: ALIASES[value] ?? value };
}

function parseItem(isDigit: boolean, text: string): Item {
  return isDigit ? { kind: "int", value: BigInt(text) } : stringItem(text, false);
}

function isNull(item: Item): boolean {
  if (item.kind === "int") return item.value === 0n;
  if (item.kind === "string") return item.value === "";
  return item.items.length === 0;
}

function normalize(list: ListItem): void {
  for (let i = list.items.length - 1; i >= 0; i--) {
    const last = list.items[i];
    if (isNull(last)) list.items.splice(i, 1);
    else break;
  }
}

export function parseMavenVersion(version: string): ListItem {
  const text = version.toLowerCase();
  const root: ListItem = { kind: "list", items: [] };
  let list = root;
  const stack: ListItem[] = [root];
  let isDigit = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "." || c === "-") {
      list.items.push(
        i === start ? { kind: "int", value: 0n } : parseItem(isDigit, text.slice(start, i)),
      );
      start = i + 1;
      if (c === "-" && isDigit) {
        normalize(list); // 1.0-x = 1-x
        // A sub-list only for digit-hyphen-digit, to tell 1.1 from 1-1.
        if (/[0-9]/.test(text[i + 1] ?? "")) {
          const child: ListItem = { kind: "list", items: [] };
          list.items.push(child);
          list = child;
          stack.push(child);
        }
      }
    } else if (c >= "0" && c <= "9") {
      if (!isDigit && i > start) {
        list.items.push(stringItem(text.slice(start, i), true));
        start = i;
      }
      isDigit = true;
    } else {
      if (isDigit && i > start) {
        list.items.push(parseItem(true, text.slice(start, i)));
        start = i;
      }
      isDigit = false;
    }
  }
  if (text.length > start) list.items.push(parseItem(isDigit, text.slice(start)));
  while (stack.length > 0) normalize(stack.pop()!);
  return root;
}

function qualifierKey(value: string): string {
  const i = QUALIFIERS.indexOf(value);
  return i === -1 ? `${QUALIFIERS.length}-${value}` : String(i);
}

function cmpStr(a: string, b: string): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

/** Compares an item with another item or with "nothing" (null). */
function compareItem(a: Item, b: Item | null): number {
  if (a.kind === "int") {
    if (b === null) return a.value === 0n ? 0 : 1;
    if (b.kind === "int") return a.value === b.value ? 0 : a.value < b.value ? -1 : 1;
    return 1;
  }
  if (a.kind === "string") {
    if (b === null) return cmpStr(qualifierKey(a.value), RELEASE_INDEX);
    if (b.kind === "string") return cmpStr(qualifierKey(a.value), qualifierKey(b.value));
    return -1;
  }
  if (b === null) return a.items.length === 0 ? 0 : compareItem(a.items[0], null);
  if (b.kind === "int") return -1;
  if (b.kind === "string") return 1;
  const n = Math.max(a.items.length, b.items.length);
  for (let i = 0; i < n; i++) {
    const l = a.items[i] ?? null;
    const r = b.items[i] ?? null;
    const result = l === null ? (r === null ? 0 : -compareItem(r, null)) : compareItem(l, r);
    if (result !== 0) return result;
  }
  return 0;
}

export function compareMaven(a: string, b: string): number {
  return compareItem(parseMavenVersion(a), parseMavenVersion(b));
}
