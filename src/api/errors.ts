// Errors of the management API: one class carrying status + code, and the Fastify error
// handler that renders every failure as `{"errors":[{"code","message"}]}`. Validation
// failures become 400 INVALID_INPUT; anything unexpected is logged for the operator and
// answered as 500 without details (never a stack trace to the client).
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { ManagementError } from "../auth/management.js";
import { RegistryError } from "../registry/errors.js";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const unauthorized = (message = "authentication required") =>
  new ApiError(401, "UNAUTHORIZED", message, { "www-authenticate": 'Basic realm="berth"' });
export const forbidden = (message = "you are not allowed to do this") =>
  new ApiError(403, "FORBIDDEN", message);
export const notFound = (message: string) => new ApiError(404, "NOT_FOUND", message);
export const conflict = (message: string) => new ApiError(409, "CONFLICT", message);
export const badRequest = (message: string) => new ApiError(400, "INVALID_INPUT", message);
/** A locked login (failed-login throttle): 429 with Retry-After. */
export const tooManyLogins = (retryAfterSeconds = 60) =>
  new ApiError(429, "TOO_MANY_REQUESTS", "too many failed logins; try again later", {
    "retry-after": String(retryAfterSeconds),
  });

const MANAGEMENT_STATUS: Record<ManagementError["code"], [number, string]> = {
  NOT_FOUND: [404, "NOT_FOUND"],
  CONFLICT: [409, "CONFLICT"],
  INVALID: [400, "INVALID_INPUT"],
  FORBIDDEN: [403, "FORBIDDEN"],
};

export function errorBody(code: string, message: string) {
  return { errors: [{ code, message }] };
}

export function apiErrorHandler(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  if (error instanceof ApiError) {
    for (const [k, v] of Object.entries(error.headers)) reply.header(k, v);
    return reply.code(error.status).send(errorBody(error.code, error.message));
  }
  // Refusals from the registry's own code paths (immutable tags, index-protected deletes).
  if (error instanceof RegistryError && error.status < 500) {
    return reply.code(error.status).send(errorBody(error.code, error.message));
  }
  if (error instanceof ManagementError) {
    const [status, code] = MANAGEMENT_STATUS[error.code];
    return reply.code(status).send(errorBody(code, error.message));
  }
  const fe = error as FastifyError;
  if (fe.validation) return reply.code(400).send(errorBody("INVALID_INPUT", fe.message));
  if (typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
    return reply.code(fe.statusCode).send(errorBody("INVALID_INPUT", fe.message));
  }
  request.log.error({ err: error }, "management API request failed");
  return reply.code(500).send(errorBody("INTERNAL_ERROR", "internal error; see the server log"));
}
