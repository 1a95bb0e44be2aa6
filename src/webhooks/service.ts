// Webhooks on the transactional outbox: an outbox consumer ("webhooks") turns each committed
// registry event into one delivery row and one `webhook.deliver` job per subscribed target,
// both in one transaction and keyed by (target, event key), so a batch the dispatcher hands
// over again (at-least-once) adds nothing. Delivery itself is the job (delivery.ts): durable,
// retried with backoff, survives kill -9 (a job whose worker died is taken over after its
// lease). Also the management operations behind the API: add, list, remove, enable,
// deliveries, and "send test event". Secrets: given or generated at creation, returned once
// then, stored sealed (signing.ts). Never: deliver inline in the consumer, or log secrets.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Jobs } from "../jobs/index.js";
import { type Database, insertJob, type OutboxEvent, type OutboxEventType } from "../meta/index.js";
import {
  deleteWebhookTarget,
  enabledWebhookTargets,
  findWebhookTarget,
  insertWebhookDelivery,
  insertWebhookTarget,
  listWebhookDeliveries,
  listWebhookTargets,
  setWebhookTargetEnabled,
  type WebhookDelivery,
  type WebhookFormat,
  type WebhookTarget,
} from "../meta/webhooks.js";
import {
  DELIVER_JOB,
  type DeliverPayload,
  type DeliverySettings,
  deliver,
  RESERVED_HEADERS,
} from "./delivery.js";
import {
  type EventName,
  formatEvent,
  parseEventNames,
  subscribes,
  testEvent,
  type WebhookEvent,
  webhookEventsOf,
} from "./events.js";
import { generateSecret, type SecretBox } from "./signing.js";

export const OUTBOX_CONSUMER = "webhooks";

const OUTBOX_TYPES: readonly OutboxEventType[] = [
  "manifest.pushed",
  "manifest.deleted",
  "tag.deleted",
  "manifests.pulled",
  "scan.completed",
  "scan.failed",
  "quota.warning",
  "quota.exceeded",
  "replication.finished",
  "retention.finished",
];

export interface WebhookSettings extends DeliverySettings {
  /** Attempts per delivery before it is failed. */
  maxAttempts: number;
  /** How resource URLs name this registry (host[:port]). */
  registryHost: string;
}

export interface NewTarget {
  url: string;
  events: string[];
  format?: WebhookFormat;
  headers?: Record<string, string>;
  secret?: string;
}

/** A client mistake in a webhook request (the API answers 400). */
export class WebhookInputError extends Error {}

