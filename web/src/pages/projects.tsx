// The projects list: search, visibility, the caller's role, repository count and quota
// used/limit as a bar (each row asks its project's quota and repository total), and the
// create form for system administrators.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { Link, useLocation } from "wouter";
import { get, type Page, type Project, post, type Quota, type Repository } from "../api.js";
import { useSession } from "../session.js";
import { formatBytes, quotaFraction } from "../shape/format.js";
import { ROLE_LABELS } from "../shape/menus.js";
import { Badge, ErrorBox, Loading, Pager, usePageParam, useQueryParam } from "../ui.js";

const PAGE_SIZE = 20;

export function QuotaBar({ used, limit }: { used: number; limit: number | null }) {
  const fraction = quotaFraction(used, limit);
  const text = `${formatBytes(used)} of ${limit === null ? "unlimited" : formatBytes(limit)}`;
  if (fraction === undefined) return <span className="muted">{text}</span>;
  return (
    <span className="quota">
      <meter min={0} max={1} value={fraction} high={0.8} optimum={0} aria-label="quota used" />
      <span>{text}</span>
    </span>
  );
}

function ProjectRow({ project }: { project: Project }) {
  const quota = useQuery({
    queryKey: ["quota", project.name],
    queryFn: () => get<Quota>(`/projects/${project.name}/quota`),
  });
  const repos = useQuery({
    queryKey: ["repositories", project.name, "count"],
    queryFn: () =>
      get<Page<Repository>>(`/projects/${project.name}/repositories`, { page_size: 1 }),
  });
  return (
    <tr>
      <td>
        <Link href={`/projects/${project.name}/repositories`}>{project.name}</Link>
      </td>
      <td>{project.public ? <Badge tone="ok">public</Badge> : <Badge>private</Badge>}</td>
      <td>
        {project.role ? (
          (ROLE_LABELS[project.role] ?? project.role)
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td className="num">{repos.data?.total ?? "…"}</td>
      <td>
        {quota.data ? <QuotaBar used={quota.data.usedBytes} limit={quota.data.limitBytes} /> : "…"}
      </td>
    </tr>
  );
}

function CreateProject() {
  const client = useQueryClient();
  const [, navigate] = useLocation();
  const [open, setOpen] = useState(false);
  const create = useMutation({
    mutationFn: (body: { name: string; public: boolean }) => post<Project>("/projects", body),
    onSuccess: (project) => {
      client.invalidateQueries({ queryKey: ["projects"] });
      navigate(`/projects/${project.name}/repositories`);
    },
  });
  const nameInput = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (open) nameInput.current?.focus();
  }, [open]);
  if (!open)
    return (
      <button type="button" className="primary" onClick={() => setOpen(true)}>
        New project
      </button>
    );
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    create.mutate({ name: String(form.get("name")), public: form.get("public") === "on" });
  };
  return (
    <form className="card inline" onSubmit={submit} aria-label="New project">
      <label>
        Name
        <input ref={nameInput} name="name" required pattern="[a-z0-9]+(?:[._-][a-z0-9]+)*" />
      </label>
      <label className="check">
        <input type="checkbox" name="public" /> Public (anyone may pull)
      </label>
      <button type="submit" className="primary" disabled={create.isPending}>
        Create project
      </button>
      <button type="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
      <ErrorBox error={create.error} />
    </form>
  );
}

export function ProjectsPage() {
  const { session } = useSession();
  const [q, setQ] = useQueryParam("q");
  const [page, setPage] = usePageParam();
  const list = useQuery({
    queryKey: ["projects", q, page],
    queryFn: () => get<Page<Project>>("/projects", { q, page, page_size: PAGE_SIZE }),
    placeholderData: (previous) => previous,
  });
  return (
    <section>
      <div className="heading">
        <h1>Projects</h1>
        {session?.isAdmin && <CreateProject />}
      </div>
      <input
        type="search"
        placeholder="Search projects"
        aria-label="Search projects"
        defaultValue={q}
        onChange={(e) => setQ(e.target.value)}
      />
      <ErrorBox error={list.error} />
      {list.isPending ? (
        <Loading what="projects" />
      ) : list.data ? (
        <>
          <div className="scroll">
            <table className="projects">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Access</th>
                  <th>Your role</th>
                  <th className="num">Repositories</th>
                  <th>Quota</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((p) => (
                  <ProjectRow key={p.name} project={p} />
                ))}
              </tbody>
            </table>
          </div>
          {list.data.total === 0 && <p className="muted">No projects match.</p>}
          <Pager page={page} pageSize={PAGE_SIZE} total={list.data.total} onPage={setPage} />
        </>
      ) : null}
    </section>
  );
}
