// An artifact's scanning views, each a section of the artifact page (?view=): the
// vulnerabilities (scan status, counts by severity, the database that judged it, the
// findings filtered by severity, fixable and package, paginated by the API, and "Scan now"
// for those who may push), the SBOM's packages (the CycloneDX document of the last scan,
// with the SPDX download) and the quality-gate verdict recorded at push. It only reads and
// asks through the management API; the server checks every request.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "wouter";
import { API, get, getOrNull, type Page, type Permissions, post } from "../api.js";
import { Counts } from "../components/security.js";
import { formatWhen, shortDigest } from "../shape/format.js";
import { projectAbilities } from "../shape/menus.js";
import { SEVERITY_ORDER, sbomPackages, severityTone } from "../shape/scan.js";
import { Badge, ErrorBox, Loading, Pager, usePageParam, useQueryParam, When } from "../ui.js";

export interface ScanReport {
  digest: string;
  status: "pending" | "running" | "done" | "failed" | "unsupported" | "none";
  counts?: Record<string, number>;
  fixable?: Record<string, number>;
  total?: number;
  fixableTotal?: number;
  packages?: number;
  database?: { version: string | null; updatedAt: string | null };
  sbom?: string | null;
  error?: string | null;
  finishedAt?: string | null;
  durationMs?: number | null;
  cpuMs?: number | null;
  platforms?: (ScanReport & { platform: string | null })[];
}

interface Finding {
  id: string;
  aliases: string[];
  severity: string;
  package: string;
  installedVersion: string;
  fixedVersion: string | null;
  summary: string | null;
  target: string;
}

interface GateRule {
  rule: string;
  status: "pass" | "fail" | "undecided";
  message: string;
  evidence: string[];
}

interface GateResult {
  verdict: "pass" | "fail";
  rules: GateRule[];
  policyUpdatedAt: string;
  evaluatedAt: string;
}

const PAGE_SIZE = 25;

function ReportSummary({ report }: { report: ScanReport }) {
  return (
    <dl className="kv" data-testid="scan-summary">
      <div>
        <dt>Status</dt>
        <dd data-testid="scan-status">{report.status}</dd>
      </div>
      {report.status === "done" && (
        <>
          <div>
            <dt>Vulnerabilities</dt>
            <dd data-testid="scan-counts">
              <Counts counts={report.counts} />
            </dd>
          </div>
          <div>
            <dt>Fixable</dt>
            <dd>
              {report.fixableTotal ?? 0} of {report.total ?? 0}
            </dd>
          </div>
          <div>
            <dt>Packages</dt>
            <dd>{report.packages ?? 0}</dd>
          </div>
          <div>
            <dt>Database</dt>
            <dd className="break">
              <code>{report.database?.version ? shortDigest(report.database.version) : "—"}</code>{" "}
              {report.database?.updatedAt && (
                <span className="muted">data of {formatWhen(report.database.updatedAt)}</span>
              )}
            </dd>
          </div>
          <div>
            <dt>Scanned</dt>
            <dd>
              <When iso={report.finishedAt ?? null} text={formatWhen(report.finishedAt)} />
              {report.durationMs !== null && report.durationMs !== undefined && (
                <span className="muted"> in {(report.durationMs / 1000).toFixed(1)} s</span>
              )}
            </dd>
          </div>
        </>
      )}
      {report.error && (
        <div>
          <dt>{report.status === "failed" ? "Error" : "Note"}</dt>
          <dd className="break">{report.error}</dd>
        </div>
      )}
    </dl>
  );
}

