// Registry endpoints for a Berth server (docs/registries.md): createEndpoints() opens the
// server's secret key and gives the RegistryEndpoints service (used by replication and the
// proxy cache: `get(id)` + registryClientFor()) and the management API's routes. The
// composition (api/multi-tenancy.ts) calls it once per process.
import type { Kysely } from "kysely";
import type { EndpointTables } from "../meta/endpoints.js";
import type { ServerBase } from "../server.js";
import { SecretBox } from "../webhooks/signing.js";
import { endpointRoutes } from "./api.js";
import { RegistryEndpoints } from "./service.js";

export { type EndpointView, endpointView } from "./api.js";
export {
  EndpointInputError,
  EndpointInUseError,
  type EndpointUsage,
  endpointRegistry,
  type PingResult,
  pingEndpoint,
  type RegistryEndpoint,
  RegistryEndpoints,
  registryClientFor,
} from "./service.js";

export async function createEndpoints(base: ServerBase) {
  const box = await SecretBox.open(base.config.dataDir, base.config.webhooks.secretKey);
  const service = new RegistryEndpoints(base.db as unknown as Kysely<EndpointTables>, box);
  return { service, routes: endpointRoutes(service) };
}
