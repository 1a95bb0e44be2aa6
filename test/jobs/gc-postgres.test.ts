// Online GC and its races on PostgreSQL, where the row locks of src/jobs/gc.ts matter; and
// the sweep's SKIP LOCKED batches: a row another transaction holds is retried alone (waiting
// for its lock), never skipped for good.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectGarbage } from "../../src/jobs/gc.js";
import { pushBlob, randomBytes, startTestRegistry } from "../registry/harness.js";
import { type PostgresServer, startPostgres } from "../registry/postgres-server.js";
import { describeGcRaces } from "./gc-races.js";

let postgres: PostgresServer;
let counter = 0;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});

describeGcRaces("postgres", async () => ({
  BERTH_DATABASE_DRIVER: "postgres",
  BERTH_DATABASE_URL: await postgres.createDatabase(`gc_${++counter}`),
}));

describe("online GC: postgres, a link locked by another transaction", () => {
  it("is skipped by the batch, then deleted once its lock is released", async () => {
    const url = await postgres.createDatabase(`gc_${++counter}`);
    const registry = await startTestRegistry({
      env: {
        BERTH_AUTH: "none",
        BERTH_JOBS_WORKERS: "0",
        BERTH_GC_GRACE: "0",
        BERTH_DATABASE_DRIVER: "postgres",
        BERTH_DATABASE_URL: url,
      },
    });
    const holder = new pg.Client({ connectionString: url });
    try {
      const digests: string[] = [];
      for (let i = 0; i < 3; i++) {
        digests.push(await pushBlob(registry.url, "lock/app", randomBytes(100, 300 + i)));
      }
      await holder.connect();
      await holder.query("BEGIN");
      // As a manifest PUT does: the link locked FOR SHARE until the transaction ends.
      await holder.query("SELECT digest FROM repository_blobs WHERE digest = $1 FOR SHARE", [
        digests[1],
      ]);
      let finished = false;
      const running = collectGarbage(registry.context.db, registry.context.store, {
        graceMs: 0,
      }).then((r) => {
        finished = true;
        return r;
      });
      const waiting = async () => {
        const { rows } = await holder.query<{ n: string }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'",
        );
        return Number(rows[0]!.n);
      };
      const deadline = Date.now() + 20_000;
      while ((await waiting()) === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await waiting()).toBe(1); // GC waits for the one locked link, alone
      expect(finished).toBe(false);
      // The batch did not wait holding the others: their deletions are committed already.
      const { rows } = await holder.query<{ digest: string }>(
        "SELECT digest FROM repository_blobs WHERE digest = ANY($1)",
        [digests],
      );
      expect(rows.map((r) => r.digest)).toEqual([digests[1]]);
      await holder.query("COMMIT");
      expect(await running).toMatchObject({ links: 3, blobs: 3, kept: 0 });
    } finally {
      await holder.end().catch(() => {});
      await registry.destroy();
    }
  });
});