function Findings({ path }: { path: string }) {
  const [severity, setSeverity] = useQueryParam("severity");
  const [fixable, setFixable] = useQueryParam("fixable");
  const [pkg, setPkg] = useQueryParam("package");
  const [page, setPage] = usePageParam();
  const query = useQuery({
    queryKey: ["vulnerabilities", path, severity, fixable, pkg, page],
    queryFn: () =>
      get<Page<Finding>>(`${path}/vulnerabilities`, {
        severity,
        fixable,
        package: pkg,
        page,
        page_size: PAGE_SIZE,
      }),
  });
  return (
    <>
      <form
        className="toolbar"
        aria-label="Filter vulnerabilities"
        onSubmit={(e) => e.preventDefault()}
      >
        <label>
          Severity{" "}
          <select value={severity} onChange={(e) => setSeverity(e.target.value)}>
            <option value="">any</option>
            {SEVERITY_ORDER.map((s) => (
              <option key={s} value={s.toLowerCase()}>
                {s.toLowerCase()}
              </option>
            ))}
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            checked={fixable === "true"}
            onChange={(e) => setFixable(e.target.checked ? "true" : "")}
          />{" "}
          Fixable only
        </label>
        <input
          aria-label="Package"
          placeholder="package"
          defaultValue={pkg}
          onKeyDown={(e) => {
            if (e.key === "Enter") setPkg(e.currentTarget.value.trim());
          }}
          onBlur={(e) => setPkg(e.currentTarget.value.trim())}
        />
      </form>
      <ErrorBox error={query.error} />
      {query.isPending && <Loading what="vulnerabilities" />}
      {query.data && (
        <>
          {query.data.items.length === 0 ? (
            <p className="muted">No vulnerability matches.</p>
          ) : (
            <div className="scroll">
              <table>
                <thead>
                  <tr>
                    <th>Severity</th>
                    <th>Vulnerability</th>
                    <th>Package</th>
                    <th>Installed</th>
                    <th>Fixed in</th>
                    <th>Summary</th>
                  </tr>
                </thead>
                <tbody>
                  {query.data.items.map((f) => (
                    <tr key={`${f.id}/${f.package}/${f.target}`} data-testid="finding-row">
                      <td>
                        <Badge tone={severityTone(f.severity)}>{f.severity.toLowerCase()}</Badge>
                      </td>
                      <td>
                        <code>{f.id}</code>
                        {f.aliases.length > 0 && (
                          <span className="muted"> {f.aliases.join(", ")}</span>
                        )}
                      </td>
                      <td>{f.package}</td>
                      <td>{f.installedVersion}</td>
                      <td>{f.fixedVersion ?? <span className="muted">no fix</span>}</td>
                      <td className="break">{f.summary ?? ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <Pager page={page} pageSize={PAGE_SIZE} total={query.data.total} onPage={setPage} />
        </>
      )}
    </>
  );
}

export function ArtifactVulnerabilities({
  project,
  path,
  href,
}: {
  project: string;
  path: string;
  href: (digest: string) => string;
}) {
  const client = useQueryClient();
  const perms = useQuery({
    queryKey: ["permissions", project],
    queryFn: () => get<Permissions>(`/projects/${project}/permissions`),
  });
  const report = useQuery({
    queryKey: ["scan", path],
    queryFn: () => get<ScanReport>(`${path}/scan`),
    // Follows a scan in progress; "none" too, as a scan on push may be about to be queued.
    refetchInterval: (q) => {
      const status = q.state.data?.status;
      if (status === "pending" || status === "running") return 1000;
      return status === "none" ? 3000 : false;
    },
  });
  const scan = useMutation({
    mutationFn: () => post(`${path}/scan`),
    onSuccess: () => client.invalidateQueries({ queryKey: ["scan", path] }),
  });
  const r = report.data;
  const canScan = perms.data ? projectAbilities(perms.data.actions).canScan : false;
  return (
    <div className="card" data-testid="vulnerabilities">
      <div className="heading">
        <h2>Vulnerabilities</h2>
        {canScan && (
          <button type="button" onClick={() => scan.mutate()} disabled={scan.isPending}>
            Scan now
          </button>
        )}
      </div>
      <ErrorBox error={report.error ?? scan.error} />
      {report.isPending && <Loading what="scan report" />}
      {r?.status === "none" && !r.platforms && <p className="muted">Not scanned yet.</p>}
      {r?.platforms && (
        <table>
          <thead>
            <tr>
              <th>Platform</th>
              <th>Manifest</th>
              <th>Status</th>
              <th>Vulnerabilities</th>
            </tr>
          </thead>
          <tbody>
            {r.platforms.map((p) => (
              <tr key={p.digest} data-testid="platform-scan">
                <td>{p.platform ?? "—"}</td>
                <td>
                  <Link href={`${href(p.digest)}?view=vulnerabilities`}>
                    <code>{shortDigest(p.digest)}</code>
                  </Link>
                </td>
                <td>{p.status}</td>
                <td>{p.status === "done" && <Counts counts={p.counts} />}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {r && !r.platforms && r.status !== "none" && <ReportSummary report={r} />}
      {r?.status === "done" && !r.platforms && <Findings path={path} />}
    </div>
  );
}

export function ArtifactSbom({ path }: { path: string }) {
  const [filter, setFilter] = useState("");
  const sbom = useQuery({
    queryKey: ["sbom", path],
    queryFn: () => getOrNull<unknown>(`${path}/sbom`, { format: "cyclonedx" }),
  });
  const rows = sbomPackages(sbom.data, filter);
  return (
    <div className="card" data-testid="sbom">
      <div className="heading">
        <h2>SBOM packages</h2>
        {sbom.data !== null && sbom.data !== undefined && (
          <>
            <a href={`${API}${path}/sbom?format=spdx-json`} download="sbom.spdx.json">
              Download SPDX
            </a>
            <a href={`${API}${path}/sbom?format=cyclonedx`} download="sbom.cdx.json">
              Download CycloneDX
            </a>
          </>
        )}
      </div>
      <ErrorBox error={sbom.error} />
      {sbom.isPending && <Loading what="SBOM" />}
      {sbom.data === null && <p className="muted">No SBOM: the artifact has not been scanned.</p>}
      {sbom.data !== null && sbom.data !== undefined && (
        <>
          <input
            aria-label="Filter packages"
            placeholder="filter by name"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
          />
          <p className="muted">{rows.length} packages</p>
          <div className="scroll">
            <table>
              <thead>
                <tr>
                  <th>Package</th>
                  <th>Version</th>
                  <th>Type</th>
                  <th>Licences</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((p) => (
                  <tr key={`${p.purl}/${p.name}/${p.version}`} data-testid="sbom-package">
                    <td title={p.purl}>{p.name}</td>
                    <td>{p.version}</td>
                    <td>{p.type}</td>
                    <td>{p.licenses}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </div>
  );
}

export function ArtifactGate({ path }: { path: string }) {
  const gate = useQuery({
    queryKey: ["gate-result", path],
    queryFn: () => getOrNull<GateResult>(`${path}/gate`),
  });
  const g = gate.data;
  return (
    <div className="card" data-testid="gate-verdict">
      <h2>Quality gate</h2>
      <ErrorBox error={gate.error} />
      {gate.isPending && <Loading what="gate verdict" />}
      {g === null && (
        <p className="muted">No verdict: the project had no quality-gate policy at push.</p>
      )}
      {g && (
        <>
          <p>
            <Badge tone={severityTone(g.verdict)}>{g.verdict}</Badge>{" "}
            <span className="muted">
              judged <When iso={g.evaluatedAt} text={formatWhen(g.evaluatedAt)} /> by the policy of{" "}
              {formatWhen(g.policyUpdatedAt)}
            </span>
          </p>
          <table>
            <thead>
              <tr>
                <th>Rule</th>
                <th>Result</th>
                <th>Message</th>
                <th>Evidence</th>
              </tr>
            </thead>
            <tbody>
              {g.rules.map((r) => (
                <tr key={r.rule} data-testid="gate-rule">
                  <td>
                    <code>{r.rule}</code>
                  </td>
                  <td>
                    <Badge tone={severityTone(r.status)}>{r.status}</Badge>
                  </td>
                  <td className="break">{r.message}</td>
                  <td className="break">
                    {r.evidence.length > 0 && (
                      <ul className="plain">
                        {r.evidence.map((e) => (
                          <li key={e}>{e}</li>
                        ))}
                      </ul>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
