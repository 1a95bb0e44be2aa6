// Webhook targets (per project: URL, event names, payload format, custom headers, the sealed
// signing secret) and their delivery log. Created by migrations/0011-webhooks.ts. A delivery
// is unique per (target, event key): inserting one twice is a no-op, which is what makes the
// outbox consumer idempotent. Never: unseal or log secrets (webhooks/secrets.ts does the
// crypto), or return the sealed secret from a listing.
import type { Kysely } from "kysely";
import type { AuthTables } from "./auth-schema.js";

export interface WebhookTargetsTable {
  id: string;
  project_id: string;
  url: string;
  /** JSON array of event names (push, pull, … or all). */
  events: string;
  format: string;
  /** JSON object of custom request headers. */
  headers: string;
  secret_sealed: string;
  enabled: number;
  consecutive_failures: number;
  disabled_reason: string | null;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface WebhookDeliveriesTable {
  id: string;
  target_id: string;
  event_key: string;
  event_type: string;
  body: string;
  state: string;
  attempts: number;
  status_code: number | null;
  duration_ms: number | null;
  error: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
}

export interface WebhookTables {
  webhook_targets: WebhookTargetsTable;
  webhook_deliveries: WebhookDeliveriesTable;
}

export type WebhookFormat = "default" | "cloudevents";
export type DeliveryState = "pending" | "succeeded" | "failed" | "skipped";

export interface WebhookTarget {
  id: string;
  project: string;
  url: string;
  events: string[];
  format: WebhookFormat;
  headers: Record<string, string>;
  enabled: boolean;
  consecutiveFailures: number;
  disabledReason: string | null;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export interface WebhookDelivery {
  id: string;
  targetId: string;
  eventKey: string;
  eventType: string;
  state: DeliveryState;
  attempts: number;
  statusCode: number | null;
  durationMs: number | null;
  error: string | null;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
}

type Db = Kysely<WebhookTables & AuthTables>;

const TARGET_COLUMNS = [
  "t.id",
  "p.name as project",
  "t.url",
  "t.events",
  "t.format",
  "t.headers",
  "t.enabled",
  "t.consecutive_failures",
  "t.disabled_reason",
  "t.created_by",
  "t.created_at",
  "t.updated_at",
] as const;

interface TargetRow {
  id: string;
  project: string;
  url: string;
  events: string;
  format: string;
  headers: string;
  enabled: number;
  consecutive_failures: number;
  disabled_reason: string | null;
  created_by: string;
  created_at: number;
  updated_at: number;
}

function toTarget(r: TargetRow): WebhookTarget {
  return {
    id: r.id,
    project: r.project,
    url: r.url,
    events: JSON.parse(r.events) as string[],
    format: r.format as WebhookFormat,
    headers: JSON.parse(r.headers) as Record<string, string>,
    enabled: Number(r.enabled) === 1,
    consecutiveFailures: Number(r.consecutive_failures),
    disabledReason: r.disabled_reason,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export interface NewWebhookTarget {
  id: string;
  project: string;
  url: string;
  events: string[];
  format: WebhookFormat;
  headers: Record<string, string>;
  secretSealed: string;
  createdBy: string;
}

/** Adds a target; undefined when the project does not exist. */
export async function insertWebhookTarget(
  db: Db,
  t: NewWebhookTarget,
): Promise<WebhookTarget | undefined> {
  const project = await db
    .selectFrom("projects")
    .select("id")
    .where("name", "=", t.project)
    .executeTakeFirst();
  if (!project) return undefined;
  const now = Date.now();
  await db
    .insertInto("webhook_targets")
    .values({
      id: t.id,
      project_id: project.id,
      url: t.url,
      events: JSON.stringify(t.events),
      format: t.format,
      headers: JSON.stringify(t.headers),
      secret_sealed: t.secretSealed,
      enabled: 1,
      consecutive_failures: 0,
      disabled_reason: null,
      created_by: t.createdBy,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return findWebhookTarget(db, t.id);
}

function targets(db: Db) {
  return db
    .selectFrom("webhook_targets as t")
    .innerJoin("projects as p", "p.id", "t.project_id")
    .select(TARGET_COLUMNS);
}

export async function findWebhookTarget(db: Db, id: string): Promise<WebhookTarget | undefined> {
  const row = await targets(db).where("t.id", "=", id).executeTakeFirst();
  return row ? toTarget(row as TargetRow) : undefined;
}

/** The sealed secret of a target (for signing a delivery only). */
export async function webhookSecretSealed(db: Db, id: string): Promise<string | undefined> {
  const row = await db
    .selectFrom("webhook_targets")
    .select("secret_sealed")
    .where("id", "=", id)
    .executeTakeFirst();
  return row?.secret_sealed;
}

/** A project's targets, oldest first. */
export async function listWebhookTargets(db: Db, project: string): Promise<WebhookTarget[]> {
  const rows = await targets(db).where("p.name", "=", project).orderBy("t.created_at").execute();
  return rows.map((r) => toTarget(r as TargetRow));
}

/** The enabled targets of several projects at once (the outbox consumer's lookup). */
export async function enabledWebhookTargets(
  db: Db,
  projects: readonly string[],
): Promise<WebhookTarget[]> {
  if (projects.length === 0) return [];
  const rows = await targets(db)
    .where("p.name", "in", [...projects])
    .where("t.enabled", "=", 1)
    .orderBy("t.created_at")
    .execute();
  return rows.map((r) => toTarget(r as TargetRow));
}

export async function deleteWebhookTarget(db: Db, project: string, id: string): Promise<boolean> {
  const target = await findWebhookTarget(db, id);
  if (!target || target.project !== project) return false;
  await db.deleteFrom("webhook_deliveries").where("target_id", "=", id).execute();
  const result = await db.deleteFrom("webhook_targets").where("id", "=", id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Enables (resetting the failure count) or disables a target. */
export async function setWebhookTargetEnabled(
  db: Db,
  id: string,
  enabled: boolean,
  reason: string | null,
): Promise<void> {
  await db
    .updateTable("webhook_targets")
    .set({
      enabled: enabled ? 1 : 0,
      disabled_reason: enabled ? null : reason,
      ...(enabled ? { consecutive_failures: 0 } : {}),
      updated_at: Date.now(),
    })
    .where("id", "=", id)
    .execute();
}

/**
 * Counts one delivery attempt against its target: success resets the run of failures, a
 * failure extends it and disables the target once it reaches `disableAfter` (0 = never).
 * Returns whether the target is now disabled.
 */
export async function recordWebhookAttempt(
  db: Db,
  id: string,
  ok: boolean,
  disableAfter: number,
): Promise<boolean> {
  const now = Date.now();
  if (ok) {
    await db
      .updateTable("webhook_targets")
      .set({ consecutive_failures: 0, updated_at: now })
      .where("id", "=", id)
      .execute();
    return false;
  }
  const row = await db
    .updateTable("webhook_targets")
    .set((eb) => ({ consecutive_failures: eb("consecutive_failures", "+", 1), updated_at: now }))
    .where("id", "=", id)
    .returning(["consecutive_failures", "enabled"])
    .executeTakeFirst();
  if (!row) return true;
  const failures = Number(row.consecutive_failures);
  if (disableAfter > 0 && failures >= disableAfter && Number(row.enabled) === 1) {
    await setWebhookTargetEnabled(
      db,
      id,
      false,
      `disabled after ${failures} consecutive failed deliveries`,
    );
    return true;
  }
  return Number(row.enabled) !== 1;
}

export interface NewWebhookDelivery {
  id: string;
  targetId: string;
  eventKey: string;
  eventType: string;
  body: string;
}

/** Inserts the delivery unless (target, event key) exists; true when it was inserted. */
export async function insertWebhookDelivery(db: Db, d: NewWebhookDelivery): Promise<boolean> {
  const now = Date.now();
  const result = await db
    .insertInto("webhook_deliveries")
    .values({
      id: d.id,
      target_id: d.targetId,
      event_key: d.eventKey,
      event_type: d.eventType,
      body: d.body,
      state: "pending",
      attempts: 0,
      status_code: null,
      duration_ms: null,
      error: null,
      created_at: now,
      updated_at: now,
      delivered_at: null,
    })
    .onConflict((oc) => oc.columns(["target_id", "event_key"]).doNothing())
    .returning("id")
    .executeTakeFirst();
  return result !== undefined;
}

function toDelivery(r: WebhookDeliveriesTable): WebhookDelivery {
  return {
    id: r.id,
    targetId: r.target_id,
    eventKey: r.event_key,
    eventType: r.event_type,
    state: r.state as DeliveryState,
    attempts: Number(r.attempts),
    statusCode: r.status_code === null ? null : Number(r.status_code),
    durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
    error: r.error,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at),
  };
}

/** A delivery with its body (what the job sends). */
export async function findWebhookDelivery(
  db: Db,
  id: string,
): Promise<(WebhookDelivery & { body: string }) | undefined> {
  const row = await db
    .selectFrom("webhook_deliveries")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst();
  return row ? { ...toDelivery(row), body: row.body } : undefined;
}

/** A target's deliveries, newest first. */
export async function listWebhookDeliveries(
  db: Db,
  targetId: string,
  limit: number,
): Promise<WebhookDelivery[]> {
  const rows = await db
    .selectFrom("webhook_deliveries")
    .selectAll()
    .where("target_id", "=", targetId)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(limit)
    .execute();
  return rows.map(toDelivery);
}

export interface DeliveryOutcome {
  state: DeliveryState;
  statusCode: number | null;
  durationMs: number | null;
  error: string | null;
}

/**
 * Records one attempt of a pending delivery. Conditional on the row still being pending, so
 * a delivery that succeeded once is never rewritten (at most one success per event and
 * target). False when it was not pending any more.
 */
export async function recordWebhookDelivery(
  db: Db,
  id: string,
  outcome: DeliveryOutcome,
): Promise<boolean> {
  const now = Date.now();
  const result = await db
    .updateTable("webhook_deliveries")
    .set((eb) => ({
      state: outcome.state,
      attempts: eb("attempts", "+", 1),
      status_code: outcome.statusCode,
      duration_ms: outcome.durationMs,
      error: outcome.error,
      updated_at: now,
      delivered_at: outcome.state === "succeeded" ? now : null,
    }))
    .where("id", "=", id)
    .where("state", "=", "pending")
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Counts deliveries by state (for metrics). */
export async function countWebhookDeliveries(db: Db): Promise<{ state: string; count: number }[]> {
  const rows = await db
    .selectFrom("webhook_deliveries")
    .select((eb) => ["state", eb.fn.countAll().as("count")])
    .groupBy("state")
    .execute();
  return rows.map((r) => ({ state: r.state, count: Number(r.count) }));
}
