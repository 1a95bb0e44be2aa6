// A project's retention policy on its Policies tab: edit the rules (add, remove, change each
// rule's repository and tag selectors and what it keeps) and the schedule, save, delete the
// policy, and run it, dry (what would go and why) or for real after a confirmation. Every
// change goes through the management API, which validates the rules and names the bad field;
// the form keeps what was typed when the API refuses it.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { ApiError, del, get, post, put } from "../api.js";
import { formatWhen, shortDigest } from "../shape/format.js";
import {
  emptyRule,
  RETAIN_KINDS,
  RETAIN_LABELS,
  type RetentionDoc,
  type RetentionForm,
  type RuleForm,
  retentionDocument,
  retentionForm,
} from "../shape/retention.js";
import { Badge, Confirm, ErrorBox, Loading } from "../ui.js";

interface StoredRetention extends RetentionDoc {
  project: string;
  updatedBy: string;
  updatedAt: string;
}

interface Verdict {
  repository: string;
  digest: string;
  tags: string[];
  action: "retain" | "delete";
  reasons: string[];
}

interface RetentionReport {
  project: string;
  dryRun: boolean;
  evaluatedAt: string;
  repositories: string[];
  deleted: Verdict[];
  retained: Verdict[];
  skipped: { repository: string; digest: string; reason: string }[];
}

function RuleFields({
  index,
  rule,
  disabled,
  onChange,
  onRemove,
}: {
  index: number;
  rule: RuleForm;
  disabled: boolean;
  onChange: (rule: RuleForm) => void;
  onRemove?: () => void;
}) {
  const n = index + 1;
  const set = <K extends keyof RuleForm>(key: K, value: RuleForm[K]) =>
    onChange({ ...rule, [key]: value });
  return (
    <fieldset className="rule" data-testid="retention-rule" disabled={disabled}>
      <legend>Rule {n}</legend>
      <div className="fields">
        <label>
          Repositories
          <select
            aria-label={`Rule ${n} repositories selector`}
            value={rule.repositoriesMode}
            onChange={(e) => set("repositoriesMode", e.target.value as RuleForm["tagsMode"])}
          >
            <option value="matching">matching</option>
            <option value="excluding">excluding</option>
          </select>
        </label>
        <input
          aria-label={`Rule ${n} repository pattern`}
          value={rule.repositories}
          onChange={(e) => set("repositories", e.target.value)}
        />
        <label>
          Tags
          <select
            aria-label={`Rule ${n} tags selector`}
            value={rule.tagsMode}
            onChange={(e) => set("tagsMode", e.target.value as RuleForm["tagsMode"])}
          >
            <option value="matching">matching</option>
            <option value="excluding">excluding</option>
          </select>
        </label>
        <input
          aria-label={`Rule ${n} tag pattern`}
          value={rule.tags}
          onChange={(e) => set("tags", e.target.value)}
        />
        <label className="check">
          <input
            type="checkbox"
            checked={rule.untagged}
            onChange={(e) => set("untagged", e.target.checked)}
          />{" "}
          also untagged artifacts
        </label>
      </div>
      <div className="fields">
        <label>
          Keep
          <select
            aria-label={`Rule ${n} keeps`}
            value={rule.retain}
            onChange={(e) => set("retain", e.target.value as RuleForm["retain"])}
          >
            {RETAIN_KINDS.map((k) => (
              <option key={k} value={k}>
                {RETAIN_LABELS[k]}
              </option>
            ))}
          </select>
        </label>
        {rule.retain !== "always" && (
          <label>
            N
            <input
              aria-label={`Rule ${n} count`}
              inputMode="numeric"
              size={6}
              value={rule.count}
              onChange={(e) => set("count", e.target.value)}
            />
          </label>
        )}
        {onRemove && (
          <button type="button" className="small danger" onClick={onRemove}>
            Remove rule {n}
          </button>
        )}
      </div>
    </fieldset>
  );
}

function VerdictRows({ verdicts, action }: { verdicts: Verdict[]; action: string }) {
  return (
    <>
      {verdicts.map((v) => (
        <tr key={`${v.repository}@${v.digest}`} data-testid={`retention-${action}`}>
          <td>{action === "delete" ? <Badge tone="bad">delete</Badge> : <Badge>keep</Badge>}</td>
          <td className="break">{v.repository}</td>
          <td>
            <code title={v.digest}>{shortDigest(v.digest)}</code>
          </td>
          <td>{v.tags.join(", ") || <span className="muted">untagged</span>}</td>
          <td>{v.reasons.join("; ")}</td>
        </tr>
      ))}
    </>
  );
}

