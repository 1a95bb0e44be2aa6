// Security badges shared by the artifact views: vulnerability counts by severity, and the
// per-row summary of the artifacts table (scan status, counts, the gate verdict recorded at
// push and what a pull meets now), as GET …/artifact-summaries answers it. Display only.
import { severityCounts, severityTone } from "../shape/scan.js";
import { Badge } from "../ui.js";

export interface ArtifactSummary {
  digest: string;
  scan: {
    status: "none" | "pending" | "running" | "done" | "failed" | "unsupported" | "partial";
    counts: Record<string, number>;
    total: number;
    fixableTotal: number;
    images: { scanned: number; of: number };
  };
  push: { verdict: "pass" | "fail"; evaluatedAt: string } | null;
  pull: { verdict: "pass" | "fail" | "not-gated"; reasons: string[]; undecided: boolean };
}

export function Counts({ counts }: { counts: Record<string, number> | undefined }) {
  const shown = severityCounts(counts);
  if (shown.length === 0) return <Badge tone="ok">no vulnerabilities</Badge>;
  return (
    <>
      {shown.map((c) => (
        <Badge key={c.severity} tone={severityTone(c.severity)}>
          {c.severity.toLowerCase()} {c.count}
        </Badge>
      ))}
    </>
  );
}

const STATUS_TONE: Record<string, string> = {
  failed: "bad",
  pending: "info",
  running: "info",
  partial: "warn",
};

/** The vulnerability cell of an artifact row: counts once scanned, else the scan status. */
export function ScanCell({ summary }: { summary: ArtifactSummary | undefined }) {
  if (!summary) return <span className="muted">…</span>;
  const { scan } = summary;
  return (
    <span data-testid="row-scan" data-status={scan.status}>
      {scan.status === "done" ? (
        <Counts counts={scan.counts} />
      ) : (
        <Badge tone={STATUS_TONE[scan.status]}>
          {scan.status === "none" ? "not scanned" : scan.status}
        </Badge>
      )}
      {scan.status === "partial" && (
        <span className="muted">
          {" "}
          {scan.images.scanned}/{scan.images.of} images
        </span>
      )}
    </span>
  );
}

/** The gate cell: what a pull meets now, and the verdict recorded at push. */
export function GateCell({ summary }: { summary: ArtifactSummary | undefined }) {
  if (!summary) return <span className="muted">…</span>;
  const { pull, push } = summary;
  const blocked = pull.verdict === "fail";
  return (
    <span
      data-testid="row-gate"
      data-pull={pull.verdict}
      data-push={push?.verdict ?? "none"}
      title={pull.reasons.join("\n") || undefined}
    >
      {pull.verdict !== "not-gated" && (
        <Badge tone={blocked ? "bad" : "ok"}>{blocked ? "pull blocked" : "pull allowed"}</Badge>
      )}
      {push && <Badge tone={push.verdict === "fail" ? "bad" : "ok"}>push {push.verdict}</Badge>}
      {pull.undecided && <Badge tone="info">awaits scan</Badge>}
      {pull.verdict === "not-gated" && !push && <span className="muted">no gate</span>}
    </span>
  );
}
