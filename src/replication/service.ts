// Replication on the job system (docs/replication.md): rules are rows; every run is an
// execution row plus one durable `replication.execute` job. Manual runs enqueue it; cron
// rules are schedules of the scheduler (fired once across replicas) whose job creates its
// execution; event rules are fed by the "replication" outbox consumer, which turns each batch
// of committed pushes and deletions into one execution per matching rule with its tasks
// recorded up front. The job plans (manual, cron: every selected tag becomes a task row),
// then runs the open tasks `concurrency` at a time, each retried with backoff; a job taken
// over after a crash resumes with the tasks still open. Stop marks the execution `stopping`
// and cancels its job, whose signal aborts the transfers in flight.
// Never: run replication outside a job, or lose a task's outcome on a retry.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import { RegistryError } from "../client/errors.js";
import type { RegistryClient } from "../client/registry-client.js";
import type { JobContext, Jobs } from "../jobs/index.js";
import { backoffDelay, nextCronTime } from "../jobs/index.js";
import type { Database, OutboxEvent, OutboxEventType } from "../meta/index.js";
import {
  deletePolicy,
  type Execution,
  findPolicy,
  getExecution,
  insertExecution,
  insertPolicy,
  insertTasks,
  listExecutions,
  listPolicies,
  listTasks,
  type PlannedTask,
  policiesUsingEndpoint,
  pushedRepositories,
  refreshExecutionCounts,
  type StoredPolicy,
  setExecution,
  setTask,
  stopOpenTasks,
  type Task,
  updatePolicy,
} from "../meta/replication.js";
import { replicationBytes, replicationTasks } from "../metrics/registry.js";
import { projectOf } from "../oci/index.js";
import type { BlobStore } from "../storage/index.js";
import { emitEvent } from "../webhooks/emit.js";
import { planRun, replicateArtifact, syncReferrers } from "./engine.js";
import {
  destinationRepository,
  type ReplicationFilters,
  RuleInputError,
  type RuleSettings,
  selectsRepository,
  selectsTag,
  validateRule,
} from "./rules.js";
import {
  DestinationError,
  isAttachmentTag,
  LocalSide,
  MOUNT_TRIES,
  RemoteSide,
  type ReplicationSide,
} from "./sides.js";
import { Bandwidth } from "./throttle.js";

export const EXECUTE_JOB = "replication.execute";
export const OUTBOX_CONSUMER = "replication";
const OUTBOX_TYPES: readonly OutboxEventType[] = [
  "manifest.pushed",
  "manifest.deleted",
  "tag.deleted",
];

/** A registry endpoint as replication needs it (the endpoints feature provides them). */
export interface ReplicationEndpoint {
  readonly id: string;
  readonly name: string;
  readonly url: string;
}

export interface EndpointDirectory<E extends ReplicationEndpoint = ReplicationEndpoint> {
  /** By id or name, with what connecting needs. */
  get(idOrName: string): Promise<E | undefined>;
  /** A client for the endpoint (its URL, credentials and TLS options). */
  connect(endpoint: E): RegistryClient;
}

export interface ReplicationSettings {
  /** Attempts per artifact within one execution. */
  readonly taskAttempts: number;
  /** First delay between attempts (ms); doubled each time. */
  readonly retryBackoffMs: number;
}

export type ExecutionPayload = { executionId: number } | { policyId: string; trigger: "cron" };

