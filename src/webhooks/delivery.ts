// The `webhook.deliver` job: sends one stored delivery (meta/webhooks.ts) to its target, signed
// (signing.ts), and records the attempt. Non-2xx, timeouts and connection errors throw, so
// the job system retries with its exponential backoff; the last attempt marks the delivery
// failed. A delivery that succeeded once is never sent again (the row is checked first and
// written conditionally), and a disabled target's pending deliveries are skipped.
// SSRF: targets resolving to loopback, private, link-local or unique-local addresses are
// refused unless `webhooks.allowPrivateTargets` is set; redirects are never followed.
// Never: log the secret, the signature or custom header values (they may be credentials).
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { Kysely } from "kysely";
import type { JobContext } from "../jobs/index.js";
import type { Database } from "../meta/index.js";
import {
  findWebhookDelivery,
  findWebhookTarget,
  recordWebhookAttempt,
  recordWebhookDelivery,
  webhookSecretSealed,
} from "../meta/webhooks.js";
import { webhookDeliveries } from "../metrics/registry.js";
import type { SecretBox } from "./signing.js";
import { signatureHeader } from "./signing.js";

export const DELIVER_JOB = "webhook.deliver";

export interface DeliverPayload {
  deliveryId: string;
}

export interface DeliverySettings {
  timeoutMs: number;
  allowPrivateTargets: boolean;
  disableAfter: number;
  userAgent: string;
}

/** Headers a target's custom headers may not replace. */
export const RESERVED_HEADERS = new Set([
  "content-type",
  "content-length",
  "host",
  "user-agent",
  "x-berth-signature",
  "x-berth-event",
  "x-berth-delivery",
  "transfer-encoding",
  "connection",
]);

class DeliveryFailed extends Error {}

export async function deliver(
  db: Kysely<Database>,
  box: SecretBox,
  settings: DeliverySettings,
  ctx: JobContext<DeliverPayload>,
): Promise<unknown> {
  const delivery = await findWebhookDelivery(db, ctx.payload.deliveryId);
  if (delivery?.state !== "pending") return { skipped: delivery?.state ?? "gone" };
  const target = await findWebhookTarget(db, delivery.targetId);
  if (!target?.enabled) {
    await recordWebhookDelivery(db, delivery.id, {
      state: "skipped",
      statusCode: null,
      durationMs: null,
      error: target?.disabledReason ?? "target disabled",
    });
    webhookDeliveries.inc({ outcome: "skipped" });
    return { skipped: "target disabled" };
  }
  const last = ctx.job.attempts >= ctx.job.maxAttempts;
  const refused = await refusedAddress(target.url, settings.allowPrivateTargets);
  if (refused) {
    await recordWebhookDelivery(db, delivery.id, {
      state: "failed",
      statusCode: null,
      durationMs: null,
      error: refused,
    });
    webhookDeliveries.inc({ outcome: "failed" });
    await recordWebhookAttempt(db, target.id, false, settings.disableAfter);
    return { failed: refused };
  }
  const sealed = await webhookSecretSealed(db, target.id);
  const secret = sealed ? box.unseal(sealed) : "";
  const timestamp = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(target.headers)) {
    if (!RESERVED_HEADERS.has(name.toLowerCase())) headers[name] = value;
  }
  Object.assign(headers, {
    "content-type":
      target.format === "cloudevents" ? "application/cloudevents+json" : "application/json",
    "user-agent": settings.userAgent,
    "x-berth-event": delivery.eventType,
    "x-berth-delivery": delivery.id,
    "x-berth-signature": signatureHeader(secret, timestamp, delivery.body),
  });
  const started = performance.now();
  let statusCode: number | null = null;
  let error: string | null = null;
  try {
    const res = await fetch(target.url, {
      method: "POST",
      headers,
      body: delivery.body,
      redirect: "manual",
      signal: AbortSignal.any([AbortSignal.timeout(settings.timeoutMs), ctx.signal]),
    });
    statusCode = res.status;
    await res.body?.cancel().catch(() => {});
    if (res.status < 200 || res.status > 299) error = `receiver answered HTTP ${res.status}`;
  } catch (err) {
    error =
      err instanceof Error && err.name === "TimeoutError"
        ? `no answer within ${settings.timeoutMs} ms`
        : `cannot reach the receiver: ${causeOf(err)}`;
  }
  const durationMs = Math.round(performance.now() - started);
  const ok = error === null;
  if (ctx.signal.aborted && !ok) throw ctx.signal.reason;
  const disabled = await recordWebhookAttempt(db, target.id, ok, settings.disableAfter);
  const final = ok || last || disabled;
  await recordWebhookDelivery(db, delivery.id, {
    state: ok ? "succeeded" : final ? "failed" : "pending",
    statusCode,
    durationMs,
    error,
  });
  webhookDeliveries.inc({ outcome: ok ? "succeeded" : final ? "failed" : "retried" });
  if (!ok) {
    ctx.log(`attempt ${ctx.job.attempts}: ${error}`, "warn");
    if (disabled && !last) return { failed: error, disabled: true };
    throw new DeliveryFailed(error ?? "failed");
  }
  return { statusCode, durationMs };
}

function causeOf(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    if (cause instanceof Error) return cause.message;
    return err.message;
  }
  return String(err);
}

/** Why the URL's host may not be called (SSRF), or undefined when it may. */
export async function refusedAddress(
  url: string,
  allowPrivate: boolean,
): Promise<string | undefined> {
  if (allowPrivate) return undefined;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  const addresses = isIP(host)
    ? [host]
    : (await lookup(host, { all: true }).catch(() => [])).map((a) => a.address);
  if (addresses.length === 0) return `cannot resolve ${host}`;
  const bad = addresses.find(isPrivateAddress);
  return bad
    ? `${host} resolves to ${bad}, a private address (set webhooks.allowPrivateTargets to allow)`
    : undefined;
}

export function isPrivateAddress(address: string): boolean {
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  if (isIP(v4) === 4) {
    const [a, b] = v4.split(".").map(Number) as [number, number];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  const lower = address.toLowerCase();
  return (
    lower === "::1" ||
    lower === "::" ||
    lower.startsWith("fe80:") ||
    lower.startsWith("fc") ||
    lower.startsWith("fd")
  );
}
