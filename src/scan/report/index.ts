// Picks the report writer for `--format`. One place lists the formats so the CLI, docs and
// tests agree.
import type { ScanResult } from "../result.js";
import { renderCycloneDx } from "./cyclonedx.js";
import { renderScanHtml } from "./html.js";
import { renderJson } from "./json.js";
import { renderSarif } from "./sarif.js";
import { renderSpdx } from "./spdx.js";
import { renderTable } from "./table.js";

export const SCAN_FORMATS = ["table", "json", "sarif", "cyclonedx", "spdx-json", "html"] as const;
export type ScanFormat = (typeof SCAN_FORMATS)[number];
export const SBOM_FORMATS = ["cyclonedx", "spdx-json"] as const;

export function renderScan(result: ScanResult, format: ScanFormat): string {
  switch (format) {
    case "table":
      return renderTable(result);
    case "json":
      return renderJson(result);
    case "sarif":
      return renderSarif(result);
    case "cyclonedx":
      return renderCycloneDx(result, { withVulnerabilities: true });
    case "spdx-json":
      return renderSpdx(result);
    case "html":
      return renderScanHtml(result);
  }
}

export function renderSbom(result: ScanResult, format: (typeof SBOM_FORMATS)[number]): string {
  return format === "cyclonedx"
    ? renderCycloneDx(result, { withVulnerabilities: false })
    : renderSpdx(result);
}
