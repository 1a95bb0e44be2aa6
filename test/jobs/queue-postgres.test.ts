// The job queue on PostgreSQL: the contract suite, then two Berth processes sharing one
// database running N jobs between them, each exactly once (FOR UPDATE SKIP LOCKED claims).
import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import { JobQueue } from "../../src/jobs/index.js";
import { openDatabase } from "../../src/meta/index.js";
import { type PostgresServer, startPostgres } from "../registry/postgres-server.js";
import { describeQueueContract } from "./queue-contract.js";

let postgres: PostgresServer;
let counter = 0;

beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});

describeQueueContract("postgres", async () => {
  const url = await postgres.createDatabase(`jobs_${++counter}`);
  return openDatabase({ driver: "postgres", url, poolSize: 6 });
});

function startWorkerProcess(url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "test/jobs/worker-process.ts", url], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`worker process exited with ${code}`)));
    child.stdout!.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve(child);
    });
  });
}

it("two processes on one database run each of N jobs exactly once", async () => {
  const url = await postgres.createDatabase("two_processes");
  const meta = await openDatabase({ driver: "postgres", url, poolSize: 4 });
  const children = [await startWorkerProcess(url), await startWorkerProcess(url)];
  try {
    const queue = new JobQueue(meta.db);
    const ids: number[] = [];
    for (let i = 0; i < 60; i++) ids.push((await queue.enqueue("count", { i })).id);
    const owners = new Map<string, number>();
    for (const id of ids) {
      const job = await queue.wait(id, 50);
      expect(job).toMatchObject({ state: "succeeded", attempts: 1 });
      const lines = (await queue.log(id)).filter((l) => l.message.startsWith("ran by "));
      expect(lines).toHaveLength(1);
      expect(lines[0]!.message).toBe(`ran by ${job.result as string}`);
      owners.set(job.result as string, (owners.get(job.result as string) ?? 0) + 1);
    }
    expect([...owners.values()].reduce((a, b) => a + b, 0)).toBe(60);
    expect(owners.size).toBe(2); // both processes took part
  } finally {
    for (const child of children) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    await meta.close();
  }
}, 120_000);
