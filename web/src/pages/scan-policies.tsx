// A project's scanning and quality-gate settings, on its Policies tab: the scan policy
// (scan on push, the severity from which pulls are refused, whether unscanned images are
// refused), the project's CVE allowlist (add with an optional expiry, remove), the
// vulnerability summary over the project's artifacts with "Scan project", and the
// quality-gate policy file (shown, edited, removed; the API's parser names a bad key). Every
// change goes through the management API, which checks the caller's rights again.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { ApiError, del, get, post, put } from "../api.js";
import { formatWhen } from "../shape/format.js";
import { SEVERITY_ORDER } from "../shape/scan.js";
import { Badge, ErrorBox, Loading } from "../ui.js";
import { SummaryLine, type VulnerabilitySummary } from "./project-vulnerabilities.js";

interface ScanPolicy {
  scanOnPush: boolean;
  preventSeverity: string | null;
  preventUnscanned: boolean;
  updatedBy: string | null;
  updatedAt: string | null;
}

interface AllowlistEntry {
  cve: string;
  expiresAt: string | null;
  expired: boolean;
  createdBy: string;
}

interface GatePolicy {
  policy: string;
  rules: string[];
  pushRules: string[];
  pullRules: string[];
  updatedBy: string;
  updatedAt: string;
}

const PREVENTABLE = SEVERITY_ORDER.filter((s) => s !== "UNKNOWN");

