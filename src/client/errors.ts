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
