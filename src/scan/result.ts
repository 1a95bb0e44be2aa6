// The result of a scan, shared by every report format: what was scanned, the packages found,
// the findings grouped by target (the OS, or each language lock/manifest file) and the
// findings suppressed by ignore rules or VEX. Pure data + the grouping function.
import type { Filtered, Suppressed } from "./match/filter.js";
import type { Finding } from "./match/index.js";
import type { Package } from "./package.js";
import { SEVERITIES, type Severity, severityRank } from "./severity/index.js";

export interface ScannedArtifact {
  readonly name: string;
  readonly type: "image" | "filesystem" | "sbom";
  /** Manifest digest for images, when known. */
  readonly digest?: string;
}

export interface ScannedOs {
  readonly family: string;
  readonly version?: string;
  readonly name?: string;
}

export interface ScanTargetResult {
  /** `debian 12 (bookworm)` for OS packages; the manifest/lock file for language packages. */
  readonly target: string;
  readonly class: "os-pkgs" | "lang-pkgs";
  readonly type: string;
  readonly packages: readonly Package[];
  readonly findings: readonly Finding[];
}

export interface ScanResult {
  readonly artifact: ScannedArtifact;
  readonly os?: ScannedOs;
  readonly createdAt: string;
  readonly packages: readonly Package[];
  readonly targets: readonly ScanTargetResult[];
  readonly suppressed: readonly Suppressed[];
  readonly warnings: readonly string[];
}

export type SeverityCounts = Record<Severity, number>;

export function countBySeverity(findings: readonly Finding[]): SeverityCounts {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as SeverityCounts;
  for (const f of findings) counts[f.severity]++;
  return counts;
}

function osTargetName(os: ScannedOs | undefined): string {
  if (!os) return "os-packages";
  return os.name ? `${os.name} (${os.family})` : `${os.family} ${os.version ?? ""}`.trim();
}

function libraryTarget(pkg: Package): string {
  return pkg.locations[0] ?? `${pkg.ecosystem} packages`;
}

/** Locale-independent ordering, so reports are byte-identical everywhere. */
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortFindings(list: readonly Finding[]): Finding[] {
  return [...list].sort(
    (a, b) =>
      byCodeUnit(a.package.name, b.package.name) ||
      byCodeUnit(a.package.version, b.package.version) ||
      severityRank(b.severity) - severityRank(a.severity) ||
      byCodeUnit(a.vulnerabilityId, b.vulnerabilityId),
  );
}

/** Groups packages and findings into targets: OS packages first, then one per file. */
export function groupTargets(
  packages: readonly Package[],
  filtered: Filtered,
  os?: ScannedOs,
): ScanTargetResult[] {
  const groups = new Map<
    string,
    { class: "os-pkgs" | "lang-pkgs"; type: string; packages: Package[]; findings: Finding[] }
  >();
  const keyOf = (p: Package) =>
    p.type === "os" ? `os\u0000${osTargetName(os)}` : `lib\u0000${libraryTarget(p)}`;
  for (const p of packages) {
    const key = keyOf(p);
    const g = groups.get(key) ?? {
      class: p.type === "os" ? "os-pkgs" : "lang-pkgs",
      type: p.ecosystem,
      packages: [],
      findings: [],
    };
    g.packages.push(p);
    groups.set(key, g);
  }
  for (const f of filtered.findings) groups.get(keyOf(f.package))?.findings.push(f);
  return [...groups.entries()]
    .sort(([a], [b]) =>
      a.startsWith("os") === b.startsWith("os") ? byCodeUnit(a, b) : a.startsWith("os") ? -1 : 1,
    )
    .map(([key, g]) => ({
      target: key.split("\u0000")[1],
      class: g.class,
      type: g.type,
      packages: g.packages,
      findings: sortFindings(g.findings),
    }));
}

export function allFindings(result: ScanResult): Finding[] {
  return result.targets.flatMap((t) => t.findings);
}