export class ReplicationService<E extends ReplicationEndpoint = ReplicationEndpoint> {
  /** Executions running in this process: a stop aborts them at once (other replicas: via the job). */
  private readonly running = new Map<number, AbortController>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: BlobStore,
    private readonly jobs: Jobs,
    private readonly endpoints: EndpointDirectory<E>,
    private readonly settings: ReplicationSettings,
    private readonly logger: Logger,
  ) {}

  /** Registers the job, the outbox consumer and the cron schedules (before jobs.start()). */
  async start(): Promise<void> {
    this.jobs.workers.register<ExecutionPayload>(EXECUTE_JOB, (ctx) => this.execute(ctx));
    await this.jobs.outbox.subscribe({
      name: OUTBOX_CONSUMER,
      types: OUTBOX_TYPES,
      handle: (events) => this.onEvents(events),
    });
    for (const p of await listPolicies(this.db)) await this.schedule(p);
  }

  /** Rule names using the endpoint (the endpoints feature refuses to delete it then). */
  usage(endpointId: string): Promise<string[]> {
    return policiesUsingEndpoint(this.db, endpointId).then((names) =>
      names.map((n) => `replication rule "${n}"`),
    );
  }

  list(): Promise<StoredPolicy[]> {
    return listPolicies(this.db);
  }

  get(idOrName: string): Promise<StoredPolicy | undefined> {
    return findPolicy(this.db, idOrName);
  }

  async create(input: RuleSettings, createdBy: string): Promise<StoredPolicy> {
    const rule = validateRule(input, (c) => nextCronTime(c, Date.now()));
    const endpoint = await this.endpoints.get(rule.endpoint);
    if (!endpoint) throw new RuleInputError(`endpoint "${rule.endpoint}" does not exist`);
    if (await findPolicy(this.db, rule.name))
      throw new RuleExistsError(`a replication rule named "${rule.name}" exists`);
    const stored = await insertPolicy(this.db, {
      ...rowOf(rule, endpoint.id),
      id: randomUUID(),
      createdBy,
    });
    await this.schedule(stored);
    return stored;
  }

  async update(idOrName: string, input: RuleSettings): Promise<StoredPolicy | undefined> {
    const current = await findPolicy(this.db, idOrName);
    if (!current) return undefined;
    const rule = validateRule(input, (c) => nextCronTime(c, Date.now()));
    const endpoint = await this.endpoints.get(rule.endpoint);
    if (!endpoint) throw new RuleInputError(`endpoint "${rule.endpoint}" does not exist`);
    const other = await findPolicy(this.db, rule.name);
    if (other && other.id !== current.id)
      throw new RuleExistsError(`a replication rule named "${rule.name}" exists`);
    const updated = await updatePolicy(this.db, {
      ...rowOf(rule, endpoint.id),
      id: current.id,
      createdBy: current.createdBy,
    });
    if (updated) await this.schedule(updated);
    return updated;
  }

  async remove(idOrName: string): Promise<boolean> {
    const p = await findPolicy(this.db, idOrName);
    if (!p) return false;
    for (const e of await listExecutions(this.db, { policyId: p.id, limit: 1000 })) {
      if (e.state === "running" || e.state === "pending" || e.state === "stopping")
        await this.stop(e.id);
    }
    await this.jobs.scheduler.remove(scheduleName(p.id));
    return deletePolicy(this.db, p.id);
  }

  /** The settings of a stored rule, as the API and the CLI show them. */
  async settingsOf(p: StoredPolicy): Promise<RuleSettings & { endpointName: string }> {
    const endpoint = await this.endpoints.get(p.endpointId);
    return { ...settingsOf(p, endpoint?.name ?? p.endpointId), endpointName: endpoint?.name ?? "" };
  }

  /** Starts a manual run: an execution and its job. */
  async run(p: StoredPolicy, createdBy: string): Promise<Execution> {
    if (!p.enabled) throw new RuleInputError(`replication rule "${p.name}" is disabled`);
    const execution = await insertExecution(this.db, {
      policyId: p.id,
      trigger: "manual",
      createdBy,
    });
    return this.enqueue(execution);
  }

  private async enqueue(execution: Execution): Promise<Execution> {
    const job = await this.jobs.queue.enqueue(
      EXECUTE_JOB,
      { executionId: execution.id },
      { maxAttempts: 3 },
    );
    await setExecution(this.db, execution.id, { jobId: job.id });
    return { ...execution, jobId: job.id };
  }

  /** Stops a pending or running execution; false when it had finished already. */
  async stop(id: number): Promise<boolean> {
    const e = await getExecution(this.db, id);
    if (!e) return false;
    if (!(await setExecution(this.db, id, { state: "stopping" }, ["pending", "running"])))
      return false;
    this.running.get(id)?.abort();
    const job = e.jobId !== null ? await this.jobs.queue.cancel(e.jobId) : undefined;
    if (!job || job.state === "cancelled" || job.state === "succeeded" || job.state === "failed") {
      // The job will not run (again): nothing else will finish the execution.
      await this.finish(id, "stopped", null);
    }
    return true;
  }

  executions(filter: { policyId?: string; limit: number }): Promise<Execution[]> {
    return listExecutions(this.db, filter);
  }

  execution(id: number): Promise<Execution | undefined> {
    return getExecution(this.db, id);
  }

  tasks(id: number, filter: { state?: Task["state"]; limit?: number } = {}): Promise<Task[]> {
    return listTasks(this.db, id, filter);
  }

  private async schedule(p: StoredPolicy): Promise<void> {
    const name = scheduleName(p.id);
    if (p.trigger === "cron" && p.cron && p.enabled) {
      await this.jobs.scheduler.define(name, p.cron, EXECUTE_JOB, {
        policyId: p.id,
        trigger: "cron",
      });
    } else {
      await this.jobs.scheduler.remove(name);
    }
  }

  /** Event rules: one execution per rule for the batch, its tasks recorded with it. */
  private async onEvents(events: OutboxEvent[]): Promise<void> {
    const rules = (await listPolicies(this.db)).filter((p) => p.enabled && p.trigger === "event");
    if (rules.length === 0) return;
    for (const p of rules) {
      const tasks = tasksForEvents(settingsOf(p, p.endpointId), events);
      if (tasks.length === 0) continue;
      const scope = { events: [events[0]!.id, events[events.length - 1]!.id] };
      const existing = await listExecutions(this.db, { policyId: p.id, limit: 20 });
      if (existing.some((e) => JSON.stringify(e.scope) === JSON.stringify(scope))) continue;
      const execution = await insertExecution(this.db, {
        policyId: p.id,
        trigger: "event",
        scope,
        createdBy: "system",
      });
      await insertTasks(this.db, execution.id, tasks);
      await refreshExecutionCounts(this.db, execution.id);
      await this.enqueue(execution);
    }
  }

  /** The `replication.execute` job. */
  private async execute(job: JobContext<ExecutionPayload>): Promise<unknown> {
    const local = new AbortController();
    const ctx: JobContext<ExecutionPayload> = {
      job: job.job,
      payload: job.payload,
      signal: AbortSignal.any([job.signal, local.signal]),
      progress: (v) => job.progress(v),
      log: (m, l) => job.log(m, l),
    };
    const execution = await this.executionOf(ctx);
    if (!execution) return { skipped: "the rule no longer exists" };
    this.running.set(execution.id, local);
    try {
      return await this.executeRun(ctx, execution);
    } finally {
      this.running.delete(execution.id);
    }
  }

  private async executeRun(
    ctx: JobContext<ExecutionPayload>,
    execution: Execution,
  ): Promise<unknown> {
    if (["succeeded", "failed", "stopped"].includes(execution.state)) return { id: execution.id };
    if (execution.state === "stopping") {
      await this.finish(execution.id, "stopped", null);
      return { id: execution.id, state: "stopped" };
    }
    const p = await findPolicy(this.db, execution.policyId);
    if (!p) return { skipped: "the rule no longer exists" };
    await setExecution(this.db, execution.id, {
      state: "running",
      ...(execution.startedAt === null ? { startedAt: Date.now() } : {}),
    });
    const rule = settingsOf(p, p.endpointId);
    try {
      const sides = await this.sidesOf(p);
      try {
        if (execution.trigger !== "event") {
          ctx.log(`planning: listing ${sides.from.description}`);
          const planned = await planRun(sides.from, rule, ctx.signal);
          await insertTasks(this.db, execution.id, planned);
        }
        await this.runTasks(ctx, execution.id, rule, sides);
      } finally {
        await sides.remote.close();
      }
    } catch (err) {
      if (ctx.signal.aborted) return this.aborted(execution.id);
      const message = (err as Error).message;
      if (ctx.job.attempts >= ctx.job.maxAttempts)
        await this.finish(execution.id, "failed", message);
      else await setExecution(this.db, execution.id, { error: `retrying: ${message}` });
      throw err;
    }
    if (ctx.signal.aborted) return this.aborted(execution.id);
    const counted = await refreshExecutionCounts(this.db, execution.id);
    const state = (counted?.failed ?? 0) > 0 ? "failed" : "succeeded";
    const error =
      state === "failed" ? `${counted?.failed} of ${counted?.total} artifacts failed` : null;
    await this.finish(execution.id, state, error);
    return { id: execution.id, state, total: counted?.total, bytes: counted?.bytes };
  }

  /** A cron job makes its execution once (a retried job finds the one it made). */
  private async executionOf(ctx: JobContext<ExecutionPayload>): Promise<Execution | undefined> {
    const payload = ctx.payload;
    if ("executionId" in payload) return getExecution(this.db, payload.executionId);
    const p = await findPolicy(this.db, payload.policyId);
    if (!p) return undefined;
    const made = (await listExecutions(this.db, { policyId: p.id, limit: 50 })).find(
      (e) => e.jobId === ctx.job.id,
    );
    if (made) return made;
    const execution = await insertExecution(this.db, {
      policyId: p.id,
      trigger: "cron",
      createdBy: "scheduler",
    });
    await setExecution(this.db, execution.id, { jobId: ctx.job.id });
    return { ...execution, jobId: ctx.job.id };
  }

  /** Aborted: stopped by a user, or this worker lost its lease (another takes over). */
  private async aborted(id: number): Promise<unknown> {
    const e = await getExecution(this.db, id);
    if (e?.state === "stopping") await this.finish(id, "stopped", null);
    return { id, state: "stopped" };
  }

  /** The sides of a run. A push side tries mounts from repositories earlier runs wrote. */
  private async sidesOf(p: StoredPolicy) {
    const endpoint = await this.endpoints.get(p.endpointId);
    if (!endpoint) throw new Error(`the rule's endpoint (${p.endpointId}) no longer exists`);
    const rule = settingsOf(p, endpoint.name);
    const remote = new RemoteSide(
      endpoint.name,
      this.endpoints.connect(endpoint),
      literalRepositories(rule.filters),
      p.mode === "push" ? await pushedRepositories(this.db, endpoint.id, MOUNT_TRIES) : [],
    );
    const local = new LocalSide(this.db, this.store);
    const [from, to]: [ReplicationSide, ReplicationSide] =
      p.mode === "pull" ? [remote, local] : [local, remote];
    return { from, to, remote };
  }

  private async runTasks(
    ctx: JobContext<ExecutionPayload>,
    executionId: number,
    rule: RuleSettings,
    sides: { from: ReplicationSide; to: ReplicationSide },
  ): Promise<void> {
    const open = [
      ...(await listTasks(this.db, executionId, { state: "running" })),
      ...(await listTasks(this.db, executionId, { state: "pending" })),
    ];
    const bandwidth = new Bandwidth(rule.bandwidthKbps * 1024);
    const total = open.length;
    let done = 0;
    let bytes = 0;
    const worker = async () => {
      for (let t = open.shift(); t; t = open.shift()) {
        if (ctx.signal.aborted) return;
        await this.runTask(ctx, t, rule, sides, bandwidth, (n) => {
          bytes += n;
        });
        done++;
        ctx.progress({ done, total, bytes });
      }
    };
    await Promise.all(Array.from({ length: Math.min(rule.concurrency, open.length) }, worker));
  }

  private async runTask(
    ctx: JobContext<ExecutionPayload>,
    task: Task,
    rule: RuleSettings,
    sides: { from: ReplicationSide; to: ReplicationSide },
    bandwidth: Bandwidth,
    onBytes: (n: number) => void,
  ): Promise<void> {
    const started = Date.now();
    await setTask(this.db, task.id, { state: "running", startedAt: started });
    const direction = rule.mode;
    for (let attempt = task.attempts + 1; ; attempt++) {
      await setTask(this.db, task.id, { attempts: attempt });
      try {
        const outcome =
          task.operation === "delete"
            ? await deleteOnDestination(sides.to, task)
            : task.operation === "referrers"
              ? await syncReferrers(sides.from, sides.to, task, {
                  signal: ctx.signal,
                  bandwidth,
                  onBytes,
                })
              : await replicateArtifact(sides.from, sides.to, rule, task, {
                  signal: ctx.signal,
                  bandwidth,
                  onBytes,
                });
        replicationBytes.labels(direction).inc(outcome.bytes);
        replicationTasks
          .labels(direction, outcome.action === "skipped" ? "skipped" : "succeeded")
          .inc();
        await setTask(this.db, task.id, {
          state: outcome.action === "skipped" ? "skipped" : "succeeded",
          bytes: outcome.bytes,
          referrers: outcome.referrers,
          ...(outcome.digest ? { digest: outcome.digest } : {}),
          error: outcome.reason ?? null,
          finishedAt: Date.now(),
        });
        return;
      } catch (err) {
        if (ctx.signal.aborted) {
          await setTask(this.db, task.id, { state: "stopped", finishedAt: Date.now() });
          return;
        }
        const message = (err as Error).message;
        if (attempt >= this.settings.taskAttempts || !retryable(err)) {
          replicationTasks.labels(direction, "failed").inc();
          this.logger.warn(
            { execution: task.executionId, repository: task.sourceRepository, err: message },
            "replication task failed",
          );
          await setTask(this.db, task.id, {
            state: "failed",
            error: message,
            finishedAt: Date.now(),
          });
          return;
        }
        ctx.log(
          `${task.sourceRepository}:${task.reference}: attempt ${attempt} failed: ${message}`,
          "warn",
        );
        await sleep(backoffDelay(attempt, this.settings.retryBackoffMs), ctx.signal);
      }
    }
  }

  private async finish(
    id: number,
    state: "succeeded" | "failed" | "stopped",
    error: string | null,
  ) {
    if (state === "stopped") await stopOpenTasks(this.db, id);
    const e = await refreshExecutionCounts(this.db, id);
    await setExecution(this.db, id, { state, error, finishedAt: Date.now() });
    if (!e) return;
    const p = await findPolicy(this.db, e.policyId);
    const tasks = await listTasks(this.db, id, { limit: 1000 });
    const projects = new Set(
      tasks.map((t) =>
        projectOf(p?.mode === "pull" ? t.destinationRepository : t.sourceRepository),
      ),
    );
    for (const project of projects) {
      await emitEvent(this.db, "replication.finished", project, {
        rule: p?.name ?? e.policyId,
        status: state,
        artifacts: e.succeeded,
        bytes: e.bytes,
        ...(error ? { error } : {}),
      });
    }
  }
}

