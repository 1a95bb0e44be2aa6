// Presents an ImageAnalysis: the JSON document `--format json` prints (every number, stable
// field names) and the human report (layer table, dive's totals, inefficient files, findings
// with their fixes, CI rule results). Pure: returns strings and plain objects, prints nothing.
import { formatPlatform } from "../oci/index.js";
import type { ImageAnalysis } from "./analyzer.js";
import { formatByteSize } from "./byte-size.js";
import { displayCommand } from "./history.js";
import type { RuleResult } from "./thresholds.js";
import { renderTree, type TreeEntry, type TreeOptions } from "./tree.js";

export interface ReportExtras {
  ci?: readonly RuleResult[];
  tree?: { entries: readonly TreeEntry[]; options: TreeOptions };
}

/** The `--format json` document. Ratios (efficiency, userWastedPercent) are 0…1. */
export function analysisToJson(analysis: ImageAnalysis, extras: ReportExtras = {}): object {
  const t = analysis.totals;
  return {
    image: analysis.image,
    platform: formatPlatform(analysis.platform),
    manifestDigest: analysis.manifestDigest,
    configDigest: analysis.configDigest,
    efficiency: t.efficiency,
    wastedBytes: t.wastedBytes,
    userWastedBytes: t.userWastedBytes,
    userWastedPercent: t.userWastedPercent,
    sizeBytes: t.sizeBytes,
    userSizeBytes: t.userSizeBytes,
    compressedBytes: t.compressedBytes,
    uncompressedBytes: t.uncompressedBytes,
    explainedBytes: t.explainedBytes,
    layers: analysis.layers.map((l) => ({
      index: l.index,
      digest: l.digest,
      mediaType: l.mediaType,
      diffId: l.diffId,
      compressedBytes: l.compressedBytes,
      uncompressedBytes: l.uncompressedBytes,
      contentBytes: l.contentBytes,
      entries: l.entries,
      createdBy: l.createdBy,
      created: l.created,
      historyIndex: l.historyIndex,
      dockerfile: l.dockerfile,
      fromBase: l.fromBase,
      origin: l.origin,
      changes: l.changes,
    })),
    history: analysis.history,
    inefficiencies: analysis.inefficiencies,
    findings: analysis.findings,
    ...(analysis.lint ? { lint: analysis.lint } : {}),
    ...(extras.ci ? { ci: { passed: extras.ci.every((r) => r.passed), rules: extras.ci } } : {}),
    ...(extras.tree ? { tree: extras.tree.entries } : {}),
    warnings: analysis.warnings,
  };
}

export function formatPercent(ratio: number): string {
  if (!Number.isFinite(ratio)) return "∞";
  return `${(ratio * 100).toFixed(2)}%`;
}

/** The human report, as lines. `inefficientLimit` caps dive's file list (0: none). */
export function renderReport(
  analysis: ImageAnalysis,
  extras: ReportExtras = {},
  inefficientLimit = 10,
): string[] {
  const t = analysis.totals;
  const out: string[] = [];
  out.push(`Image: ${analysis.image} (${formatPlatform(analysis.platform)})`);
  out.push("");
  out.push(...layerTable(analysis));
  out.push("");
  out.push(
    `Efficiency ${formatPercent(t.efficiency)}  ·  wasted ${formatByteSize(t.wastedBytes)}  ·  user wasted ${formatPercent(t.userWastedPercent)} (${formatByteSize(t.userWastedBytes)})  ·  size ${formatByteSize(t.sizeBytes)} (user ${formatByteSize(t.userSizeBytes)})  ·  compressed ${formatByteSize(t.compressedBytes)}`,
  );
  if (extras.tree) {
    out.push("");
    const layer = extras.tree.options.layer;
    out.push(layer === undefined ? "Filesystem:" : `Changes in layer ${layer}:`);
    const lines = renderTree(extras.tree.entries, extras.tree.options);
    out.push(...(lines.length > 0 ? lines : ["  (none)"]));
  }
  if (inefficientLimit > 0) {
    out.push("");
    out.push(...inefficientFiles(analysis, inefficientLimit));
  }
  out.push("");
  out.push(...findingLines(analysis));
  if (analysis.lint) {
    out.push("");
    out.push(...lintLines(analysis));
  }
  for (const warning of analysis.warnings) out.push(`warning: ${warning}`);
  if (extras.ci) {
    out.push("");
    out.push(...ciLines(extras.ci));
  }
  return out;
}

