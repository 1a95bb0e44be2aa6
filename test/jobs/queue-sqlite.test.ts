// Runs the job queue contract suite against SQLite (a fresh file per test).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { openDatabase } from "../../src/meta/index.js";
import { describeQueueContract } from "./queue-contract.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describeQueueContract("sqlite", async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-jobs-"));
  dirs.push(dir);
  return openDatabase({ driver: "sqlite", path: join(dir, "berth.db") });
});
