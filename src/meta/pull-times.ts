// Batched "last pulled" bookkeeping for manifests. A manifest GET must stay a pure read (no
// fsynced write per pull), so pulls are collected in memory and written every few seconds
// in one transaction. Losing the last few seconds of pull times in a crash is acceptable:
// they are statistics for retention rules, never acknowledged data. Each flush also writes
// one `manifests.pulled` outbox event per repository (see outbox.ts), in the same
// transaction: pull events are batched, never one row per GET.
import type { Kysely } from "kysely";
import { batches } from "./blobs.js";
import type { Database } from "./database.js";
import { appendOutbox, SYSTEM_ACTOR } from "./outbox.js";

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
      const pulled = new Map<string, { id: number; repository: string; digest: string }[]>();
      for (const batch of batches(ids, 500)) {
        await trx
          .updateTable("manifests")
          .set({ pulled_at: now })
          .where("id", "in", batch)
          .execute();
        const rows = await trx
          .selectFrom("manifests as m")
          .innerJoin("repositories as r", "r.id", "m.repository_id")
          .select(["m.id", "m.digest", "r.name"])
          .where("m.id", "in", batch)
          .execute();
        for (const r of rows) {
          const list = pulled.get(r.name) ?? [];
          list.push({ id: Number(r.id), repository: r.name, digest: r.digest });
          pulled.set(r.name, list);
        }
      }
      for (const [repository, manifests] of pulled) {
        await appendOutbox(trx, "manifests.pulled", repository, SYSTEM_ACTOR, { manifests });
      }
    });
  }
}