function layerTable(analysis: ImageAnalysis): string[] {
  const header = ["#", "COMPRESSED", "UNCOMPRESSED", "ADDED", "MODIFIED", "REMOVED", "COMMAND"];
  const rows = analysis.layers.map((l) => [
    String(l.index),
    formatByteSize(l.compressedBytes),
    formatByteSize(l.uncompressedBytes),
    String(l.changes.added),
    String(l.changes.modified),
    String(l.changes.removed),
    `${l.dockerfile ? `[line ${l.dockerfile.line}] ` : ""}${displayCommand(l.createdBy, 70)}`,
  ]);
  return table([header, ...rows], [false, true, true, true, true, true, false]);
}

function inefficientFiles(analysis: ImageAnalysis, limit: number): string[] {
  const list = analysis.inefficiencies.filter((i) => i.wastedBytes > 0);
  const lines = [`Inefficient files (dive): ${list.length}`];
  if (list.length === 0) return lines;
  const rows = list
    .slice(0, limit)
    .map((i) => [String(i.count), formatByteSize(i.wastedBytes), i.layers.join(","), i.path]);
  lines.push(
    ...table([["COUNT", "WASTED", "LAYERS", "PATH"], ...rows], [true, true, false, false]),
  );
  if (list.length > limit) lines.push(`  … ${list.length - limit} more (--format json lists all)`);
  return lines;
}

/** At most this many findings in the human report (JSON lists all). */
const FINDINGS_SHOWN = 25;

function findingLines(analysis: ImageAnalysis): string[] {
  if (analysis.findings.length === 0) return ["Findings: none"];
  const lines = [`Findings: ${analysis.findings.length}`];
  analysis.findings.slice(0, FINDINGS_SHOWN).forEach((f, i) => {
    lines.push(`  ${i + 1}. [${f.kind}] ${f.message}`);
    lines.push(`     fix: ${f.fix}`);
    const where = f.cause.dockerfile ?? (f.fromBase ? f.other?.dockerfile : undefined);
    if (where) lines.push(`     at: Dockerfile line ${where.line}: ${where.source}`);
    for (const l of f.lint ?? []) {
      lines.push(`     lint: ${l.ruleId} (${l.severity}, line ${l.line}): ${l.message}`);
    }
  });
  const hidden = analysis.findings.length - FINDINGS_SHOWN;
  if (hidden > 0) lines.push(`  … ${hidden} smaller findings (--format json lists all)`);
  return lines;
}

/** `berth lint` on the --dockerfile, each finding with the layer (and bytes) its line made. */
function lintLines(analysis: ImageAnalysis): string[] {
  const lint = analysis.lint ?? [];
  if (lint.length === 0) return ["Dockerfile lint: no findings"];
  const lines = [`Dockerfile lint: ${lint.length} (berth lint rules; layer = what the line built)`];
  for (const l of lint) {
    const layer =
      l.layer === undefined ? "" : ` [layer ${l.layer}, ${formatByteSize(l.layerBytes ?? 0)}]`;
    lines.push(`  line ${l.line}: ${l.ruleId} ${l.severity}${layer}: ${l.message}`);
  }
  return lines;
}

function ciLines(results: readonly RuleResult[]): string[] {
  const lines = ["CI rules:"];
  for (const r of results) lines.push(`  ${r.passed ? "PASS" : "FAIL"}: ${r.rule}: ${r.message}`);
  const failed = results.filter((r) => !r.passed).length;
  lines.push(
    `Result: ${failed > 0 ? "FAIL" : "PASS"} [Total:${results.length}] [Passed:${results.length - failed}] [Failed:${failed}]`,
  );
  return lines;
}

/** Left- or right-aligned columns, two spaces apart. */
function table(rows: readonly string[][], rightAlign: readonly boolean[]): string[] {
  const widths = rightAlign.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows.map(
    (row) =>
      `  ${row
        .map((cell, c) => {
          const last = c === row.length - 1;
          if (rightAlign[c]) return cell.padStart(widths[c] ?? 0);
          return last ? cell : cell.padEnd(widths[c] ?? 0);
        })
        .join("  ")}`,
  );
}
