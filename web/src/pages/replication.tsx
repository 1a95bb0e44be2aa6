// Replication (system administrators): the rules (add one with its filters, platforms,
// destination namespace and trigger; run it now; remove it), the executions with their
// counters (stop a running one), and one execution's per-artifact tasks with state, bytes,
// duration and error. Everything goes through /api/v1/replication/…; the server checks it.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link, useParams } from "wouter";
import { del, get, post } from "../api.js";
import { formatBytes, formatWhen } from "../shape/format.js";
import { Badge, Confirm, ErrorBox, Loading, When } from "../ui.js";

interface Rule {
  id: string;
  name: string;
  endpoint: string;
  mode: string;
  repositories: { include: string[]; exclude: string[] };
  tags: { include: string[]; exclude: string[] };
  platforms: string[];
  destinationNamespace: string;
  flatten: number;
  trigger: string;
  enabled: boolean;
}

interface Execution {
  id: number;
  policy: string;
  trigger: string;
  state: string;
  total: number;
  succeeded: number;
  failed: number;
  skipped: number;
  bytes: number;
  error: string | null;
  startedAt: string | null;
  durationMs: number | null;
}

interface Task {
  id: number;
  operation: string;
  sourceRepository: string;
  reference: string;
  destinationRepository: string;
  digest: string | null;
  state: string;
  bytes: number;
  referrers: number;
  error: string | null;
  durationMs: number | null;
}

const FINISHED = ["succeeded", "failed", "stopped"];

function tone(state: string): string {
  if (state === "succeeded") return "ok";
  if (state === "failed") return "bad";
  if (state === "running" || state === "pending" || state === "stopping") return "info";
  return "";
}

const list = (text: string) =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

