// One entry point for version ordering: `compareVersions(ecosystem, a, b)` picks the
// ecosystem's own rules (OSV ecosystem names, `Debian:12`-style release suffixes accepted).
// Never guesses silently across ecosystems: an unknown ecosystem uses the SemVer fallback,
// which is what OSV prescribes for `SEMVER` ranges.
import { compareApk } from "./apk.js";
import { compareComposer } from "./composer.js";
import { compareDpkg } from "./dpkg.js";
import { compareMaven } from "./maven.js";
import { compareNuGet } from "./nuget.js";
import { comparePep440 } from "./pep440.js";
import { compareRpm } from "./rpm.js";
import { compareRubyGems } from "./rubygems.js";
import { compareGo, compareSemver } from "./semver.js";

export type VersionComparator = (a: string, b: string) => number;

const BY_ECOSYSTEM: Record<string, VersionComparator> = {
  Debian: compareDpkg,
  Ubuntu: compareDpkg,
  Alpine: compareApk,
  Wolfi: compareApk,
  Chainguard: compareApk,
  "Red Hat": compareRpm,
  AlmaLinux: compareRpm,
  "Rocky Linux": compareRpm,
  openSUSE: compareRpm,
  SUSE: compareRpm,
  Mageia: compareRpm,
  npm: compareSemver,
  "crates.io": compareSemver,
  Hex: compareSemver,
  Pub: compareSemver,
  Go: compareGo,
  PyPI: comparePep440,
  Maven: compareMaven,
  RubyGems: compareRubyGems,
  Packagist: compareComposer,
  NuGet: compareNuGet,
};

/** `Debian:12` → `Debian`; `Alpine:v3.19` → `Alpine`. */
export function baseEcosystem(ecosystem: string): string {
  const i = ecosystem.indexOf(":");
  return i === -1 ? ecosystem : ecosystem.slice(0, i);
}

export function comparatorFor(ecosystem: string): VersionComparator {
  return BY_ECOSYSTEM[baseEcosystem(ecosystem)] ?? compareSemver;
}

/** Negative, zero or positive as `a` sorts before, with or after `b` in `ecosystem`. */
export function compareVersions(ecosystem: string, a: string, b: string): number {
  return Math.sign(comparatorFor(ecosystem)(a, b));
}

export {
  compareApk,
  compareComposer,
  compareDpkg,
  compareGo,
  compareMaven,
  compareNuGet,
  comparePep440,
  compareRpm,
  compareRubyGems,
  compareSemver,
};
