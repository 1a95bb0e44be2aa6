// One artifact: overview (kind, digest, tags, platform, entrypoint, cmd, env, labels,
// created), the layers with the command that made each and its size (aligned by the
// server with the CLI's rule), the platforms of an index, the attachments tree
// (signatures, attestations, SBOMs by tag scheme and OCI referrers), signature
// verification against the project's trusted keys, and annotations; and, as sections of
// their own (?view=), the vulnerabilities, the SBOM's packages and the quality-gate verdict
// (pages/artifact-scan.tsx).
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "wouter";
import { type ArtifactDetail, type Attachment, get, repoSegment } from "../api.js";
import { formatBytes, formatWhen, shortDigest } from "../shape/format.js";
import { Badge, CopyButton, ErrorBox, Loading, useQueryParam, When } from "../ui.js";
import { ArtifactGate, ArtifactSbom, ArtifactVulnerabilities } from "./artifact-scan.js";
import { PullCommands } from "./repository.js";

interface SignatureReport {
  signed: boolean;
  signatures: {
    manifestDigest: string;
    layerDigest: string;
    kind: string;
    verified: boolean;
    keyFingerprint?: string | null;
    reason?: string;
  }[];
}

/** The sections of the artifact page, each with its own URL (?view=). */
const VIEWS = [
  { view: "overview", label: "Overview" },
  { view: "vulnerabilities", label: "Vulnerabilities" },
  { view: "sbom", label: "SBOM" },
  { view: "gate", label: "Quality gate" },
] as const;

function ViewTabs({ current, base }: { current: string; base: string }) {
  return (
    <nav className="tabs" aria-label="Artifact sections">
      {VIEWS.map((v) => (
        <Link
          key={v.view}
          href={v.view === "overview" ? base : `${base}?view=${v.view}`}
          aria-current={v.view === current ? "page" : undefined}
        >
          {v.label}
        </Link>
      ))}
    </nav>
  );
}

/** Tags listed in the overview; the repository's Tags view has them all. */
const SHOWN_TAGS = 12;

function KeyValues({ values }: { values: Record<string, string> }) {
  const entries = Object.entries(values);
  if (entries.length === 0) return <p className="muted">None.</p>;
  return (
    <dl className="kv stack">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd className="break">{v}</dd>
        </div>
      ))}
    </dl>
  );
}

function AttachmentTree({
  nodes,
  href,
}: {
  nodes: Attachment[];
  href: (digest: string) => string;
}) {
  if (nodes.length === 0) return null;
  return (
    <ul className="tree">
      {nodes.map((n) => (
        <li key={`${n.scheme}:${n.reference}`}>
          <Badge tone={n.kind === "signature" ? "ok" : "info"}>{n.kind}</Badge>{" "}
          <Link href={href(n.digest)}>
            <code>{shortDigest(n.digest)}</code>
          </Link>{" "}
          <span className="muted">
            {n.scheme === "tag" ? `tag ${n.reference}` : "referrer"}
            {n.artifactType ? ` · ${n.artifactType}` : ""}
          </span>
          <AttachmentTree nodes={n.children} href={href} />
        </li>
      ))}
    </ul>
  );
}

function command(list: string[] | null): string {
  return list === null || list.length === 0 ? "—" : JSON.stringify(list);
}

export function ArtifactPage() {
  const params = useParams<{ project: string; repository: string; reference: string }>();
  const project = params.project;
  const repository = decodeURIComponent(params.repository);
  const reference = decodeURIComponent(params.reference);
  const path = `/projects/${project}/repositories/${repoSegment(repository)}/artifacts/${encodeURIComponent(reference)}`;
  const detail = useQuery({
    queryKey: ["artifact", repository, reference],
    queryFn: () => get<ArtifactDetail>(path),
  });
  const signatures = useQuery({
    queryKey: ["signatures", repository, reference],
    queryFn: () => get<SignatureReport>(`${path}/signatures`),
  });
  const href = (digest: string) =>
    `/projects/${project}/repo/${repoSegment(repository)}/artifacts/${digest}`;
  const [view] = useQueryParam("view", "overview");
  const d = detail.data;
  return (
    <section>
      <p className="crumbs">
        <Link href="/projects">Projects</Link> /{" "}
        <Link href={`/projects/${project}/repositories`}>{project}</Link> /{" "}
        <Link href={`/projects/${project}/repo/${repoSegment(repository)}`}>{repository}</Link> /
      </p>
      <ErrorBox error={detail.error} />
      {detail.isPending && <Loading what="artifact" />}
      {d && (
        <>
          <div className="heading">
            <h1>
              <code>{shortDigest(d.digest)}</code>
            </h1>
            <CopyButton text={d.digest} label="digest" />
            <Badge>{d.kind}</Badge>
            {signatures.data?.signed && <Badge tone="ok">signed (verified)</Badge>}
            {signatures.data &&
              !signatures.data.signed &&
              signatures.data.signatures.length > 0 && (
                <Badge tone="warn">signature not verified</Badge>
              )}
          </div>
          <ViewTabs current={view} base={href(d.digest)} />
          {view === "vulnerabilities" && (
            <ArtifactVulnerabilities project={project} path={path} href={href} />
          )}
          {view === "sbom" && <ArtifactSbom path={path} />}
          {view === "gate" && <ArtifactGate path={path} />}
          {view === "overview" && (
            <ArtifactOverview
              d={d}
              project={project}
              repository={repository}
              href={href}
              signatures={signatures}
            />
          )}
        </>
      )}
    </section>
  );
}

