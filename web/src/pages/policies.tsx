// A project's policies as they exist in the API: tag immutability rules (list, add,
// remove), vulnerability scanning and the quality gate (pages/scan-policies.tsx), and the
// retention and trust (signature enforcement) policies shown as stored (edit them with
// `berth admin` or the API; docs/policies.md).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { FormEvent } from "react";
import { ApiError, del, get, post } from "../api.js";
import { ErrorBox, Loading } from "../ui.js";
import { GatePolicyEditor, ScanningPolicies } from "./scan-policies.js";

interface ImmutableRule {
  id: string;
  repositoryPattern: string;
  tagPattern: string;
  createdBy: string;
}

function StoredPolicy({
  title,
  path,
  queryKey,
}: {
  title: string;
  path: string;
  queryKey: string;
}) {
  const query = useQuery({
    queryKey: [queryKey, path],
    queryFn: async () => {
      try {
        return await get<unknown>(path);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }
    },
  });
  return (
    <div className="card">
      <h2>{title}</h2>
      <ErrorBox error={query.error} />
      {query.isPending ? (
        <Loading what={title} />
      ) : query.data === null ? (
        <p className="muted">None set.</p>
      ) : (
        <pre className="json">{JSON.stringify(query.data, null, 2)}</pre>
      )}
    </div>
  );
}

export function ProjectPolicies({
  project,
  canManage,
  canSetGate,
  canScan,
}: {
  project: string;
  canManage: boolean;
  canSetGate: boolean;
  canScan: boolean;
}) {
  const client = useQueryClient();
  const rules = useQuery({
    queryKey: ["immutable", project],
    queryFn: () => get<ImmutableRule[]>(`/projects/${project}/immutable-rules`),
  });
  const refresh = () => client.invalidateQueries({ queryKey: ["immutable", project] });
  const add = useMutation({
    mutationFn: (body: { repositoryPattern: string; tagPattern: string }) =>
      post(`/projects/${project}/immutable-rules`, body),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (id: string) => del(`/projects/${project}/immutable-rules/${id}`),
    onSuccess: refresh,
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    add.mutate({
      repositoryPattern: String(form.get("repositoryPattern")),
      tagPattern: String(form.get("tagPattern")),
    });
  };
  return (
    <div className="grid">
      <div className="card">
        <h2>Tag immutability</h2>
        <ErrorBox error={rules.error ?? add.error ?? remove.error} />
        {rules.data && rules.data.length === 0 && (
          <p className="muted">No rules: every tag may move.</p>
        )}
        <ul>
          {rules.data?.map((r) => (
            <li key={r.id}>
              <code>{r.repositoryPattern}</code> : <code>{r.tagPattern}</code>{" "}
              <span className="muted">by {r.createdBy}</span>{" "}
              {canManage && (
                <button type="button" className="small danger" onClick={() => remove.mutate(r.id)}>
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
        {canManage && (
          <form className="toolbar" onSubmit={submit} aria-label="Add immutability rule">
            <input
              name="repositoryPattern"
              aria-label="Repository pattern"
              defaultValue="**"
              required
            />
            <input name="tagPattern" aria-label="Tag pattern" placeholder="v*" required />
            <button type="submit" className="primary">
              Add rule
            </button>
          </form>
        )}
      </div>
      <StoredPolicy
        title="Retention"
        path={`/projects/${project}/retention`}
        queryKey="retention"
      />
      <StoredPolicy
        title="Trust (signatures)"
        path={`/projects/${project}/trust`}
        queryKey="trust"
      />
      <ScanningPolicies project={project} canManage={canManage} canScan={canScan} />
      <GatePolicyEditor project={project} canSet={canSetGate} />
    </div>
  );
}
