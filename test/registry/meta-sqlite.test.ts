// Runs the metadata contract suite against SQLite (a fresh file per test).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import {
  createUploadSession,
  findUploadSession,
  openDatabase,
  setUploadReceived,
} from "../../src/meta/index.js";
import { describeMetaContract } from "./meta-contract.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describeMetaContract("sqlite", async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-meta-"));
  dirs.push(dir);
  return openDatabase({ driver: "sqlite", path: join(dir, "berth.db") });
});

describe("sqlite relaxed commits", () => {
  it("write upload progress without leaving the connection at a lower safety level", async () => {
    const dir = await mkdtemp(join(tmpdir(), "berth-meta-"));
    dirs.push(dir);
    const path = join(dir, "berth.db");
    const meta = await openDatabase({ driver: "sqlite", path });
    await createUploadSession(meta.db, "s1", "u/app");
    await setUploadReceived(meta.db, "s1", 123);
    const level = await sql<{ synchronous: number }>`pragma synchronous`.execute(meta.db);
    expect(level.rows[0]?.synchronous).toBe(2); // FULL
    await meta.close();
    // The relaxed commit is in the WAL: a reopened database sees it.
    const reopened = await openDatabase({ driver: "sqlite", path });
    expect(await findUploadSession(reopened.db, "s1")).toMatchObject({ receivedBytes: 123 });
    await reopened.close();
  });
});
