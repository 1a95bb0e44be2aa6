// Registry endpoints (system administrators): the remote registries replication rules and
// proxy-cache projects connect to. Add one (URL, type, credentials, TLS options, description),
// run its connection test, change it (a password left blank stays as it was) and delete it.
// Passwords are write-only: the API never answers them, so this page never shows one.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { del, get, patch, post, put, type RegistryEndpoint } from "../api.js";
import { formatWhen } from "../shape/format.js";
import { Badge, Confirm, ErrorBox, Loading, When } from "../ui.js";

const TYPES = ["distribution", "berth", "harbor", "docker-hub", "oci"] as const;

interface PingResult {
  ok: boolean;
  message: string;
  durationMs: number;
}

function tlsLabel(e: RegistryEndpoint): string {
  if (e.url.startsWith("http:")) return "plain HTTP";
  if (e.insecure) return "not verified";
  return e.caCert ? "own CA" : "verified";
}

/** The body of a create (all fields) or an update (only what was filled in). */
function endpointBody(form: FormData, creating: boolean): Record<string, unknown> {
  const text = (name: string) => String(form.get(name) ?? "").trim();
  const body: Record<string, unknown> = {
    type: text("type"),
    url: text("url"),
    description: text("description"),
    insecure: form.get("insecure") === "on",
  };
  if (creating) body.name = text("name");
  const username = text("username");
  const password = String(form.get("password") ?? "");
  if (username) body.username = username;
  else if (!creating) body.username = null;
  if (password) body.password = password;
  const ca = text("caCert");
  if (ca) body.caCert = ca;
  else if (!creating && form.get("keepCa") !== "on") body.caCert = null;
  return body;
}

