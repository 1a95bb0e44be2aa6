// The Docker token endpoint over real HTTP: GET with Basic (and anonymous), POST with the
// OAuth2 password and refresh_token grants, scope intersection, several scope parameters,
// malformed scopes, wrong service, throttled failed logins, and the audit of failures.
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN, type ApiHarness, api, basic, startApi } from "../api/harness.js";

let h: ApiHarness;
const alice = { username: "alice", password: "alice-pass-1" };

type TokenBody = {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
  refresh_token?: string;
};

function access(token: string) {
  return (decodeJwt(token) as { access: { type: string; name: string; actions: string[] }[] })
    .access;
}

async function form(body: Record<string, string>) {
  const res = await fetch(`${h.url}/service/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(body).toString(),
  });
  return {
    status: res.status,
    body: (await res.json()) as TokenBody & { errors?: { code: string }[] },
  };
}

beforeAll(async () => {
  h = await startApi();
  const admin = basic(ADMIN);
  await api(h.url, "POST", "/api/v1/users", { headers: admin, body: alice });
  await api(h.url, "POST", "/api/v1/projects", { headers: admin, body: { name: "team" } });
  await api(h.url, "POST", "/api/v1/projects", { headers: admin, body: { name: "other" } });
  await api(h.url, "POST", "/api/v1/projects/team/members", {
    headers: admin,
    body: { username: "alice", role: "developer" },
  });
});
afterAll(async () => h?.close());

describe("GET /service/token", () => {
  it("issues a token with the intersection of asked and allowed", async () => {
    const res = await api(
      h.url,
      "GET",
      "/service/token?service=berth&scope=repository:team/app:pull,push,delete&scope=repository:other/x:pull",
      { headers: basic(alice) },
    );
    expect(res.status).toBe(200);
    const body = res.body as TokenBody;
    expect(body.token).toBe(body.access_token);
    expect(body.expires_in).toBe(300);
    expect(Date.parse(body.issued_at)).toBeGreaterThan(0);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(access(body.token)).toEqual([
      { type: "repository", name: "team/app", actions: ["pull", "push"] },
    ]);
  });

  it("expands * to the allowed actions", async () => {
    const res = await api(h.url, "GET", "/service/token?scope=repository:team/app:*", {
      headers: basic(alice),
    });
    expect(access((res.body as TokenBody).token)).toEqual([
      { type: "repository", name: "team/app", actions: ["pull", "push"] },
    ]);
  });

  it("grants the catalog scope to signed-in accounts only", async () => {
    const signed = await api(h.url, "GET", "/service/token?scope=registry:catalog:*", {
      headers: basic(alice),
    });
    expect(access((signed.body as TokenBody).token)).toEqual([
      { type: "registry", name: "catalog", actions: ["*"] },
    ]);
    const anon = await api(h.url, "GET", "/service/token?scope=registry:catalog:*");
    expect(access((anon.body as TokenBody).token)).toEqual([]);
  });

  it("gives anonymous callers public pull only", async () => {
    const res = await api(
      h.url,
      "GET",
      "/service/token?scope=repository:library/alpine:pull,push&scope=repository:team/app:pull",
    );
    expect(res.status).toBe(200);
    expect(access((res.body as TokenBody).token)).toEqual([
      { type: "repository", name: "library/alpine", actions: ["pull"] },
    ]);
  });

  it("refuses malformed scopes, unknown services and bad credentials", async () => {
    const malformed = await api(h.url, "GET", "/service/token?scope=repository:Team/App:pull", {
      headers: basic(alice),
    });
    expect(malformed.status).toBe(400);
    expect((malformed.body as { errors: { code: string }[] }).errors[0].code).toBe("INVALID_SCOPE");
    const noActions = await api(h.url, "GET", "/service/token?scope=repository:team/app", {
      headers: basic(alice),
    });
    expect(noActions.status).toBe(400);
    const service = await api(h.url, "GET", "/service/token?service=evil", {
      headers: basic(alice),
    });
    expect(service.status).toBe(400);
    const wrong = await api(h.url, "GET", "/service/token", {
      headers: basic({ username: "alice", password: "nope" }),
    });
    expect(wrong.status).toBe(401);
    const unknownAction = await api(
      h.url,
      "GET",
      "/service/token?scope=repository:team/app:pull,admin",
      {
        headers: basic(alice),
      },
    );
    expect(access((unknownAction.body as TokenBody).token)).toEqual([
      { type: "repository", name: "team/app", actions: ["pull"] },
    ]);
  });
});

describe("malformed and hostile scope strings", () => {
  it("are refused with 400 INVALID_SCOPE (never a 500), on GET and POST alike", async () => {
    const bad = [
      "repository::pull",
      ":team/app:pull",
      "repository",
      "repository:team/app",
      "repository:Team/App:pull",
      "repository:team/../app:pull",
      "repository:/team/app:pull",
      "repository:team//app:pull",
      "repository:team/app:pull;delete",
      "repository:team/app:pull push",
      "repository:team/app:PULL",
      "repository:team/app:pull,,push",
      "repository:127.0.0.1:5000/team/app:pull",
      "repo sitory:team/app:pull",
      `repository:${"a".repeat(300)}:pull`,
      "repository:team/app\u0000:pull",
    ];
    const failures: string[] = [];
    for (const scope of bad) {
      const get = await api(h.url, "GET", `/service/token?scope=${encodeURIComponent(scope)}`, {
        headers: basic(alice),
      });
      const code = (get.body as { errors?: { code: string }[] }).errors?.[0]?.code;
      if (get.status !== 400 || code !== "INVALID_SCOPE") {
        failures.push(`GET ${JSON.stringify(scope)}: ${get.status} ${JSON.stringify(get.body)}`);
      }
      const post = await form({
        grant_type: "password",
        username: alice.username,
        password: alice.password,
        service: "berth",
        client_id: "test",
        scope,
      });
      if (post.status !== 400) failures.push(`POST ${JSON.stringify(scope)}: ${post.status}`);
    }
    expect(failures).toEqual([]);
  });

  it("well-formed but unknown or over-reaching scopes grant nothing extra", async () => {
    const grant = async (scope: string) => {
      const r = await api(h.url, "GET", `/service/token?scope=${encodeURIComponent(scope)}`, {
        headers: basic(alice),
      });
      expect(r.status, scope).toBe(200);
      return access((r.body as TokenBody).token);
    };
    expect(await grant("foo:bar:pull")).toEqual([]);
    expect(await grant("registry:catalog:push")).toEqual([]);
    expect(await grant("registry:other:*")).toEqual([]);
    expect(await grant("repository(plugin):team/app:pull")).toEqual([
      { type: "repository", name: "team/app", actions: ["pull"] },
    ]);
    expect(await grant("repository:team/app:")).toEqual([]);
    expect(await grant("repository:other/x:pull,push,delete,*")).toEqual([]);
    expect(await grant("repository:team/app:delete,admin")).toEqual([]);
  });
});

describe("POST /service/token (OAuth2)", () => {
  it("password grant with access_type=offline returns a refresh token that works", async () => {
    const first = await form({
      grant_type: "password",
      username: alice.username,
      password: alice.password,
      service: "berth",
      client_id: "docker",
      access_type: "offline",
      scope: "repository:team/app:pull",
    });
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).toBeTruthy();
    const refreshed = await form({
      grant_type: "refresh_token",
      refresh_token: first.body.refresh_token ?? "",
      service: "berth",
      client_id: "docker",
      scope: "repository:team/app:pull,push repository:other/x:pull",
    });
    expect(refreshed.status).toBe(200);
    expect(access(refreshed.body.access_token)).toEqual([
      { type: "repository", name: "team/app", actions: ["pull", "push"] },
    ]);
  });

  it("refuses an access token used as a refresh token, bad passwords and unknown grants", async () => {
    const issued = await form({
      grant_type: "password",
      username: alice.username,
      password: alice.password,
    });
    const misuse = await form({
      grant_type: "refresh_token",
      refresh_token: issued.body.access_token,
    });
    expect(misuse.status).toBe(401);
    const bad = await form({
      grant_type: "password",
      username: "alice",
      password: "wrong-password",
    });
    expect(bad.status).toBe(401);
    const grant = await form({ grant_type: "client_credentials" });
    expect(grant.status).toBe(400);
  });
});

describe("failed logins", () => {
  it("lock the account after repeated failures, even for the right password, and are audited", async () => {
    await api(h.url, "POST", "/api/v1/users", {
      headers: basic(ADMIN),
      body: { username: "mallet", password: "mallet-pass-1" },
    });
    for (let i = 0; i < 5; i++) {
      const r = await api(h.url, "GET", "/service/token", {
        headers: basic({ username: "mallet", password: `guess-${i}` }),
      });
      expect(r.status).toBe(401);
    }
    const locked = await api(h.url, "GET", "/service/token", {
      headers: basic({ username: "mallet", password: "mallet-pass-1" }),
    });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    const other = await api(h.url, "GET", "/service/token", { headers: basic(alice) });
    expect(other.status).toBe(200);
    const audit = await api(
      h.url,
      "GET",
      "/api/v1/audit?actor=mallet&action=login&outcome=failure",
      { headers: basic(ADMIN) },
    );
    const entries = audit.body as {
      items: { remoteAddress: string; detail: string }[];
      total: number;
    };
    expect(entries.total).toBeGreaterThanOrEqual(6);
    expect(entries.items[0].remoteAddress).toBe("127.0.0.1");
    expect(JSON.stringify(entries.items)).not.toContain("guess-");
  });
});
