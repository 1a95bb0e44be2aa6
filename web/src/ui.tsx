// Small building blocks every page uses: the API's error message box, loading line, copy
// button, tab bar (links, so every tab is a URL), pager, confirmation dialog (a native
// <dialog>: focus moves in, Tab stays in, Escape closes, focus returns to the opener),
// badges, and URL-backed query state.
import { type KeyboardEvent, type ReactNode, useEffect, useRef, useState } from "react";
import { Link, useLocation, useSearch } from "wouter";
import { ApiError } from "./api.js";

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  const status = error instanceof ApiError ? ` (${error.status} ${error.code})` : "";
  return (
    <div className="error" role="alert">
      {message}
      <span className="muted">{status}</span>
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function CopyButton({ text, label }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const area = document.createElement("textarea");
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    setDone(true);
    setTimeout(() => setDone(false), 1500);
  };
  return (
    <button
      type="button"
      className="small"
      onClick={copy}
      aria-label={`Copy ${label ?? text}`}
      title={`Copy ${label ?? text}`}
    >
      {done ? "Copied" : "Copy"}
    </button>
  );
}

export function Tabs({
  base,
  tabs,
  current,
}: {
  base: string;
  tabs: readonly string[];
  current: string;
}) {
  return (
    <nav className="tabs" aria-label="Sections">
      {tabs.map((t) => (
        <Link key={t} href={`${base}/${t}`} aria-current={t === current ? "page" : undefined}>
          {t[0]?.toUpperCase()}
          {t.slice(1)}
        </Link>
      ))}
    </nav>
  );
}

export function Pager({
  page,
  pageSize,
  total,
  onPage,
}: {
  page: number;
  pageSize: number;
  total: number;
  onPage: (page: number) => void;
}) {
  const last = Math.max(1, Math.ceil(total / pageSize));
  if (last <= 1) return <p className="muted">{total} in total</p>;
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        Previous
      </button>
      <span>
        Page {page} of {last} ({total})
      </span>
      <button type="button" disabled={page >= last} onClick={() => onPage(page + 1)}>
        Next
      </button>
    </nav>
  );
}

export function Badge({ children, tone }: { children: ReactNode; tone?: string }) {
  return <span className={`badge ${tone ?? ""}`}>{children}</span>;
}

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** Keeps Tab and Shift+Tab inside a modal: from the last control to the first and back. */
function trapTab(event: KeyboardEvent<HTMLElement>, container: HTMLElement | null): void {
  if (event.key !== "Tab" || !container) return;
  const controls = [...container.querySelectorAll<HTMLElement>(FOCUSABLE)];
  const first = controls[0];
  const last = controls[controls.length - 1];
  if (!first || !last) return;
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

/** A modal confirmation listing what an action does; resolves through onConfirm/onCancel. */
export function Confirm({
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
  busy,
  error,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  busy?: boolean;
  error?: unknown;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    // Focus goes back where it was (the button that opened the dialog) when it closes.
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      dialog?.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      aria-labelledby="confirm-title"
      onCancel={(event) => {
        // Escape: the page closes the dialog by unmounting it, so focus is restored above.
        event.preventDefault();
        onCancel();
      }}
      onKeyDown={(event) => trapTab(event, ref.current)}
    >
      <h2 id="confirm-title">{title}</h2>
      {children}
      <ErrorBox error={error} />
      <div className="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="danger" onClick={onConfirm} disabled={busy}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

/** One query-string parameter as state: reloading the URL gives the same view. */
export function useQueryParam(name: string, fallback = ""): [string, (value: string) => void] {
  const search = useSearch();
  const [location, navigate] = useLocation();
  const value = new URLSearchParams(search).get(name) ?? fallback;
  const set = (next: string) => {
    const params = new URLSearchParams(search);
    if (next === "" || next === fallback) params.delete(name);
    else params.set(name, next);
    if (name !== "page") params.delete("page");
    const text = params.toString();
    navigate(text ? `${location}?${text}` : location, { replace: true });
  };
  return [value, set];
}

export function usePageParam(): [number, (page: number) => void] {
  const [text, set] = useQueryParam("page", "1");
  const n = Number(text);
  return [Number.isInteger(n) && n >= 1 ? n : 1, (p: number) => set(String(p))];
}

/** Date-time cell with the exact time on hover. */
export function When({ iso, text }: { iso: string | null; text: string }) {
  return iso ? (
    <time dateTime={iso} title={iso}>
      {text}
    </time>
  ) : (
    <span className="muted">{text}</span>
  );
}
