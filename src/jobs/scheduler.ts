// Cron triggers: named schedules (croner syntax) that enqueue a job each time they fire.
// The schedule rows live in the database (meta/schedules.ts); every process ticks, and the
// one whose conditional UPDATE moves `next_run_at` first enqueues the job in the same
// transaction, so each occurrence fires once however many processes share the database.
// A process that was down when a time passed fires it once at its next tick (no backlog).
import { Cron } from "croner";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import {
  type Database,
  deleteSchedule,
  dueSchedules,
  fireSchedule,
  upsertSchedule,
} from "../meta/index.js";

/** The next time `cron` fires after `after` (ms); throws a clear error for a bad expression. */
export function nextCronTime(cron: string, after: number): number {
  let parsed: Cron;
  try {
    parsed = new Cron(cron, { paused: true, mode: "5-or-6-parts" });
  } catch (err) {
    throw new Error(
      `invalid cron expression "${cron}": ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const next = parsed.nextRun(new Date(after));
  parsed.stop();
  if (!next) throw new Error(`cron expression "${cron}" never fires`);
  return next.getTime();
}

export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly logger: Logger,
    private readonly tickMs = 15_000,
    /** Called after this process fired a schedule (wakes local workers). */
    private readonly onFired: () => void = () => {},
  ) {}

  /** Creates or updates a schedule (idempotent: every process may call it at start). */
  async define(name: string, cron: string, kind: string, payload: unknown): Promise<void> {
    await upsertSchedule(this.db, {
      name,
      cron,
      kind,
      payload,
      nextRunAt: nextCronTime(cron, Date.now()),
    });
  }

  async remove(name: string): Promise<void> {
    await deleteSchedule(this.db, name);
  }

  start(): void {
    this.timer = setInterval(() => {
      this.tick().catch((err) => this.logger.error({ err }, "scheduler tick failed"));
    }, this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Fires every due schedule this process wins; returns the ids of the jobs it enqueued. */
  async tick(now = Date.now()): Promise<number[]> {
    if (this.ticking) return [];
    this.ticking = true;
    try {
      const fired: number[] = [];
      for (const s of await dueSchedules(this.db, now)) {
        const next = nextCronTime(s.cron, Math.max(now, s.nextRunAt));
        const id = await fireSchedule(this.db, s, next, 1);
        if (id !== undefined) {
          this.logger.info({ schedule: s.name, job: id }, "schedule fired");
          fired.push(id);
        }
      }
      if (fired.length > 0) this.onFired();
      return fired;
    } finally {
      this.ticking = false;
    }
  }
}
