// Token signing keys shared through the database (auth.secretKey; src/auth/signing-keys.ts),
// on SQLite and a real PostgreSQL: two keyrings on one database (two replicas) converge on one
// key, a token issued by one verifies on the other, a rotation on one is picked up by the
// other without invalidating older tokens, the private keys are stored sealed, and a replica
// with another secret refuses to start with a clear message.
import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SharedSigningKeys } from "../../src/auth/signing-keys.js";
import { TokenService } from "../../src/auth/tokens.js";
import type { AuthTables } from "../../src/meta/auth-schema.js";
import { type MetaDatabase, openDatabase } from "../../src/meta/database.js";
import { type PostgresServer, startPostgres } from "../registry/postgres-server.js";

const SETTINGS = {
  issuer: "berth",
  service: "berth",
  accessTtlSeconds: 300,
  refreshTtlSeconds: 3600,
};
const SECRET = randomBytes(32).toString("base64");
const subject = { name: "alice", kind: "user" as const, isAdmin: false, id: "u1", generation: "0" };
const scope = [{ type: "repository", name: "team/app", actions: ["pull"] }];

let postgres: PostgresServer;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
});

for (const dialect of ["sqlite", "postgres"] as const) {
  describe(`shared token signing keys (${dialect})`, () => {
    it("lets every replica verify what any replica signed, across a rotation", async () => {
      const meta: MetaDatabase =
        dialect === "sqlite"
          ? await openDatabase({ driver: "sqlite", path: ":memory:" })
          : await openDatabase({ driver: "postgres", url: await postgres.createDatabase("keys") });
      const db = meta.db as unknown as Kysely<AuthTables>;
      try {
        let clock = 1_000_000;
        const now = () => clock;
        const [ringA, ringB] = await Promise.all([
          SharedSigningKeys.open(db, SECRET, now),
          SharedSigningKeys.open(db, SECRET, now),
        ]);
        const kids = () =>
          sql<{ n: number }>`select count(*) as n from token_signing_keys`.execute(db);
        // Both started on an empty table at once: whichever committed first, one or two keys,
        // and both replicas sign with the same (newest) one after a reload.
        expect(Number((await kids()).rows[0]!.n)).toBeGreaterThanOrEqual(1);
        const a = new TokenService(ringA, SETTINGS, () => Date.now());
        const b = new TokenService(ringB, SETTINGS, () => Date.now());
        const first = await a.issueAccess(subject, scope as never);
        expect((await b.verifyAccess(first.token)).subject.name).toBe("alice");
        clock += 1_000;
        const newKid = await ringA.rotate();
        expect(ringA.current().kid).toBe(newKid);
        const second = await a.issueAccess(subject, scope as never);
        expect((await b.verifyAccess(second.token)).subject.name).toBe("alice");
        expect(ringB.kids()).toContain(newKid);
        expect((await b.verifyAccess(first.token)).subject.name).toBe("alice");
        // Keys created by both replicas at once (an empty table): each verifies the other's.
        const sideA = new TokenService(await SharedSigningKeys.open(db, SECRET, now), SETTINGS);
        clock += 1_000;
        const ringC = await SharedSigningKeys.open(db, SECRET, now);
        await ringC.rotate(); // a key ring A has never seen
        const fromC = await new TokenService(ringC, SETTINGS).issueAccess(subject, scope as never);
        expect((await sideA.verifyAccess(fromC.token)).subject.name).toBe("alice");
        // A made-up kid is looked up once, then refused without a query for RELOAD_MS.
        const forged = `${Buffer.from(JSON.stringify({ alg: "ES256", kid: "nope" })).toString("base64url")}.${first.token.split(".")[1]}.${first.token.split(".")[2]}`;
        await expect(b.verifyAccess(forged)).rejects.toThrow(/unknown key/);
        await expect(b.verifyAccess(forged)).rejects.toThrow(/unknown key/);
        const stored = await sql<{
          k: string;
        }>`select sealed_private_key as k from token_signing_keys`.execute(db);
        for (const row of stored.rows) {
          expect(row.k.startsWith("v1:")).toBe(true);
          expect(row.k).not.toContain("PRIVATE KEY");
        }
        await expect(
          SharedSigningKeys.open(db, randomBytes(32).toString("base64")),
        ).rejects.toThrow(/cannot be unsealed: auth.secretKey differs/);
      } finally {
        await meta.close();
      }
    });
  });
}
