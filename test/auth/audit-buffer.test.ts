// The write-behind buffer of pull audit records (src/auth/audit-buffer.ts) and the batched
// insert behind it (AuthStore.appendAuditBatch): entries are written after the interval or
// once a batch is full, in order, each once; close() writes what is left; a stalled writer
// never makes the buffer grow past its bound (the excess is counted and reported); a failed
// write is reported with how many entries it lost. No timing is asserted: waits poll.
import { afterEach, describe, expect, it } from "vitest";
import { AuditLog } from "../../src/auth/audit.js";
import { AuditBuffer } from "../../src/auth/audit-buffer.js";
import { openTestAuth, quietLog, type TestAuth } from "./db.js";

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("AuditBuffer", () => {
  it("writes what waited once the interval ends, in order, each entry once", async () => {
    const written: number[][] = [];
    const buffer = new AuditBuffer<number>(async (batch) => void written.push([...batch]), {
      intervalMs: 20,
    });
    for (let i = 0; i < 5; i++) buffer.add(i);
    expect(written).toEqual([]);
    expect(buffer.size).toBe(5);
    await until(() => written.length === 1, "the interval's write");
    expect(written).toEqual([[0, 1, 2, 3, 4]]);
    expect(buffer.size).toBe(0);
  });

  it("writes a full batch at once, without waiting for the interval", async () => {
    const written: number[][] = [];
    const buffer = new AuditBuffer<number>(async (batch) => void written.push([...batch]), {
      intervalMs: 3_600_000,
      batchSize: 3,
    });
    for (let i = 0; i < 7; i++) buffer.add(i);
    await until(() => written.length === 2, "two full batches");
    expect(written).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    await buffer.close();
    expect(written.flat()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it("close() writes everything pending; later entries are still written", async () => {
    const written: string[] = [];
    const buffer = new AuditBuffer<string>(async (batch) => void written.push(...batch), {
      intervalMs: 3_600_000,
    });
    buffer.add("a");
    buffer.add("b");
    await buffer.close();
    expect(written).toEqual(["a", "b"]);
    buffer.add("c");
    await buffer.flush();
    expect(written).toEqual(["a", "b", "c"]);
  });

  it("stays within maxPending while the writer is stalled, and reports what it dropped", async () => {
    let release: () => void = () => {};
    const stalled = new Promise<void>((r) => {
      release = r;
    });
    const written: number[] = [];
    const dropped: number[] = [];
    const buffer = new AuditBuffer<number>(
      async (batch) => {
        await stalled;
        written.push(...batch);
      },
      {
        intervalMs: 3_600_000,
        batchSize: 100,
        maxPending: 1000,
        onDropped: (n) => dropped.push(n),
      },
    );
    let largest = 0;
    for (let i = 0; i < 50_000; i++) {
      buffer.add(i);
      largest = Math.max(largest, buffer.size);
    }
    expect(largest).toBe(1000);
    expect(buffer.size).toBe(1000);
    expect(buffer.droppedSinceReport).toBe(49_000);
    release();
    await buffer.close();
    expect(written).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(dropped).toEqual([49_000]);
    expect(buffer.size).toBe(0);
  });

  it("reports a failed write with the number of entries it lost, and carries on", async () => {
    const errors: number[] = [];
    let fail = true;
    const written: number[] = [];
    const buffer = new AuditBuffer<number>(
      async (batch) => {
        if (fail) throw new Error("database is locked");
        written.push(...batch);
      },
      { intervalMs: 3_600_000, onError: (_err, lost) => errors.push(lost) },
    );
    buffer.add(1);
    buffer.add(2);
    await buffer.flush();
    expect(errors).toEqual([2]);
    fail = false;
    buffer.add(3);
    await buffer.flush();
    expect(written).toEqual([3]);
  });

  it("refuses an interval of 0 (callers write at once instead)", () => {
    expect(() => new AuditBuffer<number>(async () => {}, { intervalMs: 0 })).toThrow(/above 0/);
  });
});

describe("AuditLog.notePull on a real database", () => {
  let t: TestAuth | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const pull = (i: number) => ({
    actor: { name: "alice", kind: "user" as const },
    action: "pull",
    resourceType: "artifact",
    resource: `team/app:v${i}@sha256:${"0".repeat(64)}`,
    project: "team",
    remoteAddress: "127.0.0.1",
  });
  const page = { page: 1, pageSize: 500, sort: "at" as const, descending: false };

  it("batches pull records (several SQL statements of one transaction) and keeps their times", async () => {
    t = await openTestAuth();
    const audit = new AuditLog(t.auth.store, quietLog, { pullFlushMs: 3_600_000 });
    const before = new Date().toISOString();
    for (let i = 0; i < 250; i++) audit.notePull(pull(i));
    const after = new Date().toISOString();
    expect((await t.auth.store.listAudit(page, { action: "pull" })).total).toBe(0);
    await audit.flush();
    const listed = await t.auth.store.listAudit(page, { action: "pull" });
    expect(listed.total).toBe(250);
    expect(new Set(listed.items.map((e) => e.id)).size).toBe(250);
    expect(listed.items.map((e) => e.resource)).toEqual(
      Array.from({ length: 250 }, (_, i) => pull(i).resource),
    );
    for (const e of listed.items) {
      expect(e.at >= before && e.at <= after).toBe(true);
      expect(e).toMatchObject({ actor: "alice", actorKind: "user", outcome: "success" });
    }
  });

  it("writes each pull at once when the interval is 0", async () => {
    t = await openTestAuth();
    const audit = new AuditLog(t.auth.store, quietLog, { pullFlushMs: 0 });
    audit.notePull(pull(1));
    const auditStore = t.auth.store;
    await expect
      .poll(async () => (await auditStore.listAudit(page, { action: "pull" })).total)
      .toBe(1);
  });
});
