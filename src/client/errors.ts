// Errors the registry client raises, each carrying one sentence a user can act on. The CLI
// maps them to exit codes; replication and the proxy cache match on `kind`.
export type RegistryErrorKind =
  | "unauthorized"
  | "denied"
  | "not-found"
  | "unreachable"
  | "protocol"
  | "too-many-requests"
  | "server";

export class RegistryError extends Error {
  constructor(
    readonly kind: RegistryErrorKind,
    message: string,
    readonly status?: number,
    /** The spec error code (`MANIFEST_UNKNOWN`, …) when the registry sent one. */
    readonly code?: string,
  ) {
    super(message);
    this.name = "RegistryError";
  }
}

/** First error of a distribution-spec error body, `{"errors":[{"code","message"}]}`. */
export function specErrorOf(text: string): { code?: string; message?: string } {
  try {
    const doc = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const first = doc.errors?.[0];
    return { code: first?.code, message: first?.message };
  } catch {
    return {};
  }
}

/** 401 for credentials: the password (or token) is wrong. */
export function refusedCredentials(registry: string, username: string): RegistryError {
  return new RegistryError(
    "unauthorized",
    `${registry} refused the credentials of ${username} (wrong username or password)`,
    401,
  );
}

/** What a request does, in the words of registry permissions (pull, push, delete). */
export function requestAction(method: string, scopes: string[]): string {
  const repository = scopes
    .map((s) => /^repository:(.+):[^:]*$/.exec(s)?.[1])
    .find((r): r is string => r !== undefined);
  if (scopes.some((s) => s.startsWith("registry:catalog"))) return "list the catalog";
  const verb =
    method === "GET" || method === "HEAD"
      ? "pull from"
      : method === "DELETE"
        ? "delete from"
        : "push to";
  return repository ? `${verb} ${repository}` : (verb.split(" ")[0] ?? verb);
}

/** 403/DENIED, or a token without the scope: the account is known but may not do this. */
export function notPermitted(
  registry: string,
  username: string,
  action: string,
  detail?: string,
): RegistryError {
  return new RegistryError(
    "denied",
    `${username} may not ${action} on ${registry}${detail ? ` (${detail})` : ""}`,
    403,
    "DENIED",
  );
}
