// Accounts and their rules, on a real SQLite database: first-start bootstrap, the last
// administrator, robot permission scoping, expiry and disabling, htpasswd users (bcrypt,
// re-read on change), and browser sessions with CSRF protection over HTTP.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import bcrypt from "bcryptjs";
import { afterEach, describe, expect, it } from "vitest";
import { ANONYMOUS } from "../../src/auth/access.js";
import { bootstrapAuth } from "../../src/auth/bootstrap.js";
import { Management } from "../../src/auth/management.js";
import { ADMIN, api, basic, startApi } from "../api/harness.js";
import { openTestAuth, quietLog, type TestAuth } from "./db.js";

const operator = { name: "operator", kind: "system" as const, isAdmin: true };
let t: TestAuth | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe("bootstrap", () => {
  it("creates admin with a random password logged exactly once, and the public library", async () => {
    t = await openTestAuth();
    // openTestAuth already bootstrapped with a given password; a fresh store shows the random path.
    const store = t.auth.store;
    await store.deleteUser("admin").catch(() => undefined);
    await t.db.deleteFrom("users").execute();
    const warnings: string[] = [];
    const announced: string[] = [];
    const log = { info() {}, warn: (m: string) => warnings.push(m) };
    const announce = (m: string) => announced.push(m);
    await bootstrapAuth(store, log, undefined, { announce });
    await bootstrapAuth(store, log, undefined, { announce });
    expect(announced).toHaveLength(1);
    expect(warnings).toHaveLength(1);
    const password = /generated password: (\S+)/.exec(announced[0] ?? "")?.[1] ?? "";
    // The log says a password was generated, never the password itself.
    expect(warnings[0]).not.toContain(password);
    expect(password.length).toBeGreaterThanOrEqual(16);
    const login = await t.auth.accounts.login("admin", password, "10.0.0.1");
    expect(login.ok).toBe(true);
    expect((await store.findProject("library"))?.isPublic).toBe(true);
    await expect(bootstrapAuth(store, quietLog, "short")).resolves.toBeUndefined();
  });

  it("refuses a too-short BERTH_ADMIN_PASSWORD", async () => {
    t = await openTestAuth();
    await t.db.deleteFrom("users").execute();
    await expect(bootstrapAuth(t.auth.store, quietLog, "short")).rejects.toThrow(
      /BERTH_ADMIN_PASSWORD/,
    );
  });
});

describe("management rules", () => {
  it("keeps at least one system administrator", async () => {
    t = await openTestAuth();
    const m = new Management(t.auth.store, t.auth.audit, t.auth.authorizer);
    await expect(m.deleteUser(operator, "admin")).rejects.toThrow(/last system administrator/);
    await expect(m.updateUser(operator, "admin", { isAdmin: false })).rejects.toThrow(
      /last system administrator/,
    );
  });

  it("a changed password takes effect at once, even right after a successful login", async () => {
    t = await openTestAuth();
    const m = new Management(t.auth.store, t.auth.audit, t.auth.authorizer);
    expect((await t.auth.accounts.login("admin", "admin-password-1", "10.0.0.9")).ok).toBe(true);
    await m.setPassword(operator, "admin", "admin-password-2");
    expect((await t.auth.accounts.login("admin", "admin-password-1", "10.0.0.9")).ok).toBe(false);
    expect((await t.auth.accounts.login("admin", "admin-password-2", "10.0.0.9")).ok).toBe(true);
    const hash = await t.auth.store.passwordHashOf("admin");
    expect(hash).toMatch(/^\$argon2id\$/);
  });

  it("scopes robots: a project robot only on its project; expired and disabled robots get nothing", async () => {
    t = await openTestAuth();
    const m = new Management(t.auth.store, t.auth.audit, t.auth.authorizer);
    await m.createProject(operator, { name: "a", isPublic: false, quotaBytes: null });
    await m.createProject(operator, { name: "b", isPublic: false, quotaBytes: null });
    await expect(
      m.createRobot(operator, {
        name: "x",
        project: "a",
        permissions: [{ project: "b", actions: ["pull"] }],
        expiresAt: null,
      }),
    ).rejects.toThrow(/cannot be granted access to "b"/);
    await expect(
      m.createRobot(operator, {
        name: "x",
        project: "a",
        permissions: [{ project: "a", actions: ["admin"] }],
        expiresAt: null,
      }),
    ).rejects.toThrow(/unknown robot permission/);
    const sys = await m.createRobot(operator, {
      name: "sys",
      permissions: [{ project: "*", actions: ["pull"] }],
      expiresAt: null,
    });
    expect(sys.robot.name).toBe("robot$sys");
    const robotAccount = { kind: "robot" as const, robot: sys.robot };
    expect(await t.auth.authorizer.repositoryActions(robotAccount, "b/app")).toEqual(["pull"]);
    await m.setRobotDisabled(operator, sys.robot, true);
    expect(await t.auth.authorizer.repositoryActions(robotAccount, "b/app")).toEqual([]);
    expect((await t.auth.accounts.login("robot$sys", sys.secret, "10.0.0.2")).ok).toBe(false);

    const old = await m.createRobot(operator, {
      name: "old",
      project: "a",
      permissions: [{ project: "a", actions: ["pull", "push"] }],
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    expect(old.robot.name).toBe("robot$a+old");
    expect((await t.auth.accounts.login("robot$a+old", old.secret, "10.0.0.3")).ok).toBe(false);
    expect(
      await t.auth.authorizer.repositoryActions({ kind: "robot", robot: old.robot }, "a/app"),
    ).toEqual([]);

    const fresh = await m.createRobot(operator, {
      name: "ci",
      project: "a",
      permissions: [{ project: "a", actions: ["pull"] }],
      expiresAt: null,
    });
    const refreshed = await m.refreshRobotSecret(operator, fresh.robot);
    expect((await t.auth.accounts.login("robot$a+ci", fresh.secret, "10.0.0.4")).ok).toBe(false);
    expect((await t.auth.accounts.login("robot$a+ci", refreshed.secret, "10.0.0.4")).ok).toBe(true);
    const stored = await t.db
      .selectFrom("robots")
      .select("secret_hash")
      .where("name", "=", "robot$a+ci")
      .executeTakeFirst();
    expect(stored?.secret_hash).not.toContain(refreshed.secret);
    expect(await t.auth.authorizer.repositoryActions(undefined, "a/app")).toEqual([]);
    expect(ANONYMOUS.kind).toBe("anonymous");
  });
});

describe("htpasswd users (registry:2 drop-in)", () => {
  it("log in with bcrypt, get full access, and follow file changes", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "berth-htpasswd-"));
    const file = path.join(dir, "htpasswd");
    await writeFile(
      file,
      `# comment\nciuser:${bcrypt.hashSync("ci-secret-1", 10)}\nplain:notbcrypt\n`,
    );
    t = await openTestAuth({ htpasswdPath: file });
    const ok = await t.auth.accounts.login("ciuser", "ci-secret-1", "10.0.0.5");
    expect(ok.ok).toBe(true);
    if (!ok.ok) return;
    expect(await t.auth.authorizer.repositoryActions(ok.account, "anything/app")).toEqual([
      "pull",
      "push",
      "delete",
    ]);
    expect((await t.auth.accounts.login("ciuser", "wrong", "10.0.0.5")).ok).toBe(false);
    expect((await t.auth.accounts.login("plain", "notbcrypt", "10.0.0.5")).ok).toBe(false);
    await new Promise((r) => setTimeout(r, 20));
    await writeFile(file, `other:${bcrypt.hashSync("other-secret", 10)}\n`);
    expect((await t.auth.accounts.login("ciuser", "ci-secret-1", "10.0.0.6")).ok).toBe(false);
    expect((await t.auth.accounts.login("other", "other-secret", "10.0.0.6")).ok).toBe(true);
    await rm(dir, { recursive: true, force: true });
  });
});

