// A separate OS process running job workers on a shared PostgreSQL database, for the
// exactly-once test (queue-postgres.test.ts). Kind `count`: logs which worker ran it and
// returns that worker's id. Prints "ready <owner>" when it polls; stops on SIGTERM.
// Usage: node --import tsx test/jobs/worker-process.ts postgres://…
import { pino } from "pino";
import { JobQueue, Workers } from "../../src/jobs/index.js";
import { openDatabase } from "../../src/meta/index.js";

const url = process.argv[2];
if (!url) throw new Error("usage: worker-process.ts POSTGRES_URL");
const meta = await openDatabase({ driver: "postgres", url, poolSize: 4 });
const workers = new Workers(meta.db, new JobQueue(meta.db), pino({ level: "silent" }), {
  concurrency: 3,
  pollMs: 10,
  leaseMs: 10_000,
});
workers.register("count", async (ctx) => {
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 15));
  ctx.log(`ran by ${workers.owner}`);
  return workers.owner;
});
workers.start();
process.stdout.write(`ready ${workers.owner}\n`);
process.once("SIGTERM", () => {
  void workers
    .stop()
    .then(() => meta.close())
    .then(() => process.exit(0));
});
