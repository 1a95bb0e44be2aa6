// Runs the metadata contract suite against SQLite (a fresh file per test).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { openDatabase } from "../../src/meta/index.js";
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
