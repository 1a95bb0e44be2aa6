// Proxy-cache projects for a Berth server (docs/registries.md): createProxyCache() builds the
// pull-through cache on the registry endpoints, registers its `proxy.cache` job, refuses
// deleting an endpoint a proxy project uses, and gives the management API its routes and the
// registry its PullThrough and push refusal. The composition (api/multi-tenancy.ts) calls it
// once per process.
import type { RegistryEndpoints } from "../endpoints/index.js";
import { findProxyProject, proxyProjectsOfEndpoint } from "../meta/proxy-projects.js";
import type { Admission } from "../registry/admission.js";
import { RegistryError } from "../registry/errors.js";
import type { ServerBase } from "../server.js";
import { proxyRoutes } from "./api.js";
import { PROXY_PRINCIPAL, ProxyCache } from "./cache.js";

export { DEFAULT_PROXY_TTL_SECONDS, type ProxyView } from "./api.js";
export { PROXY_CACHE_JOB_KIND, ProxyCache, upstreamName } from "./cache.js";

export function createProxyCache(base: ServerBase, endpoints: RegistryEndpoints) {
  const cache = new ProxyCache(base.db, endpoints, base.logger, {
    upstreamTimeoutMs: base.config.proxy.upstreamTimeoutMs,
  });
  cache.register(base.jobs);
  endpoints.addUsage(async (id) =>
    (await proxyProjectsOfEndpoint(base.db, id)).map((p) => `proxy project "${p}"`),
  );
  /** Pushes into a proxy-cache project are refused: its content is the upstream's. */
  const readOnly: Admission = {
    async beforeManifestPut(request) {
      if (request.principal === PROXY_PRINCIPAL) return; // the cache storing what it fetched
      const slash = request.repository.indexOf("/");
      const project = slash === -1 ? request.repository : request.repository.slice(0, slash);
      if (await findProxyProject(base.db, project))
        throw new RegistryError(
          "DENIED",
          `project "${project}" is a proxy cache: push to its upstream instead`,
        );
    },
  };
  return { cache, readOnly, routes: proxyRoutes(base.db, endpoints, cache) };
}
