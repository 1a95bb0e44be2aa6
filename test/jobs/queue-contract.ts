// The job queue's contract (src/jobs over src/meta): claims, leases, takeover, backoff,
// cancel, retry, logs, schedules and the outbox behave the same on every SQL dialect.
// queue-sqlite.test.ts and queue-postgres.test.ts run it with their own database.
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createJobs,
  JobQueue,
  nextCronTime,
  OutboxDispatcher,
  Scheduler,
  Workers,
} from "../../src/jobs/index.js";
import {
  claimJob,
  deleteTag,
  type MetaDatabase,
  type OutboxEvent,
  putManifest,
  recordBlobInRepository,
} from "../../src/meta/index.js";

const silent = pino({ level: "silent" });
const d = (n: number) => `sha256:${n.toString(16).padStart(64, "0")}`;

async function until<T>(probe: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function describeQueueContract(name: string, open: () => Promise<MetaDatabase>) {
  describe(`job queue contract: ${name}`, () => {
    let meta: MetaDatabase;
    const stops: (() => Promise<void>)[] = [];
    beforeEach(async () => {
      meta = await open();
    });
    afterEach(async () => {
      for (const stop of stops.splice(0)) await stop();
      await meta.close();
    });

    function workers(options: ConstructorParameters<typeof Workers>[3] = {}) {
      const queue = new JobQueue(meta.db);
      const w = new Workers(meta.db, queue, silent, { pollMs: 20, leaseMs: 3000, ...options });
      stops.push(() => w.stop());
      return { queue, workers: w };
    }

    it("runs a job once and stores its result, progress and log", async () => {
      const { queue, workers: w } = workers();
      let runs = 0;
      w.register<{ n: number }>("double", async (ctx) => {
        runs++;
        ctx.progress({ done: 1 });
        ctx.log(`doubling ${ctx.payload.n}`);
        return { value: ctx.payload.n * 2 };
      });
      w.start();
      const job = await queue.enqueue("double", { n: 21 });
      const done = await queue.wait(job.id, 20);
      expect(done).toMatchObject({ state: "succeeded", result: { value: 42 }, attempts: 1 });
      expect(done.progress).toEqual({ done: 1 });
      expect((await queue.log(job.id)).map((l) => l.message)).toEqual(["doubling 21"]);
      expect(runs).toBe(1);
    });

    it("claims each job for one worker only, even when many claim at once", async () => {
      const queue = new JobQueue(meta.db);
      for (let i = 0; i < 20; i++) await queue.enqueue("k", { i });
      const claims = await Promise.all(
        Array.from({ length: 40 }, (_, i) => claimJob(meta.db, ["k"], `w${i}`, 60_000)),
      );
      const ids = claims.filter((c) => c !== undefined).map((c) => c!.id);
      expect(ids).toHaveLength(20);
      expect(new Set(ids).size).toBe(20);
    });

    it("retries a failing job with exponential backoff, then fails it", async () => {
      const { queue, workers: w } = workers({ backoffMs: 200 });
      const starts: number[] = [];
      w.register("flaky", async () => {
        starts.push(Date.now());
        throw new Error(`boom ${starts.length}`);
      });
      w.start();
      const job = await queue.enqueue("flaky", {}, { maxAttempts: 3 });
      const done = await queue.wait(job.id, 20);
      expect(done).toMatchObject({ state: "failed", attempts: 3, error: "boom 3" });
      expect(starts).toHaveLength(3);
      // Waits of at least 200 ms and then 400 ms (base × 2^(attempt−1)).
      expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(200);
      expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(400);
      const retried = await queue.retry(job.id);
      expect(retried).toMatchObject({ state: "queued", attempts: 0 });
      expect(await queue.retry(999_999)).toBeUndefined();
    });

    it("cancels a queued job at once and a running one through its signal", async () => {
      const { queue, workers: w } = workers({ leaseMs: 300 });
      const queued = await queue.enqueue("slow", {}, { delayMs: 60_000 });
      expect((await queue.cancel(queued.id))?.state).toBe("cancelled");
      let started = false;
      w.register("slow", async (ctx) => {
        started = true;
        await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
        throw ctx.signal.reason;
      });
      w.start();
      const running = await queue.enqueue("slow", {});
      await until(async () => started);
      await queue.cancel(running.id);
      const done = await queue.wait(running.id, 20);
      expect(done).toMatchObject({ state: "cancelled", error: "cancelled" });
    });

    it("takes over a job whose worker died once its lease expired", async () => {
      const queue = new JobQueue(meta.db);
      const job = await queue.enqueue("takeover", { x: 1 });
      // A worker claims it and dies (never heartbeats, never finishes).
      const dead = await claimJob(meta.db, ["takeover"], "dead-worker", 300);
      expect(dead?.id).toBe(job.id);
      const { workers: w } = workers();
      const runs: string[] = [];
      w.register("takeover", async (ctx) => {
        runs.push(ctx.job.leaseOwner ?? "");
        return "ok";
      });
      w.start();
      const done = await queue.wait(job.id, 20);
      expect(done).toMatchObject({ state: "succeeded", attempts: 2, result: "ok" });
      expect(runs).toEqual([w.owner]);
    });

    it("keeps a job from a worker that lost its lease", async () => {
      const queue = new JobQueue(meta.db);
      const job = await queue.enqueue("stall", {});
      const first = await claimJob(meta.db, ["stall"], "slow-worker", 1);
      await new Promise((r) => setTimeout(r, 10));
      const second = await claimJob(meta.db, ["stall"], "fast-worker", 60_000);
      expect(second?.id).toBe(first?.id);
      const { finishJob } = await import("../../src/meta/index.js");
      expect(
        await finishJob(meta.db, job.id, "slow-worker", { state: "succeeded", result: 1 }),
      ).toBe(false);
      expect(
        await finishJob(meta.db, job.id, "fast-worker", { state: "succeeded", result: 2 }),
      ).toBe(true);
      expect((await queue.get(job.id))?.result).toBe(2);
    });

    it("fires a schedule once per occurrence across several schedulers", async () => {
      const a = new Scheduler(meta.db, silent);
      const b = new Scheduler(meta.db, silent);
      await a.define("every-minute", "* * * * *", "tick", { from: "cron" });
      await b.define("every-minute", "* * * * *", "tick", { from: "cron" });
      const due = nextCronTime("* * * * *", Date.now());
      const fired = (await Promise.all([a.tick(due + 1), b.tick(due + 1), a.tick(due + 2)])).flat();
      expect(fired).toHaveLength(1);
      const queue = new JobQueue(meta.db);
      const jobs = await queue.list({ kind: "tick", limit: 10 });
      expect(jobs).toHaveLength(1);
      expect(jobs[0]).toMatchObject({ schedule: "every-minute", payload: { from: "cron" } });
      // The next occurrence is a minute later: nothing is due at the same instant again.
      expect(await a.tick(due + 3)).toEqual([]);
      expect(() => nextCronTime("not cron", Date.now())).toThrow(/invalid cron expression/);
    });

    it("writes outbox events with the change and delivers them at least once per consumer", async () => {
      const dispatcher = new OutboxDispatcher(meta.db, silent, { owner: "p1", pollMs: 50 });
      const seen: OutboxEvent[] = [];
      let failOnce = true;
      await dispatcher.subscribe({
        name: "test",
        from: "start",
        types: ["manifest.pushed", "tag.deleted", "blob.committed"],
        async handle(events) {
          if (failOnce) {
            failOnce = false;
            throw new Error("consumer down");
          }
          seen.push(...events);
        },
      });
      await recordBlobInRepository(meta.db, "o/app", d(1), 10, {
        principal: "alice",
        remoteAddress: "10.0.0.1",
      });
      await putManifest(meta.db, {
        repository: "o/app",
        digest: d(2),
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        content: Buffer.from("{}"),
        references: [{ kind: "blob", digest: d(1) }],
        tag: "v1",
        actor: { principal: "alice", remoteAddress: "10.0.0.1" },
      });
      await deleteTag(meta.db, "o/app", "v1");
      // A change that fails leaves no event.
      await expect(
        putManifest(meta.db, {
          repository: "o/app",
          digest: d(3),
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          content: Buffer.from("{}"),
          references: [{ kind: "blob", digest: d(99) }],
        }),
      ).rejects.toThrow(/not in the repository/);
      await dispatcher.dispatch(); // the consumer throws: the cursor stays
      expect(seen).toEqual([]);
      await dispatcher.dispatch();
      expect(seen.map((e) => e.type)).toEqual(["blob.committed", "manifest.pushed", "tag.deleted"]);
      expect(seen[1]).toMatchObject({
        repository: "o/app",
        principal: "alice",
        data: { digest: d(2), tag: "v1" },
      });
      await dispatcher.dispatch();
      expect(seen).toHaveLength(3); // delivered, cursor moved: not again
      // A second process does not deliver while the first holds the lease.
      const other = new OutboxDispatcher(meta.db, silent, { owner: "p2" });
      const seenByOther: OutboxEvent[] = [];
      await other.subscribe({ name: "test", handle: async (e) => void seenByOther.push(...e) });
      await deleteTag(meta.db, "o/app", "nope");
      await recordBlobInRepository(meta.db, "o/app", d(4), 10);
      await other.dispatch();
      expect(seenByOther).toEqual([]);
      await dispatcher.stop(); // releases the lease: the other takes over at the cursor
      await other.dispatch();
      expect(seenByOther.map((e) => e.type)).toEqual(["blob.committed"]);
    });

    it("starts, runs and stops as one runtime", async () => {
      const jobs = createJobs(meta.db, silent, { workers: { pollMs: 20 } });
      jobs.workers.register("noop", async () => "done");
      jobs.start();
      stops.push(() => jobs.stop());
      const job = await jobs.queue.enqueue("noop", null);
      expect((await jobs.queue.wait(job.id, 20)).state).toBe("succeeded");
    });
  });
}
