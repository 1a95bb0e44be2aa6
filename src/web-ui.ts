// Serves the web UI (web/, built by Vite into dist/web by `npm run build`) from `berth
// serve`: `/` and every client route (/projects…, /admin…, /signin, /account) answer
// index.html (so a deep link reloads to the same view), `/assets/<hashed name>` answer the
// built files with a year-long immutable cache. Only these paths are claimed: /v2/, /api/,
// /service/token, /healthz and everything else keep their own handlers. Every answer
// carries a strict Content-Security-Policy (scripts, styles and API calls from this origin
// only; no framing). Text assets go out gzip-compressed to clients that accept it (built
// once per asset and kept in memory: the files are immutable). It must never serve a file
// outside dist/web/assets.
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import type { FastifyInstance, FastifyReply } from "fastify";
import { errorBody } from "./http/fallback.js";

/** dist/web of the package, whether this module runs from src/ (tsx) or dist/ (built). */
export const WEB_DIST = resolve(dirname(fileURLToPath(import.meta.url)), "..", "dist", "web");

export const UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Client routes of the single-page app (web/src/routes.ts names the same prefixes). */
const CLIENT_ROUTES = [
  "/",
  "/signin",
  "/account",
  "/projects",
  "/projects/*",
  "/admin",
  "/admin/*",
];

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".json": "application/json",
};
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}$/;
const COMPRESSIBLE = new Set([".js", ".css", ".svg", ".json"]);
const gzipAsync = promisify(gzip);

/** Whether `Accept-Encoding` allows gzip (listed, or `*`, with a q-value above 0). */
export function acceptsGzip(header: string | undefined): boolean {
  for (const part of (header ?? "").split(",")) {
    const [coding, ...params] = part.trim().toLowerCase().split(";");
    if (coding?.trim() !== "gzip" && coding?.trim() !== "*") continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    if (q === undefined || Number(q.slice(2)) > 0) return true;
  }
  return false;
}

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header("content-security-policy", UI_CSP)
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "same-origin")
    .header("x-frame-options", "DENY");
}

export async function webUi(app: FastifyInstance, options: { dir?: string } = {}): Promise<void> {
  const dir = options.dir ?? WEB_DIST;
  let index: Buffer | undefined;
  const compressed = new Map<string, Promise<Buffer>>();

  async function sendIndex(reply: FastifyReply) {
    try {
      index ??= await readFile(join(dir, "index.html"));
    } catch {
      return reply
        .code(404)
        .send(
          errorBody(
            "NOT_FOUND",
            "the web UI is not built in this installation (run `npm run build`); the API is at /api/v1",
          ),
        );
    }
    return secure(reply)
      .header("content-type", "text/html; charset=utf-8")
      .header("cache-control", "no-cache")
      .send(index);
  }

  for (const url of CLIENT_ROUTES) {
    app.get(url, async (_request, reply) => sendIndex(reply));
  }

  app.get("/assets/:name", async (request, reply) => {
    const { name } = request.params as { name: string };
    const type = CONTENT_TYPES[extname(name)];
    const path = join(dir, "assets", name);
    const found =
      ASSET_NAME.test(name) && type ? await stat(path).catch(() => undefined) : undefined;
    if (!found?.isFile()) {
      return reply.code(404).send(errorBody("NOT_FOUND", `no asset ${name.slice(0, 100)}`));
    }
    secure(reply)
      .header("content-type", type)
      .header("cache-control", "public, max-age=31536000, immutable")
      .header("vary", "accept-encoding");
    if (COMPRESSIBLE.has(extname(name)) && acceptsGzip(request.headers["accept-encoding"])) {
      let body = compressed.get(path);
      if (!body) {
        body = readFile(path).then((bytes) => gzipAsync(bytes, { level: 9 }));
        compressed.set(path, body);
        body.catch(() => compressed.delete(path));
      }
      const bytes = await body;
      return reply
        .header("content-encoding", "gzip")
        .header("content-length", bytes.length)
        .send(bytes);
    }
    return reply.header("content-length", found.size).send(createReadStream(path));
  });
}
