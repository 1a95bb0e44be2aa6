// The per-row security summary of a repository's artifact list (the UI's artifacts table):
// for each digest of a page, its scan status and counts by severity (an index: summed over
// its platform images), the quality-gate verdict recorded at push, and what a pull would
// meet now, judged by the registry's own pull admission (policy/vulnerability-admission.ts,
// which calls the same gate evaluator as `berth gate`). A page costs a fixed handful of
// batched queries, never a few per row. Reads only.
import type { Kysely } from "kysely";
import { getGateResults } from "../meta/gate-results.js";
import {
  type Database,
  getManifestsByDigests,
  getScanReports,
  type ScanReport,
} from "../meta/index.js";
import type { PullVerdict, VulnerabilityAdmission } from "../policy/vulnerability-admission.js";
import { SEVERITIES } from "../scan/severity/index.js";

/** At most this many digests per request (a page of the artifacts list). */
export const MAX_SUMMARY_DIGESTS = 100;

export type SummaryScanStatus = ScanReport["status"] | "none" | "partial";

export interface ArtifactScanSummary {
  readonly status: SummaryScanStatus;
  readonly counts: Record<string, number>;
  readonly total: number;
  readonly fixableTotal: number;
  /** For an index: how many platform images have a finished scan, of how many. */
  readonly images: { readonly scanned: number; readonly of: number };
}

export interface ArtifactSummary {
  readonly digest: string;
  readonly scan: ArtifactScanSummary;
  /** The verdict recorded when it was pushed; null when the project had no gate policy then. */
  readonly push: { readonly verdict: "pass" | "fail"; readonly evaluatedAt: string } | null;
  readonly pull: PullVerdict;
}

/**
 * One artifact's scan summary from the reports of the images it stands for (itself, or the
 * platform images of an index). Pure.
 */
export function summarizeScans(reports: readonly (ScanReport | undefined)[]): ArtifactScanSummary {
  const counts: Record<string, number> = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
  let total = 0;
  let fixableTotal = 0;
  let scanned = 0;
  const statuses = new Set<SummaryScanStatus>();
  for (const r of reports) {
    statuses.add(r?.status ?? "none");
    if (r?.status !== "done") continue;
    scanned++;
    total += r.total;
    fixableTotal += r.fixableTotal;
    for (const s of SEVERITIES) counts[s] = (counts[s] ?? 0) + (r.counts[s] ?? 0);
  }
  return {
    status: combinedStatus(statuses),
    counts,
    total,
    fixableTotal,
    images: { scanned, of: reports.length },
  };
}

function combinedStatus(statuses: ReadonlySet<SummaryScanStatus>): SummaryScanStatus {
  if (statuses.size === 0) return "none";
  if (statuses.size === 1) return [...statuses][0] as SummaryScanStatus;
  for (const s of ["running", "pending", "failed"] as const) if (statuses.has(s)) return s;
  return "partial";
}

/** The platform images an index lists (attestation entries excluded); undefined for others. */
function platformImages(content: Buffer): string[] | undefined {
  const parsed = JSON.parse(content.toString("utf8")) as {
    manifests?: { digest: string; platform?: { os?: string } }[];
  };
  if (!Array.isArray(parsed.manifests)) return undefined;
  return parsed.manifests.filter((m) => m.platform?.os !== "unknown").map((m) => m.digest);
}

/** The summaries of `digests` (artifacts of `repository`), in the order given. */
export async function artifactSummaries(
  db: Kysely<Database>,
  admission: VulnerabilityAdmission,
  repository: string,
  digests: readonly string[],
): Promise<ArtifactSummary[]> {
  const [manifests, pushVerdicts, pullVerdicts] = await Promise.all([
    getManifestsByDigests(db, repository, digests),
    getGateResults(db, repository, digests),
    admission.verdicts(repository, digests),
  ]);
  const imagesOf = new Map<string, string[]>();
  for (const digest of digests) {
    const stored = manifests.get(digest);
    if (!stored) continue;
    imagesOf.set(digest, platformImages(stored.content) ?? [digest]);
  }
  const reports = await getScanReports(db, [...digests, ...[...imagesOf.values()].flat()]);
  const out: ArtifactSummary[] = [];
  for (const digest of digests) {
    if (!manifests.has(digest)) continue;
    const own = reports.get(digest);
    const images = own ? [digest] : (imagesOf.get(digest) ?? [digest]);
    const push = pushVerdicts.get(digest);
    out.push({
      digest,
      scan: summarizeScans(images.map((d) => reports.get(d))),
      push: push ? { verdict: push.verdict, evaluatedAt: push.evaluatedAt } : null,
      pull: pullVerdicts.get(digest) ?? { verdict: "not-gated", reasons: [], undecided: false },
    });
  }
  return out;
}
