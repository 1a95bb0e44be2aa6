// RubyGems version ordering (Gem::Version#<=>): segments are runs of digits (numbers) or
// letters (strings); `-` means `.pre.`; trailing zeros of each numeric run are ignored; a
// string segment sorts before a number (so `1.0.a` is a pre-release of `1.0`). Pure.

type Segment = number | string;

function segments(version: string): Segment[] {
  const text = version.trim().replaceAll("-", ".pre.");
  return (text.match(/[0-9]+|[a-z]+/gi) ?? []).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** Gem::Version#canonical_segments: drop trailing zeros of the numeric and the rest part. */
function canonical(version: string): Segment[] {
  const segs = segments(version);
  const firstString = segs.findIndex((s) => typeof s === "string");
  const numeric = firstString === -1 ? segs : segs.slice(0, firstString);
  const rest = firstString === -1 ? [] : segs.slice(firstString);
  const trim = (list: Segment[]) => {
    const out = [...list];
    while (out.length > 0 && out[out.length - 1] === 0) out.pop();
    return out;
  };
  return [...trim(numeric), ...trim(rest)];
}

export function compareRubyGems(a: string, b: string): number {
  const x = canonical(a);
  const y = canonical(b);
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const l = x[i] ?? 0;
    const r = y[i] ?? 0;
    if (l === r) continue;
    if (typeof l === "string" && typeof r === "number") return -1;
    if (typeof l === "number" && typeof r === "string") return 1;
    return l < r ? -1 : 1;
  }
  return 0;
}