export class RuleExistsError extends Error {}

function scheduleName(policyId: string): string {
  return `replication:${policyId}`;
}

/** A refusal that another attempt cannot change (a missing project, a bad manifest). */
function retryable(err: unknown): boolean {
  if (err instanceof DestinationError) return false;
  if (err instanceof RegistryError)
    return err.kind === "unreachable" || err.kind === "server" || err.kind === "too-many-requests";
  return true;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

async function deleteOnDestination(to: ReplicationSide, task: Task) {
  const digest = await to.resolve(task.destinationRepository, task.reference);
  if (!digest)
    return {
      action: "skipped" as const,
      reason: "not on the destination",
      digest: "",
      bytes: 0,
      referrers: 0,
    };
  await to.deleteManifest(task.destinationRepository, digest);
  return { action: "copied" as const, digest, bytes: 0, referrers: 0 };
}

function rowOf(rule: RuleSettings, endpointId: string) {
  return {
    name: rule.name,
    description: rule.description,
    endpointId,
    mode: rule.mode,
    filters: rule.filters,
    destination: rule.destination,
    trigger: rule.trigger,
    cron: rule.cron,
    overwrite: rule.overwrite,
    replicateDeletion: rule.replicateDeletion,
    bandwidthKbps: rule.bandwidthKbps,
    concurrency: rule.concurrency,
    enabled: rule.enabled,
  };
}

export function settingsOf(p: StoredPolicy, endpoint: string): RuleSettings {
  return {
    name: p.name,
    description: p.description,
    endpoint,
    mode: p.mode as RuleSettings["mode"],
    filters: p.filters as ReplicationFilters,
    destination: p.destination as RuleSettings["destination"],
    trigger: p.trigger as RuleSettings["trigger"],
    cron: p.cron,
    overwrite: p.overwrite,
    replicateDeletion: p.replicateDeletion,
    bandwidthKbps: p.bandwidthKbps,
    concurrency: p.concurrency,
    enabled: p.enabled,
  };
}

/** Literal repository names among the include patterns (listed when a catalog is refused). */
function literalRepositories(filters: ReplicationFilters): string[] {
  return filters.repositories.include.filter((p) => !/[*?{}[\]!()+@]/.test(p));
}

/** The tasks an event rule makes of a batch of committed registry events. */
export function tasksForEvents(rule: RuleSettings, events: OutboxEvent[]): PlannedTask[] {
  const tasks = new Map<string, PlannedTask>();
  const add = (t: PlannedTask) =>
    tasks.set(`${t.operation} ${t.sourceRepository} ${t.reference}`, t);
  for (const e of events) {
    if (!selectsRepository(rule.filters, e.repository)) continue;
    const destinationRepositoryName = destinationRepository(rule.destination, e.repository);
    const base = {
      sourceRepository: e.repository,
      destinationRepository: destinationRepositoryName,
    };
    if (e.type === "manifest.pushed") {
      const { tag, subject } = e.data;
      if (subject) add({ ...base, operation: "referrers", reference: subject });
      else if (tag && isAttachmentTag(tag)) {
        const hex = /^sha256-([a-f0-9]{64})/.exec(tag)?.[1];
        if (hex) add({ ...base, operation: "referrers", reference: `sha256:${hex}` });
      } else if (tag && selectsTag(rule.filters, tag))
        add({ ...base, operation: "copy", reference: tag });
    } else if (rule.replicateDeletion && e.type === "tag.deleted") {
      if (!isAttachmentTag(e.data.tag) && selectsTag(rule.filters, e.data.tag))
        add({ ...base, operation: "delete", reference: e.data.tag });
    } else if (rule.replicateDeletion && e.type === "manifest.deleted") {
      if (e.data.tags.length === 0 || e.data.tags.some((t) => selectsTag(rule.filters, t)))
        add({ ...base, operation: "delete", reference: e.data.digest });
    }
  }
  return [...tasks.values()];
}
