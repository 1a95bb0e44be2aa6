// How the UI shapes scanning data: the packages of a CycloneDX SBOM (as the API's
// …/sbom?format=cyclonedx answers it) into table rows, severity order and the severity
// filter's query value. Pure: no DOM, no I/O (unit-tested in test/web/shape.test.ts).

export const SEVERITY_ORDER = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"] as const;

export interface SbomPackageRow {
  readonly name: string;
  readonly version: string;
  /** The purl's type (`npm`, `pypi`, `deb`, `golang`…), or "" without a purl. */
  readonly type: string;
  readonly purl: string;
  readonly licenses: string;
}

interface CycloneDxLicense {
  license?: { id?: string; name?: string };
  expression?: string;
}

interface CycloneDxComponent {
  name?: unknown;
  version?: unknown;
  purl?: unknown;
  licenses?: CycloneDxLicense[];
}

function licenseText(licenses: CycloneDxLicense[] | undefined): string {
  if (!Array.isArray(licenses)) return "";
  return licenses
    .map((l) => l.expression ?? l.license?.id ?? l.license?.name ?? "")
    .filter((s) => s !== "")
    .join(", ");
}

function purlType(purl: string): string {
  const m = /^pkg:([^/]+)\//.exec(purl);
  return m?.[1] ?? "";
}

/** The SBOM's components as rows, sorted by name then version; `filter` matches the name. */
export function sbomPackages(document: unknown, filter = ""): SbomPackageRow[] {
  const components = (document as { components?: CycloneDxComponent[] } | null)?.components;
  if (!Array.isArray(components)) return [];
  const needle = filter.trim().toLowerCase();
  return components
    .filter((c) => typeof c.name === "string")
    .map((c) => {
      const purl = typeof c.purl === "string" ? c.purl : "";
      return {
        name: c.name as string,
        version: typeof c.version === "string" ? c.version : "",
        type: purlType(purl),
        purl,
        licenses: licenseText(c.licenses),
      };
    })
    .filter((r) => needle === "" || r.name.toLowerCase().includes(needle))
    .sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

/** The severity counts of a report in severity order, zeros left out. */
export function severityCounts(
  counts: Readonly<Record<string, number>> | undefined,
): { severity: string; count: number }[] {
  if (!counts) return [];
  return SEVERITY_ORDER.map((severity) => ({ severity, count: counts[severity] ?? 0 })).filter(
    (c) => c.count > 0,
  );
}

/** The badge tone of a severity or a verdict. */
export function severityTone(severity: string): string {
  if (severity === "CRITICAL" || severity === "HIGH" || severity === "fail") return "bad";
  if (severity === "MEDIUM" || severity === "undecided") return "warn";
  if (severity === "pass") return "ok";
  return "";
}