describe("browser sessions", () => {
  it("need the CSRF token on state-changing requests and end on sign-out", async () => {
    const h = await startApi();
    try {
      const signIn = await api(h.url, "POST", "/api/v1/session", { body: ADMIN });
      expect(signIn.status).toBe(201);
      const setCookie = signIn.headers.get("set-cookie") ?? "";
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/SameSite=Strict/);
      const cookie = setCookie.split(";")[0];
      const csrf = (signIn.body as { csrfToken: string }).csrfToken;
      expect((await api(h.url, "GET", "/api/v1/users", { headers: { cookie } })).status).toBe(200);
      const forged = await api(h.url, "POST", "/api/v1/projects", {
        headers: { cookie },
        body: { name: "csrf" },
      });
      expect(forged.status).toBe(403);
      const wrong = await api(h.url, "POST", "/api/v1/projects", {
        headers: { cookie, "x-csrf-token": `${csrf}x` },
        body: { name: "csrf" },
      });
      expect(wrong.status).toBe(403);
      const good = await api(h.url, "POST", "/api/v1/projects", {
        headers: { cookie, "x-csrf-token": csrf },
        body: { name: "csrf" },
      });
      expect(good.status).toBe(201);
      expect(
        (
          await api(h.url, "DELETE", "/api/v1/session", {
            headers: { cookie, "x-csrf-token": csrf },
          })
        ).status,
      ).toBe(204);
      expect((await api(h.url, "GET", "/api/v1/users", { headers: { cookie } })).status).toBe(401);
      const bad = await api(h.url, "POST", "/api/v1/session", {
        body: { username: "admin", password: "nope" },
      });
      expect(bad.status).toBe(401);
      const robotUi = await api(h.url, "GET", "/api/v1/users/current", { headers: basic(ADMIN) });
      expect(robotUi.body).toEqual({ name: "admin", kind: "user", isAdmin: true });
    } finally {
      await h.close();
    }
  });
});

describe("bearer tokens on the management API", () => {
  it("are refused: registry tokens are for /v2/ only, whatever their scope (issue 12, defect 1)", async () => {
    const h = await startApi();
    try {
      const admin = basic(ADMIN);
      for (const scope of ["", "&scope=repository:team/app:pull", "&scope=registry:catalog:*"]) {
        const issued = await api(h.url, "GET", `/service/token?service=berth${scope}`, {
          headers: admin,
        });
        expect(issued.status).toBe(200);
        const bearer = { authorization: `Bearer ${(issued.body as { token: string }).token}` };
        const me = await api(h.url, "GET", "/api/v1/users/current", { headers: bearer });
        expect(me.status, scope).toBe(401);
        expect(JSON.stringify(me.body)).toContain("valid on /v2/ only");
        const made = await api(h.url, "POST", "/api/v1/projects", {
          headers: bearer,
          body: { name: "viatoken" },
        });
        expect(made.status, scope).toBe(401);
      }
      expect(
        (await api(h.url, "GET", "/api/v1/projects/viatoken", { headers: admin })).status,
      ).toBe(404);
    } finally {
      await h.close();
    }
  });
});
