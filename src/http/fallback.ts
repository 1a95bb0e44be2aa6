// Answers for requests that no route serves, in the one documented error shape
// `{"errors":[{"code","message"}]}` (never Fastify's default `{"statusCode","error"}` body):
// `404 NOT_FOUND` for a path nothing serves, `405 METHOD_NOT_ALLOWED` with `Allow` for a
// path served only for other methods, `400 INVALID_INPUT` for a URL Fastify cannot parse,
// and a root error handler for failures outside the management API (which has its own).
// Routing never looks at the query string. Nothing here may echo more than a short,
// truncated piece of the request back, and no stack trace ever reaches a client.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

export function errorBody(code: string, message: string) {
  return { errors: [{ code, message }] };
}

/** The path of a request URL, without its query string. */
export function pathOf(url: string): string {
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

/** The methods some route serves for this path (empty when none does). */
export function allowedMethods(app: FastifyInstance, path: string): string[] {
  return METHODS.filter((method) => app.findRoute({ method, url: path }) !== null);
}

/** The not-found handler: 405 + Allow when the path exists for other methods, else 404. */
export function answerUnmatched(request: FastifyRequest, reply: FastifyReply) {
  const path = pathOf(request.url);
  const shown = `${request.method.slice(0, 20)} ${path.slice(0, 200)}`;
  const allowed = allowedMethods(request.server, path);
  if (allowed.length > 0) {
    return reply
      .code(405)
      .header("allow", allowed.join(", "))
      .send(errorBody("METHOD_NOT_ALLOWED", `${shown} is not allowed; use ${allowed.join(", ")}`));
  }
  return reply.code(404).send(errorBody("NOT_FOUND", `no route ${shown}`));
}

/** Root error handler: a client's mistake keeps its 4xx status, anything else is a logged 500. */
export function answerError(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const status = (error as FastifyError).statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    const code =
      status === 404 ? "NOT_FOUND" : status === 405 ? "METHOD_NOT_ALLOWED" : "INVALID_INPUT";
    return reply.code(status).send(errorBody(code, error.message.slice(0, 300)));
  }
  request.log.error({ err: error }, "request failed");
  return reply.code(500).send(errorBody("INTERNAL_ERROR", "internal error; see the server log"));
}

/** Installs the handlers at the root scope (call before plugins register their routes). */
export function installFallbacks(app: FastifyInstance): void {
  app.setNotFoundHandler(answerUnmatched);
  app.setErrorHandler(answerError);
}

/** Fastify's `frameworkErrors` option: URLs it cannot parse (bad percent-encoding, …). */
export function answerFrameworkError(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
) {
  const status = typeof error.statusCode === "number" ? error.statusCode : 400;
  return reply.code(status).send(errorBody("INVALID_INPUT", error.message.slice(0, 300)));
}