function ArtifactOverview({
  d,
  project,
  repository,
  href,
  signatures,
}: {
  d: ArtifactDetail;
  project: string;
  repository: string;
  href: (digest: string) => string;
  signatures: { data?: SignatureReport; error: unknown };
}) {
  return (
    <>
      <div className="grid">
        <div className="card">
          <h2>Overview</h2>
          <dl className="kv">
            <div>
              <dt>Digest</dt>
              <dd className="break">
                <code>{d.digest}</code>
              </dd>
            </div>
            <div>
              <dt>Tags</dt>
              <dd>
                {d.tags.length === 0 && "untagged"}
                {d.tags.slice(0, SHOWN_TAGS).map((t) => (
                  <span key={t} className="chip">
                    {t}
                  </span>
                ))}
                {d.tags.length > SHOWN_TAGS && (
                  <Link href={`/projects/${project}/repo/${repoSegment(repository)}?view=tags`}>
                    all {d.tags.length} tags
                  </Link>
                )}
              </dd>
            </div>
            <div>
              <dt>Media type</dt>
              <dd className="break">{d.mediaType}</dd>
            </div>
            {d.artifactType && (
              <div>
                <dt>Artifact type</dt>
                <dd className="break">{d.artifactType}</dd>
              </div>
            )}
            {d.subject && (
              <div>
                <dt>Subject</dt>
                <dd>
                  <Link href={href(d.subject)}>
                    <code>{shortDigest(d.subject)}</code>
                  </Link>
                </dd>
              </div>
            )}
            {d.config && (
              <>
                <div>
                  <dt>Platform</dt>
                  <dd>{d.config.platform}</dd>
                </div>
                <div>
                  <dt>Created</dt>
                  <dd>
                    <When
                      iso={d.config.created}
                      text={d.config.created ? formatWhen(d.config.created) : "unknown"}
                    />
                  </dd>
                </div>
                <div>
                  <dt>Entrypoint</dt>
                  <dd className="break">
                    <code>{command(d.config.entrypoint)}</code>
                  </dd>
                </div>
                <div>
                  <dt>Cmd</dt>
                  <dd className="break">
                    <code>{command(d.config.cmd)}</code>
                  </dd>
                </div>
                {d.config.user && (
                  <div>
                    <dt>User</dt>
                    <dd>{d.config.user}</dd>
                  </div>
                )}
                {d.config.workingDir && (
                  <div>
                    <dt>Working dir</dt>
                    <dd>{d.config.workingDir}</dd>
                  </div>
                )}
                {d.config.exposedPorts.length > 0 && (
                  <div>
                    <dt>Ports</dt>
                    <dd>{d.config.exposedPorts.join(", ")}</dd>
                  </div>
                )}
              </>
            )}
          </dl>
          <PullCommands repository={repository} reference={d.tags[0] ?? d.digest} />
        </div>
        {d.config && (
          <div className="card">
            <h2>Environment</h2>
            {d.config.env.length === 0 ? (
              <p className="muted">None.</p>
            ) : (
              <ul className="plain">
                {d.config.env.map((e) => (
                  <li key={e} className="break">
                    <code>{e}</code>
                  </li>
                ))}
              </ul>
            )}
            <h2>Labels</h2>
            <KeyValues values={d.config.labels} />
          </div>
        )}
      </div>
      {d.platforms.length > 0 && (
        <div className="card">
          <h2>Platforms</h2>
          <table>
            <thead>
              <tr>
                <th>Platform</th>
                <th>Manifest</th>
                <th className="num">Size</th>
              </tr>
            </thead>
            <tbody>
              {d.platforms.map((p) => (
                <tr key={p.digest}>
                  <td>{p.platform ?? "—"}</td>
                  <td>
                    <Link href={href(p.digest)}>
                      <code>{shortDigest(p.digest)}</code>
                    </Link>
                  </td>
                  <td className="num">{formatBytes(p.size)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {d.layers.length > 0 && (
        <div className="card">
          <h2>Layers</h2>
          {d.warnings.map((w) => (
            <p key={w} className="warn">
              {w}
            </p>
          ))}
          <div className="scroll">
            <table className="layers">
              <thead>
                <tr>
                  <th className="num">#</th>
                  <th>Command</th>
                  <th className="num">Size</th>
                  <th>Digest</th>
                </tr>
              </thead>
              <tbody>
                {d.layers.map((l, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: one layer blob may appear twice; its position is its identity
                  <tr key={`${l.digest}-${i}`} data-testid="layer-row">
                    <td className="num">{i + 1}</td>
                    <td className="break">
                      {l.command ? (
                        <code title={l.createdBy ?? ""}>{l.command}</code>
                      ) : (
                        <span className="muted">(no history)</span>
                      )}
                    </td>
                    <td className="num">{formatBytes(l.size)}</td>
                    <td>
                      <code>{shortDigest(l.digest)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
      <div className="grid">
        <div className="card">
          <h2>Attachments and referrers</h2>
          {d.attachments.length === 0 ? (
            <p className="muted">Nothing is attached to this artifact.</p>
          ) : (
            <AttachmentTree nodes={d.attachments} href={href} />
          )}
          <ErrorBox error={signatures.error} />
          {signatures.data && signatures.data.signatures.length > 0 && (
            <ul className="plain">
              {signatures.data.signatures.map((s) => (
                <li key={`${s.manifestDigest}/${s.layerDigest}`}>
                  {s.kind}:{" "}
                  {s.verified ? (
                    <Badge tone="ok">verified</Badge>
                  ) : (
                    <Badge tone="warn">not verified</Badge>
                  )}{" "}
                  <span className="muted">{s.reason ?? s.keyFingerprint ?? ""}</span>
                </li>
              ))}
            </ul>
          )}
        </div>
        <div className="card">
          <h2>Annotations</h2>
          <KeyValues values={d.annotations} />
        </div>
      </div>
    </>
  );
}