export class WebhookService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly jobs: Jobs,
    private readonly box: SecretBox,
    private readonly settings: WebhookSettings,
    private readonly logger: Logger,
  ) {}

  /** Registers the delivery job and the outbox consumer (before jobs.start()). */
  async start(): Promise<void> {
    this.jobs.workers.register<DeliverPayload>(DELIVER_JOB, (ctx) =>
      deliver(this.db, this.box, this.settings, ctx),
    );
    await this.jobs.outbox.subscribe({
      name: OUTBOX_CONSUMER,
      types: OUTBOX_TYPES,
      handle: (events) => this.fanOut(events),
    });
  }

  private async fanOut(events: OutboxEvent[]): Promise<void> {
    const webhookEvents = events.flatMap((e) => webhookEventsOf(e, this.settings.registryHost));
    const projects = [...new Set(webhookEvents.map((e) => e.project))];
    const targets = await enabledWebhookTargets(this.db, projects);
    if (targets.length === 0) return;
    let queued = 0;
    await this.db.transaction().execute(async (trx) => {
      for (const event of webhookEvents) {
        for (const target of targets) {
          if (target.project !== event.project || !subscribes(target.events, event.type)) continue;
          if (await this.queue(trx, target, event)) queued++;
        }
      }
    });
    if (queued > 0) this.logger.debug({ queued }, "webhook deliveries queued");
  }

  /** One delivery row + its job, unless this event was already queued for this target. */
  private async queue(
    trx: Kysely<Database>,
    target: WebhookTarget,
    event: WebhookEvent,
  ): Promise<string | undefined> {
    const id = randomUUID();
    const { body } = formatEvent(event, target.format, id);
    const inserted = await insertWebhookDelivery(trx, {
      id,
      targetId: target.id,
      eventKey: event.key,
      eventType: event.type,
      body,
    });
    if (!inserted) return undefined;
    await insertJob(trx, {
      kind: DELIVER_JOB,
      payload: { deliveryId: id } satisfies DeliverPayload,
      maxAttempts: this.settings.maxAttempts,
      runAfter: Date.now(),
    });
    return id;
  }

  async add(
    project: string,
    input: NewTarget,
    createdBy: string,
  ): Promise<{ target: WebhookTarget; secret: string } | undefined> {
    const url = checkUrl(input.url);
    let events: EventName[];
    try {
      events = parseEventNames(input.events);
    } catch (err) {
      throw new WebhookInputError((err as Error).message);
    }
    const headers = checkHeaders(input.headers ?? {});
    const secret = input.secret ?? generateSecret();
    if (secret.length < 16) throw new WebhookInputError("the secret needs at least 16 characters");
    const target = await insertWebhookTarget(this.db, {
      id: randomUUID(),
      project,
      url,
      events,
      format: input.format ?? "default",
      headers,
      secretSealed: this.box.seal(secret),
      createdBy,
    });
    return target ? { target, secret } : undefined;
  }

  list(project: string): Promise<WebhookTarget[]> {
    return listWebhookTargets(this.db, project);
  }

  async get(project: string, id: string): Promise<WebhookTarget | undefined> {
    const target = await findWebhookTarget(this.db, id);
    return target?.project === project ? target : undefined;
  }

  remove(project: string, id: string): Promise<boolean> {
    return deleteWebhookTarget(this.db, project, id);
  }

  async setEnabled(
    project: string,
    id: string,
    enabled: boolean,
  ): Promise<WebhookTarget | undefined> {
    if (!(await this.get(project, id))) return undefined;
    await setWebhookTargetEnabled(
      this.db,
      id,
      enabled,
      enabled ? null : "disabled by an administrator",
    );
    return this.get(project, id);
  }

  async deliveries(
    project: string,
    id: string,
    limit: number,
  ): Promise<WebhookDelivery[] | undefined> {
    if (!(await this.get(project, id))) return undefined;
    return listWebhookDeliveries(this.db, id, limit);
  }

  /** Queues a TEST event to one target (even a disabled one is tried: it is the check). */
  async test(project: string, id: string, operator: string): Promise<string | undefined> {
    const target = await this.get(project, id);
    if (!target) return undefined;
    if (!target.enabled) throw new WebhookInputError("the target is disabled: enable it first");
    return this.db
      .transaction()
      .execute((trx) => this.queue(trx, target, testEvent(project, operator)));
  }
}

function checkUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WebhookInputError(`"${text}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new WebhookInputError("the URL must be http:// or https://");
  if (url.username || url.password)
    throw new WebhookInputError("put credentials in a custom header, not in the URL");
  return url.toString();
}

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;

function checkHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = Object.entries(headers);
  if (entries.length > 20) throw new WebhookInputError("at most 20 custom headers");
  for (const [name, value] of entries) {
    if (!HEADER_NAME.test(name)) throw new WebhookInputError(`"${name}" is not a header name`);
    if (RESERVED_HEADERS.has(name.toLowerCase()))
      throw new WebhookInputError(`header ${name} is set by Berth and cannot be replaced`);
    if (typeof value !== "string" || /[\r\n\0]/.test(value) || value.length > 4096)
      throw new WebhookInputError(`header ${name}: the value must be one line of text`);
    out[name] = value;
  }
  return out;
}
