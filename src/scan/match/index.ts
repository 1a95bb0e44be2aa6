// Matching installed packages against OSV records: ECOSYSTEM/SEMVER ranges (introduced,
// fixed, last_affected, limit events; several ranges), explicit `versions` lists,
// release-qualified ecosystems (`Debian:12`, `Alpine:v3.19`, `Ubuntu:22.04:LTS`), withdrawn
// records ignored, OS advisories looked up by SOURCE package name and version. Each finding
// carries the evidence of why it matched. Pure: the record source is passed in.

import type { OsvAffected, OsvRange, OsvRecord } from "../osv/record.js";
import { normalizePackageName } from "../osv/record.js";
import type { Package } from "../package.js";
import { assessSeverity, type CvssScore, type Severity } from "../severity/index.js";
import { baseEcosystem, compareSemver, compareVersions } from "../versions/index.js";

/** Where records come from (OsvStore implements it; tests pass arrays). */
export interface RecordSource {
  recordsFor(ecosystem: string, name: string): readonly OsvRecord[];
}

export interface MatchEvidence {
  /** The affected entry's ecosystem string, e.g. `Debian:12`. */
  readonly ecosystem: string;
  /** The package name the advisory names. */
  readonly advisoryPackage: string;
  /** `source`: matched through the package's source package (dpkg Source:, apk origin). */
  readonly via: "name" | "source";
  readonly kind: "range" | "versions";
  /** Human-readable range that contains the installed version, e.g. `>=0, <3.0.11-1~deb12u2`. */
  readonly range: string;
}

export interface Finding {
  readonly package: Package;
  readonly vulnerabilityId: string;
  readonly aliases: readonly string[];
  readonly summary?: string;
  readonly severity: Severity;
  readonly severitySource: string;
  readonly cvss?: CvssScore;
  /** The version compared (the source version for Debian/Ubuntu/Alpine advisories). */
  readonly installedVersion: string;
  readonly fixedVersion?: string;
  readonly status: "fixed" | "affected";
  readonly evidence: MatchEvidence;
  readonly references: readonly string[];
  readonly published?: string;
  readonly modified: string;
}

/** Ecosystems whose advisories name the source package (Trivy and osv.dev agree). */
const SOURCE_KEYED = new Set(["Debian", "Ubuntu", "Alpine", "Wolfi", "Chainguard"]);

function lookupKey(pkg: Package): { name: string; version: string; via: "name" | "source" } {
  if (SOURCE_KEYED.has(pkg.ecosystem) && pkg.sourceName) {
    return {
      name: pkg.sourceName,
      version: pkg.sourceVersion ?? pkg.version,
      via: pkg.sourceName === pkg.name ? "name" : "source",
    };
  }
  return { name: pkg.name, version: pkg.version, via: "name" };
}

/** The release named by an affected ecosystem (`Debian:12` → `12`), or null for none. */
export function releaseOf(ecosystem: string): string | null {
  const parts = ecosystem.split(":").slice(1);
  // Ubuntu Pro / FIPS streams need a subscription the image does not have: never matched.
  if (parts.includes("Pro")) return "";
  const release = parts.find((p) => /^v?\d/.test(p));
  return release === undefined ? (parts.length ? "" : null) : release.replace(/^v/, "");
}

function sameRelease(base: string, advisory: string, installed: string): boolean {
  const a = advisory.split(".");
  const b = installed.replace(/^v/, "").split(".");
  // Alpine and Ubuntu releases are major.minor; Debian and the RPM distributions use the major.
  const depth = base === "Alpine" || base === "Ubuntu" || base === "Wolfi" ? 2 : 1;
  for (let i = 0; i < depth; i++) if ((a[i] ?? "0") !== (b[i] ?? "0")) return false;
  return true;
}

function appliesToPackage(affected: OsvAffected, pkg: Package, name: string): boolean {
  const p = affected.package;
  if (!p || baseEcosystem(p.ecosystem) !== pkg.ecosystem) return false;
  if (normalizePackageName(pkg.ecosystem, p.name) !== normalizePackageName(pkg.ecosystem, name))
    return false;
  const release = releaseOf(p.ecosystem);
  if (release === null || pkg.release === undefined) return true;
  if (release === "") return false; // a qualifier we do not understand (e.g. Ubuntu:Pro)
  return sameRelease(pkg.ecosystem, release, pkg.release);
}

interface Interval {
  readonly introduced: string;
  readonly fixed?: string;
  readonly lastAffected?: string;
}

type Compare = (a: string, b: string) => number;

function eventVersion(e: OsvRange["events"][number]): string {
  return e.introduced ?? e.fixed ?? e.last_affected ?? e.limit ?? "0";
}

/** Sorts events by version ("0" first) and pairs them into intervals. */
function intervals(range: OsvRange, cmp: Compare): { list: Interval[]; limits: string[] } {
  const events = range.events.filter((e) => e.limit === undefined);
  const limits = range.events.flatMap((e) =>
    e.limit !== undefined && e.limit !== "*" ? [e.limit] : [],
  );
  const sorted = [...events].sort((x, y) => {
    const a = eventVersion(x);
    const b = eventVersion(y);
    if (x.introduced === "0") return y.introduced === "0" ? 0 : -1;
    if (y.introduced === "0") return 1;
    return cmp(a, b);
  });
  const list: Interval[] = [];
  let open: string | null = null;
  for (const e of sorted) {
    if (e.introduced !== undefined) {
      open ??= e.introduced;
    } else if (open !== null && e.fixed !== undefined) {
      list.push({ introduced: open, fixed: e.fixed });
      open = null;
    } else if (open !== null && e.last_affected !== undefined) {
      list.push({ introduced: open, lastAffected: e.last_affected });
      open = null;
    }
  }
  if (open !== null) list.push({ introduced: open });
  return { list, limits };
}

