// `--format sarif`: SARIF 2.1.0 as GitHub code scanning loads it: the rule catalogue in
// tool.driver.rules (shortDescription, help, default level; helpUri and informationUri only
// when a docs base URL is configured, as SARIF requires absolute URIs there and Berth invents
// none), one result per finding with a physicalLocation region. ShellCheck's checks that
// were reported (SC2086 …) are appended to the rules, with ShellCheck's wiki page as helpUri.
// Paths become relative URIs with forward slashes. Pure.
import { docsUrl, isShellCheckId, RULES } from "../catalog.js";
import type { Severity } from "../types.js";
import type { FileReport } from "./report.js";

const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

function level(severity: Severity): "error" | "warning" | "note" {
  if (severity === "error") return "error";
  if (severity === "warning") return "warning";
  return "note";
}

/** Relative paths stay relative to %SRCROOT% (the repository root in CI); absolute become file URIs. */
function artifactLocation(path: string): { uri: string; uriBaseId?: string } {
  const slashed = path.replace(/\\/g, "/");
  if (slashed.startsWith("/") || /^[A-Za-z]:\//.test(slashed)) {
    return { uri: encodeURI(`file://${slashed.startsWith("/") ? "" : "/"}${slashed}`) };
  }
  return { uri: encodeURI(slashed.replace(/^(\.\/)+/, "")), uriBaseId: "%SRCROOT%" };
}

export function sarifLog(
  reports: readonly FileReport[],
  toolVersion: string,
  docsBaseUrl?: string,
): object {
  const linked = docsBaseUrl !== undefined && docsBaseUrl !== "";
  const shellcheckIds = [
    ...new Set(reports.flatMap((r) => r.findings.map((f) => f.ruleId)).filter(isShellCheckId)),
  ].sort();
  const ruleIndex = new Map([...RULES.map((r) => r.id), ...shellcheckIds].map((id, i) => [id, i]));
  const rules = RULES.map((r) => ({
    id: r.id,
    name: r.name,
    shortDescription: { text: r.summary },
    fullDescription: { text: r.summary },
    ...(linked ? { helpUri: docsUrl(r.id, docsBaseUrl) } : {}),
    help: {
      text: linked
        ? `${r.summary}. See ${docsUrl(r.id, docsBaseUrl)}`
        : `${r.summary}. See ${docsUrl(r.id)} in the Berth source tree.`,
    },
    defaultConfiguration: { level: level(r.severity) },
    properties: { tags: ["dockerfile"], hadolint: r.hadolint },
  }));
  for (const id of shellcheckIds) {
    rules.push({
      id,
      name: id,
      shortDescription: { text: `ShellCheck ${id}` },
      fullDescription: { text: `ShellCheck ${id} in a RUN script` },
      helpUri: docsUrl(id),
      help: { text: `ShellCheck ${id}. See ${docsUrl(id)}` },
      defaultConfiguration: { level: "warning" },
      properties: { tags: ["dockerfile", "shellcheck"], hadolint: [] },
    });
  }
  const results = reports.flatMap((report) => {
    const lines = report.text.split("\n");
    return report.findings.map((f) => ({
      ruleId: f.ruleId,
      ruleIndex: ruleIndex.get(f.ruleId) ?? 0,
      level: level(f.severity),
      message: { text: f.message },
      locations: [
        {
          physicalLocation: {
            artifactLocation: artifactLocation(report.path),
            region: {
              startLine: f.line,
              startColumn: f.column,
              endLine: f.endLine,
              endColumn: Math.max(f.endColumn, f.endLine === f.line ? f.column + 1 : 1),
              snippet: { text: lines[f.line - 1] ?? "" },
            },
          },
        },
      ],
    }));
  });
  return {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "berth-lint",
            ...(linked ? { informationUri: docsUrl("README", docsBaseUrl) } : {}),
            version: toolVersion,
            semanticVersion: toolVersion,
            rules,
          },
        },
        results,
        columnKind: "utf16CodeUnits",
      },
    ],
  };
}

export function formatSarif(
  reports: readonly FileReport[],
  toolVersion: string,
  docsBaseUrl?: string,
): string {
  return `${JSON.stringify(sarifLog(reports, toolVersion, docsBaseUrl), null, 2)}\n`;
}
