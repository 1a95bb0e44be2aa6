// One project: tabs for its repositories (artifact and tag counts, size, last push and
// pull), vulnerabilities, members, robot accounts, audit log, policies
// and settings, each a URL (/projects/<name>/<tab>). Which tabs and buttons appear follows
// the caller's actions from GET /projects/<name>/permissions; the server checks again.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link, Redirect, useLocation, useParams } from "wouter";
import {
  type AuditEntry,
  del,
  get,
  type Member,
  type Page,
  type Permissions,
  type Project,
  patch,
  post,
  type Quota,
  type Repository,
  type Robot,
  repoSegment,
} from "../api.js";
import { expiryRequest, formatBytes, formatWhen } from "../shape/format.js";
import { type ProjectAbilities, projectAbilities, ROLE_LABELS } from "../shape/menus.js";
import {
  Badge,
  Confirm,
  CopyButton,
  ErrorBox,
  Loading,
  Pager,
  Tabs,
  usePageParam,
  useQueryParam,
  When,
} from "../ui.js";
import { ProjectPolicies } from "./policies.js";
import { ProjectVulnerabilities } from "./project-vulnerabilities.js";
import { QuotaBar } from "./projects.js";

const PAGE_SIZE = 20;

export function ProjectPage() {
  const params = useParams<{ project: string; tab?: string }>();
  const project = params.project;
  const info = useQuery({
    queryKey: ["project", project],
    queryFn: () => get<Project>(`/projects/${project}`),
  });
  const perms = useQuery({
    queryKey: ["permissions", project],
    queryFn: () => get<Permissions>(`/projects/${project}/permissions`),
  });
  const quota = useQuery({
    queryKey: ["quota", project],
    queryFn: () => get<Quota>(`/projects/${project}/quota`),
  });
  if (!params.tab) return <Redirect to={`/projects/${project}/repositories`} replace />;
  if (info.error || perms.error) return <ErrorBox error={info.error ?? perms.error} />;
  if (!info.data || !perms.data) return <Loading what="project" />;
  const abilities = projectAbilities(perms.data.actions);
  const tab = params.tab;
  return (
    <section>
      <p className="crumbs">
        <Link href="/projects">Projects</Link> /
      </p>
      <div className="heading">
        <h1>{project}</h1>
        {info.data.public ? <Badge tone="ok">public</Badge> : <Badge>private</Badge>}
        {perms.data.role && <Badge>{ROLE_LABELS[perms.data.role] ?? perms.data.role}</Badge>}
        {quota.data && <QuotaBar used={quota.data.usedBytes} limit={quota.data.limitBytes} />}
      </div>
      <Tabs base={`/projects/${project}`} tabs={abilities.tabs} current={tab} />
      {tab === "repositories" && <Repositories project={project} />}
      {tab === "vulnerabilities" && <ProjectVulnerabilities project={project} />}
      {tab === "members" && <Members project={project} abilities={abilities} />}
      {tab === "robots" && <Robots project={project} abilities={abilities} />}
      {tab === "audit" && <Audit path={`/projects/${project}/audit`} />}
      {tab === "policies" && (
        <ProjectPolicies
          project={project}
          canManage={abilities.canManagePolicies}
          canSetGate={abilities.canUpdateProject}
          canScan={abilities.canScan}
        />
      )}
      {tab === "settings" && <Settings project={info.data} />}
      {!(abilities.tabs as readonly string[]).includes(tab) && (
        <ErrorBox error={new Error(`There is no "${tab}" section you may see in this project.`)} />
      )}
    </section>
  );
}

