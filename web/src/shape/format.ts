// How the UI writes numbers, digests, times and pull commands. Byte sizes use the CLI's own
// formatter (src/analyze/byte-size.ts, SI units) so the UI and `berth analyze` agree.
// Pure: no DOM, no I/O (unit-tested in test/web/shape.test.ts).
import { formatByteSize, parseByteSize } from "../../../src/analyze/byte-size.js";

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return "—";
  return formatByteSize(Math.round(bytes));
}

/** `sha256:0123456789ab` (algorithm plus the first 12 hex digits). */
export function shortDigest(digest: string): string {
  const colon = digest.indexOf(":");
  return colon === -1 ? digest.slice(0, 12) : digest.slice(0, colon + 13);
}

/** `3 min ago`, `2 days ago`; "never" for null; an absolute date past 30 days. */
export function formatWhen(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "never";
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return "—";
  const seconds = Math.round((now - at) / 1000);
  if (seconds < 0) return new Date(at).toISOString().slice(0, 10);
  if (seconds < 60) return "just now";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.floor(hours / 24);
  if (days <= 30) return `${days} day${days === 1 ? "" : "s"} ago`;
  return new Date(at).toISOString().slice(0, 10);
}

/**
 * A quota limit as typed (`20GB`, `1.5 GiB`, `512`; empty = unlimited) for PUT …/quota:
 * `{ limitBytes }`, or `{ error }` with a sentence when the text is not a size.
 */
export function quotaLimitRequest(text: string): { limitBytes: number | null } | { error: string } {
  if (text.trim() === "") return { limitBytes: null };
  const bytes = parseByteSize(text);
  if (bytes === undefined)
    return { error: `"${text.trim()}" is not a size: write e.g. 20GB, 512MiB, or leave it empty` };
  return { limitBytes: bytes };
}

/** Used/limit as a fraction 0..1 for a quota bar; undefined when unlimited. */
export function quotaFraction(used: number, limit: number | null): number | undefined {
  if (limit === null || limit <= 0) return undefined;
  return Math.min(1, Math.max(0, used / limit));
}

export interface PullCommand {
  readonly tool: "docker" | "podman" | "skopeo";
  readonly command: string;
}

/**
 * The pull commands for `repository` at `reference` (a tag, or a digest, which is joined
 * with `@`) on the registry `host` (as the browser reaches it: `registry.example:5000`).
 */
export function pullCommands(host: string, repository: string, reference: string): PullCommand[] {
  const ref = `${host}/${repository}${reference.includes(":") ? "@" : ":"}${reference}`;
  const dir = repository.split("/").pop() ?? "image";
  return [
    { tool: "docker", command: `docker pull ${ref}` },
    { tool: "podman", command: `podman pull ${ref}` },
    { tool: "skopeo", command: `skopeo copy docker://${ref} oci:${dir}` },
  ];
}

/** Robot expiry from the form: "" = never, else a duration the API reads (`30d`, `12h`). */
export function expiryRequest(text: string): { expiresIn?: string } {
  const t = text.trim();
  return t === "" ? {} : { expiresIn: t };
}
