// Webhooks for a Berth server (docs/webhooks.md): createWebhooks() seals secrets with the
// server's key, registers the `webhook.deliver` job and the "webhooks" outbox consumer, and
// gives the management API its routes. The composition (api/multi-tenancy.ts) calls it once.
// Other features emit webhook events through the outbox (emit.ts), never by calling here.
import type { ServerBase } from "../server.js";
import { webhookRoutes } from "./api.js";
import { WebhookService } from "./service.js";
import { SecretBox } from "./signing.js";

export { emitEvent } from "./emit.js";
export { WebhookService } from "./service.js";
export { SIGNATURE_HEADER, verifySignature } from "./signing.js";

export async function createWebhooks(base: ServerBase) {
  const { config } = base;
  const box = await SecretBox.open(config.dataDir, config.webhooks.secretKey);
  const service = new WebhookService(
    base.db,
    base.jobs,
    box,
    {
      timeoutMs: config.webhooks.timeoutMs,
      allowPrivateTargets: config.webhooks.allowPrivateTargets,
      disableAfter: config.webhooks.disableAfter,
      maxAttempts: config.webhooks.maxAttempts,
      userAgent: "Berth-Webhook/1",
      registryHost: registryHost(config.auth.publicUrl, config.listen),
    },
    base.logger,
  );
  await service.start();
  return { service, routes: webhookRoutes(service) };
}

function registryHost(publicUrl: string, listen: string): string {
  if (publicUrl) {
    try {
      return new URL(publicUrl).host;
    } catch {
      // fall back to the listen address
    }
  }
  return listen.replace(/^0\.0\.0\.0:/, "127.0.0.1:");
}
