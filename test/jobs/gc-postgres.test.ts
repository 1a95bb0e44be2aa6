// Online GC and its races on PostgreSQL, where the row locks of src/jobs/gc.ts matter.
import { afterAll, beforeAll } from "vitest";
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
