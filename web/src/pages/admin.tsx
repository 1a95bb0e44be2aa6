// Administration (system administrators): users (create, reset password, admin flag,
// disable/enable, delete), system robot accounts, jobs with their logs, project and registry quotas (shown
// and set), and the whole
// audit log. A non-administrator who opens one of these URLs sees the API's refusal.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link, useParams } from "wouter";
import {
  del,
  get,
  type Job,
  type Page,
  patch,
  post,
  put,
  type Quota,
  type Robot,
  type User,
} from "../api.js";
import { expiryRequest, formatBytes, formatWhen, quotaLimitRequest } from "../shape/format.js";
import {
  Badge,
  Confirm,
  ErrorBox,
  Loading,
  Pager,
  usePageParam,
  useQueryParam,
  When,
} from "../ui.js";
import { Audit, RobotTable, SecretOnce } from "./project.js";
import { QuotaBar } from "./projects.js";

export function AdminUsers() {
  const client = useQueryClient();
  const [q, setQ] = useQueryParam("q");
  const [page, setPage] = usePageParam();
  const [resetting, setResetting] = useState<string>();
  const [deleting, setDeleting] = useState<string>();
  const list = useQuery({
    queryKey: ["users", q, page],
    queryFn: () => get<Page<User>>("/users", { q, page, page_size: 50 }),
    placeholderData: (previous) => previous,
  });
  const refresh = () => client.invalidateQueries({ queryKey: ["users"] });
  const create = useMutation({
    mutationFn: (body: { username: string; password: string; isAdmin: boolean }) =>
      post("/users", body),
    onSuccess: refresh,
  });
  const setAdmin = useMutation({
    mutationFn: ({ username, isAdmin }: { username: string; isAdmin: boolean }) =>
      patch(`/users/${encodeURIComponent(username)}`, { isAdmin }),
    onSuccess: refresh,
  });
  const setDisabled = useMutation({
    mutationFn: ({ username, disabled }: { username: string; disabled: boolean }) =>
      patch(`/users/${encodeURIComponent(username)}`, { disabled }),
    onSuccess: refresh,
  });
  const reset = useMutation({
    mutationFn: ({ username, password }: { username: string; password: string }) =>
      put(`/users/${encodeURIComponent(username)}/password`, { password }),
    onSuccess: () => setResetting(undefined),
  });
  const remove = useMutation({
    mutationFn: (username: string) => del(`/users/${encodeURIComponent(username)}`),
    onSuccess: () => {
      setDeleting(undefined);
      refresh();
    },
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    create.mutate({
      username: String(form.get("username")),
      password: String(form.get("password")),
      isAdmin: form.get("isAdmin") === "on",
    });
    event.currentTarget.reset();
  };
  return (
    <section>
      <h1>Users</h1>
      <form className="card inline" onSubmit={submit} aria-label="New user">
        <label>
          Username
          <input name="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="new-password" required />
        </label>
        <label className="check">
          <input type="checkbox" name="isAdmin" /> administrator
        </label>
        <button type="submit" className="primary">
          Create user
        </button>
      </form>
      <input
        type="search"
        aria-label="Search users"
        placeholder="Search users"
        defaultValue={q}
        onChange={(e) => setQ(e.target.value)}
      />
      <ErrorBox
        error={list.error ?? create.error ?? setAdmin.error ?? setDisabled.error ?? remove.error}
      />
      {list.data && (
        <>
          <table>
            <thead>
              <tr>
                <th>User</th>
                <th>E-mail</th>
                <th>Administrator</th>
                <th>Status</th>
                <th>Created</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((u) => (
                <tr key={u.username} data-user={u.username}>
                  <td>{u.username}</td>
                  <td>{u.email ?? ""}</td>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`${u.username} is an administrator`}
                      checked={u.isAdmin}
                      onChange={(e) =>
                        setAdmin.mutate({ username: u.username, isAdmin: e.target.checked })
                      }
                    />
                  </td>
                  <td>{u.disabled ? <Badge tone="bad">disabled</Badge> : "active"}</td>
                  <td>
                    <When iso={u.createdAt} text={formatWhen(u.createdAt)} />
                  </td>
                  <td>
                    <div className="actions">
                      <button
                        type="button"
                        className="small"
                        onClick={() =>
                          setDisabled.mutate({ username: u.username, disabled: !u.disabled })
                        }
                      >
                        {u.disabled ? "Enable" : "Disable"}
                        <span className="sr-only"> {u.username}</span>
                      </button>
                      <button
                        type="button"
                        className="small"
                        onClick={() => setResetting(u.username)}
                      >
                        Reset password
                      </button>
                      <button
                        type="button"
                        className="small danger"
                        onClick={() => setDeleting(u.username)}
                      >
                        Delete
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={page} pageSize={50} total={list.data.total} onPage={setPage} />
        </>
      )}
      {resetting && (
        <form
          className="card inline"
          aria-label={`New password for ${resetting}`}
          onSubmit={(e) => {
            e.preventDefault();
            reset.mutate({
              username: resetting,
              password: String(new FormData(e.currentTarget).get("password")),
            });
          }}
        >
          <label>
            New password for {resetting}
            <input name="password" type="password" autoComplete="new-password" required />
          </label>
          <button type="submit" className="primary">
            Set password
          </button>
          <button type="button" onClick={() => setResetting(undefined)}>
            Cancel
          </button>
          <ErrorBox error={reset.error} />
        </form>
      )}
      {deleting && (
        <Confirm
          title={`Delete user ${deleting}?`}
          confirmLabel="Delete user"
          onConfirm={() => remove.mutate(deleting)}
          onCancel={() => setDeleting(undefined)}
          error={remove.error}
        >
          <p>Their memberships and sessions go too.</p>
        </Confirm>
      )}
    </section>
  );
}

export function AdminRobots() {
  const client = useQueryClient();
  const [secret, setSecret] = useState<{ name: string; secret: string }>();
  const list = useQuery({
    queryKey: ["robots", "system"],
    queryFn: () => get<Page<Robot>>("/robots", { level: "system", page_size: 100 }),
  });
  const changed = (s?: { name: string; secret: string }) => {
    if (s) setSecret(s);
    client.invalidateQueries({ queryKey: ["robots", "system"] });
  };
  const create = useMutation({
    mutationFn: (body: object) => post<{ robot: Robot; secret: string }>("/robots", body),
    onSuccess: (a) => changed({ name: a.robot.name, secret: a.secret }),
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const actions = ["pull", "push", "delete"].filter((a) => form.get(a) === "on");
    create.mutate({
      name: String(form.get("name")),
      permissions: [{ project: String(form.get("project") || "*"), actions }],
      ...expiryRequest(String(form.get("expiresIn") ?? "")),
    });
  };
  return (
    <section>
      <h1>System robot accounts</h1>
      {secret && <SecretOnce {...secret} onDone={() => setSecret(undefined)} />}
      <form className="card inline" onSubmit={submit} aria-label="New system robot">
        <label>
          Name
          <input name="name" required />
        </label>
        <label>
          Project
          <input name="project" placeholder="* (every project)" />
        </label>
        <fieldset>
          <legend>May</legend>
          {["pull", "push", "delete"].map((a) => (
            <label key={a} className="check">
              <input type="checkbox" name={a} defaultChecked={a === "pull"} /> {a}
            </label>
          ))}
        </fieldset>
        <label>
          Expires in
          <input name="expiresIn" placeholder="30d (empty: never)" />
        </label>
        <button type="submit" className="primary">
          Create robot
        </button>
      </form>
      <ErrorBox error={list.error ?? create.error} />
      {list.data && <RobotTable robots={list.data.items} canManage onChanged={changed} />}
    </section>
  );
}

function stateTone(state: string): string {
  return state === "succeeded"
    ? "ok"
    : state === "failed"
      ? "bad"
      : state === "running"
        ? "info"
        : "";
}

export function AdminJobs() {
  const client = useQueryClient();
  const [state, setState] = useQueryParam("state");
  const [page, setPage] = usePageParam();
  const list = useQuery({
    queryKey: ["jobs", state, page],
    queryFn: () => get<Page<Job>>("/jobs", { state, page, page_size: 50 }),
    placeholderData: (previous) => previous,
  });
  const gc = useMutation({
    mutationFn: () => post("/gc", { dryRun: true }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["jobs"] }),
  });
  return (
    <section>
      <div className="heading">
        <h1>Jobs</h1>
        <button type="button" onClick={() => gc.mutate()}>
          Start a GC dry run
        </button>
      </div>
      <div className="toolbar">
        <select aria-label="State" value={state} onChange={(e) => setState(e.target.value)}>
          <option value="">any state</option>
          {["queued", "running", "succeeded", "failed", "cancelled"].map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <ErrorBox error={list.error ?? gc.error} />
      {list.isPending && <Loading what="jobs" />}
      {list.data && (
        <>
          <table>
            <thead>
              <tr>
                <th>#</th>
                <th>Kind</th>
                <th>State</th>
                <th>Created</th>
                <th>Finished</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((j) => (
                <tr key={j.id}>
                  <td>
                    <Link href={`/admin/jobs/${j.id}`}>{j.id}</Link>
                  </td>
                  <td>{j.kind}</td>
                  <td>
                    <Badge tone={stateTone(j.state)}>{j.state}</Badge>
                  </td>
                  <td>
                    <When iso={j.createdAt ?? null} text={formatWhen(j.createdAt)} />
                  </td>
                  <td>
                    <When
                      iso={j.finishedAt ?? null}
                      text={j.finishedAt ? formatWhen(j.finishedAt) : "—"}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={page} pageSize={50} total={list.data.total} onPage={setPage} />
        </>
      )}
    </section>
  );
}

export function AdminJob() {
  const { id } = useParams<{ id: string }>();
  const job = useQuery({
    queryKey: ["job", id],
    queryFn: () => get<Job>(`/jobs/${id}`),
    refetchInterval: 3000,
  });
  return (
    <section>
      <p className="crumbs">
        <Link href="/admin/jobs">Jobs</Link> /
      </p>
      <ErrorBox error={job.error} />
      {job.data && (
        <>
          <div className="heading">
            <h1>
              Job {job.data.id}: {job.data.kind}
            </h1>
            <Badge tone={stateTone(job.data.state)}>{job.data.state}</Badge>
          </div>
          {job.data.error && <p className="error">{job.data.error}</p>}
          <h2>Log</h2>
          <pre className="log">
            {(job.data.log ?? [])
              .map((l) => `${l.at} ${l.level.padEnd(5)} ${l.message}`)
              .join("\n") || "(no log lines)"}
          </pre>
        </>
      )}
    </section>
  );
}

/** A quota's limit as a text field (empty = unlimited), saved with PUT {path}. */
function QuotaEditor({
  path,
  label,
  limit,
  onSaved,
}: {
  path: string;
  label: string;
  limit: number | null;
  onSaved: () => void;
}) {
  const [problem, setProblem] = useState<string>();
  const save = useMutation({
    mutationFn: (limitBytes: number | null) => put(path, { limitBytes }),
    onSuccess: onSaved,
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const text = String(new FormData(event.currentTarget).get("limit") ?? "");
    const parsed = quotaLimitRequest(text);
    if ("error" in parsed) {
      setProblem(parsed.error);
      return;
    }
    setProblem(undefined);
    save.mutate(parsed.limitBytes);
  };
  return (
    <form className="toolbar" aria-label={`${label} quota`} onSubmit={submit}>
      <input
        name="limit"
        aria-label={`${label} limit`}
        placeholder="unlimited"
        size={10}
        defaultValue={limit === null ? "" : String(limit)}
        title="bytes, or a size such as 20GB or 512MiB; empty = unlimited"
      />
      <button type="submit" className="small" disabled={save.isPending}>
        Set limit
      </button>
      {limit !== null && <span className="muted">{formatBytes(limit)}</span>}
      <ErrorBox error={problem ? new Error(problem) : save.error} />
    </form>
  );
}

export function AdminQuotas() {
  const client = useQueryClient();
  const list = useQuery({
    queryKey: ["quotas"],
    queryFn: () => get<Page<Quota>>("/quotas", { page_size: 100 }),
  });
  const system = useQuery({
    queryKey: ["system-quota"],
    queryFn: () => get<{ limitBytes: number | null; usedBytes: number }>("/system/quota"),
  });
  const refresh = () => {
    client.invalidateQueries({ queryKey: ["quotas"] });
    client.invalidateQueries({ queryKey: ["system-quota"] });
    client.invalidateQueries({ queryKey: ["quota"] });
  };
  return (
    <section>
      <h1>Quotas</h1>
      <ErrorBox error={list.error ?? system.error} />
      {system.data && (
        <div className="card">
          <h2>Registry</h2>
          <QuotaBar used={system.data.usedBytes} limit={system.data.limitBytes} />
          <QuotaEditor
            key={String(system.data.limitBytes)}
            path="/system/quota"
            label="Registry"
            limit={system.data.limitBytes}
            onSaved={refresh}
          />
        </div>
      )}
      {list.data && (
        <div className="scroll">
          <table>
            <thead>
              <tr>
                <th>Project</th>
                <th>Used / limit</th>
                <th>Limit</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((q) => (
                <tr key={q.project} data-project={q.project}>
                  <td>
                    <Link href={`/projects/${q.project}/repositories`}>{q.project}</Link>
                  </td>
                  <td>
                    <QuotaBar used={q.usedBytes} limit={q.limitBytes} />
                  </td>
                  <td>
                    <QuotaEditor
                      key={String(q.limitBytes)}
                      path={`/projects/${q.project}/quota`}
                      label={`Project ${q.project}`}
                      limit={q.limitBytes}
                      onSaved={refresh}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.isPending && <Loading what="quotas" />}
    </section>
  );
}

export function AdminAudit() {
  return (
    <section>
      <h1>Audit log</h1>
      <Audit path="/audit" />
    </section>
  );
}

interface SystemInfo {
  name: string;
  version: string;
  authMode: string;
  htpasswd?: boolean;
  service: string;
  tokenEndpoint?: string;
  autoCreateProjects: boolean;
}

export function AdminSystem() {
  const info = useQuery({
    queryKey: ["systeminfo"],
    queryFn: () => get<SystemInfo>("/systeminfo"),
  });
  const rows: [string, string][] = info.data
    ? [
        ["Version", `${info.data.name} ${info.data.version}`],
        ["Authentication", info.data.authMode],
        ["htpasswd users", info.data.htpasswd ? "yes" : "no"],
        ["Token service", info.data.service],
        ["Token endpoint", info.data.tokenEndpoint ?? "—"],
        ["Projects created on first push", info.data.autoCreateProjects ? "yes" : "no"],
      ]
    : [];
  return (
    <section>
      <h1>System</h1>
      <ErrorBox error={info.error} />
      {info.isPending && <Loading what="system information" />}
      <div className="card">
        <dl className="kv">
          {rows.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd className="break">{v}</dd>
            </div>
          ))}
        </dl>
        <p className="muted">
          Settings come from the configuration file and BERTH_* variables (docs/configuration.md);
          the API reference is at <a href="/api/docs">/api/docs</a>.
        </p>
      </div>
    </section>
  );
}