function Repositories({ project }: { project: string }) {
  const [q, setQ] = useQueryParam("q");
  const [sort, setSort] = useQueryParam("sort", "name");
  const [page, setPage] = usePageParam();
  const list = useQuery({
    queryKey: ["repositories", project, q, sort, page],
    queryFn: () =>
      get<Page<Repository>>(`/projects/${project}/repositories`, {
        q,
        sort,
        page,
        page_size: PAGE_SIZE,
      }),
    placeholderData: (previous) => previous,
  });
  return (
    <>
      <div className="toolbar">
        <input
          type="search"
          aria-label="Search repositories"
          placeholder="Search repositories"
          defaultValue={q}
          onChange={(e) => setQ(e.target.value)}
        />
        <label>
          Sort
          <select value={sort} onChange={(e) => setSort(e.target.value)}>
            <option value="name">name</option>
            <option value="-pushedAt">last push</option>
            <option value="-pulledAt">last pull</option>
            <option value="-artifactCount">artifacts</option>
            <option value="-tagCount">tags</option>
          </select>
        </label>
      </div>
      <ErrorBox error={list.error} />
      {list.data && (
        <>
          <div className="scroll">
            <table>
              <thead>
                <tr>
                  <th>Repository</th>
                  <th className="num">Artifacts</th>
                  <th className="num">Tags</th>
                  <th className="num">Size</th>
                  <th>Last push</th>
                  <th>Last pull</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((r) => (
                  <tr key={r.name}>
                    <td>
                      <Link href={`/projects/${project}/repo/${repoSegment(r.name)}`}>
                        {r.name}
                      </Link>
                    </td>
                    <td className="num">{r.artifactCount}</td>
                    <td className="num">{r.tagCount}</td>
                    <td className="num">{formatBytes(r.sizeBytes)}</td>
                    <td>
                      <When iso={r.pushedAt} text={formatWhen(r.pushedAt)} />
                    </td>
                    <td>
                      <When iso={r.pulledAt} text={formatWhen(r.pulledAt)} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {list.data.total === 0 && (
            <p className="muted">No repositories yet: push an image to {project}/NAME:TAG.</p>
          )}
          <Pager page={page} pageSize={PAGE_SIZE} total={list.data.total} onPage={setPage} />
        </>
      )}
    </>
  );
}

const ROLES = Object.keys(ROLE_LABELS);

function Members({ project, abilities }: { project: string; abilities: ProjectAbilities }) {
  const client = useQueryClient();
  const [page, setPage] = usePageParam();
  const list = useQuery({
    queryKey: ["members", project, page],
    queryFn: () =>
      get<Page<Member>>(`/projects/${project}/members`, { page, page_size: PAGE_SIZE }),
  });
  const refresh = () => client.invalidateQueries({ queryKey: ["members", project] });
  const add = useMutation({
    mutationFn: (body: { username: string; role: string }) =>
      post(`/projects/${project}/members`, body),
    onSuccess: refresh,
  });
  const change = useMutation({
    mutationFn: ({ username, role }: { username: string; role: string }) =>
      patch(`/projects/${project}/members/${encodeURIComponent(username)}`, { role }),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (username: string) =>
      del(`/projects/${project}/members/${encodeURIComponent(username)}`),
    onSuccess: refresh,
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    add.mutate({ username: String(form.get("username")), role: String(form.get("role")) });
    event.currentTarget.reset();
  };
  return (
    <>
      {abilities.canManageMembers && (
        <form className="toolbar" onSubmit={submit} aria-label="Add member">
          <input name="username" aria-label="Username" placeholder="username" required />
          <select name="role" aria-label="Role" defaultValue="developer">
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {ROLE_LABELS[r]}
              </option>
            ))}
          </select>
          <button type="submit" className="primary">
            Add member
          </button>
        </form>
      )}
      <ErrorBox error={list.error ?? add.error ?? change.error ?? remove.error} />
      {list.data && (
        <>
          <table>
            <thead>
              <tr>
                <th>User</th>
                <th>Role</th>
                <th>Since</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((m) => (
                <tr key={m.username}>
                  <td>{m.username}</td>
                  <td>
                    {abilities.canManageMembers ? (
                      <select
                        aria-label={`Role of ${m.username}`}
                        value={m.role}
                        onChange={(e) =>
                          change.mutate({ username: m.username, role: e.target.value })
                        }
                      >
                        {ROLES.map((r) => (
                          <option key={r} value={r}>
                            {ROLE_LABELS[r]}
                          </option>
                        ))}
                      </select>
                    ) : (
                      (ROLE_LABELS[m.role] ?? m.role)
                    )}
                  </td>
                  <td>
                    <When iso={m.createdAt} text={formatWhen(m.createdAt)} />
                  </td>
                  <td>
                    {abilities.canManageMembers && (
                      <button
                        type="button"
                        className="small danger"
                        onClick={() => remove.mutate(m.username)}
                      >
                        Remove
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={page} pageSize={PAGE_SIZE} total={list.data.total} onPage={setPage} />
        </>
      )}
    </>
  );
}

export function SecretOnce({
  secret,
  name,
  onDone,
}: {
  secret: string;
  name: string;
  onDone: () => void;
}) {
  return (
    <div className="card secret" role="status">
      <p>
        Secret of <strong>{name}</strong> — shown once, copy it now:
      </p>
      <code data-testid="robot-secret">{secret}</code>{" "}
      <CopyButton text={secret} label="robot secret" />
      <p>
        <button type="button" onClick={onDone}>
          I have saved it
        </button>
      </p>
    </div>
  );
}

export function RobotTable({
  robots,
  canManage,
  onChanged,
}: {
  robots: Robot[];
  canManage: boolean;
  onChanged: (secret?: { name: string; secret: string }) => void;
}) {
  const toggle = useMutation({
    mutationFn: (r: Robot) => patch(`/robots/${r.id}`, { disabled: !r.disabled }),
    onSuccess: () => onChanged(),
  });
  const refresh = useMutation({
    mutationFn: (r: Robot) => post<{ robot: Robot; secret: string }>(`/robots/${r.id}/refresh`),
    onSuccess: (answer) => onChanged({ name: answer.robot.name, secret: answer.secret }),
  });
  const [deleting, setDeleting] = useState<Robot | undefined>();
  const remove = useMutation({
    mutationFn: (r: Robot) => del(`/robots/${r.id}`),
    onSuccess: () => {
      setDeleting(undefined);
      onChanged();
    },
  });
  return (
    <>
      <ErrorBox error={toggle.error ?? refresh.error} />
      {deleting && (
        <Confirm
          title={`Delete robot account ${deleting.name}?`}
          confirmLabel="Delete robot account"
          onConfirm={() => remove.mutate(deleting)}
          onCancel={() => {
            remove.reset();
            setDeleting(undefined);
          }}
          busy={remove.isPending}
          error={remove.error}
        >
          <p>
            Its secret stops working at once, for every token it holds. This cannot be undone: a
            pipeline that uses it needs a new robot account.
          </p>
        </Confirm>
      )}
      <div className="scroll">
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Permissions</th>
              <th>Expires</th>
              <th>State</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {robots.map((r) => (
              <tr key={r.id}>
                <td>
                  <code>{r.name}</code>
                  {r.description && <div className="muted">{r.description}</div>}
                </td>
                <td>
                  {r.permissions.map((p) => `${p.project}: ${p.actions.join(", ")}`).join("; ")}
                </td>
                <td>
                  {r.expiresAt ? (
                    <When iso={r.expiresAt} text={r.expiresAt.slice(0, 10)} />
                  ) : (
                    "never"
                  )}
                </td>
                <td>
                  {r.disabled ? (
                    <Badge tone="bad">disabled</Badge>
                  ) : (
                    <Badge tone="ok">enabled</Badge>
                  )}
                </td>
                <td>
                  <div className="actions">
                    {canManage && (
                      <>
                        <button type="button" className="small" onClick={() => refresh.mutate(r)}>
                          Refresh secret
                        </button>
                        <button type="button" className="small" onClick={() => toggle.mutate(r)}>
                          {r.disabled ? "Enable" : "Disable"}
                        </button>
                        <button
                          type="button"
                          className="small danger"
                          aria-label={`Delete robot account ${r.name}`}
                          onClick={() => setDeleting(r)}
                        >
                          Delete
                        </button>
                      </>
                    )}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function Robots({ project, abilities }: { project: string; abilities: ProjectAbilities }) {
  const client = useQueryClient();
  const [secret, setSecret] = useState<{ name: string; secret: string }>();
  const list = useQuery({
    queryKey: ["robots", project],
    queryFn: () => get<Page<Robot>>(`/projects/${project}/robots`, { page_size: 100 }),
  });
  const changed = (s?: { name: string; secret: string }) => {
    if (s) setSecret(s);
    client.invalidateQueries({ queryKey: ["robots", project] });
  };
  const create = useMutation({
    mutationFn: (body: object) =>
      post<{ robot: Robot; secret: string }>(`/projects/${project}/robots`, body),
    onSuccess: (answer) => changed({ name: answer.robot.name, secret: answer.secret }),
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const actions = ["pull", "push", "delete"].filter((a) => form.get(a) === "on");
    create.mutate({
      name: String(form.get("name")),
      description: String(form.get("description") ?? "") || null,
      actions,
      ...expiryRequest(String(form.get("expiresIn") ?? "")),
    });
  };
  return (
    <>
      {secret && <SecretOnce {...secret} onDone={() => setSecret(undefined)} />}
      {abilities.canManageRobots && (
        <form className="card inline" onSubmit={submit} aria-label="New robot account">
          <label>
            Name
            <input name="name" required placeholder="ci" />
          </label>
          <label>
            Description
            <input name="description" />
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
          <button type="submit" className="primary" disabled={create.isPending}>
            Create robot
          </button>
        </form>
      )}
      <ErrorBox error={list.error ?? create.error} />
      {list.data && (
        <RobotTable
          robots={list.data.items}
          canManage={abilities.canManageRobots}
          onChanged={changed}
        />
      )}
    </>
  );
}

export function Audit({ path }: { path: string }) {
  const [actor, setActor] = useQueryParam("actor");
  const [action, setAction] = useQueryParam("action");
  const [outcome, setOutcome] = useQueryParam("outcome");
  const [since, setSince] = useQueryParam("since");
  const [page, setPage] = usePageParam();
  const list = useQuery({
    queryKey: ["audit", path, actor, action, outcome, since, page],
    queryFn: () =>
      get<Page<AuditEntry>>(path, {
        actor,
        action,
        outcome,
        since: since ? new Date(since).toISOString() : undefined,
        page,
        page_size: 50,
      }),
    placeholderData: (previous) => previous,
  });
  return (
    <>
      <search className="toolbar" aria-label="Filter the audit log">
        <input
          aria-label="Actor"
          placeholder="actor"
          defaultValue={actor}
          onChange={(e) => setActor(e.target.value)}
        />
        <input
          aria-label="Action"
          placeholder="action (push, delete…)"
          defaultValue={action}
          onChange={(e) => setAction(e.target.value)}
        />
        <select aria-label="Outcome" value={outcome} onChange={(e) => setOutcome(e.target.value)}>
          <option value="">any outcome</option>
          <option value="success">success</option>
          <option value="failure">failure</option>
        </select>
        <label>
          Since
          <input type="date" value={since} onChange={(e) => setSince(e.target.value)} />
        </label>
      </search>
      <ErrorBox error={list.error} />
      {list.data && (
        <>
          <div className="scroll">
            <table>
              <thead>
                <tr>
                  <th>When</th>
                  <th>Actor</th>
                  <th>Action</th>
                  <th>Resource</th>
                  <th>Outcome</th>
                  <th>From</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((e) => (
                  <tr key={e.id}>
                    <td>
                      <When iso={e.at} text={formatWhen(e.at)} />
                    </td>
                    <td>{e.actor}</td>
                    <td>{e.action}</td>
                    <td className="break">
                      {e.resourceType} {e.resource}
                    </td>
                    <td>
                      {e.outcome === "success" ? (
                        <Badge tone="ok">success</Badge>
                      ) : (
                        <Badge tone="bad">failure</Badge>
                      )}
                    </td>
                    <td>{e.remoteAddress ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager page={page} pageSize={50} total={list.data.total} onPage={setPage} />
        </>
      )}
    </>
  );
}

function Settings({ project }: { project: Project }) {
  const client = useQueryClient();
  const [, navigate] = useLocation();
  const [confirming, setConfirming] = useState(false);
  const visibility = useMutation({
    mutationFn: (isPublic: boolean) => patch(`/projects/${project.name}`, { public: isPublic }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["project", project.name] }),
  });
  const remove = useMutation({
    mutationFn: () => del(`/projects/${project.name}`),
    onSuccess: () => {
      client.invalidateQueries({ queryKey: ["projects"] });
      navigate("/projects");
    },
  });
  return (
    <div className="card">
      <label className="check">
        <input
          type="checkbox"
          checked={project.public}
          onChange={(e) => visibility.mutate(e.target.checked)}
        />{" "}
        Public: anyone, signed in or not, may pull from this project
      </label>
      <ErrorBox error={visibility.error} />
      <h2>Delete</h2>
      <p>Only an empty project can be deleted.</p>
      <button type="button" className="danger" onClick={() => setConfirming(true)}>
        Delete project
      </button>
      {confirming && (
        <Confirm
          title={`Delete project ${project.name}?`}
          confirmLabel="Delete project"
          onConfirm={() => remove.mutate()}
          onCancel={() => setConfirming(false)}
          busy={remove.isPending}
          error={remove.error}
        >
          <p>The project, its members and its robot accounts go. This cannot be undone.</p>
        </Confirm>
      )}
    </div>
  );
}
