// SemVer-family ordering: npm (node-semver, loose), crates.io (SemVer 2.0), Go modules
// (`v` prefix, pseudo-versions are SemVer pre-releases, `+incompatible` is build metadata)
// and OSV `SEMVER` ranges. Non-SemVer strings fall back to a numeric-aware comparison so a
// malformed record never throws in the middle of a scan.
import semver from "semver";

function fallback(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

function parse(version: string): semver.SemVer | null {
  const text = version.trim().replace(/^v(?=\d)/, "");
  return semver.parse(text, { loose: true }) ?? semver.coerce(text, { includePrerelease: true });
}

/** SemVer 2.0 precedence (build metadata ignored). */
export function compareSemver(a: string, b: string): number {
  const x = parse(a);
  const y = parse(b);
  if (!x || !y) return fallback(a, b);
  return semver.compare(x, y);
}

/** Go module versions: `v1.2.3`, pseudo-versions, `+incompatible`. */
export function compareGo(a: string, b: string): number {
  return compareSemver(a.replace(/\+incompatible$/, ""), b.replace(/\+incompatible$/, ""));
}
