// The distribution spec's error codes and the HTTP status each one answers with, and the
// RegistryError that routes throw. The JSON body is `{"errors":[{code,message,detail}]}`.
// Messages are for humans; they never carry stack traces or internal paths.

export const ERROR_STATUS = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
  /** Not in the spec's table; CNCF distribution uses it for bad `n` values. */
  PAGINATION_NUMBER_INVALID: 400,
  /** Not in the spec's table; distribution's code for internal failures. */
  UNKNOWN: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class RegistryError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: { status?: number; detail?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "RegistryError";
    this.status = options.status ?? ERROR_STATUS[code];
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }

  readonly detail: unknown;
  readonly headers: Record<string, string>;
}

export function errorBody(err: RegistryError): string {
  const entry: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.detail !== undefined) entry.detail = err.detail;
  return JSON.stringify({ errors: [entry] });
}
