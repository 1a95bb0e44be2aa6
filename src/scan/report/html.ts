// The `--format html` scan report: a self-contained page (src/report/html.ts) with the
// counts per severity, one sortable table of findings per target (the OS, each language
// file) with the explanation of each match, and the packages found. Pure.
import { type HtmlSection, renderHtmlDocument } from "../../report/html.js";
import { countBySeverity, type ScanResult, sortFindings } from "../result.js";
import { SEVERITIES } from "../severity/index.js";
import { explainFinding } from "./table.js";

export function renderScanHtml(result: ScanResult): string {
  const all = result.targets.flatMap((t) => t.findings);
  const counts = countBySeverity(all);
  const summary = `${all.length} vulnerabilit${all.length === 1 ? "y" : "ies"} (${[...SEVERITIES]
    .reverse()
    .map((s) => `${s}: ${counts[s]}`)
    .join(", ")}) in ${result.packages.length} packages`;
  const sections: HtmlSection[] = result.targets.map((t) => {
    const findings = sortFindings(t.findings);
    return {
      title: `${t.target} (${t.type}, ${t.packages.length} packages)`,
      table: {
        headers: ["Package", "Vulnerability", "Severity", "Installed", "Fixed", "Explanation"],
        rows: findings.map((f) => [
          f.package.name,
          f.vulnerabilityId,
          f.severity,
          f.installedVersion,
          f.fixedVersion ?? "",
          explainFinding(f),
        ]),
        rowClasses: findings.map((f) => f.severity),
      },
    };
  });
  sections.push({
    title: "Packages",
    table: {
      headers: ["Name", "Version", "Ecosystem", "Licences", "Location"],
      rows: result.packages.map((p) => [
        p.name,
        p.version,
        p.ecosystem,
        (p.licenses ?? []).join(", "),
        p.locations[0] ?? "",
      ]),
    },
  });
  if (result.warnings.length > 0) {
    sections.push({ title: "Warnings", paragraphs: result.warnings });
  }
  return renderHtmlDocument(
    `Vulnerability report: ${result.artifact.name}`,
    { text: summary, className: all.length > 0 ? "verdict-fail" : "verdict-pass" },
    sections,
  );
}
