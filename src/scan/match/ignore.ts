// Ignore rules for `berth scan --ignorefile FILE`: Trivy's plain `.trivyignore` (one id per
// line, optional `exp:YYYY-MM-DD`, `#` comments, a trailing comment is the reason) and the
// YAML form (`vulnerabilities: [{id, statement, expired_at, purls, paths}]`). An expired rule
// no longer suppresses anything. Parsing is pure; reading the file is the caller's job.
import { parse as parseYaml } from "yaml";
import type { Finding } from "./index.js";

export interface IgnoreRule {
  readonly id: string;
  readonly reason?: string;
  /** ISO date after which the rule stops applying. */
  readonly expires?: string;
  readonly purls?: readonly string[];
  readonly paths?: readonly string[];
}

export class IgnoreFileError extends Error {}

function checkDate(value: string, where: string): string {
  if (Number.isNaN(Date.parse(value)))
    throw new IgnoreFileError(`${where}: invalid date "${value}"`);
  return value;
}

export function parsePlainIgnore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const hash = raw.indexOf("#");
    const body = (hash === -1 ? raw : raw.slice(0, hash)).trim();
    const comment = hash === -1 ? "" : raw.slice(hash + 1).trim();
    if (body === "") return;
    const [id, ...rest] = body.split(/\s+/);
    let expires: string | undefined;
    for (const token of rest) {
      if (token.startsWith("exp:")) expires = checkDate(token.slice(4), `line ${i + 1}`);
    }
    rules.push({ id, reason: comment || undefined, expires });
  });
  return rules;
}

function stringList(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : undefined;
}

export function parseYamlIgnore(text: string): IgnoreRule[] {
  const doc: unknown = parseYaml(text);
  if (typeof doc !== "object" || doc === null)
    throw new IgnoreFileError("ignore file is not a YAML mapping");
  const list = (doc as Record<string, unknown>).vulnerabilities;
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new IgnoreFileError("`vulnerabilities` must be a list");
  return list.map((item, i) => {
    if (
      typeof item !== "object" ||
      item === null ||
      typeof (item as { id?: unknown }).id !== "string"
    ) {
      throw new IgnoreFileError(`vulnerabilities[${i}] needs an id`);
    }
    const o = item as Record<string, unknown>;
    const expRaw = o.expired_at ?? o.expires;
    const exp =
      expRaw instanceof Date
        ? expRaw.toISOString().slice(0, 10)
        : typeof expRaw === "string"
          ? expRaw
          : undefined;
    return {
      id: o.id as string,
      reason:
        typeof o.statement === "string"
          ? o.statement
          : typeof o.reason === "string"
            ? o.reason
            : undefined,
      expires: exp ? checkDate(exp, `vulnerabilities[${i}]`) : undefined,
      purls: stringList(o.purls),
      paths: stringList(o.paths),
    };
  });
}

/** Picks the format: YAML when the file is named *.yaml/*.yml or starts with `vulnerabilities:`. */
export function parseIgnoreFile(name: string, text: string): IgnoreRule[] {
  if (/\.ya?ml$/i.test(name) || /^\s*vulnerabilities\s*:/m.test(text)) return parseYamlIgnore(text);
  return parsePlainIgnore(text);
}

function purlBase(purl: string): string {
  return purl.split("?")[0].split("#")[0];
}

/** The rule that suppresses this finding at `now`, if any. */
export function ignoreRuleFor(
  finding: Finding,
  rules: readonly IgnoreRule[],
  now: Date,
): IgnoreRule | undefined {
  const ids = new Set([finding.vulnerabilityId, ...finding.aliases]);
  return rules.find((r) => {
    if (!ids.has(r.id)) return false;
    if (r.expires && Date.parse(r.expires) + 86_400_000 <= now.getTime()) return false;
    if (r.purls?.length && !r.purls.some((p) => purlBase(p) === purlBase(finding.package.purl)))
      return false;
    if (
      r.paths?.length &&
      !r.paths.some((p) =>
        finding.package.locations.some((l) => l === p || l.startsWith(`${p.replace(/\/$/, "")}/`)),
      )
    ) {
      return false;
    }
    return true;
  });
}