function ScanPolicyForm({ project, canManage }: { project: string; canManage: boolean }) {
  const client = useQueryClient();
  const path = `/projects/${project}/scan-policy`;
  const policy = useQuery({
    queryKey: ["scan-policy", project],
    queryFn: () => get<ScanPolicy>(path),
  });
  const save = useMutation({
    mutationFn: (body: Partial<ScanPolicy>) => put<ScanPolicy>(path, body),
    onSuccess: (stored) => client.setQueryData(["scan-policy", project], stored),
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const severity = String(form.get("preventSeverity") ?? "");
    save.mutate({
      scanOnPush: form.get("scanOnPush") === "on",
      preventSeverity: severity === "" ? null : severity,
      preventUnscanned: form.get("preventUnscanned") === "on",
    });
  };
  const p = policy.data;
  return (
    <>
      <ErrorBox error={policy.error ?? save.error} />
      {policy.isPending && <Loading what="scan policy" />}
      {p && (
        <form
          className="stack"
          aria-label="Scan policy"
          onSubmit={submit}
          // Remounts the form with the stored values after a save.
          key={`${p.updatedAt}`}
        >
          <label>
            <input
              type="checkbox"
              name="scanOnPush"
              defaultChecked={p.scanOnPush}
              disabled={!canManage}
            />{" "}
            Scan on push
          </label>
          <label>
            Refuse pulls of images with vulnerabilities at or above{" "}
            <select
              name="preventSeverity"
              defaultValue={p.preventSeverity ?? ""}
              disabled={!canManage}
            >
              <option value="">never</option>
              {PREVENTABLE.map((s) => (
                <option key={s} value={s}>
                  {s.toLowerCase()}
                </option>
              ))}
            </select>
          </label>
          <label>
            <input
              type="checkbox"
              name="preventUnscanned"
              defaultChecked={p.preventUnscanned}
              disabled={!canManage}
            />{" "}
            Refuse pulls of unscanned images too
          </label>
          {canManage && (
            <div className="toolbar">
              <button type="submit" className="primary" disabled={save.isPending}>
                Save scan policy
              </button>
              {save.isSuccess && <span role="status">Saved.</span>}
            </div>
          )}
          {p.updatedBy && (
            <p className="muted">
              Set by {p.updatedBy} {formatWhen(p.updatedAt)}
            </p>
          )}
        </form>
      )}
    </>
  );
}

function Allowlist({ project, canManage }: { project: string; canManage: boolean }) {
  const client = useQueryClient();
  const path = `/projects/${project}/cve-allowlist`;
  const list = useQuery({
    queryKey: ["cve-allowlist", project],
    queryFn: () => get<AllowlistEntry[]>(path),
  });
  const refresh = () => client.invalidateQueries({ queryKey: ["cve-allowlist", project] });
  const add = useMutation({
    mutationFn: (body: { cve: string; expires?: string }) => post(path, body),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (cve: string) => del(`${path}/${encodeURIComponent(cve)}`),
    onSuccess: refresh,
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const expires = String(form.get("expires") ?? "");
    add.mutate({ cve: String(form.get("cve") ?? ""), ...(expires ? { expires } : {}) });
  };
  return (
    <>
      <h3>CVE allowlist</h3>
      <ErrorBox error={list.error ?? add.error ?? remove.error} />
      {list.data && list.data.length === 0 && (
        <p className="muted">No allowlisted vulnerability.</p>
      )}
      <ul className="plain">
        {list.data?.map((e) => (
          <li key={e.cve} data-testid="allowlist-entry">
            <code>{e.cve}</code>{" "}
            {e.expiresAt ? (
              <Badge tone={e.expired ? "bad" : ""}>
                {e.expired ? "expired" : "until"} {e.expiresAt.slice(0, 10)}
              </Badge>
            ) : (
              <span className="muted">no expiry</span>
            )}{" "}
            <span className="muted">by {e.createdBy}</span>{" "}
            {canManage && (
              <button type="button" className="small danger" onClick={() => remove.mutate(e.cve)}>
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      {canManage && (
        <form className="toolbar" aria-label="Allowlist a vulnerability" onSubmit={submit}>
          <input name="cve" aria-label="Vulnerability id" placeholder="CVE-2024-1234" required />
          <input name="expires" aria-label="Expires" type="date" />
          <button type="submit" className="primary">
            Allowlist
          </button>
        </form>
      )}
    </>
  );
}

function ProjectSummary({ project, canScan }: { project: string; canScan: boolean }) {
  const summary = useQuery({
    queryKey: ["scan-summary", project],
    queryFn: () => get<VulnerabilitySummary>(`/projects/${project}/vulnerabilities/summary`),
  });
  const scan = useMutation({
    mutationFn: () => post<{ jobs: unknown[] }>(`/projects/${project}/scan`),
  });
  const s = summary.data;
  return (
    <>
      <h3>Summary</h3>
      <ErrorBox error={summary.error ?? scan.error} />
      {s && <SummaryLine summary={s} testId="project-scan-summary" />}
      {canScan && (
        <div className="toolbar">
          <button type="button" onClick={() => scan.mutate()} disabled={scan.isPending}>
            Scan project
          </button>
          {scan.data && <span role="status">{scan.data.jobs.length} scans queued.</span>}
        </div>
      )}
    </>
  );
}

export function ScanningPolicies({
  project,
  canManage,
  canScan,
}: {
  project: string;
  canManage: boolean;
  canScan: boolean;
}) {
  return (
    <div className="card" data-testid="scanning-policies">
      <h2>Vulnerability scanning</h2>
      <ScanPolicyForm project={project} canManage={canManage} />
      <Allowlist project={project} canManage={canManage} />
      <ProjectSummary project={project} canScan={canScan} />
    </div>
  );
}

const EXAMPLE_GATE = "maxSize: 200MB\nvulnerabilities:\n  max: {critical: 0}\n";

export function GatePolicyEditor({ project, canSet }: { project: string; canSet: boolean }) {
  const client = useQueryClient();
  const path = `/projects/${project}/gate-policy`;
  const [draft, setDraft] = useState<string | undefined>(undefined);
  const policy = useQuery({
    queryKey: ["gate-policy", project],
    queryFn: async () => {
      try {
        return await get<GatePolicy>(path);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }
    },
  });
  const save = useMutation({
    mutationFn: (text: string) => put<GatePolicy>(path, { policy: text }),
    onSuccess: (stored) => {
      client.setQueryData(["gate-policy", project], stored);
      setDraft(undefined);
    },
  });
  const remove = useMutation({
    mutationFn: () => del(path),
    onSuccess: () => {
      client.setQueryData(["gate-policy", project], null);
      setDraft(undefined);
    },
  });
  const g = policy.data;
  const text = draft ?? g?.policy ?? "";
  return (
    <div className="card" data-testid="gate-policy">
      <h2>Quality gate</h2>
      <ErrorBox error={policy.error ?? save.error ?? remove.error} />
      {policy.isPending && <Loading what="quality gate" />}
      {g === null && <p className="muted">None set.</p>}
      {g && (
        <p data-testid="gate-rules">
          Enforced at push: {g.pushRules.length ? g.pushRules.join(", ") : "none"}; at pull:{" "}
          {g.pullRules.length ? g.pullRules.join(", ") : "none"}.{" "}
          <span className="muted">
            Set by {g.updatedBy} {formatWhen(g.updatedAt)}
          </span>
        </p>
      )}
      {canSet ? (
        <form
          className="stack"
          aria-label="Quality-gate policy"
          onSubmit={(e) => {
            e.preventDefault();
            save.mutate(text);
          }}
        >
          <textarea
            aria-label="Policy file"
            rows={10}
            spellCheck={false}
            value={text}
            placeholder={EXAMPLE_GATE}
            onChange={(e) => setDraft(e.target.value)}
          />
          <div className="toolbar">
            <button type="submit" className="primary" disabled={save.isPending || text === ""}>
              Save gate policy
            </button>
            {g && (
              <button type="button" className="danger" onClick={() => remove.mutate()}>
                Remove gate policy
              </button>
            )}
          </div>
        </form>
      ) : (
        g && <pre className="json">{g.policy}</pre>
      )}
    </div>
  );
}
