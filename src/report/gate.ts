// Renderings of a gate verdict for `berth gate --format`: table (people), json (one
// document), sarif (SARIF 2.1.0: one result per failed rule, for code-scanning uploads),
// junit (one testcase per rule, for CI test reports) and html (self-contained page, via
// src/report/html.ts). Pure: the verdict in, text out.
import type { GateRuleResult, GateVerdict } from "../policy/gate.js";
import { escapeHtml, renderHtmlDocument } from "./html.js";

export const GATE_FORMATS = ["table", "json", "sarif", "junit", "html"] as const;
export type GateFormat = (typeof GATE_FORMATS)[number];

export function renderGate(verdict: GateVerdict, format: GateFormat): string {
  switch (format) {
    case "table":
      return renderGateTable(verdict);
    case "json":
      return `${JSON.stringify(verdict, null, 2)}\n`;
    case "sarif":
      return renderGateSarif(verdict);
    case "junit":
      return renderGateJunit(verdict);
    case "html":
      return renderGateHtml(verdict);
  }
}

const MARK: Record<GateRuleResult["status"], string> = {
  pass: "PASS",
  fail: "FAIL",
  undecided: "----",
};

function renderGateTable(v: GateVerdict): string {
  const lines = [`${v.image} (${v.digest})`, ""];
  const width = Math.max(...v.rules.map((r) => r.rule.length), 4);
  for (const r of v.rules) {
    lines.push(`${MARK[r.status]}  ${r.rule.padEnd(width)}  ${r.message}`);
    for (const e of r.evidence) lines.push(`      ${" ".repeat(width)}  - ${e}`);
  }
  const failed = v.rules.filter((r) => r.status === "fail").length;
  lines.push("");
  lines.push(
    v.verdict === "pass"
      ? `gate passed: ${v.rules.length} rule(s) checked`
      : `gate failed: ${failed} of ${v.rules.length} rule(s) failed`,
  );
  return `${lines.join("\n")}\n`;
}

const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";
const INFO_URI = "https://github.com/berth/berth/blob/main/docs/gate.md";

function renderGateSarif(v: GateVerdict): string {
  const rules = v.rules.map((r) => ({
    id: `gate/${r.rule}`,
    name: r.rule,
    shortDescription: { text: `quality gate rule ${r.rule}` },
    helpUri: `${INFO_URI}#${r.rule.toLowerCase()}`,
    defaultConfiguration: { level: "error" },
  }));
  const results = v.rules
    .filter((r) => r.status === "fail")
    .map((r) => ({
      ruleId: `gate/${r.rule}`,
      ruleIndex: v.rules.indexOf(r),
      level: "error",
      message: {
        text: [r.message, ...r.evidence.map((e) => `- ${e}`)].join("\n"),
      },
      locations: [
        {
          physicalLocation: { artifactLocation: { uri: sarifUri(v.image) } },
          logicalLocations: [{ name: v.digest, kind: "module" }],
        },
      ],
      properties: { evidence: r.evidence },
    }));
  const doc = {
    $schema: SARIF_SCHEMA,
    version: "2.1.0",
    runs: [
      {
        tool: { driver: { name: "berth-gate", informationUri: INFO_URI, rules } },
        results,
        properties: { image: v.image, digest: v.digest, verdict: v.verdict },
      },
    ],
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** An image reference as a URI reference SARIF accepts (no spaces, percent-encoded). */
function sarifUri(image: string): string {
  return encodeURI(image.replace(/^[a-z-]+:(\/\/)?/, ""));
}

function xml(text: string): string {
  return escapeHtml(text);
}

function renderGateJunit(v: GateVerdict): string {
  const failures = v.rules.filter((r) => r.status === "fail").length;
  const skipped = v.rules.filter((r) => r.status === "undecided").length;
  const cases = v.rules.map((r) => {
    const open = `    <testcase classname="berth.gate" name="${xml(r.rule)}">`;
    if (r.status === "pass")
      return `${open}\n      <system-out>${xml(r.message)}</system-out>\n    </testcase>`;
    if (r.status === "undecided")
      return `${open}\n      <skipped message="${xml(r.message)}"/>\n    </testcase>`;
    const body = [r.message, ...r.evidence.map((e) => `- ${e}`)].join("\n");
    return `${open}\n      <failure message="${xml(r.message)}" type="${xml(r.rule)}">${xml(body)}</failure>\n    </testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="berth gate" tests="${v.rules.length}" failures="${failures}" skipped="${skipped}">
  <testsuite name="${xml(v.image)}" tests="${v.rules.length}" failures="${failures}" skipped="${skipped}" errors="0">
    <properties><property name="digest" value="${xml(v.digest)}"/></properties>
${cases.join("\n")}
  </testsuite>
</testsuites>
`;
}

function renderGateHtml(v: GateVerdict): string {
  const failed = v.rules.filter((r) => r.status === "fail").length;
  return renderHtmlDocument(
    `Quality gate: ${v.image}`,
    {
      text:
        v.verdict === "pass"
          ? `PASSED: ${v.rules.length} rule(s) checked (${v.digest})`
          : `FAILED: ${failed} of ${v.rules.length} rule(s) failed (${v.digest})`,
      className: `verdict-${v.verdict}`,
    },
    [
      {
        title: "Rules",
        table: {
          headers: ["Rule", "Result", "Message", "Evidence"],
          rows: v.rules.map((r) => [r.rule, r.status, r.message, r.evidence.join("\n")]),
          rowClasses: v.rules.map((r) => r.status),
        },
      },
    ],
  );
}
