// The replication tables (migration 0016, meta/replication.ts) on both dialects, SQLite and
// PostgreSQL, with one suite: rules by id or name, executions and their counters, a task
// plan recorded twice (a resumed execution) adds nothing, stopping marks open tasks, and a
// rule's removal takes its executions and tasks with it.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MetaDatabase, openDatabase } from "../../src/meta/index.js";
import {
  deletePolicy,
  findPolicy,
  getExecution,
  insertExecution,
  insertPolicy,
  insertTasks,
  listExecutions,
  listTasks,
  refreshExecutionCounts,
  setTask,
  stopOpenTasks,
} from "../../src/meta/replication.js";
import { type PostgresServer, startPostgres } from "../registry/postgres-server.js";

let postgres: PostgresServer;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-replication-store-"));
  postgres = await startPostgres();
}, 120_000);
afterAll(async () => {
  await postgres?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const dialects: [string, () => Promise<MetaDatabase>][] = [
  ["sqlite", async () => openDatabase({ driver: "sqlite", path: join(dir, "berth.db") })],
  [
    "postgres",
    async () =>
      openDatabase({
        driver: "postgres",
        url: await postgres.createDatabase("replication"),
        poolSize: 2,
      }),
  ],
];

describe.each(dialects)("replication store on %s", (_name, open) => {
  it("keeps rules, executions and tasks", async () => {
    const meta = await open();
    const db = meta.db;
    try {
      const p = await insertPolicy(db, {
        id: "p1",
        name: "to-dr",
        description: "",
        endpointId: "e1",
        mode: "push",
        filters: {
          repositories: { include: ["team/**"], exclude: [] },
          tags: { include: [], exclude: [] },
          labels: [],
          platforms: ["linux/arm64"],
        },
        destination: { namespace: "dr", flatten: 1 },
        trigger: "manual",
        cron: null,
        overwrite: true,
        replicateDeletion: false,
        bandwidthKbps: 0,
        concurrency: 2,
        enabled: true,
        createdBy: "admin",
      });
      expect((await findPolicy(db, "to-dr"))?.id).toBe("p1");
      expect((await findPolicy(db, "p1"))?.filters).toEqual(p.filters);
      const e = await insertExecution(db, {
        policyId: "p1",
        trigger: "manual",
        createdBy: "admin",
      });
      const plan = [
        {
          operation: "copy" as const,
          sourceRepository: "team/a",
          reference: "v1",
          destinationRepository: "dr/a",
        },
        {
          operation: "copy" as const,
          sourceRepository: "team/b",
          reference: "v1",
          destinationRepository: "dr/b",
        },
        {
          operation: "copy" as const,
          sourceRepository: "team/c",
          reference: "v1",
          destinationRepository: "dr/c",
        },
      ];
      await insertTasks(db, e.id, plan);
      await insertTasks(db, e.id, plan);
      const tasks = await listTasks(db, e.id);
      expect(tasks).toHaveLength(3);
      await setTask(db, tasks[0]!.id, { state: "succeeded", bytes: 1000, referrers: 2 });
      await setTask(db, tasks[1]!.id, { state: "running" });
      await stopOpenTasks(db, e.id);
      const counted = await refreshExecutionCounts(db, e.id);
      expect(counted).toMatchObject({ total: 3, succeeded: 1, failed: 0, bytes: 1000 });
      expect(
        (await listTasks(db, e.id, { state: "stopped" })).map((t) => t.sourceRepository),
      ).toEqual(["team/b", "team/c"]);
      expect((await listExecutions(db, { policyId: "p1", limit: 5 })).map((x) => x.id)).toEqual([
        e.id,
      ]);
      expect(await deletePolicy(db, "p1")).toBe(true);
      expect(await getExecution(db, e.id)).toBeUndefined();
      expect(await listTasks(db, e.id)).toEqual([]);
    } finally {
      await meta.close();
    }
  });
});
