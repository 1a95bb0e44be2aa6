// The input every output format renders: one entry per linted file. Pure types.
import type { Finding } from "../types.js";

export interface FileReport {
  /** Path as the user gave it (relative paths stay relative). */
  readonly path: string;
  readonly text: string;
  readonly findings: readonly Finding[];
}

export function countBySeverity(reports: readonly FileReport[]): Record<string, number> {
  const counts: Record<string, number> = { error: 0, warning: 0, info: 0, style: 0 };
  for (const r of reports) for (const f of r.findings) counts[f.severity] += 1;
  return counts;
}
