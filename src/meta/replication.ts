// Replication rules, executions and per-artifact tasks (migrations/0016-replication.ts).
// A rule's filters and destination are JSON columns (their shape is replication/rules.ts's);
// an execution counts its tasks and bytes; a task is unique per (execution, operation,
// source repository, reference), so recording the plan of a resumed execution again is a
// no-op. Never: hold endpoint credentials here (the endpoint table seals them).
import type { Generated, Kysely, Selectable } from "kysely";

export interface ReplicationPoliciesTable {
  id: string;
  name: string;
  description: string;
  endpoint_id: string;
  mode: string;
  filters: string;
  destination: string;
  trigger: string;
  cron: string | null;
  overwrite: number;
  replicate_deletion: number;
  bandwidth_kbps: number;
  concurrency: number;
  enabled: number;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface ReplicationExecutionsTable {
  id: Generated<number>;
  policy_id: string;
  trigger: string;
  /** JSON of an event execution's narrowed scope (one repository/reference), else null. */
  scope: string | null;
  state: string;
  job_id: number | null;
  total: number;
  succeeded: number;
  failed: number;
  skipped: number;
  bytes: number;
  error: string | null;
  created_by: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface ReplicationTasksTable {
  id: Generated<number>;
  execution_id: number;
  operation: string;
  source_repository: string;
  reference: string;
  destination_repository: string;
  digest: string | null;
  state: string;
  attempts: number;
  bytes: number;
  referrers: number;
  error: string | null;
  started_at: number | null;
  finished_at: number | null;
}

export interface ReplicationTables {
  replication_policies: ReplicationPoliciesTable;
  replication_executions: ReplicationExecutionsTable;
  replication_tasks: ReplicationTasksTable;
}

type Db = Kysely<ReplicationTables>;

export interface StoredPolicy {
  id: string;
  name: string;
  description: string;
  endpointId: string;
  mode: string;
  filters: unknown;
  destination: unknown;
  trigger: string;
  cron: string | null;
  overwrite: boolean;
  replicateDeletion: boolean;
  bandwidthKbps: number;
  concurrency: number;
  enabled: boolean;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

/** copy: an artifact and its referrers; referrers: only those of a replicated subject. */
export type TaskOperation = "copy" | "referrers" | "delete";

export type ExecutionState =
  | "pending"
  | "running"
  | "succeeded"
  | "failed"
  | "stopping"
  | "stopped";
export type TaskState = "pending" | "running" | "succeeded" | "failed" | "skipped" | "stopped";

export interface Execution {
  id: number;
  policyId: string;
  trigger: string;
  scope: unknown;
  state: ExecutionState;
  jobId: number | null;
  total: number;
  succeeded: number;
  failed: number;
  skipped: number;
  bytes: number;
  error: string | null;
  createdBy: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface Task {
  id: number;
  executionId: number;
  operation: TaskOperation;
  sourceRepository: string;
  reference: string;
  destinationRepository: string;
  digest: string | null;
  state: TaskState;
  attempts: number;
  bytes: number;
  referrers: number;
  error: string | null;
  startedAt: number | null;
  finishedAt: number | null;
}

function toPolicy(r: ReplicationPoliciesTable): StoredPolicy {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    endpointId: r.endpoint_id,
    mode: r.mode,
    filters: JSON.parse(r.filters),
    destination: JSON.parse(r.destination),
    trigger: r.trigger,
    cron: r.cron,
    overwrite: Number(r.overwrite) === 1,
    replicateDeletion: Number(r.replicate_deletion) === 1,
    bandwidthKbps: Number(r.bandwidth_kbps),
    concurrency: Number(r.concurrency),
    enabled: Number(r.enabled) === 1,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export type PolicyRow = Omit<StoredPolicy, "createdAt" | "updatedAt">;

function policyColumns(p: PolicyRow, now: number) {
  return {
    name: p.name,
    description: p.description,
    endpoint_id: p.endpointId,
    mode: p.mode,
    filters: JSON.stringify(p.filters),
    destination: JSON.stringify(p.destination),
    trigger: p.trigger,
    cron: p.cron,
    overwrite: p.overwrite ? 1 : 0,
    replicate_deletion: p.replicateDeletion ? 1 : 0,
    bandwidth_kbps: p.bandwidthKbps,
    concurrency: p.concurrency,
    enabled: p.enabled ? 1 : 0,
    updated_at: now,
  };
}

export async function insertPolicy(db: Db, p: PolicyRow): Promise<StoredPolicy> {
  const now = Date.now();
  const row = await db
    .insertInto("replication_policies")
    .values({ id: p.id, created_by: p.createdBy, created_at: now, ...policyColumns(p, now) })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toPolicy(row);
}

export async function updatePolicy(db: Db, p: PolicyRow): Promise<StoredPolicy | undefined> {
  const row = await db
    .updateTable("replication_policies")
    .set(policyColumns(p, Date.now()))
    .where("id", "=", p.id)
    .returningAll()
    .executeTakeFirst();
  return row && toPolicy(row);
}

export async function deletePolicy(db: Db, id: string): Promise<boolean> {
  const r = await db.deleteFrom("replication_policies").where("id", "=", id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** By id or by name. */
export async function findPolicy(db: Db, idOrName: string): Promise<StoredPolicy | undefined> {
  const row = await db
    .selectFrom("replication_policies")
    .selectAll()
    .where((eb) => eb.or([eb("id", "=", idOrName), eb("name", "=", idOrName)]))
    .executeTakeFirst();
  return row && toPolicy(row);
}

export async function listPolicies(db: Db): Promise<StoredPolicy[]> {
  const rows = await db.selectFrom("replication_policies").selectAll().orderBy("name").execute();
  return rows.map(toPolicy);
}

/** Rules that use an endpoint (an endpoint in use must not be removed). */
export async function policiesUsingEndpoint(db: Db, endpointId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("replication_policies")
    .select("name")
    .where("endpoint_id", "=", endpointId)
    .execute();
  return rows.map((r) => r.name);
}

function toExecution(r: Selectable<ReplicationExecutionsTable>): Execution {
  return {
    id: Number(r.id),
    policyId: r.policy_id,
    trigger: r.trigger,
    scope: r.scope === null ? null : JSON.parse(r.scope),
    state: r.state as ExecutionState,
    jobId: r.job_id === null ? null : Number(r.job_id),
    total: Number(r.total),
    succeeded: Number(r.succeeded),
    failed: Number(r.failed),
    skipped: Number(r.skipped),
    bytes: Number(r.bytes),
    error: r.error,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    startedAt: r.started_at === null ? null : Number(r.started_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
  };
}

export async function insertExecution(
  db: Db,
  e: { policyId: string; trigger: string; scope?: unknown; createdBy: string },
): Promise<Execution> {
  const row = await db
    .insertInto("replication_executions")
    .values({
      policy_id: e.policyId,
      trigger: e.trigger,
      scope: e.scope === undefined ? null : JSON.stringify(e.scope),
      state: "pending",
      job_id: null,
      total: 0,
      succeeded: 0,
      failed: 0,
      skipped: 0,
      bytes: 0,
      error: null,
      created_by: e.createdBy,
      created_at: Date.now(),
      started_at: null,
      finished_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toExecution(row);
}

export async function getExecution(db: Db, id: number): Promise<Execution | undefined> {
  const row = await db
    .selectFrom("replication_executions")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst();
  return row && toExecution(row);
}

export async function listExecutions(
  db: Db,
  filter: { policyId?: string; limit: number },
): Promise<Execution[]> {
  let q = db.selectFrom("replication_executions").selectAll();
  if (filter.policyId) q = q.where("policy_id", "=", filter.policyId);
  const rows = await q.orderBy("id", "desc").limit(filter.limit).execute();
  return rows.map(toExecution);
}

export async function setExecution(
  db: Db,
  id: number,
  set: Partial<{
    state: ExecutionState;
    jobId: number;
    error: string | null;
    startedAt: number;
    finishedAt: number;
  }>,
  onlyIfState?: ExecutionState[],
): Promise<boolean> {
  let q = db
    .updateTable("replication_executions")
    .set({
      ...(set.state !== undefined ? { state: set.state } : {}),
      ...(set.jobId !== undefined ? { job_id: set.jobId } : {}),
      ...(set.error !== undefined ? { error: set.error } : {}),
      ...(set.startedAt !== undefined ? { started_at: set.startedAt } : {}),
      ...(set.finishedAt !== undefined ? { finished_at: set.finishedAt } : {}),
    })
    .where("id", "=", id);
  if (onlyIfState) q = q.where("state", "in", onlyIfState);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Recomputes the execution's counters from its tasks. */
export async function refreshExecutionCounts(db: Db, id: number): Promise<Execution | undefined> {
  const rows = await db
    .selectFrom("replication_tasks")
    .select((eb) => ["state", eb.fn.countAll().as("n"), eb.fn.sum("bytes").as("bytes")])
    .where("execution_id", "=", id)
    .groupBy("state")
    .execute();
  let total = 0;
  let bytes = 0;
  const by: Record<string, number> = {};
  for (const r of rows) {
    const n = Number(r.n);
    total += n;
    bytes += Number(r.bytes ?? 0);
    by[r.state] = n;
  }
  await db
    .updateTable("replication_executions")
    .set({
      total,
      bytes,
      succeeded: by.succeeded ?? 0,
      failed: by.failed ?? 0,
      skipped: by.skipped ?? 0,
    })
    .where("id", "=", id)
    .execute();
  return getExecution(db, id);
}

export interface PlannedTask {
  operation: TaskOperation;
  sourceRepository: string;
  reference: string;
  destinationRepository: string;
  digest?: string;
}

/** Records the plan; tasks already recorded (a resumed execution) are kept as they are. */
export async function insertTasks(
  db: Db,
  executionId: number,
  tasks: PlannedTask[],
): Promise<void> {
  for (let i = 0; i < tasks.length; i += 200) {
    const batch = tasks.slice(i, i + 200);
    await db
      .insertInto("replication_tasks")
      .values(
        batch.map((t) => ({
          execution_id: executionId,
          operation: t.operation,
          source_repository: t.sourceRepository,
          reference: t.reference,
          destination_repository: t.destinationRepository,
          digest: t.digest ?? null,
          state: "pending",
          attempts: 0,
          bytes: 0,
          referrers: 0,
          error: null,
          started_at: null,
          finished_at: null,
        })),
      )
      .onConflict((oc) =>
        oc.columns(["execution_id", "operation", "source_repository", "reference"]).doNothing(),
      )
      .execute();
  }
}

function toTask(r: Selectable<ReplicationTasksTable>): Task {
  return {
    id: Number(r.id),
    executionId: Number(r.execution_id),
    operation: r.operation as Task["operation"],
    sourceRepository: r.source_repository,
    reference: r.reference,
    destinationRepository: r.destination_repository,
    digest: r.digest,
    state: r.state as TaskState,
    attempts: Number(r.attempts),
    bytes: Number(r.bytes),
    referrers: Number(r.referrers),
    error: r.error,
    startedAt: r.started_at === null ? null : Number(r.started_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
  };
}

export async function listTasks(
  db: Db,
  executionId: number,
  filter: { state?: TaskState; limit?: number } = {},
): Promise<Task[]> {
  let q = db.selectFrom("replication_tasks").selectAll().where("execution_id", "=", executionId);
  if (filter.state) q = q.where("state", "=", filter.state);
  if (filter.limit) q = q.limit(filter.limit);
  const rows = await q.orderBy("id").execute();
  return rows.map(toTask);
}

export async function setTask(
  db: Db,
  id: number,
  set: Partial<{
    state: TaskState;
    attempts: number;
    bytes: number;
    referrers: number;
    digest: string;
    error: string | null;
    startedAt: number;
    finishedAt: number;
  }>,
): Promise<void> {
  await db
    .updateTable("replication_tasks")
    .set({
      ...(set.state !== undefined ? { state: set.state } : {}),
      ...(set.attempts !== undefined ? { attempts: set.attempts } : {}),
      ...(set.bytes !== undefined ? { bytes: set.bytes } : {}),
      ...(set.referrers !== undefined ? { referrers: set.referrers } : {}),
      ...(set.digest !== undefined ? { digest: set.digest } : {}),
      ...(set.error !== undefined ? { error: set.error } : {}),
      ...(set.startedAt !== undefined ? { started_at: set.startedAt } : {}),
      ...(set.finishedAt !== undefined ? { finished_at: set.finishedAt } : {}),
    })
    .where("id", "=", id)
    .execute();
}

/** Tasks not finished when an execution stops become `stopped`. */
export async function stopOpenTasks(db: Db, executionId: number): Promise<void> {
  await db
    .updateTable("replication_tasks")
    .set({ state: "stopped", finished_at: Date.now() })
    .where("execution_id", "=", executionId)
    .where("state", "in", ["pending", "running"])
    .execute();
}

/**
 * Repositories earlier push runs wrote to on an endpoint (succeeded tasks), most recent
 * first: where the destination already holds blobs a cross-repository mount can take from.
 */
export async function pushedRepositories(
  db: Db,
  endpointId: string,
  limit: number,
): Promise<string[]> {
  const rows = await db
    .selectFrom("replication_tasks as t")
    .innerJoin("replication_executions as e", "e.id", "t.execution_id")
    .innerJoin("replication_policies as p", "p.id", "e.policy_id")
    .where("p.endpoint_id", "=", endpointId)
    .where("p.mode", "=", "push")
    .where("t.state", "=", "succeeded")
    .select((eb) => ["t.destination_repository", eb.fn.max("t.id").as("last")])
    .groupBy("t.destination_repository")
    .orderBy("last", "desc")
    .limit(limit)
    .execute();
  return rows.map((r) => r.destination_repository);
}
