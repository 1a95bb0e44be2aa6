// Push admission for a project that does not exist: refused with a clear DENIED, except for
// a system administrator when `autoCreateProjects` is on (the project is then created
// private, and the creation audited). Quota behaviour is proven over HTTP in
// registry-auth.test.ts.
import { afterEach, describe, expect, it } from "vitest";
import type { Principal } from "../../src/auth/access.js";
import { PushAdmission } from "../../src/policy/push-admission.js";
import { RegistryError } from "../../src/registry/errors.js";
import { openTestAuth, type TestAuth } from "../auth/db.js";

let t: TestAuth | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const empty = { usage: async () => 0, holds: async () => false, limit: async () => null };
const admin: Principal = { name: "admin", kind: "user", isAdmin: true };
const dev: Principal = { name: "dev", kind: "user", isAdmin: false };
const blob = (repository: string, principal: Principal) => ({
  repository,
  digest: `sha256:${"1".repeat(64)}`,
  size: 10,
  principal,
});

async function admission(autoCreate: boolean): Promise<PushAdmission> {
  t = await openTestAuth({ autoCreateProjects: autoCreate });
  const { store, authorizer, audit } = t.auth;
  return new PushAdmission(store, empty, authorizer, audit, autoCreate);
}

describe("pushing to a project that does not exist", () => {
  it("is refused for everyone when autoCreateProjects is off", async () => {
    const a = await admission(false);
    for (const who of [admin, dev]) {
      const err = await a.beforeBlobCommit(blob("ghost/app", who)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RegistryError);
      expect((err as RegistryError).code).toBe("DENIED");
      expect((err as Error).message).toContain('project "ghost" does not exist');
    }
    expect(await t?.auth.store.findProject("ghost")).toBeUndefined();
  });

  it("creates a private project for a system administrator when autoCreateProjects is on", async () => {
    const a = await admission(true);
    const err = await a.beforeBlobCommit(blob("ghost/app", dev)).catch((e: unknown) => e);
    expect((err as RegistryError).code).toBe("DENIED");
    expect(await t?.auth.store.findProject("ghost")).toBeUndefined();
    await a.beforeBlobCommit(blob("ghost/app", admin));
    expect(await t?.auth.store.findProject("ghost")).toMatchObject({
      name: "ghost",
      isPublic: false,
      quotaBytes: null,
    });
    const log = await t?.auth.store.listAudit(
      { page: 1, pageSize: 10, sort: "at", descending: true },
      { action: "project.create" },
    );
    expect(log?.items[0]).toMatchObject({ actor: "admin", resource: "ghost" });
  });
});