function inInterval(v: string, iv: Interval, cmp: Compare): boolean {
  if (iv.introduced !== "0" && cmp(v, iv.introduced) < 0) return false;
  if (iv.fixed !== undefined) return cmp(v, iv.fixed) < 0;
  if (iv.lastAffected !== undefined) return cmp(v, iv.lastAffected) <= 0;
  return true;
}

function describe(iv: Interval): string {
  const upper =
    iv.fixed !== undefined
      ? `, <${iv.fixed}`
      : iv.lastAffected !== undefined
        ? `, <=${iv.lastAffected}`
        : "";
  return `>=${iv.introduced}${upper}`;
}

interface RangeHit {
  readonly range: string;
  readonly fixed?: string;
}

/** Evaluates one OSV range; null when the version is outside it. */
export function matchRange(ecosystem: string, range: OsvRange, version: string): RangeHit | null {
  if (range.type !== "ECOSYSTEM" && range.type !== "SEMVER") return null;
  const cmp: Compare =
    range.type === "SEMVER" ? compareSemver : (a, b) => compareVersions(ecosystem, a, b);
  try {
    const { list, limits } = intervals(range, cmp);
    if (limits.length > 0 && !limits.some((l) => cmp(version, l) < 0)) return null;
    for (const iv of list) {
      if (inInterval(version, iv, cmp))
        return { range: `${range.type} ${describe(iv)}`, fixed: iv.fixed };
    }
  } catch {
    return null; // a version the ecosystem cannot parse never matches
  }
  return null;
}

function matchAffected(
  affected: OsvAffected,
  pkg: Package,
  version: string,
): { kind: "range" | "versions"; hit: RangeHit } | null {
  for (const range of affected.ranges ?? []) {
    const hit = matchRange(pkg.ecosystem, range, version);
    if (hit) return { kind: "range", hit };
  }
  const listed = (affected.versions ?? []).some((v) => {
    try {
      return v === version || compareVersions(pkg.ecosystem, v, version) === 0;
    } catch {
      return false;
    }
  });
  return listed ? { kind: "versions", hit: { range: `versions list contains ${version}` } } : null;
}

function aliasesOf(record: OsvRecord): string[] {
  const set = new Set<string>([...(record.aliases ?? []), ...(record.upstream ?? [])]);
  set.delete(record.id);
  return [...set].sort();
}

/** Matches one package against candidate records. */
export function matchPackage(pkg: Package, records: readonly OsvRecord[]): Finding[] {
  const key = lookupKey(pkg);
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const record of records) {
    if (record.withdrawn || seen.has(record.id)) continue;
    for (const affected of record.affected ?? []) {
      if (!appliesToPackage(affected, pkg, key.name)) continue;
      const m = matchAffected(affected, pkg, key.version);
      if (!m) continue;
      seen.add(record.id);
      const severity = assessSeverity(record, affected);
      findings.push({
        package: pkg,
        vulnerabilityId: record.id,
        aliases: aliasesOf(record),
        summary: record.summary ?? record.details?.split("\n")[0],
        severity: severity.severity,
        severitySource: severity.source,
        cvss: severity.cvss,
        installedVersion: key.version,
        fixedVersion: m.hit.fixed,
        status: m.hit.fixed ? "fixed" : "affected",
        evidence: {
          ecosystem: affected.package!.ecosystem,
          advisoryPackage: affected.package!.name,
          via: key.via,
          kind: m.kind,
          range: m.hit.range,
        },
        references: (record.references ?? []).map((r) => r.url),
        published: record.published,
        modified: record.modified,
      });
      break;
    }
  }
  return findings;
}

/** Matches every package; findings sorted by package, then severity (worst first), then id. */
export function matchPackages(packages: readonly Package[], source: RecordSource): Finding[] {
  const out: Finding[] = [];
  for (const pkg of packages) {
    const key = lookupKey(pkg);
    out.push(...matchPackage(pkg, source.recordsFor(pkg.ecosystem, key.name)));
  }
  return out;
}

/** An in-memory RecordSource over a list of records (tests, `sbom:` fixtures). */
export function memorySource(records: readonly OsvRecord[]): RecordSource {
  const index = new Map<string, OsvRecord[]>();
  for (const r of records) {
    for (const a of r.affected ?? []) {
      if (!a.package) continue;
      const eco = baseEcosystem(a.package.ecosystem);
      const k = `${eco}\u0000${normalizePackageName(eco, a.package.name)}`;
      const list = index.get(k) ?? [];
      if (!list.includes(r)) list.push(r);
      index.set(k, list);
    }
  }
  return {
    recordsFor: (ecosystem, name) => {
      const eco = baseEcosystem(ecosystem);
      return index.get(`${eco}\u0000${normalizePackageName(eco, name)}`) ?? [];
    },
  };
}
