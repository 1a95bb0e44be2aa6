// fsck on PostgreSQL (see fsck-contract.ts), where the row locks of its repairs matter.
import { afterAll, beforeAll } from "vitest";
import { type PostgresServer, startPostgres } from "../registry/postgres-server.js";
import { describeFsck } from "./fsck-contract.js";

let postgres: PostgresServer;
let counter = 0;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});

describeFsck("postgres", async () => ({
  BERTH_DATABASE_DRIVER: "postgres",
  BERTH_DATABASE_URL: await postgres.createDatabase(`fsck_${++counter}`),
}));
