// GET /metrics in Prometheus text format. On the main listener only system administrators
// may read it (Basic credentials or a registry Bearer token, checked by the registry's own
// AccessController, so whatever authenticates /v2/ authenticates here); with authentication
// off (OpenAccess) it is open like everything else. `metrics.listen` adds a second listener
// that serves /metrics to anyone who can reach it, for a scraper on a private network.
// Never: reveal metrics to a caller who is not an administrator, or log credentials.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type AccessController, OpenAccess } from "../auth/access.js";
import { registry } from "./registry.js";

export async function handleMetricsRequest(
  req: IncomingMessage,
  res: ServerResponse,
  access: AccessController | undefined,
): Promise<void> {
  try {
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, "application/json", error("METHOD_NOT_ALLOWED", "/metrics answers GET"), {
        Allow: "GET, HEAD",
      });
      return;
    }
    if (access && !(access instanceof OpenAccess)) {
      const decision = await access.check({
        headers: req.headers,
        remoteAddress: req.socket.remoteAddress ?? "",
        target: { kind: "registry" },
      });
      if (!decision.allowed || !decision.principal.isAdmin) {
        const anonymous = !decision.allowed || decision.principal.kind === "anonymous";
        const status = !decision.allowed ? decision.status : anonymous ? 401 : 403;
        const headers: Record<string, string> = {};
        if (status === 401) headers["WWW-Authenticate"] = 'Basic realm="berth metrics"';
        if (!decision.allowed && decision.status === 429)
          headers["Retry-After"] = String(decision.retryAfterSeconds);
        send(
          res,
          status,
          "application/json",
          error(
            status === 403 ? "DENIED" : status === 429 ? "TOO_MANY_REQUESTS" : "UNAUTHORIZED",
            status === 403
              ? "/metrics is for system administrators"
              : "authentication required (a system administrator)",
          ),
          headers,
        );
        return;
      }
    }
    const text = canonicalSpecialValues(await registry.metrics());
    send(res, 200, registry.contentType, req.method === "HEAD" ? "" : text);
  } catch {
    send(res, 500, "application/json", error("INTERNAL", "collecting metrics failed"));
  }
}

/**
 * prom-client writes a NaN sample as `Nan` (e.g. the event-loop lag mean before its first
 * sample); the exposition format spells it `NaN`, and strict parsers refuse anything else.
 */
export function canonicalSpecialValues(text: string): string {
  return text.replace(/ Nan$/gm, " NaN");
}

/** The open metrics listener of `metrics.listen` (only /metrics; 404 elsewhere). */
export async function startMetricsListener(host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/metrics") void handleMetricsRequest(req, res, undefined);
    else send(res, 404, "application/json", error("NOT_FOUND", "only /metrics is served here"));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}

function error(code: string, message: string): string {
  return JSON.stringify({ errors: [{ code, message }] });
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    "Content-Type": type,
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(body);
}
