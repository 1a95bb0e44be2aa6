// One repository: its artifacts (server-side pagination and sorting; digest, tags with
// add/remove, kind, size, push/pull times, signed badge, pull commands, delete with a
// confirmation listing what goes) and its tags as one virtualised list that stays smooth
// at 10,000 tags (pages of 100 fetched as the list scrolls; the filter runs in SQL).
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { Link, useParams } from "wouter";
import { artifactKind, tagSchemeSubject } from "../../../src/oci/artifact-kind.js";
import {
  type Artifact,
  del,
  get,
  getOrNull,
  type Page,
  type Permissions,
  post,
  repoSegment,
  request,
  type TagRow,
  withQuery,
} from "../api.js";
import { type ArtifactSummary, GateCell, ScanCell } from "../components/security.js";
import { formatBytes, formatWhen, pullCommands, shortDigest } from "../shape/format.js";
import { type ProjectAbilities, projectAbilities } from "../shape/menus.js";
import {
  Badge,
  Confirm,
  CopyButton,
  ErrorBox,
  Loading,
  Pager,
  usePageParam,
  useQueryParam,
  When,
} from "../ui.js";

const PAGE_SIZE = 50;
/** Tags shown per artifact row before "N more" (the Tags view lists them all). */
const SHOWN_TAGS = 8;

interface DeletionPlan {
  repository: string;
  tags: string[];
  manifests: { digest: string; tags: string[]; reason: string }[];
  listedBy: { index: string; child: string }[];
}

function base(project: string, repository: string): string {
  return `/projects/${project}/repositories/${repoSegment(repository)}`;
}

export function RepositoryPage() {
  const params = useParams<{ project: string; repository: string }>();
  const project = params.project;
  const repository = decodeURIComponent(params.repository);
  const [view, setView] = useQueryParam("view", "artifacts");
  const perms = useQuery({
    queryKey: ["permissions", project],
    queryFn: () => get<Permissions>(`/projects/${project}/permissions`),
  });
  const abilities = projectAbilities(perms.data?.actions ?? []);
  return (
    <section>
      <p className="crumbs">
        <Link href="/projects">Projects</Link> /{" "}
        <Link href={`/projects/${project}/repositories`}>{project}</Link> /
      </p>
      <h1 className="break">{repository}</h1>
      <nav className="tabs" aria-label="Views">
        {["artifacts", "tags"].map((v) => (
          <a
            key={v}
            href={withQuery(`/projects/${project}/repo/${repoSegment(repository)}`, {
              view: v === "artifacts" ? "" : v,
            })}
            aria-current={view === v ? "page" : undefined}
            onClick={(e) => {
              e.preventDefault();
              setView(v);
            }}
          >
            {v === "artifacts" ? "Artifacts" : "Tags"}
          </a>
        ))}
      </nav>
      <ErrorBox error={perms.error} />
      {view === "tags" ? (
        <TagList project={project} repository={repository} abilities={abilities} />
      ) : (
        <ArtifactList project={project} repository={repository} abilities={abilities} />
      )}
    </section>
  );
}

export function PullCommands({ repository, reference }: { repository: string; reference: string }) {
  return (
    <details className="pull">
      <summary>Pull</summary>
      <ul>
        {pullCommands(window.location.host, repository, reference).map((c) => (
          <li key={c.tool}>
            <code data-testid={`pull-${c.tool}`}>{c.command}</code>{" "}
            <CopyButton text={c.command} label={`${c.tool} pull command`} />
          </li>
        ))}
      </ul>
    </details>
  );
}

function KindBadge({ kind }: { kind: string }) {
  const tone =
    kind === "signature" || kind === "attestation" ? "ok" : kind === "sbom" ? "info" : "";
  return <Badge tone={tone}>{kind}</Badge>;
}

