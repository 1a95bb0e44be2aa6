// Severity of an advisory for one affected package: computed from CVSS v2/v3.x/v4.0 vectors
// with ae-cvss-calculator (the FIRST formulas), else the source's own rating
// (database_specific.severity as GHSA uses, ecosystem_specific/Ubuntu priorities). Never
// invents a rating: without either, the severity is UNKNOWN.
import { createRequire } from "node:module";
import type { OsvAffected, OsvRecord, OsvSeverity } from "../osv/record.js";

export const SEVERITIES = ["UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface CvssScore {
  readonly version: "2.0" | "3.0" | "3.1" | "4.0";
  readonly vector: string;
  readonly baseScore: number;
}

export interface SeverityAssessment {
  readonly severity: Severity;
  /** Where the rating came from: `cvss`, `database_specific`, `ecosystem_specific`, `ubuntu`. */
  readonly source: string;
  readonly cvss?: CvssScore;
}

interface CvssObject {
  calculateScores(): { base?: number; overall?: number };
}
type CvssCtor = new (vector: string) => CvssObject;
interface CvssLibrary {
  Cvss2: CvssCtor;
  Cvss3P0: CvssCtor;
  Cvss3P1: CvssCtor;
  Cvss4P0: CvssCtor;
}

// The package is CommonJS with a default-export object; load it the CommonJS way.
const cvssLib = createRequire(import.meta.url)("ae-cvss-calculator") as CvssLibrary;

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** FIRST's qualitative rating scale (v3/v4), or NVD's v2 scale. */
export function ratingForScore(score: number, version: CvssScore["version"]): Severity {
  if (version === "2.0") return score >= 7 ? "HIGH" : score >= 4 ? "MEDIUM" : "LOW";
  if (score >= 9) return "CRITICAL";
  if (score >= 7) return "HIGH";
  if (score >= 4) return "MEDIUM";
  if (score > 0) return "LOW";
  return "UNKNOWN";
}

/** Computes a CVSS base score from a vector string; null when the vector is not valid. */
export function scoreCvss(vector: string): CvssScore | null {
  const v = vector.trim();
  let version: CvssScore["version"];
  let ctor: CvssCtor;
  if (v.startsWith("CVSS:4.0/")) [version, ctor] = ["4.0", cvssLib.Cvss4P0];
  else if (v.startsWith("CVSS:3.1/")) [version, ctor] = ["3.1", cvssLib.Cvss3P1];
  else if (v.startsWith("CVSS:3.0/")) [version, ctor] = ["3.0", cvssLib.Cvss3P0];
  else if (/^(\(?)AV:[LAN]\/AC:[HML]\/Au:[MSN]\//.test(v)) [version, ctor] = ["2.0", cvssLib.Cvss2];
  else return null;
  try {
    const scores = new ctor(v.replace(/^\(|\)$/g, "")).calculateScores();
    const base = scores.base ?? scores.overall;
    if (typeof base !== "number" || Number.isNaN(base)) return null;
    return { version, vector: v, baseScore: base };
  } catch {
    return null;
  }
}

const WORDS: Record<string, Severity> = {
  critical: "CRITICAL",
  high: "HIGH",
  important: "HIGH",
  moderate: "MEDIUM",
  medium: "MEDIUM",
  low: "LOW",
  negligible: "LOW",
  unimportant: "LOW",
};

function fromWord(value: unknown): Severity | null {
  return typeof value === "string" ? (WORDS[value.trim().toLowerCase()] ?? null) : null;
}

function bestCvss(list: readonly OsvSeverity[]): CvssScore | null {
  // Prefer v3.x (what most feeds rate by), then v4.0, then v2.
  const order = ["CVSS_V3", "CVSS_V4", "CVSS_V2"];
  for (const type of order) {
    for (const s of list) {
      if (s.type !== type) continue;
      const score = scoreCvss(s.score);
      if (score) return score;
    }
  }
  return null;
}

export function assessSeverity(record: OsvRecord, affected?: OsvAffected): SeverityAssessment {
  const cvss = bestCvss([...(affected?.severity ?? []), ...(record.severity ?? [])]);
  if (cvss) return { severity: ratingForScore(cvss.baseScore, cvss.version), source: "cvss", cvss };
  for (const s of [...(affected?.severity ?? []), ...(record.severity ?? [])]) {
    const word = s.type === "Ubuntu" ? fromWord(s.score) : null;
    if (word) return { severity: word, source: "ubuntu" };
  }
  const own =
    fromWord(affected?.ecosystem_specific?.severity) ??
    fromWord(affected?.database_specific?.severity) ??
    fromWord(record.database_specific?.severity);
  if (own) {
    const source = fromWord(affected?.ecosystem_specific?.severity)
      ? "ecosystem_specific"
      : "database_specific";
    return { severity: own, source };
  }
  return { severity: "UNKNOWN", source: "none" };
}
