// The /v2/ router: a hand-written matcher over the raw path (repository names contain
// slashes, so routes are matched from the right), method dispatch per resource, name
// validation, and turning any thrown error into a spec JSON error. Unexpected errors are
// logged with the request id and answered 500 UNKNOWN without internals.
import type { IncomingMessage, ServerResponse } from "node:http";
import { isValidRepositoryName } from "../oci/index.js";
import { authorize } from "./authorize.js";
import { deleteBlob, getBlob } from "./blobs.js";
import { catalogRoute } from "./catalog.js";
import type { RegistryCall, RegistryContext } from "./context.js";
import { RegistryError } from "./errors.js";
import { reply, replyError } from "./http.js";
import { deleteManifestRoute, getManifest, putManifestRoute } from "./manifests.js";
import { referrersRoute } from "./referrers.js";
import { listTagsRoute } from "./tags.js";
import { deleteUpload, getUpload, patchUpload, postUpload, putUpload } from "./uploads.js";

type Handler = (ctx: RegistryContext, call: RegistryCall, param: string) => Promise<void>;

interface Route {
  pattern: RegExp;
  methods: Record<string, Handler>;
}

const ROUTES: Route[] = [
  {
    pattern: /^\/v2\/(.+)\/blobs\/uploads\/?$/,
    methods: { POST: (ctx, call) => postUpload(ctx, call) },
  },
  {
    pattern: /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/,
    methods: {
      PATCH: patchUpload,
      PUT: putUpload,
      GET: getUpload,
      DELETE: deleteUpload,
    },
  },
  {
    pattern: /^\/v2\/(.+)\/blobs\/([^/]+)$/,
    methods: { GET: getBlob, HEAD: getBlob, DELETE: deleteBlob },
  },
  {
    pattern: /^\/v2\/(.+)\/manifests\/([^/]+)$/,
    methods: {
      GET: getManifest,
      HEAD: getManifest,
      PUT: putManifestRoute,
      DELETE: deleteManifestRoute,
    },
  },
  {
    pattern: /^\/v2\/(.+)\/tags\/list$/,
    methods: {
      GET: (ctx, call) => listTagsRoute(ctx, call),
      HEAD: (ctx, call) => listTagsRoute(ctx, call),
    },
  },
  {
    pattern: /^\/v2\/(.+)\/referrers\/([^/]+)$/,
    methods: { GET: referrersRoute, HEAD: referrersRoute },
  },
];

export interface RequestMeta {
  requestId: string;
  remoteAddress: string;
}

/** Handles one request whose path starts with /v2. Never throws. */
export async function handleRegistryRequest(
  ctx: RegistryContext,
  req: IncomingMessage,
  res: ServerResponse,
  meta: RequestMeta,
): Promise<void> {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);
  const query = new URLSearchParams(q === -1 ? "" : url.slice(q + 1));
  const method = req.method ?? "GET";
  res.setHeader("Docker-Distribution-API-Version", "registry/2.0");
  const base = {
    req,
    res,
    method,
    query,
    requestId: meta.requestId,
    remoteAddress: meta.remoteAddress,
  };
  try {
    if (path === "/v2/" || path === "/v2") {
      await baseRoute(ctx, { ...base, repository: "" });
      return;
    }
    if (path === "/v2/_catalog") {
      if (method !== "GET" && method !== "HEAD") throw methodNotAllowed(method, ["GET", "HEAD"]);
      await catalogRoute(ctx, { ...base, repository: "" });
      return;
    }
    for (const route of ROUTES) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      const repository = decode(m[1]!);
      if (!isValidRepositoryName(repository)) {
        throw new RegistryError("NAME_INVALID", "invalid repository name", {
          detail: { name: repository.slice(0, 300) },
        });
      }
      const handler = route.methods[method];
      if (!handler) throw methodNotAllowed(method, Object.keys(route.methods));
      await handler(ctx, { ...base, repository }, m[2] === undefined ? "" : decode(m[2]));
      return;
    }
    throw new RegistryError("UNSUPPORTED", "no such registry endpoint", { status: 404 });
  } catch (err) {
    if (err instanceof RegistryError) {
      replyError(req, res, err);
      return;
    }
    if (req.destroyed || isAbort(err)) {
      res.destroy();
      return;
    }
    ctx.logger.error({ err, reqId: meta.requestId }, "registry request failed");
    replyError(req, res, new RegistryError("UNKNOWN", "internal error; see the server log"));
  }
}

/** GET /v2/: the API version check clients use to find out whether they are logged in. */
async function baseRoute(ctx: RegistryContext, call: RegistryCall): Promise<void> {
  if (call.method !== "GET" && call.method !== "HEAD") {
    throw methodNotAllowed(call.method, ["GET", "HEAD"]);
  }
  await authorize(ctx, call, { kind: "registry" });
  reply(
    call.res,
    200,
    { "Content-Type": "application/json" },
    call.method === "HEAD" ? undefined : "{}",
  );
}

function methodNotAllowed(method: string, allowed: string[]): RegistryError {
  return new RegistryError("UNSUPPORTED", `method ${method.slice(0, 20)} not allowed here`, {
    headers: { Allow: allowed.join(", ") },
  });
}

function decode(text: string): string {
  if (!text.includes("%")) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    throw new RegistryError("NAME_INVALID", "malformed percent-encoding in the path");
  }
}

function isAbort(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE" || code === "ECONNABORTED";
}
