// The `--format json` report: Berth's documented, stable scan schema (docs/scan.md,
// schemaVersion 1). Field names never change within a schema version; new fields may be
// added. Pure: ScanResult in, JSON-ready object out.
import type { Finding } from "../match/index.js";
import type { Package } from "../package.js";
import { allFindings, countBySeverity, type ScanResult } from "../result.js";

export const JSON_SCHEMA_VERSION = 1;

function packageJson(p: Package) {
  return {
    name: p.name,
    version: p.version,
    ecosystem: p.ecosystem,
    type: p.type,
    purl: p.purl,
    release: p.release ?? null,
    sourceName: p.sourceName ?? null,
    sourceVersion: p.sourceVersion ?? null,
    locations: p.locations,
    layer: p.layer
      ? { index: p.layer.index, digest: p.layer.digest, createdBy: p.layer.createdBy ?? null }
      : null,
  };
}

export function findingJson(f: Finding) {
  return {
    id: f.vulnerabilityId,
    aliases: f.aliases,
    summary: f.summary ?? null,
    severity: f.severity,
    severitySource: f.severitySource,
    cvss: f.cvss
      ? { version: f.cvss.version, vector: f.cvss.vector, baseScore: f.cvss.baseScore }
      : null,
    status: f.status,
    installedVersion: f.installedVersion,
    fixedVersion: f.fixedVersion ?? null,
    package: packageJson(f.package),
    match: {
      ecosystem: f.evidence.ecosystem,
      advisoryPackage: f.evidence.advisoryPackage,
      via: f.evidence.via,
      kind: f.evidence.kind,
      range: f.evidence.range,
    },
    references: f.references,
    published: f.published ?? null,
    modified: f.modified,
  };
}

export function toJsonReport(result: ScanResult) {
  return {
    schemaVersion: JSON_SCHEMA_VERSION,
    tool: { name: "berth", version: "0.1.0" },
    createdAt: result.createdAt,
    artifact: {
      name: result.artifact.name,
      type: result.artifact.type,
      digest: result.artifact.digest ?? null,
    },
    os: result.os
      ? {
          family: result.os.family,
          version: result.os.version ?? null,
          name: result.os.name ?? null,
        }
      : null,
    summary: countBySeverity(allFindings(result)),
    results: result.targets.map((t) => ({
      target: t.target,
      class: t.class,
      type: t.type,
      packageCount: t.packages.length,
      summary: countBySeverity(t.findings),
      vulnerabilities: t.findings.map(findingJson),
    })),
    suppressed: result.suppressed.map((s) => ({
      ...findingJson(s.finding),
      suppressedBy: s.by,
      reason: s.reason,
    })),
    warnings: result.warnings,
  };
}

export function renderJson(result: ScanResult): string {
  return `${JSON.stringify(toJsonReport(result), null, 2)}\n`;
}
