// Registry endpoints and proxy-cache tables (migration 0015) on both metadata dialects:
// SQLite and a real PostgreSQL started in a temp directory. One suite run against each:
// sealed passwords round-trip through RegistryEndpoints, names stay unique, a proxy binding
// and its tag checks upsert, an endpoint a proxy project uses cannot be deleted (the usage
// check and the foreign key), and unbinding removes the tag checks.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EndpointInUseError, RegistryEndpoints } from "../../src/endpoints/index.js";
import { type MetaDatabase, openDatabase } from "../../src/meta/index.js";
import {
  findProxyProject,
  findProxyTag,
  proxyProjectsOfEndpoint,
  recordProxyTag,
  removeProxyProject,
  setProxyProject,
} from "../../src/meta/proxy-projects.js";
import { SecretBox } from "../../src/webhooks/signing.js";
import { type PostgresServer, startPostgres } from "../registry/postgres-server.js";

let work: string;
let postgres: PostgresServer;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-endpoints-meta-"));
  postgres = await startPostgres();
}, 120_000);
afterAll(async () => {
  await postgres?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const dialects: [string, () => Promise<MetaDatabase>][] = [
  ["sqlite", () => openDatabase({ driver: "sqlite", path: join(work, "meta.db") })],
  [
    "postgres",
    async () =>
      openDatabase({ driver: "postgres", url: await postgres.createDatabase("endpoints") }),
  ],
];

for (const [name, open] of dialects) {
  describe(`registry endpoints and proxy projects on ${name}`, () => {
    it("stores, binds, checks tags and refuses deleting what is used", async () => {
      const meta = await open();
      try {
        const db = meta.db;
        const endpoints = new RegistryEndpoints(db, await SecretBox.open(join(work, name), ""));
        endpoints.addUsage(async (id) =>
          (await proxyProjectsOfEndpoint(db, id)).map((p) => `proxy project "${p}"`),
        );
        const made = await endpoints.create(
          { name: "hub", url: "https://registry.example.com/", username: "u", password: "p-1" },
          "admin",
        );
        expect(made).toMatchObject({ url: "https://registry.example.com", hasPassword: true });
        expect((await endpoints.get("hub"))?.password).toBe("p-1");
        await expect(
          endpoints.create({ name: "hub", url: "https://other.example.com" }, "admin"),
        ).rejects.toThrow(/already exists/);
        await endpoints.update("hub", { description: "changed" });
        expect((await endpoints.get(made.id))?.password).toBe("p-1");
        const now = new Date().toISOString();
        await db
          .insertInto("projects")
          .values({
            id: "p1",
            name: "proxy",
            is_public: 0,
            quota_bytes: null,
            created_at: now,
            updated_at: now,
          })
          .execute();
        expect(await setProxyProject(db, "proxy", made.id, 60)).toBe(true);
        expect(await setProxyProject(db, "proxy", made.id, 120)).toBe(true);
        expect(await setProxyProject(db, "missing", made.id, 60)).toBe(false);
        expect(await findProxyProject(db, "proxy")).toMatchObject({
          endpointName: "hub",
          ttlSeconds: 120,
        });
        await recordProxyTag(db, "p1", "proxy/library/alpine", "3.20", "sha256:aa");
        await recordProxyTag(db, "p1", "proxy/library/alpine", "3.20", "sha256:bb");
        expect((await findProxyTag(db, "proxy/library/alpine", "3.20"))?.digest).toBe("sha256:bb");
        await expect(endpoints.remove("hub")).rejects.toBeInstanceOf(EndpointInUseError);
        await expect(db.deleteFrom("registry_endpoints").execute()).rejects.toThrow();
        expect(await removeProxyProject(db, "proxy")).toBe(true);
        expect(await findProxyTag(db, "proxy/library/alpine", "3.20")).toBeUndefined();
        expect(await endpoints.remove("hub")).toBe(true);
        expect(await endpoints.list()).toEqual([]);
      } finally {
        await meta.close();
      }
    });
  });
}
