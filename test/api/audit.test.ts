// The audit log over HTTP: permission and policy changes (members and roles, visibility,
// quota, robots, users) are recorded with who, what, when and from where, never a secret;
// the log is filterable (actor, action, resource, resource type, outcome, time, project),
// sortable and paged; a project's log is readable by the roles the matrix allows.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN, type ApiHarness, api, basic, startApi } from "./harness.js";

let h: ApiHarness;
const admin = basic(ADMIN);
const carl = { username: "carl", password: "carl-pass-1" };
const gina = { username: "gina", password: "gina-pass-1" };
const lena = { username: "lena", password: "lena-pass-1" };

type Entry = {
  at: string;
  actor: string;
  action: string;
  resourceType: string;
  resource: string;
  project: string | null;
  remoteAddress: string | null;
  outcome: string;
};
type AuditPage = { items: Entry[]; total: number };

async function audit(query: string, who = admin, path = "/api/v1/audit") {
  const r = await api(h.url, "GET", `${path}?${query}`, { headers: who });
  return { status: r.status, body: r.body as AuditPage };
}

let started = "";
let robotSecret = "";

beforeAll(async () => {
  h = await startApi();
  started = new Date().toISOString();
  const call = async (method: string, path: string, body?: unknown, who = admin) => {
    const r = await api(h.url, method, path, { headers: who, body });
    expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
    return r.body;
  };
  for (const u of [carl, gina, lena]) await call("POST", "/api/v1/users", u);
  await call("POST", "/api/v1/projects", { name: "shop" }, basic(carl));
  await call(
    "POST",
    "/api/v1/projects/shop/members",
    { username: "gina", role: "guest" },
    basic(carl),
  );
  await call(
    "POST",
    "/api/v1/projects/shop/members",
    { username: "lena", role: "limitedGuest" },
    basic(carl),
  );
  await call("PATCH", "/api/v1/projects/shop/members/gina", { role: "developer" }, basic(carl));
  await call("PATCH", "/api/v1/projects/shop/members/gina", { role: "guest" }, basic(carl));
  await call("PATCH", "/api/v1/projects/shop", { public: true }, basic(carl));
  await call("PUT", "/api/v1/projects/shop/quota", { limitBytes: 5_000_000 });
  const robot = (await call("POST", "/api/v1/projects/shop/robots", {
    name: "ci",
    actions: ["pull"],
  })) as { robot: { id: string }; secret: string };
  robotSecret = robot.secret;
  await call("PATCH", `/api/v1/robots/${robot.robot.id}`, { disabled: true });
  await call("POST", `/api/v1/robots/${robot.robot.id}/refresh`);
  await call("DELETE", `/api/v1/robots/${robot.robot.id}`);
  await call("PUT", "/api/v1/users/lena/password", { password: "lena-pass-2" });
  await call("DELETE", "/api/v1/projects/shop/members/lena", undefined, basic(carl));
  const failed = await api(h.url, "GET", "/api/v1/users/current", {
    headers: basic({ username: "gina", password: "not-her-password" }),
  });
  expect(failed.status).toBe(401);
});
afterAll(async () => h?.close());

describe("audit log", () => {
  it("records every permission and policy change with who, what, when and from where", async () => {
    const all = await audit("page_size=100&sort=at");
    expect(all.status).toBe(200);
    const seen = all.body.items.map(
      (e) => `${e.actor} ${e.action} ${e.resourceType} ${e.resource}`,
    );
    expect(seen).toEqual(
      expect.arrayContaining([
        "carl project.create project shop",
        "carl member.add member gina",
        "carl member.add member lena",
        "carl member.update member gina",
        "carl project.update project shop",
        "admin quota.update project shop",
        "admin robot.create robot robot$shop+ci",
        "admin robot.disable robot robot$shop+ci",
        "admin robot.refresh robot robot$shop+ci",
        "admin robot.delete robot robot$shop+ci",
        "admin user.password user lena",
        "admin credentials.revoke robot robot$shop+ci",
        "admin credentials.revoke user lena",
        "carl member.remove member lena",
        "gina login account gina",
      ]),
    );
    for (const e of all.body.items) {
      expect(e.remoteAddress).toBe("127.0.0.1");
      expect(Date.parse(e.at)).toBeGreaterThanOrEqual(Date.parse(started) - 1000);
    }
    const text = JSON.stringify(all.body);
    for (const secret of ["not-her-password", "lena-pass-2", "carl-pass-1", robotSecret]) {
      expect(text).not.toContain(secret);
    }
    const ordered = all.body.items.map((e) => e.at);
    expect([...ordered].sort()).toEqual(ordered);
  });

  it("filters by actor, action, resource, resource type, outcome, project and time", async () => {
    const byActor = await audit("actor=carl");
    expect(byActor.body.total).toBeGreaterThanOrEqual(6);
    expect(byActor.body.items.every((e) => e.actor === "carl")).toBe(true);
    const memberAdds = await audit("action=member.add&project=shop");
    expect(memberAdds.body.items.map((e) => e.resource).sort()).toEqual(["gina", "lena"]);
    // create, disable, refresh, delete, and the revocation that came with the last three.
    const robots = await audit("resource_type=robot");
    expect(robots.body.total).toBe(7);
    const named = await audit("resource=shop%2Bci");
    expect(named.body.total).toBe(7);
    const failures = await audit("outcome=failure");
    expect(failures.body.items.length).toBeGreaterThan(0);
    expect(failures.body.items.every((e) => e.outcome === "failure" && e.action === "login")).toBe(
      true,
    );
    const none = await audit(`until=${encodeURIComponent(started)}&actor=carl`);
    expect(none.body.total).toBe(0);
    const window = await audit(`since=${encodeURIComponent(started)}&actor=carl`);
    expect(window.body.total).toBe(byActor.body.total);
    const paged = await audit("actor=carl&page=2&page_size=2&sort=action");
    expect(paged.body.items).toHaveLength(2);
    expect(paged.body.items[0]?.action <= (paged.body.items[1]?.action ?? "")).toBe(true);
    expect((await audit("outcome=maybe")).status).toBe(400);
    expect((await audit("since=last-week")).status).toBe(400);
  });

  it("a project's log: its own entries only, for roles allowed to read logs", async () => {
    const project = "/api/v1/projects/shop/audit";
    const guest = await audit("page_size=100", basic(gina), project);
    expect(guest.status).toBe(200);
    expect(guest.body.items.every((e) => e.project === "shop")).toBe(true);
    expect(guest.body.items.some((e) => e.action === "member.update")).toBe(true);
    // lena was removed from the project (it is public now): she may see it, not its log.
    expect((await audit("", basic({ ...lena, password: "lena-pass-2" }), project)).status).toBe(
      403,
    );
    expect((await audit("", {}, project)).status).toBe(401);
    expect((await audit("", basic(gina))).status).toBe(403);
  });
});
