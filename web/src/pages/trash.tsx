// The trash (system administrators; docs/lifecycle.md): deleted artifacts and tags, newest
// first, filtered by repository text and kind, paginated; restore an entry (the artifact with
// its tags and referrers, or the tag) and purge: the expired entries or one entry for good.
// A refused restore (a tag taken since) shows the API's sentence; nothing changes.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { get, type Page, post } from "../api.js";
import { formatBytes, formatWhen, shortDigest } from "../shape/format.js";
import {
  Badge,
  Confirm,
  ErrorBox,
  Loading,
  Pager,
  usePageParam,
  useQueryParam,
  When,
} from "../ui.js";

export interface TrashEntry {
  id: number;
  repository: string;
  kind: "artifact" | "tag";
  digest: string;
  tag: string | null;
  tags: string[];
  manifests: number;
  size: number;
  reason: string;
  deletedBy: string;
  deletedAt: string;
  expiresAt: string;
}

const PAGE_SIZE = 50;

function label(e: TrashEntry): string {
  return e.kind === "tag" ? `${e.repository}:${e.tag}` : `${e.repository}@${shortDigest(e.digest)}`;
}

export function AdminTrash() {
  const client = useQueryClient();
  const [q, setQ] = useQueryParam("q");
  const [kind, setKind] = useQueryParam("kind");
  const [page, setPage] = usePageParam();
  const [purging, setPurging] = useState<TrashEntry | "expired" | undefined>();
  const [notice, setNotice] = useState("");
  const list = useQuery({
    queryKey: ["trash", q, kind, page],
    queryFn: () => get<Page<TrashEntry>>("/trash", { q, kind, page, page_size: PAGE_SIZE }),
    placeholderData: (previous) => previous,
  });
  const restore = useMutation({
    mutationFn: (e: TrashEntry) =>
      post<{ manifests: { digest: string; tags: string[] }[] }>(`/trash/${e.id}/restore`),
    onSuccess: (result, e) => {
      setNotice(
        `Restored ${label(e)}${result.manifests.length > 1 ? ` with ${result.manifests.length - 1} referrers` : ""}.`,
      );
      return client.invalidateQueries({ queryKey: ["trash"] });
    },
  });
  const purge = useMutation({
    mutationFn: (target: TrashEntry | "expired") =>
      post<{ id: number }>("/trash/purge", target === "expired" ? {} : { ids: [target.id] }),
    onSuccess: (job) => {
      setPurging(undefined);
      setNotice(`Purge queued as job ${job.id}.`);
      // The purge runs as a job: look again shortly.
      setTimeout(() => client.invalidateQueries({ queryKey: ["trash"] }), 1500);
    },
  });
  return (
    <section>
      <div className="heading">
        <h1>Trash</h1>
        <button type="button" onClick={() => setPurging("expired")}>
          Purge expired
        </button>
      </div>
      <p className="hint">
        Deleted artifacts and tags stay here, restorable, until they expire (setting trash.keep);
        the hourly purge then removes them and the next garbage collection frees their blobs.
      </p>
      <div className="toolbar">
        <input
          aria-label="Filter"
          placeholder="repository, digest or tag"
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
        <select aria-label="Kind" value={kind} onChange={(e) => setKind(e.target.value)}>
          <option value="">artifacts and tags</option>
          <option value="artifact">artifacts</option>
          <option value="tag">tags</option>
        </select>
      </div>
      {notice && (
        <p role="status" className="notice">
          {notice}
        </p>
      )}
      <ErrorBox error={list.error ?? restore.error} />
      {list.isPending && <Loading what="trash" />}
      {list.data && list.data.total === 0 && <p>The trash is empty.</p>}
      {list.data && list.data.total > 0 && (
        <>
          <table>
            <thead>
              <tr>
                <th>Deleted</th>
                <th>Kind</th>
                <th>Tags</th>
                <th>Size</th>
                <th>Reason</th>
                <th>By</th>
                <th>Expires</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((e) => (
                <tr key={e.id} data-testid="trash-row">
                  <td>
                    <code title={e.digest}>{label(e)}</code>
                  </td>
                  <td>
                    <Badge>
                      {e.kind === "artifact" && e.manifests > 1
                        ? `artifact + ${e.manifests - 1} referrers`
                        : e.kind}
                    </Badge>
                  </td>
                  <td>{e.tags.join(", ") || "—"}</td>
                  <td>{formatBytes(e.size)}</td>
                  <td>{e.reason}</td>
                  <td>
                    {e.deletedBy}, <When iso={e.deletedAt} text={formatWhen(e.deletedAt)} />
                  </td>
                  <td>
                    <When iso={e.expiresAt} text={formatWhen(e.expiresAt)} />
                  </td>
                  <td className="actions">
                    <button
                      type="button"
                      onClick={() => restore.mutate(e)}
                      disabled={restore.isPending}
                      aria-label={`Restore ${label(e)}`}
                    >
                      Restore
                    </button>
                    <button
                      type="button"
                      className="danger"
                      onClick={() => setPurging(e)}
                      aria-label={`Purge ${label(e)}`}
                    >
                      Purge
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={page} pageSize={PAGE_SIZE} total={list.data.total} onPage={setPage} />
        </>
      )}
      {purging && (
        <Confirm
          title={purging === "expired" ? "Purge expired entries?" : `Purge ${label(purging)}?`}
          confirmLabel="Purge for good"
          busy={purge.isPending}
          error={purge.error}
          onCancel={() => setPurging(undefined)}
          onConfirm={() => purge.mutate(purging)}
        >
          <p>
            {purging === "expired"
              ? "Every entry past its expiry is removed for good."
              : "This entry is removed for good: it can no longer be restored."}{" "}
            Garbage collection then frees the blobs nothing else uses.
          </p>
        </Confirm>
      )}
    </section>
  );
}
