// Human output: `file:line:column severity RULE message`, then the source line with a caret
// underline, then a summary. Pure: returns a string.
import type { Finding } from "../types.js";
import { countBySeverity, type FileReport } from "./report.js";

function excerpt(lines: readonly string[], f: Finding): string[] {
  const source = (lines[f.line - 1] ?? "").replace(/\r$/, "").replace(/\t/g, " ");
  if (source.trim() === "") return [];
  const gutter = String(f.line).padStart(5);
  const start = Math.max(0, f.column - 1);
  const stop = f.endLine === f.line ? Math.max(start + 1, f.endColumn - 1) : source.length;
  const width = Math.max(1, Math.min(stop, source.length) - start);
  return [
    `${gutter} | ${source}`,
    `${" ".repeat(gutter.length)} | ${" ".repeat(start)}${"^".repeat(width)}`,
  ];
}

export function formatText(reports: readonly FileReport[]): string {
  const out: string[] = [];
  for (const report of reports) {
    const lines = report.text.split("\n");
    for (const f of report.findings) {
      out.push(`${report.path}:${f.line}:${f.column} ${f.severity} ${f.ruleId} ${f.message}`);
      out.push(...excerpt(lines, f));
    }
  }
  const counts = countBySeverity(reports);
  const total = counts.error + counts.warning + counts.info + counts.style;
  const files = reports.length === 1 ? "1 file" : `${reports.length} files`;
  out.push(
    total === 0
      ? `${files} checked, no problems.`
      : `${files} checked: ${total} problem${total === 1 ? "" : "s"} (${counts.error} error, ${counts.warning} warning, ${counts.info} info, ${counts.style} style).`,
  );
  return `${out.join("\n")}\n`;
}
