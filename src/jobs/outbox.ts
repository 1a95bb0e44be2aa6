// Delivers the transactional outbox (meta/outbox.ts) to consumers registered in code:
// scan on push, replication, webhooks, audit, … Each consumer has a cursor row; one process
// at a time holds a consumer's delivery lease, reads the events after its cursor in id
// order, hands them to the consumer in batches, and moves the cursor only after the
// consumer returned. So delivery is at least once: a crash after the consumer ran but
// before the cursor moved delivers that batch again (consumers must be idempotent, e.g.
// enqueue a job keyed by the event id), and a crash before dispatch loses nothing, since
// the event was committed with the change. A consumer that throws is retried from the same
// position at the next poll; the others go on.
// A new consumer starts at the newest event (`from: "latest"`) or at the oldest kept one
// (`from: "start"`). Old events are pruned once every cursor has passed them and they are
// older than the retention (default 7 days).
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import {
  advanceOutboxCursor,
  claimOutboxCursor,
  type Database,
  ensureOutboxCursor,
  latestOutboxId,
  type OutboxEvent,
  type OutboxEventType,
  pruneOutbox,
  readOutbox,
  releaseOutboxCursor,
} from "../meta/index.js";

export interface OutboxConsumer {
  /** Stable name: the cursor's key. */
  name: string;
  /** Only these event types (default all). Others advance the cursor without a call. */
  types?: readonly OutboxEventType[];
  /** Where a consumer with no cursor yet starts (default "latest"). */
  from?: "latest" | "start";
  handle(events: OutboxEvent[]): Promise<void>;
}

export interface DispatcherOptions {
  owner: string;
  pollMs?: number;
  leaseMs?: number;
  batchSize?: number;
  /** Events are kept at least this long (ms, default 7 days). */
  retentionMs?: number;
}

export class OutboxDispatcher {
  private readonly consumers = new Map<string, OutboxConsumer>();
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> | undefined;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly batchSize: number;
  private readonly retentionMs: number;
  private lastPrune = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly logger: Logger,
    private readonly options: DispatcherOptions,
  ) {
    this.pollMs = options.pollMs ?? 1000;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.batchSize = options.batchSize ?? 100;
    this.retentionMs = options.retentionMs ?? 7 * 86_400_000;
  }

  /** Registers a consumer and creates its cursor if it has none. */
  async subscribe(consumer: OutboxConsumer): Promise<void> {
    const start = consumer.from === "start" ? 0 : await latestOutboxId(this.db);
    await ensureOutboxCursor(this.db, consumer.name, start);
    this.consumers.set(consumer.name, consumer);
  }

  start(): void {
    this.timer = setInterval(() => void this.dispatch(), this.pollMs);
    this.timer.unref();
    void this.dispatch();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.busy;
    for (const name of this.consumers.keys()) {
      await releaseOutboxCursor(this.db, name, this.options.owner).catch(() => {});
    }
  }

  /** One delivery pass over every consumer (also what the timer runs). */
  dispatch(): Promise<void> {
    this.busy ??= this.pass().finally(() => {
      this.busy = undefined;
    });
    return this.busy;
  }

  private async pass(): Promise<void> {
    for (const consumer of this.consumers.values()) {
      try {
        await this.deliver(consumer);
      } catch (err) {
        this.logger.error({ err, consumer: consumer.name }, "outbox consumer failed");
      }
    }
    if (Date.now() - this.lastPrune > 3_600_000) {
      this.lastPrune = Date.now();
      await pruneOutbox(this.db, Date.now() - this.retentionMs).catch((err) =>
        this.logger.warn({ err }, "outbox prune failed"),
      );
    }
  }

  private async deliver(consumer: OutboxConsumer): Promise<void> {
    const owner = this.options.owner;
    let position = await claimOutboxCursor(this.db, consumer.name, owner, this.leaseMs);
    if (position === undefined) return;
    for (;;) {
      const events = await readOutbox(this.db, position, this.batchSize);
      if (events.length === 0) return;
      const wanted = consumer.types
        ? events.filter((e) => consumer.types!.includes(e.type))
        : events;
      if (wanted.length > 0) await consumer.handle(wanted);
      position = events[events.length - 1]!.id;
      if (!(await advanceOutboxCursor(this.db, consumer.name, owner, position, this.leaseMs)))
        return;
      if (events.length < this.batchSize) return;
    }
  }
}
