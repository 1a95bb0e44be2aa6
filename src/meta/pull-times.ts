// Batched "last pulled" bookkeeping for manifests. A manifest GET must stay a pure read (no
// fsynced write per pull), so pulls are collected in memory and written every few seconds
// in one transaction. Losing the last few seconds of pull times in a crash is acceptable:
// they are statistics for retention rules, never acknowledged data.
import type { Kysely } from "kysely";
import { batches } from "./blobs.js";
import type { Database } from "./database.js";

export class PullTimes {
  private pending = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly intervalMs = 5000,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.flush().catch(this.onError);
    }, this.intervalMs);
    this.timer.unref();
  }

  record(manifestId: number): void {
    this.pending.add(manifestId);
  }

  /** Writes the pending pull times; safe to call concurrently. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write()).catch(this.onError);
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const ids = [...this.pending];
    this.pending = new Set();
    const now = Date.now();
    await this.db.transaction().execute(async (trx) => {
      for (const batch of batches(ids, 500)) {
        await trx
          .updateTable("manifests")
          .set({ pulled_at: now })
          .where("id", "in", batch)
          .execute();
      }
    });
  }
}
