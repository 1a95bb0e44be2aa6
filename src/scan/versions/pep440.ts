// Python package version ordering (PEP 440) via @renovatebot/pep440; versions that are not
// PEP 440 (legacy) sort before all valid ones, as pip's LegacyVersion did.
import { compare, valid } from "@renovatebot/pep440";

export function comparePep440(a: string, b: string): number {
  const va = valid(a) !== null;
  const vb = valid(b) !== null;
  if (va && vb) return Math.sign(compare(a, b));
  if (va !== vb) return va ? 1 : -1;
  return a === b ? 0 : a < b ? -1 : 1;
}
