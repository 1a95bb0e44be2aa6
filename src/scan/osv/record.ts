// The OSV schema (https://ossf.github.io/osv-schema/) as far as Berth reads it, and the one
// validator that turns untrusted JSON into an OsvRecord. Never trusts a field's type without
// checking it; unknown fields are kept in the stored JSON but not interpreted.

export interface OsvEvent {
  readonly introduced?: string;
  readonly fixed?: string;
  readonly last_affected?: string;
  readonly limit?: string;
}

export interface OsvRange {
  readonly type: "ECOSYSTEM" | "SEMVER" | "GIT" | string;
  readonly repo?: string;
  readonly events: readonly OsvEvent[];
}

export interface OsvSeverity {
  readonly type: string;
  readonly score: string;
}

export interface OsvAffected {
  readonly package?: { readonly ecosystem: string; readonly name: string; readonly purl?: string };
  readonly severity?: readonly OsvSeverity[];
  readonly ranges?: readonly OsvRange[];
  readonly versions?: readonly string[];
  readonly ecosystem_specific?: Record<string, unknown>;
  readonly database_specific?: Record<string, unknown>;
}

export interface OsvReference {
  readonly type: string;
  readonly url: string;
}

export interface OsvRecord {
  readonly schema_version?: string;
  readonly id: string;
  readonly modified: string;
  readonly published?: string;
  readonly withdrawn?: string;
  readonly aliases?: readonly string[];
  readonly related?: readonly string[];
  readonly upstream?: readonly string[];
  readonly summary?: string;
  readonly details?: string;
  readonly severity?: readonly OsvSeverity[];
  readonly affected?: readonly OsvAffected[];
  readonly references?: readonly OsvReference[];
  readonly database_specific?: Record<string, unknown>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

/** Checks the fields matching depends on; returns the problem, or null when usable. */
export function osvRecordProblem(value: unknown): string | null {
  if (!isObject(value)) return "not a JSON object";
  if (typeof value.id !== "string" || value.id === "") return "missing id";
  if (typeof value.modified !== "string" || Number.isNaN(Date.parse(value.modified))) {
    return `${value.id}: missing or invalid modified`;
  }
  if (value.aliases !== undefined && !isStringArray(value.aliases))
    return `${value.id}: bad aliases`;
  if (value.affected === undefined) return null;
  if (!Array.isArray(value.affected)) return `${value.id}: affected is not a list`;
  for (const a of value.affected) {
    if (!isObject(a)) return `${value.id}: affected entry is not an object`;
    if (a.package !== undefined) {
      if (
        !isObject(a.package) ||
        typeof a.package.ecosystem !== "string" ||
        typeof a.package.name !== "string"
      ) {
        return `${value.id}: affected.package needs ecosystem and name`;
      }
    }
    if (a.versions !== undefined && !isStringArray(a.versions)) return `${value.id}: bad versions`;
    if (a.ranges !== undefined) {
      if (!Array.isArray(a.ranges)) return `${value.id}: ranges is not a list`;
      for (const r of a.ranges) {
        if (!isObject(r) || typeof r.type !== "string" || !Array.isArray(r.events)) {
          return `${value.id}: range needs type and events`;
        }
      }
    }
  }
  return null;
}

export function parseOsvRecord(text: string): OsvRecord {
  const value: unknown = JSON.parse(text);
  const problem = osvRecordProblem(value);
  if (problem) throw new Error(problem);
  return value as OsvRecord;
}

/**
 * The name under which a package is indexed: PyPI names are PEP 503-normalized, NuGet and
 * Packagist names are case-insensitive; everything else is exact.
 */
export function normalizePackageName(ecosystem: string, name: string): string {
  const base = ecosystem.split(":")[0];
  if (base === "PyPI") return name.toLowerCase().replace(/[-_.]+/g, "-");
  if (base === "NuGet" || base === "Packagist") return name.toLowerCase();
  return name;
}
