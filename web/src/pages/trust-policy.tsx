// A project's trust policy (signature enforcement on pull) on its Policies tab: the mode
// (off, report, enforce) and the trusted public keys (PEM; add, remove, shown with their
// fingerprints as the server computed them). Saving goes through PUT /projects/{p}/trust,
// which parses every key and refuses a bad one naming it (keys[i]); the form keeps what was
// typed. Turning the policy off with "Remove all keys" is the "delete" of this policy.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { get, put } from "../api.js";
import { formatWhen } from "../shape/format.js";
import { ErrorBox, Loading } from "../ui.js";

const MODES = ["off", "report", "enforce"] as const;
type TrustMode = (typeof MODES)[number];

const MODE_HELP: Readonly<Record<TrustMode, string>> = {
  off: "signatures are not checked",
  report: "pulls of unsigned artifacts pass and are recorded in the audit log",
  enforce: "pulls of artifacts without a signature by a trusted key are refused",
};

interface TrustPolicy {
  project: string;
  mode: TrustMode;
  updatedAt: string | null;
  keys: { fingerprint: string; publicKey: string; createdAt?: string }[];
}

export function TrustEditor({ project, canManage }: { project: string; canManage: boolean }) {
  const client = useQueryClient();
  const path = `/projects/${project}/trust`;
  const stored = useQuery({ queryKey: ["trust", project], queryFn: () => get<TrustPolicy>(path) });
  if (stored.isPending) return <Loading what="trust policy" />;
  if (stored.error) return <ErrorBox error={stored.error} />;
  return (
    <TrustForm
      key={stored.data.updatedAt ?? "never"}
      path={path}
      stored={stored.data}
      canManage={canManage}
      onStored={(next) => client.setQueryData(["trust", project], next)}
    />
  );
}

function TrustForm({
  path,
  stored,
  canManage,
  onStored,
}: {
  path: string;
  stored: TrustPolicy;
  canManage: boolean;
  onStored: (next: TrustPolicy) => void;
}) {
  const [mode, setMode] = useState<TrustMode>(stored.mode);
  const [keys, setKeys] = useState<string[]>(stored.keys.map((k) => k.publicKey));
  const save = useMutation({
    mutationFn: (body: { mode: TrustMode; keys: string[] }) => put<TrustPolicy>(path, body),
    onSuccess: onStored,
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    save.mutate({ mode, keys: keys.filter((k) => k.trim() !== "") });
  };
  const fingerprint = (pem: string) =>
    stored.keys.find((k) => k.publicKey.trim() === pem.trim())?.fingerprint;
  return (
    <form className="stack" aria-label="Trust policy" onSubmit={submit}>
      <p className="muted" data-testid="trust-status">
        Mode <strong>{stored.mode}</strong> with {stored.keys.length} trusted key
        {stored.keys.length === 1 ? "" : "s"}
        {stored.updatedAt ? `, changed ${formatWhen(stored.updatedAt)}` : ""}.
      </p>
      <fieldset className="choices" disabled={!canManage}>
        <legend>Mode</legend>
        {MODES.map((m) => (
          <label key={m} className="check">
            <input
              type="radio"
              name="trust-mode"
              value={m}
              checked={mode === m}
              onChange={() => setMode(m)}
            />{" "}
            {m}: <span className="muted">{MODE_HELP[m]}</span>
          </label>
        ))}
      </fieldset>
      {keys.map((pem, i) => {
        const fp = fingerprint(pem);
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: a key being typed has no identity yet
          <div key={i} className="stack" data-testid="trust-key">
            <label>
              Trusted public key {i + 1} (PEM)
              <textarea
                rows={4}
                value={pem}
                disabled={!canManage}
                spellCheck={false}
                onChange={(e) => setKeys(keys.map((k, j) => (j === i ? e.target.value : k)))}
              />
            </label>
            {fp && (
              <span className="muted">
                Fingerprint <code>{fp}</code>
              </span>
            )}
            {canManage && (
              <button
                type="button"
                className="small danger"
                onClick={() => setKeys(keys.filter((_, j) => j !== i))}
              >
                Remove key {i + 1}
              </button>
            )}
          </div>
        );
      })}
      <ErrorBox error={save.error} />
      {canManage && (
        <div className="toolbar">
          <button type="button" onClick={() => setKeys([...keys, ""])}>
            Add key
          </button>
          <button type="submit" className="primary" disabled={save.isPending}>
            Save trust policy
          </button>
          {(stored.mode !== "off" || stored.keys.length > 0) && (
            <button
              type="button"
              className="danger"
              onClick={() => {
                setMode("off");
                setKeys([]);
                save.mutate({ mode: "off", keys: [] });
              }}
            >
              Turn off and remove all keys
            </button>
          )}
          {save.isSuccess && (
            <span className="muted" role="status">
              Saved.
            </span>
          )}
        </div>
      )}
    </form>
  );
}
