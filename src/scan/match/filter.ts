// The filter step of a scan: package types, severities, --ignore-unfixed, ignore rules and
// VEX statements. Suppressed findings are kept with the reason, so reports can show them.
// Pure.
import type { PackageType } from "../package.js";
import type { Severity } from "../severity/index.js";
import { type IgnoreRule, ignoreRuleFor } from "./ignore.js";
import type { Finding } from "./index.js";
import { type VexStatement, vexReason, vexStatementFor } from "./vex.js";

export interface FilterOptions {
  readonly severities?: readonly Severity[];
  readonly ignoreUnfixed?: boolean;
  readonly ignoreRules?: readonly IgnoreRule[];
  readonly vex?: readonly VexStatement[];
  readonly now?: Date;
}

export interface Suppressed {
  readonly finding: Finding;
  readonly by: "ignorefile" | "vex";
  readonly reason: string;
}

export interface Filtered {
  readonly findings: Finding[];
  readonly suppressed: Suppressed[];
}

export function filterFindings(all: readonly Finding[], options: FilterOptions): Filtered {
  const findings: Finding[] = [];
  const suppressed: Suppressed[] = [];
  const now = options.now ?? new Date();
  for (const f of all) {
    if (options.severities?.length && !options.severities.includes(f.severity)) continue;
    if (options.ignoreUnfixed && f.status !== "fixed") continue;
    const rule = options.ignoreRules ? ignoreRuleFor(f, options.ignoreRules, now) : undefined;
    if (rule) {
      const until = rule.expires ? ` (until ${rule.expires})` : "";
      suppressed.push({
        finding: f,
        by: "ignorefile",
        reason: `${rule.reason ?? "ignored"}${until}`,
      });
      continue;
    }
    const statement = options.vex ? vexStatementFor(f, options.vex) : undefined;
    if (statement) {
      suppressed.push({ finding: f, by: "vex", reason: vexReason(statement) });
      continue;
    }
    findings.push(f);
  }
  return { findings, suppressed };
}

export function parsePackageTypes(value: string): PackageType[] {
  const types = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const t of types) {
    if (t !== "os" && t !== "library")
      throw new Error(`unknown package type "${t}" (use os,library)`);
  }
  return types as PackageType[];
}
