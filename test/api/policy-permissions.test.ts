// Who may manage policies through the management API: project admins and maintainers manage
// their project's immutability and retention rules (policy:manage), developers only read
// them; project admins set their repositories' quotas; only system administrators set the
// system quota. Bad input is a 400 with a sentence that changes nothing. Each change audited.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN, type ApiHarness, api, basic, startApi } from "./harness.js";

let h: ApiHarness;
const user = (name: string) => basic({ username: name, password: `${name}-pass-1` });

beforeAll(async () => {
  h = await startApi();
  const admin = basic(ADMIN);
  expect(
    (await api(h.url, "POST", "/api/v1/projects", { headers: admin, body: { name: "team" } }))
      .status,
  ).toBe(201);
  for (const [username, role] of [
    ["pa", "projectAdmin"],
    ["mt", "maintainer"],
    ["dev", "developer"],
  ] as const) {
    await api(h.url, "POST", "/api/v1/users", {
      headers: admin,
      body: { username, password: `${username}-pass-1` },
    });
    await api(h.url, "POST", "/api/v1/projects/team/members", {
      headers: admin,
      body: { username, role },
    });
  }
});

afterAll(async () => h?.close());

const rule = { repositoryPattern: "**", tagPattern: "v*" };
const retention = { rules: [{ retain: { mostRecentlyPushed: 3 } }] };

describe("policy permissions", () => {
  it("maintainers and project admins manage rules; developers read them", async () => {
    const denied = await api(h.url, "POST", "/api/v1/projects/team/immutable-rules", {
      headers: user("dev"),
      body: rule,
    });
    expect(denied.status).toBe(403);
    expect(
      (
        await api(h.url, "PUT", "/api/v1/projects/team/retention", {
          headers: user("dev"),
          body: retention,
        })
      ).status,
    ).toBe(403);
    const created = await api(h.url, "POST", "/api/v1/projects/team/immutable-rules", {
      headers: user("mt"),
      body: rule,
    });
    expect(created.status).toBe(201);
    const again = await api(h.url, "POST", "/api/v1/projects/team/immutable-rules", {
      headers: user("pa"),
      body: rule,
    });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(created.body);
    expect(
      (
        await api(h.url, "PUT", "/api/v1/projects/team/retention", {
          headers: user("pa"),
          body: retention,
        })
      ).status,
    ).toBe(200);
    const list = await api(h.url, "GET", "/api/v1/projects/team/immutable-rules", {
      headers: user("dev"),
    });
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(1);
    const dry = await api(h.url, "POST", "/api/v1/projects/team/retention/runs", {
      headers: user("dev"),
      body: { dryRun: true },
    });
    expect(dry.status).toBe(200);
    const real = await api(h.url, "POST", "/api/v1/projects/team/retention/runs", {
      headers: user("dev"),
      body: { dryRun: false },
    });
    expect(real.status).toBe(403);
    const log = await api(h.url, "GET", "/api/v1/projects/team/audit?page_size=100", {
      headers: basic(ADMIN),
    });
    const actions = (log.body as { items: { action: string; actor: string }[] }).items.map(
      (e) => `${e.actor} ${e.action}`,
    );
    expect(actions).toEqual(
      expect.arrayContaining([
        "mt immutable.create",
        "pa retention.update",
        "dev retention.dry-run",
      ]),
    );
  });

  it("project admins set repository quotas; only system administrators the system's", async () => {
    const path = "/api/v1/projects/team/repositories/team%2Fapp/quota";
    expect(
      (await api(h.url, "PUT", path, { headers: user("mt"), body: { limitBytes: 10 } })).status,
    ).toBe(403);
    const set = await api(h.url, "PUT", path, { headers: user("pa"), body: { limitBytes: 1000 } });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({
      scope: "repository",
      name: "team/app",
      limitBytes: 1000,
      usedBytes: 0,
    });
    expect(
      (
        await api(h.url, "PUT", "/api/v1/system/quota", {
          headers: user("pa"),
          body: { limitBytes: 10 },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await api(h.url, "PUT", "/api/v1/system/quota", {
          headers: basic(ADMIN),
          body: { limitBytes: 10 },
        })
      ).status,
    ).toBe(200);
    const other = await api(h.url, "PUT", "/api/v1/projects/team/repositories/other%2Fapp/quota", {
      headers: basic(ADMIN),
      body: { limitBytes: 10 },
    });
    expect(other.status).toBe(404);
  });

  it("bad rules are a 400 sentence and change nothing", async () => {
    const bad = await api(h.url, "PUT", "/api/v1/projects/team/retention", {
      headers: user("pa"),
      body: { rules: [{ retain: { mostRecentlyPushed: 3 } }], schedule: "not a cron" },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('\\"schedule\\" is not a valid cron expression');
    const kept = await api(h.url, "GET", "/api/v1/projects/team/retention", {
      headers: user("dev"),
    });
    expect(kept.body).toMatchObject({
      schedule: null,
      rules: [{ retain: { mostRecentlyPushed: 3 } }],
    });
    const badPattern = await api(h.url, "POST", "/api/v1/projects/team/immutable-rules", {
      headers: user("pa"),
      body: { repositoryPattern: "", tagPattern: "v*" },
    });
    expect(badPattern.status).toBe(400);
  });
});
