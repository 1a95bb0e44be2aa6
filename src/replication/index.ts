// Replication for a Berth server (docs/replication.md): createReplication() builds the
// service on the job queue, the outbox and the scheduler, over the registry endpoints of
// the endpoints feature (which refuses to remove an endpoint a rule uses), and gives the
// management API its routes. The composition (api/multi-tenancy.ts) calls it once.
import type { ServerBase } from "../server.js";
import { replicationRoutes } from "./api.js";
import { type EndpointDirectory, type ReplicationEndpoint, ReplicationService } from "./service.js";

export type { EndpointDirectory, ReplicationEndpoint } from "./service.js";
export { ReplicationService } from "./service.js";

/** Attempts per artifact inside one execution (the job itself is retried on top). */
const TASK_ATTEMPTS = 3;

export async function createReplication<E extends ReplicationEndpoint>(
  base: ServerBase,
  endpoints: EndpointDirectory<E> & {
    addUsage?(usage: (endpointId: string) => Promise<string[]>): void;
  },
) {
  const service = new ReplicationService(
    base.db,
    base.store,
    base.jobs,
    endpoints,
    {
      taskAttempts: TASK_ATTEMPTS,
      retryBackoffMs: Math.min(base.config.jobs.retryBackoffMs, 5000),
    },
    base.logger,
  );
  endpoints.addUsage?.((id) => service.usage(id));
  await service.start();
  return { service, routes: replicationRoutes(service) };
}
