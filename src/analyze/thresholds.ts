// CI gates on an analysis, with dive's three rules and their exact comparisons:
// lowestEfficiency fails when efficiency < threshold, highestWastedBytes when wasted >
// threshold, highestUserWastedPercent when user wasted percent > threshold. Thresholds come
// from flags or from a dive `.dive-ci` file (`rules:` map; `disabled` turns a rule off).
// Pure: parsing and evaluation only; reading the file is the CLI's job.
import { parse as parseYaml } from "yaml";
import { parseByteSize } from "./byte-size.js";

export interface Thresholds {
  lowestEfficiency?: number;
  highestWastedBytes?: number;
  highestUserWastedPercent?: number;
}

export type RuleName = keyof Thresholds;

export interface RuleResult {
  readonly rule: RuleName;
  readonly threshold: number;
  readonly actual: number;
  readonly passed: boolean;
  readonly message: string;
}

export class ThresholdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ThresholdError";
  }
}

/**
 * Efficiency and user wasted percent are ratios from 0 to 1, and so are their thresholds: a
 * value above 1 (`20` meant as 20%) could never fail (or never pass), so it is refused.
 */
export function parseRatio(text: string, what: string): number {
  const value = Number(text.trim());
  if (text.trim() === "" || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new ThresholdError(`${what} must be a ratio from 0 to 1 (0.2 for 20%), got "${text}"`);
  }
  return value;
}

export function parseBytesThreshold(text: string, what: string): number {
  const bytes = parseByteSize(text);
  if (bytes === undefined) {
    throw new ThresholdError(`${what} must be a size such as 20MB or 512KiB, got "${text}"`);
  }
  return bytes;
}

/** Reads dive's `.dive-ci` YAML: `rules: { lowestEfficiency, highestWastedBytes, … }`. */
export function parseDiveCiFile(text: string): Thresholds {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    throw new ThresholdError("the CI config is not valid YAML");
  }
  const rules = (doc as { rules?: unknown } | null)?.rules;
  if (rules === undefined || rules === null) return {};
  if (typeof rules !== "object" || Array.isArray(rules)) {
    throw new ThresholdError("the CI config's `rules` must be a map");
  }
  const thresholds: Thresholds = {};
  for (const [key, raw] of Object.entries(rules as Record<string, unknown>)) {
    const value = String(raw).trim();
    if (value === "disabled") continue;
    if (key === "lowestEfficiency") thresholds.lowestEfficiency = parseRatio(value, key);
    else if (key === "highestWastedBytes") {
      thresholds.highestWastedBytes = parseBytesThreshold(value, key);
    } else if (key === "highestUserWastedPercent") {
      thresholds.highestUserWastedPercent = parseRatio(value, key);
    } else throw new ThresholdError(`unknown CI rule "${key}"`);
  }
  return thresholds;
}

export interface MeasuredTotals {
  readonly efficiency: number;
  readonly wastedBytes: number;
  readonly userWastedPercent: number;
}

export function evaluateThresholds(totals: MeasuredTotals, thresholds: Thresholds): RuleResult[] {
  const results: RuleResult[] = [];
  const { lowestEfficiency, highestWastedBytes, highestUserWastedPercent } = thresholds;
  if (lowestEfficiency !== undefined) {
    const passed = !(totals.efficiency < lowestEfficiency);
    results.push({
      rule: "lowestEfficiency",
      threshold: lowestEfficiency,
      actual: totals.efficiency,
      passed,
      message: passed
        ? `efficiency ${fmt(totals.efficiency)} ≥ ${lowestEfficiency}`
        : `image efficiency is too low (efficiency=${fmt(totals.efficiency)} < threshold=${lowestEfficiency})`,
    });
  }
  if (highestWastedBytes !== undefined) {
    const passed = !(totals.wastedBytes > highestWastedBytes);
    results.push({
      rule: "highestWastedBytes",
      threshold: highestWastedBytes,
      actual: totals.wastedBytes,
      passed,
      message: passed
        ? `wasted bytes ${totals.wastedBytes} ≤ ${highestWastedBytes}`
        : `too many bytes wasted (wasted-bytes=${totals.wastedBytes} > threshold=${highestWastedBytes})`,
    });
  }
  if (highestUserWastedPercent !== undefined) {
    const passed = !(totals.userWastedPercent > highestUserWastedPercent);
    results.push({
      rule: "highestUserWastedPercent",
      threshold: highestUserWastedPercent,
      actual: totals.userWastedPercent,
      passed,
      message: passed
        ? `user wasted percent ${fmt(totals.userWastedPercent)} ≤ ${highestUserWastedPercent}`
        : `too many bytes wasted, relative to the user bytes added (user-wasted-percent=${fmt(totals.userWastedPercent)} > threshold=${highestUserWastedPercent})`,
    });
  }
  return results;
}

function fmt(value: number): string {
  return Number.isFinite(value) ? String(Math.round(value * 10000) / 10000) : "∞";
}