function AddRule({ onDone }: { onDone: () => void }) {
  const [name, setName] = useState("");
  const [endpoint, setEndpoint] = useState("");
  const [mode, setMode] = useState("push");
  const [repos, setRepos] = useState("");
  const [tags, setTags] = useState("");
  const [platforms, setPlatforms] = useState("");
  const [namespace, setNamespace] = useState("");
  const [trigger, setTrigger] = useState("manual");
  const add = useMutation({
    mutationFn: () =>
      post("/replication/policies", {
        name,
        endpoint,
        mode,
        repositories: { include: list(repos) },
        tags: { include: list(tags) },
        platforms: list(platforms),
        ...(namespace ? { destinationNamespace: namespace } : {}),
        trigger,
      }),
    onSuccess: onDone,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };
  return (
    <form onSubmit={submit} className="card" aria-label="Add a replication rule">
      <h2>Add a rule</h2>
      <label>
        Name <input value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <label>
        Endpoint <input value={endpoint} onChange={(e) => setEndpoint(e.target.value)} required />
      </label>
      <label>
        Mode
        <select value={mode} onChange={(e) => setMode(e.target.value)}>
          <option value="push">push (here → endpoint)</option>
          <option value="pull">pull (endpoint → here)</option>
        </select>
      </label>
      <label>
        Repositories{" "}
        <input
          value={repos}
          placeholder="team/**, library/*"
          onChange={(e) => setRepos(e.target.value)}
        />
      </label>
      <label>
        Tags <input value={tags} placeholder="v*" onChange={(e) => setTags(e.target.value)} />
      </label>
      <label>
        Platforms{" "}
        <input
          value={platforms}
          placeholder="linux/amd64, linux/arm64"
          onChange={(e) => setPlatforms(e.target.value)}
        />
      </label>
      <label>
        Destination namespace{" "}
        <input value={namespace} onChange={(e) => setNamespace(e.target.value)} />
      </label>
      <label>
        Trigger{" "}
        <input
          value={trigger}
          placeholder="manual, event or cron:0 3 * * *"
          onChange={(e) => setTrigger(e.target.value)}
        />
      </label>
      <ErrorBox error={add.error} />
      <button type="submit" disabled={add.isPending}>
        Add rule
      </button>
    </form>
  );
}

export function AdminReplication() {
  const client = useQueryClient();
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<string>();
  const rules = useQuery({
    queryKey: ["replication-rules"],
    queryFn: () => get<Rule[]>("/replication/policies"),
  });
  const executions = useQuery({
    queryKey: ["replication-executions"],
    queryFn: () => get<Execution[]>("/replication/executions", { limit: 50 }),
    refetchInterval: (q) =>
      (q.state.data ?? []).some((e) => !FINISHED.includes(e.state)) ? 1000 : 5000,
  });
  const refresh = () => {
    void client.invalidateQueries({ queryKey: ["replication-rules"] });
    void client.invalidateQueries({ queryKey: ["replication-executions"] });
  };
  const run = useMutation({
    mutationFn: (policy: string) => post("/replication/executions", { policy }),
    onSuccess: refresh,
  });
  const stop = useMutation({
    mutationFn: (id: number) => post(`/replication/executions/${id}/stop`),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (name: string) => del(`/replication/policies/${encodeURIComponent(name)}`),
    onSuccess: () => {
      setRemoving(undefined);
      refresh();
    },
  });
  return (
    <section>
      <div className="heading">
        <h1>Replication</h1>
        <button type="button" onClick={() => setAdding(!adding)}>
          {adding ? "Cancel" : "Add a rule"}
        </button>
      </div>
      {adding && (
        <AddRule
          onDone={() => {
            setAdding(false);
            refresh();
          }}
        />
      )}
      <ErrorBox error={rules.error ?? run.error ?? stop.error ?? remove.error} />
      {rules.isPending && <Loading what="replication rules" />}
      {rules.data && rules.data.length === 0 && <p>No replication rules yet.</p>}
      {rules.data && rules.data.length > 0 && (
        <table aria-label="Replication rules">
          <thead>
            <tr>
              <th>Name</th>
              <th>Mode</th>
              <th>Endpoint</th>
              <th>Repositories</th>
              <th>Tags</th>
              <th>Platforms</th>
              <th>Destination</th>
              <th>Trigger</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rules.data.map((r) => (
              <tr key={r.id}>
                <td>{r.name}</td>
                <td>{r.mode}</td>
                <td>{r.endpoint}</td>
                <td>{r.repositories.include.join(", ") || "all"}</td>
                <td>{r.tags.include.join(", ") || "all"}</td>
                <td>{r.platforms.join(", ") || "all"}</td>
                <td>
                  {r.destinationNamespace || "same"}
                  {r.flatten ? ` (flatten ${r.flatten})` : ""}
                </td>
                <td>{r.trigger}</td>
                <td>
                  <button type="button" onClick={() => run.mutate(r.name)}>
                    Run {r.name}
                  </button>{" "}
                  <button type="button" onClick={() => setRemoving(r.name)}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {removing && (
        <Confirm
          title={`Remove replication rule ${removing}?`}
          confirmLabel="Remove rule"
          onConfirm={() => remove.mutate(removing)}
          onCancel={() => setRemoving(undefined)}
          busy={remove.isPending}
          error={remove.error}
        >
          Its executions and tasks are removed with it.
        </Confirm>
      )}
      <h2>Executions</h2>
      {executions.data && executions.data.length === 0 && <p>No executions yet.</p>}
      {executions.data && executions.data.length > 0 && (
        <table aria-label="Replication executions">
          <thead>
            <tr>
              <th>#</th>
              <th>Rule</th>
              <th>Trigger</th>
              <th>State</th>
              <th>Copied</th>
              <th>Skipped</th>
              <th>Failed</th>
              <th>Bytes</th>
              <th>Started</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {executions.data.map((e) => (
              <tr key={e.id}>
                <td>
                  <Link href={`/admin/replication/executions/${e.id}`}>{e.id}</Link>
                </td>
                <td>{e.policy}</td>
                <td>{e.trigger}</td>
                <td>
                  <Badge tone={tone(e.state)}>{e.state}</Badge>
                </td>
                <td>{e.succeeded}</td>
                <td>{e.skipped}</td>
                <td>{e.failed}</td>
                <td>{formatBytes(e.bytes)}</td>
                <td>
                  <When iso={e.startedAt} text={e.startedAt ? formatWhen(e.startedAt) : "—"} />
                </td>
                <td>
                  {!FINISHED.includes(e.state) && e.state !== "stopping" && (
                    <button type="button" onClick={() => stop.mutate(e.id)}>
                      Stop
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function AdminReplicationExecution() {
  const { id } = useParams<{ id: string }>();
  const execution = useQuery({
    queryKey: ["replication-execution", id],
    queryFn: () => get<Execution>(`/replication/executions/${id}`),
    refetchInterval: (q) => (q.state.data && FINISHED.includes(q.state.data.state) ? false : 1000),
  });
  const tasks = useQuery({
    queryKey: ["replication-tasks", id, execution.data?.state],
    queryFn: () => get<Task[]>(`/replication/executions/${id}/tasks`),
  });
  const e = execution.data;
  return (
    <section>
      <p>
        <Link href="/admin/replication">← Replication</Link>
      </p>
      <ErrorBox error={execution.error ?? tasks.error} />
      {execution.isPending && <Loading what="execution" />}
      {e && (
        <>
          <h1>
            Execution {e.id} of {e.policy}
          </h1>
          <p data-testid="execution-state">
            <Badge tone={tone(e.state)}>{e.state}</Badge> {e.succeeded} copied, {e.skipped} skipped,{" "}
            {e.failed} failed of {e.total}, {formatBytes(e.bytes)}
            {e.durationMs !== null ? ` in ${(e.durationMs / 1000).toFixed(1)} s` : ""}
            {e.error ? ` — ${e.error}` : ""}
          </p>
        </>
      )}
      {tasks.data && (
        <table aria-label="Tasks">
          <thead>
            <tr>
              <th>Operation</th>
              <th>Source</th>
              <th>Destination</th>
              <th>State</th>
              <th>Bytes</th>
              <th>Referrers</th>
              <th>Duration</th>
              <th>Note</th>
            </tr>
          </thead>
          <tbody>
            {tasks.data.map((t) => (
              <tr key={t.id}>
                <td>{t.operation}</td>
                <td>
                  {t.sourceRepository}:{t.reference}
                </td>
                <td>{t.destinationRepository}</td>
                <td>
                  <Badge tone={tone(t.state)}>{t.state}</Badge>
                </td>
                <td>{formatBytes(t.bytes)}</td>
                <td>{t.referrers}</td>
                <td>{t.durationMs !== null ? `${(t.durationMs / 1000).toFixed(1)} s` : "—"}</td>
                <td>{t.error ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
