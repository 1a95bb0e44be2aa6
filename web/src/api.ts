// The UI's only door to the server: JSON over /api/v1 with the session cookie, and the
// CSRF token (from POST/GET /session) in X-CSRF-Token on every state-changing request.
// Failures become ApiError carrying the API's own message and status, so pages show what
// the server said. It must never read or store credentials beyond the CSRF token in memory.

export const API = "/api/v1";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

let csrfToken: string | undefined;

export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** `team/app` as the API's {repository} path segment. */
export function repoSegment(repository: string): string {
  return encodeURIComponent(repository);
}

async function errorOf(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { errors?: { code: string; message: string }[] };
    const first = body.errors?.[0];
    if (first) return new ApiError(response.status, first.code, first.message);
  } catch {
    // not JSON: fall through
  }
  return new ApiError(response.status, "HTTP_ERROR", `${response.status} ${response.statusText}`);
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  // Marks the request as the UI's: a 401 then comes without a Basic challenge, so the
  // browser shows no password dialog of its own (src/api/ui-requests.ts).
  const headers: Record<string, string> = {
    accept: "application/json",
    "x-requested-with": "XMLHttpRequest",
  };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["x-csrf-token"] = csrfToken;
  const response = await fetch(`${API}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const get = <T>(path: string, query?: Query) => request<T>("GET", withQuery(path, query));
export const post = <T>(path: string, body?: unknown) => request<T>("POST", path, body ?? {});
export const put = <T>(path: string, body: unknown) => request<T>("PUT", path, body);
export const patch = <T>(path: string, body: unknown) => request<T>("PATCH", path, body);
export const del = <T = void>(path: string) => request<T>("DELETE", path);

// Shapes the pages read (the OpenAPI document at /api/v1/openapi.json is the reference).
export interface Session {
  username: string;
  isAdmin: boolean;
  csrfToken: string;
  expiresAt: string;
}
export interface Project {
  name: string;
  public: boolean;
  quotaBytes: number | null;
  role: string | null;
  createdAt: string;
}
export interface Quota {
  project: string;
  limitBytes: number | null;
  usedBytes: number;
}
export interface Repository {
  name: string;
  project: string;
  artifactCount: number;
  tagCount: number;
  sizeBytes: number;
  pushedAt: string | null;
  pulledAt: string | null;
}
export interface Artifact {
  digest: string;
  mediaType: string;
  artifactType: string | null;
  size: number;
  tags: string[];
  pushedAt: string;
  pulledAt: string | null;
}
export interface TagRow {
  name: string;
  digest: string;
  mediaType: string;
  artifactType: string | null;
  kind: string;
  size: number;
  pushedAt: string;
  pulledAt: string | null;
}
export interface Attachment {
  scheme: "tag" | "referrer";
  kind: string;
  reference: string;
  digest: string;
  artifactType: string | null;
  annotations: Record<string, string>;
  children: Attachment[];
}
export interface ArtifactDetail {
  repository: string;
  digest: string;
  mediaType: string;
  artifactType: string | null;
  kind: string;
  tags: string[];
  annotations: Record<string, string>;
  subject: string | null;
  platforms: { digest: string; platform: string | null; size: number }[];
  config: {
    created: string | null;
    platform: string;
    entrypoint: string[] | null;
    cmd: string[] | null;
    env: string[];
    labels: Record<string, string>;
    user: string;
    workingDir: string;
    exposedPorts: string[];
  } | null;
  layers: {
    digest: string;
    mediaType: string;
    size: number;
    createdBy: string | null;
    command: string | null;
  }[];
  history: { createdBy: string | null; created: string | null; emptyLayer: boolean }[];
  warnings: string[];
  attachments: Attachment[];
}
export interface Member {
  username: string;
  role: string;
  createdAt: string;
}
export interface Robot {
  id: string;
  name: string;
  level: "system" | "project";
  project: string | null;
  description: string | null;
  disabled: boolean;
  expiresAt: string | null;
  permissions: { project: string; actions: string[] }[];
  createdAt: string;
}
export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  actorKind: string;
  action: string;
  resourceType: string;
  resource: string;
  project: string | null;
  remoteAddress: string | null;
  outcome: "success" | "failure";
  detail: string | null;
}
export interface User {
  username: string;
  isAdmin: boolean;
  disabled: boolean;
  email: string | null;
  createdAt: string;
}
export interface Permissions {
  project: string;
  role: string | null;
  isAdmin: boolean;
  actions: string[];
}
export interface Job {
  id: number;
  kind: string;
  state: string;
  createdAt?: string;
  startedAt?: string | null;
  finishedAt?: string | null;
  error?: string | null;
  log?: { at: string; level: string; message: string }[];
}

export interface RegistryEndpoint {
  id: string;
  name: string;
  type: string;
  url: string;
  username: string | null;
  hasPassword: boolean;
  insecure: boolean;
  caCert: string | null;
  description: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

/** GET that answers null on 404 (nothing recorded yet) instead of an error. */
export async function getOrNull<T>(path: string, query?: Record<string, string | number>) {
  try {
    return await get<T>(path, query);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}
