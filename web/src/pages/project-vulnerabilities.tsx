// A project's Vulnerabilities tab (/projects/<p>/vulnerabilities): the summary over its
// images (how many, scanned, vulnerable, counts by severity, the database that judged them)
// and the list of its images with their counts, worst first, filtered by severity (an image
// is listed when it has a finding of that severity) and paginated by the API
// (GET /projects/{p}/vulnerabilities/artifacts); each row links to the image's findings. The
// filter and page live in the query string. Only reads through the management API.
import { useQuery } from "@tanstack/react-query";
import { Link } from "wouter";
import { get, type Page, repoSegment } from "../api.js";
import { Counts } from "../components/security.js";
import { formatWhen, shortDigest } from "../shape/format.js";
import { SEVERITY_ORDER, severityCounts, severityTone } from "../shape/scan.js";
import { Badge, ErrorBox, Loading, Pager, usePageParam, useQueryParam, When } from "../ui.js";
import type { ScanReport } from "./artifact-scan.js";

export interface VulnerabilitySummary {
  artifacts: number;
  byStatus: Record<string, number>;
  counts: Record<string, number>;
  vulnerableArtifacts: number;
  database: { version: string; updatedAt: string | null; totalRecords: number } | null;
}

interface ArtifactScanRow extends ScanReport {
  repository: string;
  tags: string[];
}

const PAGE_SIZE = 25;

/** The summary in one line: artifacts, scanned, vulnerable, counts by severity. */
export function SummaryLine({
  summary,
  testId,
}: {
  summary: VulnerabilitySummary;
  testId: string;
}) {
  return (
    <p data-testid={testId}>
      {summary.artifacts} artifacts, {summary.byStatus.done ?? 0} scanned,{" "}
      {summary.vulnerableArtifacts} vulnerable{" "}
      {severityCounts(summary.counts).map((c) => (
        <Badge key={c.severity} tone={severityTone(c.severity)}>
          {c.severity.toLowerCase()} {c.count}
        </Badge>
      ))}
    </p>
  );
}

export function ProjectVulnerabilities({ project }: { project: string }) {
  const [severity, setSeverity] = useQueryParam("severity");
  const [page, setPage] = usePageParam();
  const summary = useQuery({
    queryKey: ["scan-summary", project],
    queryFn: () => get<VulnerabilitySummary>(`/projects/${project}/vulnerabilities/summary`),
  });
  const list = useQuery({
    queryKey: ["artifact-scans", project, severity, page],
    queryFn: () =>
      get<Page<ArtifactScanRow>>(`/projects/${project}/vulnerabilities/artifacts`, {
        severity,
        page,
        page_size: PAGE_SIZE,
      }),
    placeholderData: (previous) => previous,
  });
  const db = summary.data?.database;
  return (
    <>
      <ErrorBox error={summary.error} />
      {summary.data && (
        <div className="card">
          <SummaryLine summary={summary.data} testId="project-vulnerability-summary" />
          <p className="muted" data-testid="vulnerability-database">
            {db
              ? `Database ${shortDigest(db.version)}, ${db.totalRecords} records, data of ${formatWhen(db.updatedAt)}`
              : "No vulnerability database yet."}
          </p>
        </div>
      )}
      <form className="toolbar" aria-label="Filter images" onSubmit={(e) => e.preventDefault()}>
        <label>
          With a finding of severity{" "}
          <select value={severity} onChange={(e) => setSeverity(e.target.value)}>
            <option value="">any (every scanned image)</option>
            {SEVERITY_ORDER.map((s) => (
              <option key={s} value={s.toLowerCase()}>
                {s.toLowerCase()}
              </option>
            ))}
          </select>
        </label>
      </form>
      <ErrorBox error={list.error} />
      {list.isPending && <Loading what="images" />}
      {list.data && (
        <>
          {list.data.items.length === 0 ? (
            <p className="muted">No image matches.</p>
          ) : (
            <div className="scroll">
              <table>
                <thead>
                  <tr>
                    <th>Image</th>
                    <th>Tags</th>
                    <th>Status</th>
                    <th>Vulnerabilities</th>
                    <th className="num">Fixable</th>
                    <th>Scanned</th>
                  </tr>
                </thead>
                <tbody>
                  {list.data.items.map((r) => (
                    <tr key={`${r.repository}@${r.digest}`} data-testid="vulnerable-artifact">
                      <td>
                        <Link
                          href={`/projects/${project}/repo/${repoSegment(r.repository)}/artifacts/${r.digest}?view=vulnerabilities`}
                        >
                          {r.repository}@{shortDigest(r.digest)}
                        </Link>
                      </td>
                      <td>{r.tags.join(", ")}</td>
                      <td>{r.status}</td>
                      <td>
                        {r.status === "done" ? <Counts counts={r.counts} /> : (r.error ?? "")}
                      </td>
                      <td className="num">
                        {r.status === "done" ? `${r.fixableTotal ?? 0} of ${r.total ?? 0}` : ""}
                      </td>
                      <td>
                        <When iso={r.finishedAt ?? null} text={formatWhen(r.finishedAt)} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <Pager page={page} pageSize={PAGE_SIZE} total={list.data.total} onPage={setPage} />
        </>
      )}
    </>
  );
}
