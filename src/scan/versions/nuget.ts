// NuGet version ordering (NuGet.Versioning): up to four numeric parts (missing parts are 0,
// leading zeros allowed), then SemVer 2.0 pre-release labels compared case-insensitively
// (numeric labels numerically and before alphanumeric ones; a release after its
// pre-releases); build metadata after `+` ignored. Pure.

interface NuGetVersion {
  readonly parts: readonly bigint[];
  readonly labels: readonly string[];
}

export function parseNuGetVersion(version: string): NuGetVersion {
  const text = version.trim().replace(/^v/i, "").split("+")[0];
  const dash = text.indexOf("-");
  const core = dash === -1 ? text : text.slice(0, dash);
  const pre = dash === -1 ? "" : text.slice(dash + 1);
  const nums = core.split(".").map((p) => (/^\d+$/.test(p) ? BigInt(p) : 0n));
  while (nums.length < 4) nums.push(0n);
  return { parts: nums, labels: pre === "" ? [] : pre.split(".") };
}

function compareLabel(a: string, b: string): number {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x === y ? 0 : x < y ? -1 : 1;
  }
  if (an !== bn) return an ? -1 : 1;
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x === y ? 0 : x < y ? -1 : 1;
}

export function compareNuGet(a: string, b: string): number {
  const x = parseNuGetVersion(a);
  const y = parseNuGetVersion(b);
  for (let i = 0; i < Math.max(x.parts.length, y.parts.length); i++) {
    const l = x.parts[i] ?? 0n;
    const r = y.parts[i] ?? 0n;
    if (l !== r) return l < r ? -1 : 1;
  }
  if (x.labels.length === 0 || y.labels.length === 0) {
    return x.labels.length === y.labels.length ? 0 : x.labels.length === 0 ? 1 : -1;
  }
  for (let i = 0; i < Math.min(x.labels.length, y.labels.length); i++) {
    const c = compareLabel(x.labels[i], y.labels[i]);
    if (c) return c;
  }
  return Math.sign(x.labels.length - y.labels.length);
}