function ReportView({ report }: { report: RetentionReport }) {
  return (
    <section aria-label="Retention run result" data-testid="retention-report">
      <h3>
        {report.dryRun ? "Dry run" : "Run"}: {report.deleted.length}{" "}
        {report.dryRun ? "would be deleted" : "deleted"}, {report.retained.length} kept
        {report.skipped.length > 0 ? `, ${report.skipped.length} skipped` : ""}
      </h3>
      <p className="muted">
        {report.repositories.length} repositories evaluated {formatWhen(report.evaluatedAt)}.
      </p>
      {report.deleted.length + report.retained.length + report.skipped.length > 0 && (
        <div className="scroll">
          <table>
            <thead>
              <tr>
                <th>Action</th>
                <th>Repository</th>
                <th>Digest</th>
                <th>Tags</th>
                <th>Why</th>
              </tr>
            </thead>
            <tbody>
              <VerdictRows verdicts={report.deleted} action="delete" />
              <VerdictRows verdicts={report.retained} action="retain" />
              {report.skipped.map((s) => (
                <tr key={`skip ${s.repository}@${s.digest}`}>
                  <td>
                    <Badge tone="warn">skipped</Badge>
                  </td>
                  <td className="break">{s.repository}</td>
                  <td>
                    <code title={s.digest}>{shortDigest(s.digest)}</code>
                  </td>
                  <td />
                  <td>{s.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function RetentionEditor({ project, canManage }: { project: string; canManage: boolean }) {
  const client = useQueryClient();
  const path = `/projects/${project}/retention`;
  const key = ["retention", project];
  const stored = useQuery({
    queryKey: key,
    queryFn: async () => {
      try {
        return await get<StoredRetention>(path);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }
    },
  });
  if (stored.isPending) return <Loading what="retention policy" />;
  if (stored.error) return <ErrorBox error={stored.error} />;
  return (
    <RetentionForms
      // A fresh form whenever the stored policy changes (saved, deleted).
      key={stored.data?.updatedAt ?? "none"}
      project={project}
      path={path}
      stored={stored.data ?? null}
      canManage={canManage}
      onStored={(next) => client.setQueryData(key, next)}
    />
  );
}

function RetentionForms({
  project,
  path,
  stored,
  canManage,
  onStored,
}: {
  project: string;
  path: string;
  stored: StoredRetention | null;
  canManage: boolean;
  onStored: (next: StoredRetention | null) => void;
}) {
  const [form, setForm] = useState<RetentionForm>(() => retentionForm(stored));
  const [confirm, setConfirm] = useState<"delete" | "run" | null>(null);
  const [report, setReport] = useState<RetentionReport | null>(null);
  const save = useMutation({
    mutationFn: () => put<StoredRetention>(path, retentionDocument(form)),
    onSuccess: onStored,
  });
  const remove = useMutation({
    mutationFn: () => del(path),
    onSuccess: () => {
      setConfirm(null);
      onStored(null);
    },
  });
  const run = useMutation({
    mutationFn: (dryRun: boolean) => post<RetentionReport>(`${path}/runs`, { dryRun }),
    onSuccess: (result) => {
      setConfirm(null);
      setReport(result);
    },
  });
  const setRule = (i: number, rule: RuleForm) =>
    setForm({ ...form, rules: form.rules.map((r, j) => (j === i ? rule : r)) });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <>
      {stored ? (
        <p className="muted" data-testid="retention-status">
          Stored policy with {stored.rules.length} rule{stored.rules.length === 1 ? "" : "s"}
          {stored.schedule ? `, runs on schedule "${stored.schedule}";` : ", runs on demand only;"}{" "}
          changed by {stored.updatedBy} {formatWhen(stored.updatedAt)}.
        </p>
      ) : (
        <p className="muted" data-testid="retention-status">
          No retention policy: nothing is deleted automatically.
          {canManage ? " Fill in the rules below and save to set one." : ""}
        </p>
      )}
      <form className="stack" aria-label="Retention policy" onSubmit={submit}>
        <p className="muted">
          An artifact is kept when any rule keeps it; artifacts in repositories no rule selects are
          left alone.
        </p>
        {form.rules.map((rule, i) => (
          <RuleFields
            // biome-ignore lint/suspicious/noArrayIndexKey: rules have no identity but their place
            key={i}
            index={i}
            rule={rule}
            disabled={!canManage}
            onChange={(next) => setRule(i, next)}
            onRemove={
              canManage && form.rules.length > 1
                ? () => setForm({ ...form, rules: form.rules.filter((_, j) => j !== i) })
                : undefined
            }
          />
        ))}
        <label>
          Schedule (cron, empty = on demand only)
          <input
            value={form.schedule}
            placeholder="0 3 * * *"
            disabled={!canManage}
            onChange={(e) => setForm({ ...form, schedule: e.target.value })}
          />
        </label>
        <ErrorBox error={save.error} />
        {canManage && (
          <div className="toolbar">
            <button
              type="button"
              onClick={() => setForm({ ...form, rules: [...form.rules, emptyRule()] })}
            >
              Add rule
            </button>
            <button type="submit" className="primary" disabled={save.isPending}>
              Save retention policy
            </button>
            {save.isSuccess && (
              <span className="muted" role="status">
                Saved.
              </span>
            )}
          </div>
        )}
      </form>
      {stored && (
        <div className="toolbar">
          <button type="button" onClick={() => run.mutate(true)} disabled={run.isPending}>
            Dry run
          </button>
          {canManage && (
            <>
              <button type="button" className="danger" onClick={() => setConfirm("run")}>
                Run now
              </button>
              <button type="button" className="danger" onClick={() => setConfirm("delete")}>
                Delete retention policy
              </button>
            </>
          )}
        </div>
      )}
      {confirm === null && <ErrorBox error={run.error ?? remove.error} />}
      {report && <ReportView report={report} />}
      {confirm === "run" && (
        <Confirm
          title={`Run retention in ${project} now?`}
          confirmLabel="Delete what the rules do not keep"
          onConfirm={() => run.mutate(false)}
          onCancel={() => setConfirm(null)}
          busy={run.isPending}
          error={run.error}
        >
          <p>
            Artifacts no rule keeps are deleted with their tags. Use “Dry run” first to see the
            list.
          </p>
        </Confirm>
      )}
      {confirm === "delete" && (
        <Confirm
          title={`Delete the retention policy of ${project}?`}
          confirmLabel="Delete retention policy"
          onConfirm={() => remove.mutate()}
          onCancel={() => setConfirm(null)}
          busy={remove.isPending}
          error={remove.error}
        >
          <p>The rules and the schedule go; no artifact is deleted.</p>
        </Confirm>
      )}
    </>
  );
}
