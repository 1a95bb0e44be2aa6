// `--format json`: every finding with its file, position, severity, rule id and docs link,
// plus counts per severity. Pure: returns a string.
import { docsUrl } from "../catalog.js";
import { countBySeverity, type FileReport } from "./report.js";

export function formatJson(reports: readonly FileReport[]): string {
  const files = reports.map((r) => ({
    path: r.path,
    findings: r.findings.map((f) => ({ ...f, docs: docsUrl(f.ruleId) })),
  }));
  return `${JSON.stringify({ files, summary: countBySeverity(reports) }, null, 2)}\n`;
}
