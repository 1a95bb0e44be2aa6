// OpenVEX for `berth scan --vex FILE`: statements with status `not_affected` (or `fixed`)
// suppress matching findings, and their justification/impact statement is shown as the
// reason. A statement applies to a finding when its vulnerability name (or an alias) matches
// and, when it lists package URLs as products or subcomponents, one of them is the package.
import type { Finding } from "./index.js";

export interface VexStatement {
  readonly vulnerability: string;
  readonly aliases: readonly string[];
  readonly status: string;
  readonly justification?: string;
  readonly impactStatement?: string;
  readonly purls: readonly string[];
}

export class VexError extends Error {}

function idOf(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    if (typeof o["@id"] === "string") return o["@id"];
    if (typeof o.name === "string") return o.name;
  }
  return undefined;
}

function componentPurls(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  const out: string[] = [];
  for (const item of list) {
    const id = idOf(item);
    if (id?.startsWith("pkg:")) out.push(id);
    if (typeof item === "object" && item !== null) {
      const o = item as Record<string, unknown>;
      const purl = (o.identifiers as Record<string, unknown> | undefined)?.purl;
      if (typeof purl === "string") out.push(purl);
      out.push(...componentPurls(o.subcomponents));
    }
  }
  return out;
}

export function parseOpenVex(text: string): VexStatement[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new VexError("VEX file is not valid JSON");
  }
  const statements = (doc as { statements?: unknown } | null)?.statements;
  if (!Array.isArray(statements)) throw new VexError("not an OpenVEX document (no statements)");
  return statements.map((s, i) => {
    const o = (s ?? {}) as Record<string, unknown>;
    const vuln = o.vulnerability;
    const name = idOf(vuln);
    if (!name || typeof o.status !== "string")
      throw new VexError(`statements[${i}] needs vulnerability and status`);
    const aliases =
      typeof vuln === "object" && vuln !== null
        ? ((vuln as { aliases?: unknown }).aliases ?? [])
        : [];
    return {
      vulnerability: name,
      aliases: Array.isArray(aliases)
        ? aliases.filter((a): a is string => typeof a === "string")
        : [],
      status: o.status,
      justification: typeof o.justification === "string" ? o.justification : undefined,
      impactStatement: typeof o.impact_statement === "string" ? o.impact_statement : undefined,
      purls: [...componentPurls(o.products), ...componentPurls(o.subcomponents)],
    };
  });
}

/** Compares purls by type/namespace/name, and by version when the statement gives one. */
function purlMatches(statementPurl: string, packagePurl: string): boolean {
  const strip = (p: string) => decodeURIComponent(p.split("?")[0].split("#")[0]);
  const a = strip(statementPurl);
  const b = strip(packagePurl);
  if (a === b) return true;
  return !a.includes("@") && b.startsWith(`${a}@`);
}

export function vexStatementFor(
  finding: Finding,
  statements: readonly VexStatement[],
): VexStatement | undefined {
  const ids = new Set([finding.vulnerabilityId, ...finding.aliases]);
  return statements.find((s) => {
    if (s.status !== "not_affected" && s.status !== "fixed") return false;
    if (!ids.has(s.vulnerability) && !s.aliases.some((a) => ids.has(a))) return false;
    const pkgPurls = s.purls.filter(
      (p) => !p.startsWith("pkg:oci/") && !p.startsWith("pkg:docker/"),
    );
    return pkgPurls.length === 0 || pkgPurls.some((p) => purlMatches(p, finding.package.purl));
  });
}

export function vexReason(s: VexStatement): string {
  return [s.status, s.justification, s.impactStatement].filter(Boolean).join(": ");
}
