// `--format json`: every finding with its file, position, severity, rule id and docs link,
// plus counts per severity. Pure: returns a string.
import { docsUrl } from "../catalog.js";
import { countBySeverity, type FileReport } from "./report.js";

/** `docs` is the rule page's URL under docsBaseUrl, else its path in the Berth source tree. */
export function formatJson(reports: readonly FileReport[], docsBaseUrl?: string): string {
  const files = reports.map((r) => ({
    path: r.path,
    findings: r.findings.map((f) => ({ ...f, docs: docsUrl(f.ruleId, docsBaseUrl) })),
  }));
  return `${JSON.stringify({ files, summary: countBySeverity(reports) }, null, 2)}\n`;
}
