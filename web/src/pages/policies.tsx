// A project's policies as they exist in the API: tag immutability rules (list, add,
// remove), the retention policy (pages/retention-policy.tsx: edit, dry-run, run, delete),
// the trust policy (pages/trust-policy.tsx: mode and trusted keys), and vulnerability
// scanning and the quality gate (pages/scan-policies.tsx); docs/policies.md.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { FormEvent } from "react";
import { del, get, post } from "../api.js";
import { ErrorBox } from "../ui.js";
import { RetentionEditor } from "./retention-policy.js";
import { GatePolicyEditor, ScanningPolicies } from "./scan-policies.js";
import { TrustEditor } from "./trust-policy.js";

interface ImmutableRule {
  id: string;
  repositoryPattern: string;
  tagPattern: string;
  createdBy: string;
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
      <div className="card wide">
        <h2>Retention</h2>
        <RetentionEditor project={project} canManage={canManage} />
      </div>
      <div className="card wide">
        <h2>Trust (signatures)</h2>
        <TrustEditor project={project} canManage={canManage} />
      </div>
      <ScanningPolicies project={project} canManage={canManage} canScan={canScan} />
      <GatePolicyEditor project={project} canSet={canSetGate} />
    </div>
  );
}