function Tags({
  project,
  repository,
  artifact,
  abilities,
  onChanged,
}: {
  project: string;
  repository: string;
  artifact: Artifact;
  abilities: ProjectAbilities;
  onChanged: () => void;
}) {
  const [adding, setAdding] = useState(false);
  const [expanded, setExpanded] = useState(false);
  const hidden = artifact.tags.length - SHOWN_TAGS;
  const path = `${base(project, repository)}/artifacts/${artifact.digest}/tags`;
  const add = useMutation({
    mutationFn: (name: string) => post(path, { name }),
    onSuccess: () => {
      setAdding(false);
      onChanged();
    },
  });
  const remove = useMutation({
    mutationFn: (tag: string) => del(`${path}/${encodeURIComponent(tag)}`),
    onSuccess: onChanged,
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    add.mutate(String(new FormData(event.currentTarget).get("tag")));
  };
  return (
    <div className="tags">
      {(expanded ? artifact.tags : artifact.tags.slice(0, SHOWN_TAGS)).map((t) => (
        <span key={t} className="chip">
          {t}
          {abilities.canUntag && (
            <button
              type="button"
              className="chip-x"
              aria-label={`Remove tag ${t}`}
              title={`Remove tag ${t}`}
              onClick={() => remove.mutate(t)}
            >
              ×
            </button>
          )}
        </span>
      ))}
      {hidden > 0 && (
        <button type="button" className="small" onClick={() => setExpanded(!expanded)}>
          {expanded ? "fewer" : `${hidden} more`}
        </button>
      )}
      {abilities.canTag &&
        (adding ? (
          <form onSubmit={submit} className="inline-form">
            <input name="tag" aria-label="New tag" required size={12} />
            <button type="submit" className="small">
              Add
            </button>
          </form>
        ) : (
          <button
            type="button"
            className="small"
            onClick={() => setAdding(true)}
            aria-label="Add a tag"
          >
            + tag
          </button>
        ))}
      <ErrorBox error={add.error ?? remove.error} />
    </div>
  );
}

function DeleteArtifact({
  project,
  repository,
  artifact,
  onDone,
}: {
  project: string;
  repository: string;
  artifact: Artifact;
  onDone: () => void;
}) {
  const [plan, setPlan] = useState<DeletionPlan>();
  const path = `${base(project, repository)}/artifacts/${artifact.digest}`;
  const dryRun = useMutation({
    mutationFn: () => request<DeletionPlan>("DELETE", withQuery(path, { dryRun: true })),
    onSuccess: (p) => setPlan(p),
  });
  const remove = useMutation({
    mutationFn: () =>
      del(withQuery(path, { force: plan && plan.listedBy.length > 0 ? true : undefined })),
    onSuccess: () => {
      setPlan(undefined);
      onDone();
    },
  });
  return (
    <>
      <button
        type="button"
        className="small danger"
        onClick={() => dryRun.mutate()}
        disabled={dryRun.isPending}
      >
        Delete
      </button>
      <ErrorBox error={dryRun.error} />
      {plan && (
        <Confirm
          title={`Delete ${shortDigest(artifact.digest)}?`}
          confirmLabel="Delete"
          onConfirm={() => remove.mutate()}
          onCancel={() => setPlan(undefined)}
          busy={remove.isPending}
          error={remove.error}
        >
          <p>These go from {plan.repository}:</p>
          <ul>
            {plan.manifests.map((m) => (
              <li key={m.digest}>
                <code>{shortDigest(m.digest)}</code>{" "}
                {m.tags.length > 0 && `(tags ${m.tags.join(", ")})`}{" "}
                <span className="muted">{m.reason}</span>
              </li>
            ))}
          </ul>
          {plan.listedBy.length > 0 && (
            <p className="error">
              An index lists {plan.listedBy.map((l) => shortDigest(l.child)).join(", ")}; deleting
              breaks {plan.listedBy.map((l) => shortDigest(l.index)).join(", ")}.
            </p>
          )}
        </Confirm>
      )}
    </>
  );
}

function ArtifactList({
  project,
  repository,
  abilities,
}: {
  project: string;
  repository: string;
  abilities: ProjectAbilities;
}) {
  const client = useQueryClient();
  const [sort, setSort] = useQueryParam("sort", "-pushedAt");
  const [page, setPage] = usePageParam();
  const key = ["artifacts", repository, sort, page];
  const list = useQuery({
    queryKey: key,
    queryFn: () =>
      get<Page<Artifact>>(`${base(project, repository)}/artifacts`, {
        sort,
        page,
        page_size: PAGE_SIZE,
      }),
    placeholderData: (previous) => previous,
  });
  const digests = (list.data?.items ?? []).map((a) => a.digest).join(",");
  const summaries = useQuery({
    queryKey: ["artifact-summaries", repository, digests],
    queryFn: () =>
      getOrNull<{ items: ArtifactSummary[] }>(`${base(project, repository)}/artifact-summaries`, {
        digest: digests,
      }),
    enabled: digests !== "",
  });
  const summaryOf = new Map((summaries.data?.items ?? []).map((s) => [s.digest, s]));
  const security = summaries.data !== null;
  const changed = () => {
    client.invalidateQueries({ queryKey: ["artifacts", repository] });
    client.invalidateQueries({ queryKey: ["tags", repository] });
  };
  const signed = new Set<string>();
  for (const a of list.data?.items ?? []) {
    for (const t of a.tags) {
      const subject = t.endsWith(".sig") ? tagSchemeSubject(t) : undefined;
      if (subject) signed.add(subject);
    }
  }
  return (
    <>
      <div className="toolbar">
        <label>
          Sort
          <select value={sort} onChange={(e) => setSort(e.target.value)}>
            <option value="-pushedAt">newest push</option>
            <option value="pushedAt">oldest push</option>
            <option value="-pulledAt">last pull</option>
            <option value="-size">largest</option>
            <option value="digest">digest</option>
          </select>
        </label>
      </div>
      <ErrorBox error={list.error} />
      <ErrorBox error={summaries.error} />
      {list.isPending && <Loading what="artifacts" />}
      {list.data && (
        <>
          <div className="scroll">
            <table className="artifacts">
              <thead>
                <tr>
                  <th>Digest</th>
                  <th>Tags</th>
                  <th>Type</th>
                  {security && <th>Vulnerabilities</th>}
                  {security && <th>Gate</th>}
                  <th className="num">Size</th>
                  <th>Pushed</th>
                  <th>Pulled</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((a) => {
                  const kind = artifactKind(a);
                  return (
                    <tr key={a.digest} data-digest={a.digest}>
                      <td className="digest">
                        <Link
                          href={`/projects/${project}/repo/${repoSegment(repository)}/artifacts/${a.digest}`}
                        >
                          <code>{shortDigest(a.digest)}</code>
                        </Link>{" "}
                        <CopyButton text={a.digest} label="digest" />
                        {signed.has(a.digest) && <Badge tone="ok">signed</Badge>}
                      </td>
                      <td>
                        <Tags
                          project={project}
                          repository={repository}
                          artifact={a}
                          abilities={abilities}
                          onChanged={changed}
                        />
                      </td>
                      <td>
                        <KindBadge kind={kind} />
                      </td>
                      {security && (
                        <td>
                          <ScanCell summary={summaryOf.get(a.digest)} />
                        </td>
                      )}
                      {security && (
                        <td>
                          <GateCell summary={summaryOf.get(a.digest)} />
                        </td>
                      )}
                      <td className="num">{formatBytes(a.size)}</td>
                      <td>
                        <When iso={a.pushedAt} text={formatWhen(a.pushedAt)} />
                      </td>
                      <td>
                        <When iso={a.pulledAt} text={formatWhen(a.pulledAt)} />
                      </td>
                      <td>
                        <div className="actions">
                          <PullCommands repository={repository} reference={a.tags[0] ?? a.digest} />
                          {abilities.canDeleteArtifact && (
                            <DeleteArtifact
                              project={project}
                              repository={repository}
                              artifact={a}
                              onDone={changed}
                            />
                          )}
                        </div>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {list.data.total === 0 && <p className="muted">No artifacts.</p>}
          <Pager page={page} pageSize={PAGE_SIZE} total={list.data.total} onPage={setPage} />
        </>
      )}
    </>
  );
}

const TAG_PAGE = 100;
const ROW_HEIGHT = 40;

function TagList({
  project,
  repository,
  abilities,
}: {
  project: string;
  repository: string;
  abilities: ProjectAbilities;
}) {
  const client = useQueryClient();
  const [q, setQ] = useQueryParam("q");
  const [sort, setSort] = useQueryParam("sort", "name");
  const tags = useInfiniteQuery({
    queryKey: ["tags", repository, q, sort],
    queryFn: ({ pageParam }) =>
      get<Page<TagRow>>(`${base(project, repository)}/tags`, {
        q,
        sort,
        page: pageParam,
        page_size: TAG_PAGE,
      }),
    initialPageParam: 1,
    getNextPageParam: (last) =>
      last.page * last.pageSize < last.total ? last.page + 1 : undefined,
    placeholderData: (previous) => previous,
  });
  const rows = tags.data?.pages.flatMap((p) => p.items) ?? [];
  const total = tags.data?.pages[0]?.total ?? 0;
  const parent = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => parent.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items[items.length - 1]?.index ?? 0;
  useEffect(() => {
    if (lastIndex >= rows.length - 20 && tags.hasNextPage && !tags.isFetchingNextPage) {
      void tags.fetchNextPage();
    }
  }, [lastIndex, rows.length, tags]);
  const untag = useMutation({
    mutationFn: (row: TagRow) =>
      del(
        `${base(project, repository)}/artifacts/${row.digest}/tags/${encodeURIComponent(row.name)}`,
      ),
    onSuccess: () => {
      client.invalidateQueries({ queryKey: ["tags", repository] });
      client.invalidateQueries({ queryKey: ["artifacts", repository] });
    },
  });
  return (
    <>
      <div className="toolbar">
        <input
          type="search"
          aria-label="Filter tags"
          placeholder="Filter tags"
          defaultValue={q}
          onChange={(e) => setQ(e.target.value)}
        />
        <label>
          Sort
          <select value={sort} onChange={(e) => setSort(e.target.value)}>
            <option value="name">name</option>
            <option value="-pushedAt">newest push</option>
            <option value="-pulledAt">last pull</option>
            <option value="-size">largest</option>
          </select>
        </label>
        <span className="muted" data-testid="tag-total" aria-live="polite">
          {tags.isPending ? "…" : `${total} tag${total === 1 ? "" : "s"}`}
        </span>
      </div>
      <ErrorBox error={tags.error ?? untag.error} />
      <div ref={parent} className="vscroll" data-testid="tag-scroll">
        <table className="vtable" aria-label="Tags" aria-rowcount={total + 1}>
          <thead>
            <tr className="vrow vhead">
              <th>Tag</th>
              <th>Digest</th>
              <th>Type</th>
              <th className="num">Size</th>
              <th>Pushed</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody style={{ height: virtualizer.getTotalSize() }}>
            {items.map((item) => {
              const row = rows[item.index];
              if (!row) return null;
              return (
                <tr
                  key={row.name}
                  className="vrow"
                  aria-rowindex={item.index + 2}
                  data-tag={row.name}
                  style={{ transform: `translateY(${item.start}px)` }}
                >
                  <td className="break">{row.name}</td>
                  <td>
                    <Link
                      href={`/projects/${project}/repo/${repoSegment(repository)}/artifacts/${row.digest}`}
                    >
                      <code>{shortDigest(row.digest)}</code>
                    </Link>
                  </td>
                  <td>
                    <KindBadge kind={row.kind} />
                  </td>
                  <td className="num">{formatBytes(row.size)}</td>
                  <td>
                    <When iso={row.pushedAt} text={formatWhen(row.pushedAt)} />
                  </td>
                  <td>
                    {abilities.canUntag && (
                      <button
                        type="button"
                        className="small danger"
                        aria-label={`Delete tag ${row.name}`}
                        onClick={() => untag.mutate(row)}
                      >
                        Delete tag
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {!tags.isPending && total === 0 && (
        <p className="muted">No tags{q ? ` contain "${q}"` : ""}.</p>
      )}
    </>
  );
}
