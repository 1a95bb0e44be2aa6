// `--format checkstyle`: Checkstyle 4.3 XML, as read by Jenkins and most CI report plugins.
// Pure: returns a string.
import type { Severity } from "../types.js";
import type { FileReport } from "./report.js";

function xmlEscape(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

function checkstyleSeverity(severity: Severity): string {
  return severity === "style" ? "info" : severity;
}

export function formatCheckstyle(reports: readonly FileReport[]): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', '<checkstyle version="4.3">'];
  for (const r of reports) {
    out.push(`  <file name="${xmlEscape(r.path)}">`);
    for (const f of r.findings) {
      out.push(
        `    <error line="${f.line}" column="${f.column}" severity="${checkstyleSeverity(f.severity)}" message="${xmlEscape(f.message)}" source="berth-lint.${f.ruleId}"/>`,
      );
    }
    out.push("  </file>");
  }
  out.push("</checkstyle>");
  return `${out.join("\n")}\n`;
}
