// The trash on PostgreSQL (see trash-contract.ts), where restore, purge and GC take row locks.
import { afterAll, beforeAll } from "vitest";
import { type PostgresServer, startPostgres } from "../registry/postgres-server.js";
import { describeTrash } from "./trash-contract.js";

let postgres: PostgresServer;
let counter = 0;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});

describeTrash("postgres", async () => ({
  BERTH_DATABASE_DRIVER: "postgres",
  BERTH_DATABASE_URL: await postgres.createDatabase(`trash_${++counter}`),
}));
