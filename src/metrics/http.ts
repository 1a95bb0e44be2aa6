// Per-request HTTP metrics, recorded once when a response closes: requests by route
// template, method and status; a duration histogram; bytes in and out. Route templates keep
// label cardinality bounded: /v2/ paths are classified by their suffix shape (never the
// repository name, tag or digest), management API routes by Fastify's route pattern
// (tagged by the server's onRequest hook), anything else is "other". Bytes are the
// socket's byte counters before and after the request (exact for HTTP/1.1, where a
// connection carries one request at a time; shared between streams on HTTP/2).
// Never: allocate more than the labels lookup per request, or throw into the request path.
import type { IncomingMessage, ServerResponse } from "node:http";
import { httpBytesIn, httpBytesOut, httpDuration, httpRequests } from "./registry.js";

const ROUTE = Symbol("berth.route");
type Tagged = IncomingMessage & { [ROUTE]?: string };

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** The management API's route pattern of a request (called from a Fastify hook). */
export function tagRoute(req: IncomingMessage, pattern: string | undefined): void {
  (req as Tagged)[ROUTE] = pattern ?? "unmatched";
}

/** The bounded route label of a path. */
export function routeTemplate(path: string): string {
  if (path === "/v2" || path === "/v2/") return "/v2/";
  if (path.startsWith("/v2/")) {
    if (path === "/v2/_catalog") return "/v2/_catalog";
    if (path.endsWith("/tags/list")) return "/v2/{name}/tags/list";
    if (path.endsWith("/blobs/uploads/") || path.endsWith("/blobs/uploads"))
      return "/v2/{name}/blobs/uploads/";
    if (path.includes("/blobs/uploads/")) return "/v2/{name}/blobs/uploads/{uuid}";
    if (path.includes("/blobs/")) return "/v2/{name}/blobs/{digest}";
    if (path.includes("/manifests/")) return "/v2/{name}/manifests/{reference}";
    if (path.includes("/referrers/")) return "/v2/{name}/referrers/{digest}";
    return "/v2/other";
  }
  if (path === "/healthz" || path === "/readyz" || path === "/metrics") return path;
  return "other";
}

/** Starts measuring a request; records it when the response closes. */
export function measureRequest(req: IncomingMessage, res: ServerResponse, path: string): void {
  const started = performance.now();
  const socket = req.socket;
  const readBefore = socket.bytesRead;
  const writtenBefore = socket.bytesWritten;
  res.once("close", () => {
    try {
      const route = (req as Tagged)[ROUTE] ?? routeTemplate(path);
      const method = METHODS.has(req.method ?? "") ? (req.method as string) : "other";
      httpRequests.labels(route, method, String(res.statusCode)).inc();
      httpDuration.labels(route, method).observe((performance.now() - started) / 1000);
      const bytesIn = socket.bytesRead - readBefore;
      const bytesOut = socket.bytesWritten - writtenBefore;
      if (bytesIn > 0) httpBytesIn.labels(route).inc(bytesIn);
      if (bytesOut > 0) httpBytesOut.labels(route).inc(bytesOut);
    } catch {
      // metrics never fail a request
    }
  });
}
