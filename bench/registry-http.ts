// Raw Distribution-API calls the benchmarks make with undici: small blobs, mounts, manifest
// puts, paginated listings (big blobs go through curl-transfer.ts). Independent of Berth's
// own client so both servers meet the same bytes on the wire.
import { Agent, request } from "undici";

export const agent = new Agent({ connections: 64, pipelining: 1, keepAliveTimeout: 30_000 });

export class BenchHttpError extends Error {}

/** The Authorization header for `auth` (Berth as shipped), none for open servers. */
function authHeaders(auth: string | undefined): Record<string, string> {
  return auth ? { authorization: auth } : {};
}

export async function startUpload(base: string, repo: string, auth?: string): Promise<string> {
  const res = await request(`${base}/v2/${repo}/blobs/uploads/`, {
    method: "POST",
    dispatcher: agent,
    headers: authHeaders(auth),
  });
  await res.body.dump();
  if (res.statusCode !== 202) throw new BenchHttpError(`POST upload: HTTP ${res.statusCode}`);
  return absolute(base, String(res.headers.location));
}

/** Uploads small in-memory content (configs, tiny layers) as one monolithic blob. */
export async function pushSmallBlob(
  base: string,
  repo: string,
  content: Buffer,
  digest: string,
  auth?: string,
) {
  const location = await startUpload(base, repo, auth);
  const res = await request(withDigest(location, digest), {
    method: "PUT",
    dispatcher: agent,
    headers: {
      ...authHeaders(auth),
      "content-type": "application/octet-stream",
      "content-length": String(content.length),
    },
    body: content,
  });
  await res.body.dump();
  if (res.statusCode !== 201) throw new BenchHttpError(`PUT small blob: HTTP ${res.statusCode}`);
}

/** Cross-repository mount; returns true when the registry mounted (201). */
export async function mountBlob(
  base: string,
  repo: string,
  from: string,
  digest: string,
  auth?: string,
) {
  const res = await request(
    `${base}/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
    { method: "POST", dispatcher: agent, headers: authHeaders(auth) },
  );
  await res.body.dump();
  return res.statusCode === 201;
}

export async function putManifest(
  base: string,
  repo: string,
  reference: string,
  bytes: Buffer,
  mediaType: string,
  auth?: string,
): Promise<void> {
  const res = await request(`${base}/v2/${repo}/manifests/${reference}`, {
    method: "PUT",
    dispatcher: agent,
    headers: { ...authHeaders(auth), "content-type": mediaType },
    body: bytes,
  });
  await res.body.dump();
  if (res.statusCode !== 201) throw new BenchHttpError(`PUT manifest: HTTP ${res.statusCode}`);
}

/**
 * Walks a paginated list (`tags/list` or `_catalog`) following `Link` headers; returns how
 * many items and how many pages (requests) it took.
 */
export async function walkPaginated(
  base: string,
  firstPath: string,
  key: string,
  auth?: string,
): Promise<{ items: number; pages: number }> {
  let next: string | undefined = firstPath;
  let items = 0;
  let pages = 0;
  while (next) {
    const res = await request(`${base}${next}`, { dispatcher: agent, headers: authHeaders(auth) });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new BenchHttpError(`GET ${next}: HTTP ${res.statusCode}`);
    }
    const page = (await res.body.json()) as Record<string, string[] | null>;
    items += page[key]?.length ?? 0;
    pages++;
    next = nextLink(res.headers.link);
  }
  return { items, pages };
}

function nextLink(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value ? /<([^>]+)>;\s*rel="next"/.exec(value) : null;
  if (!match) return undefined;
  const url = match[1]!;
  return url.startsWith("http") ? new URL(url).pathname + new URL(url).search : url;
}

function absolute(base: string, location: string): string {
  return location.startsWith("http") ? location : `${base}${location}`;
}

function withDigest(location: string, digest: string): string {
  return `${location}${location.includes("?") ? "&" : "?"}digest=${encodeURIComponent(digest)}`;
}
