// The `--format table` report: one section per target (the OS, then each language file) with
// counts per severity, a table of findings, and under each row the explanation of the match
// (package → source package → advisory + aliases → range → fix → layer and command).
import type { Finding } from "../match/index.js";
import { countBySeverity, type ScanResult, type SeverityCounts } from "../result.js";
import { SEVERITIES } from "../severity/index.js";

function countsLine(c: SeverityCounts): string {
  const total = Object.values(c).reduce((a, b) => a + b, 0);
  return `Total: ${total} (${SEVERITIES.map((s) => `${s}: ${c[s]}`).join(", ")})`;
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

function renderRows(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `│ ${cells.map((c, i) => c.padEnd(widths[i])).join(" │ ")} │`;
  const rule = (l: string, m: string, r: string) =>
    `${l}${widths.map((w) => "─".repeat(w + 2)).join(m)}${r}`;
  return [
    rule("┌", "┬", "┐"),
    line(header),
    rule("├", "┼", "┤"),
    ...rows.map(line),
    rule("└", "┴", "┘"),
  ];
}

/** One line that says why this finding exists. */
export function explainFinding(f: Finding): string {
  const p = f.package;
  const pkg =
    p.sourceName && p.sourceName !== p.name
      ? `${p.name} ${p.version} (source ${p.sourceName} ${f.installedVersion})`
      : `${p.name} ${p.version}`;
  const ids = f.aliases.length
    ? `${f.vulnerabilityId} (${f.aliases.join(", ")})`
    : f.vulnerabilityId;
  const fix = f.fixedVersion ? `fixed in ${f.fixedVersion}` : "no fix yet";
  const layer = p.layer
    ? `layer ${p.layer.index} ${p.layer.digest.slice(0, 19)}${p.layer.createdBy ? ` ${truncate(p.layer.createdBy.replace(/\s+/g, " "), 80)}` : ""}`
    : (p.locations[0] ?? "");
  return `${pkg} → ${ids} → ${f.evidence.ecosystem}/${f.evidence.advisoryPackage} ${f.evidence.range} → ${fix} → ${layer}`;
}

export function renderTable(result: ScanResult): string {
  const out: string[] = [];
  out.push(
    `${result.artifact.name}${result.os ? ` (${result.os.name ?? `${result.os.family} ${result.os.version ?? ""}`})` : ""}`,
  );
  out.push("");
  for (const t of result.targets) {
    out.push(
      `${t.target} [${t.type}, ${t.packages.length} package${t.packages.length === 1 ? "" : "s"}]`,
    );
    out.push("=".repeat(Math.min(80, t.target.length + 20)));
    out.push(countsLine(countBySeverity(t.findings)));
    out.push("");
    if (t.findings.length > 0) {
      const rows = t.findings.map((f) => [
        f.package.name,
        f.vulnerabilityId,
        f.severity,
        f.status,
        f.package.version,
        f.fixedVersion ?? "",
        truncate(f.summary ?? "", 50),
      ]);
      out.push(
        ...renderRows(
          ["Library", "Vulnerability", "Severity", "Status", "Installed", "Fixed", "Title"],
          rows,
        ),
      );
      out.push("");
      out.push("Why:");
      for (const f of t.findings) out.push(`  ${explainFinding(f)}`);
      out.push("");
    }
  }
  if (result.suppressed.length > 0) {
    out.push(`Suppressed: ${result.suppressed.length}`);
    for (const s of result.suppressed) {
      out.push(`  ${s.finding.package.name} ${s.finding.vulnerabilityId} — ${s.by}: ${s.reason}`);
    }
    out.push("");
  }
  return `${out.join("\n")}\n`;
}