function EndpointFields({ current }: { current?: RegistryEndpoint }) {
  return (
    <>
      {!current && (
        <label>
          Name
          <input name="name" required pattern="[a-z0-9][a-z0-9.\-]{0,62}" />
        </label>
      )}
      <label>
        Type
        <select name="type" defaultValue={current?.type ?? "distribution"}>
          {TYPES.map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
      </label>
      <label>
        URL
        <input
          name="url"
          required
          placeholder="https://registry.example.com"
          defaultValue={current?.url}
        />
      </label>
      <label>
        Username
        <input name="username" autoComplete="off" defaultValue={current?.username ?? ""} />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autoComplete="new-password"
          placeholder={current?.hasPassword ? "unchanged" : ""}
        />
      </label>
      <label className="check">
        <input type="checkbox" name="insecure" defaultChecked={current?.insecure ?? false} /> skip
        TLS verification
      </label>
      <label>
        CA certificate (PEM)
        <textarea name="caCert" rows={2} placeholder="-----BEGIN CERTIFICATE-----" />
      </label>
      {current?.caCert && (
        <label className="check">
          <input type="checkbox" name="keepCa" defaultChecked /> keep the current CA certificate
        </label>
      )}
      <label>
        Description
        <input name="description" defaultValue={current?.description ?? ""} />
      </label>
    </>
  );
}

interface ProxyProject {
  project: string;
  endpoint: string;
  ttlSeconds: number;
  createdAt: string;
}

/** Proxy-cache projects: bind an existing project to an endpoint, change its TTL, unbind. */
function ProxyProjects({ endpoints }: { endpoints: RegistryEndpoint[] }) {
  const client = useQueryClient();
  const list = useQuery({
    queryKey: ["proxy-projects"],
    queryFn: () => get<ProxyProject[]>("/proxy-projects"),
  });
  const refresh = () => client.invalidateQueries({ queryKey: ["proxy-projects"] });
  const bind = useMutation({
    mutationFn: (b: { project: string; endpoint: string; ttlSeconds: number }) =>
      put<ProxyProject>(`/projects/${encodeURIComponent(b.project)}/proxy`, {
        endpoint: b.endpoint,
        ttlSeconds: b.ttlSeconds,
      }),
    onSuccess: refresh,
  });
  const unbind = useMutation({
    mutationFn: (project: string) => del(`/projects/${encodeURIComponent(project)}/proxy`),
    onSuccess: refresh,
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    bind.mutate({
      project: String(form.get("project")).trim(),
      endpoint: String(form.get("endpoint")),
      ttlSeconds: Number(form.get("ttl")),
    });
  };
  return (
    <>
      <h2>Proxy-cache projects</h2>
      <p className="muted">
        A pull of PROJECT/REPO from a proxy-cache project fetches REPO from the endpoint on a miss,
        keeps it, and keeps serving it (marked stale) while the endpoint is down.
      </p>
      <form className="card inline" onSubmit={submit} aria-label="New proxy-cache project">
        <label>
          Project
          <input name="project" required />
        </label>
        <label>
          Upstream
          <select name="endpoint" required>
            {endpoints.map((e) => (
              <option key={e.id} value={e.name}>
                {e.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Tag TTL (seconds)
          <input name="ttl" type="number" min={0} defaultValue={300} required />
        </label>
        <button type="submit" className="primary" disabled={endpoints.length === 0}>
          Make proxy cache
        </button>
      </form>
      <ErrorBox error={list.error ?? bind.error ?? unbind.error} />
      {list.data && list.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Project</th>
              <th>Upstream</th>
              <th>Tag TTL</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.data.map((p) => (
              <tr key={p.project} data-testid={`proxy-${p.project}`}>
                <td>{p.project}</td>
                <td>{p.endpoint}</td>
                <td>{p.ttlSeconds} s</td>
                <td>
                  <button
                    type="button"
                    className="small danger"
                    onClick={() => unbind.mutate(p.project)}
                  >
                    Stop proxying
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export function RegistriesPage() {
  const client = useQueryClient();
  const [editing, setEditing] = useState<RegistryEndpoint>();
  const [deleting, setDeleting] = useState<string>();
  const [results, setResults] = useState<Record<string, PingResult>>({});
  const list = useQuery({
    queryKey: ["registries"],
    queryFn: () => get<RegistryEndpoint[]>("/registries"),
  });
  const refresh = () => client.invalidateQueries({ queryKey: ["registries"] });
  const create = useMutation({
    mutationFn: (body: Record<string, unknown>) => post<RegistryEndpoint>("/registries", body),
    onSuccess: refresh,
  });
  const update = useMutation({
    mutationFn: ({ id, body }: { id: string; body: Record<string, unknown> }) =>
      patch<RegistryEndpoint>(`/registries/${encodeURIComponent(id)}`, body),
    onSuccess: () => {
      setEditing(undefined);
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (name: string) => del(`/registries/${encodeURIComponent(name)}`),
    onSuccess: () => {
      setDeleting(undefined);
      refresh();
    },
  });
  const ping = useMutation({
    mutationFn: (name: string) => post<PingResult>(`/registries/${encodeURIComponent(name)}/ping`),
    onSuccess: (result, name) => setResults((r) => ({ ...r, [name]: result })),
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    create.mutate(endpointBody(new FormData(form), true), { onSuccess: () => form.reset() });
  };
  return (
    <section>
      <h1>Registries</h1>
      <p className="muted">
        Remote registries for replication and proxy-cache projects. Passwords are stored encrypted
        and never shown again.
      </p>
      <form className="card inline" onSubmit={submit} aria-label="New registry endpoint">
        <EndpointFields />
        <button type="submit" className="primary">
          Add registry
        </button>
      </form>
      <ErrorBox error={list.error ?? create.error ?? ping.error} />
      {list.isLoading && <Loading what="registries" />}
      {list.data && list.data.length === 0 && <p className="muted">No registry endpoints yet.</p>}
      {list.data && list.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Type</th>
              <th>URL</th>
              <th>Username</th>
              <th>TLS</th>
              <th>Description</th>
              <th>Updated</th>
              <th>Connection</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.data.map((e) => {
              const result = results[e.name];
              return (
                <tr key={e.id} data-testid={`registry-${e.name}`}>
                  <td>{e.name}</td>
                  <td>{e.type}</td>
                  <td>
                    <code>{e.url}</code>
                  </td>
                  <td>{e.username ?? ""}</td>
                  <td>{tlsLabel(e)}</td>
                  <td>{e.description}</td>
                  <td>
                    <When iso={e.updatedAt} text={formatWhen(e.updatedAt)} />
                  </td>
                  <td data-testid={`registry-${e.name}-status`}>
                    {result && (
                      <Badge tone={result.ok ? "ok" : "bad"}>
                        {result.ok ? "reachable" : "failed"}
                      </Badge>
                    )}{" "}
                    {result && <span className="muted">{result.message}</span>}
                  </td>
                  <td>
                    <div className="actions">
                      <button
                        type="button"
                        className="small"
                        onClick={() => ping.mutate(e.name)}
                        disabled={ping.isPending && ping.variables === e.name}
                      >
                        Test
                      </button>
                      <button type="button" className="small" onClick={() => setEditing(e)}>
                        Edit
                      </button>
                      <button
                        type="button"
                        className="small danger"
                        onClick={() => setDeleting(e.name)}
                      >
                        Delete
                      </button>
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {editing && (
        <form
          key={editing.id}
          className="card inline"
          aria-label={`Edit registry ${editing.name}`}
          onSubmit={(event) => {
            event.preventDefault();
            update.mutate({
              id: editing.id,
              body: endpointBody(new FormData(event.currentTarget), false),
            });
          }}
        >
          <EndpointFields current={editing} />
          <button type="submit" className="primary">
            Save
          </button>
          <button type="button" onClick={() => setEditing(undefined)}>
            Cancel
          </button>
          <ErrorBox error={update.error} />
        </form>
      )}
      {deleting && (
        <Confirm
          title={`Delete registry ${deleting}?`}
          confirmLabel="Delete registry"
          onConfirm={() => remove.mutate(deleting)}
          onCancel={() => setDeleting(undefined)}
          error={remove.error}
        >
          <p>A registry used by a proxy project or a replication rule cannot be deleted.</p>
        </Confirm>
      )}
      {list.data && <ProxyProjects endpoints={list.data} />}
    </section>
  );
}
