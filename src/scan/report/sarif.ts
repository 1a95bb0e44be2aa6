// The `--format sarif` report (SARIF 2.1.0): one rule per advisory (with the
// `security-severity` property code-scanning tools read), one result per finding, located at
// the file that showed the package is installed. Pure.
import { allFindings, type ScanResult } from "../result.js";
import type { Severity } from "../severity/index.js";

const LEVEL: Record<Severity, "error" | "warning" | "note"> = {
  CRITICAL: "error",
  HIGH: "error",
  MEDIUM: "warning",
  LOW: "note",
  UNKNOWN: "note",
};

const FALLBACK_SCORE: Record<Severity, string> = {
  CRITICAL: "9.5",
  HIGH: "8.0",
  MEDIUM: "5.5",
  LOW: "2.0",
  UNKNOWN: "0.0",
};

export function toSarif(result: ScanResult) {
  const findings = allFindings(result);
  const rules = new Map<string, Record<string, unknown>>();
  for (const f of findings) {
    if (rules.has(f.vulnerabilityId)) continue;
    rules.set(f.vulnerabilityId, {
      id: f.vulnerabilityId,
      name: "OsPackageVulnerability",
      shortDescription: { text: f.summary ?? f.vulnerabilityId },
      fullDescription: { text: f.summary ?? f.vulnerabilityId },
      helpUri: f.references[0] ?? `https://osv.dev/vulnerability/${f.vulnerabilityId}`,
      help: { text: `Aliases: ${f.aliases.join(", ") || "none"}` },
      properties: {
        tags: ["vulnerability", "security", f.severity],
        precision: "very-high",
        "security-severity": f.cvss ? f.cvss.baseScore.toFixed(1) : FALLBACK_SCORE[f.severity],
      },
    });
  }
  const ruleIds = [...rules.keys()];
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            // No informationUri: Berth has no published home page to point at, and SARIF
            // makes it optional (each rule's helpUri is the advisory's own page).
            name: "berth",
            version: "0.1.0",
            rules: [...rules.values()],
          },
        },
        results: findings.map((f) => ({
          ruleId: f.vulnerabilityId,
          ruleIndex: ruleIds.indexOf(f.vulnerabilityId),
          level: LEVEL[f.severity],
          message: {
            text: `Package: ${f.package.name}\nInstalled: ${f.package.version}\nVulnerability: ${f.vulnerabilityId}\nSeverity: ${f.severity}\nFixed: ${f.fixedVersion ?? "none"}\nMatched: ${f.evidence.ecosystem} ${f.evidence.range}`,
          },
          locations: [
            {
              physicalLocation: {
                artifactLocation: {
                  uri: (f.package.locations[0] ?? result.artifact.name).replace(/^\/+/, ""),
                  uriBaseId: "ROOTPATH",
                },
                region: { startLine: 1, startColumn: 1, endLine: 1, endColumn: 1 },
              },
              message: { text: `${result.artifact.name}: ${f.package.name}@${f.package.version}` },
            },
          ],
        })),
        columnKind: "utf16CodeUnits",
        originalUriBaseIds: { ROOTPATH: { uri: "file:///" } },
      },
    ],
  };
}

export function renderSarif(result: ScanResult): string {
  return `${JSON.stringify(toSarif(result), null, 2)}\n`;
}
