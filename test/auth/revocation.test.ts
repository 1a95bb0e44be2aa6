// Issue 12 against a real `berth serve` with token auth: credentials end when they should.
// A password reset ends refresh tokens, sessions and access tokens (the changer's own session
// survives its own change); a robot's secret rotation ends its refresh and access tokens;
// access tokens are rechecked on every request (disabled robot, robot past its expiry,
// deleted user, removed member, demoted admin); robot tokens never outlive the robot;
// refresh tokens are bound to the account id (a new namesake cannot use them); the
// current-password check is throttled and audited; a locked login gets 429 with Retry-After
// on /v2/ and the token endpoint; lockout is per (account, source address) and never hits
// robots. skopeo (`--registry-token`) shows a real client refused after revocation.
// Source addresses: the server listens on 127.0.0.1; requests leave from distinct loopback
// addresses (127.0.0.N) so that lockouts of one test never leak into another.
import { createHash } from "node:crypto";
import { request as httpRequest } from "node:http";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basicHeader } from "../../src/auth/credentials.js";
import { BERTH_BIN, type BerthProcess, startBerth } from "../support/berth-process.js";
import { run } from "../support/process-control.js";

const ADMIN_PASSWORD = "admin-password-1";
const admin = basicHeader("admin", ADMIN_PASSWORD);
let berth: BerthProcess;

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: () => Record<string, unknown>;
}

/** One HTTP request to Berth, leaving from `address` (a loopback address; 127.0.0.1 by default). */
function http(
  method: string,
  p: string,
  options: {
    auth?: string;
    body?: string | Buffer;
    headers?: Record<string, string>;
    address?: string;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port: berth.port,
        method,
        path: p,
        localAddress: options.address ?? "127.0.0.1",
        headers: {
          ...(options.auth ? { authorization: options.auth } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
          resolve({ status: res.statusCode ?? 0, headers, text, json: () => JSON.parse(text) });
        });
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

async function adminJson(method: string, p: string, body?: unknown): Promise<Reply> {
  return http(method, p, {
    auth: admin,
    ...(body !== undefined
      ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } }
      : {}),
  });
}

async function ok(method: string, p: string, body?: unknown): Promise<Record<string, unknown>> {
  const r = await adminJson(method, p, body);
  expect(r.status, `${method} ${p}: ${r.text}`).toBeLessThan(300);
  return r.text ? r.json() : {};
}

/** GET /service/token with Basic credentials; the Bearer header value. */
async function bearer(username: string, password: string, ...scopes: string[]): Promise<string> {
  const q = scopes.map((s) => `&scope=${encodeURIComponent(s)}`).join("");
  const r = await http("GET", `/service/token?service=berth${q}`, {
    auth: basicHeader(username, password),
  });
  expect(r.status, r.text).toBe(200);
  return `Bearer ${r.json().token as string}`;
}

/** POST /service/token, password grant with access_type=offline: the refresh token. */
async function refreshTokenFor(username: string, password: string): Promise<string> {
  const r = await http("POST", "/service/token", {
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "password",
      service: "berth",
      username,
      password,
      access_type: "offline",
      scope: "repository:team/app:pull",
    }).toString(),
  });
  expect(r.status, r.text).toBe(200);
  const token = r.json().refresh_token;
  expect(typeof token).toBe("string");
  return token as string;
}

async function useRefresh(token: string): Promise<Reply> {
  return http("POST", "/service/token", {
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "refresh_token",
      service: "berth",
      refresh_token: token,
      scope: "repository:team/app:pull",
    }).toString(),
  });
}

async function signIn(username: string, password: string) {
  const r = await http("POST", "/api/v1/session", {
    body: JSON.stringify({ username, password }),
    headers: { "content-type": "application/json" },
  });
  expect(r.status, r.text).toBe(201);
  return {
    cookie: (r.headers.get("set-cookie") ?? "").split(";")[0] ?? "",
    csrf: r.json().csrfToken as string,
  };
}

const pull = (auth: string, repo = "team/app") =>
  http("GET", `/v2/${repo}/manifests/v1`, {
    auth,
    headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
  });

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

async function pushImage(repo: string): Promise<void> {
  const config = Buffer.from(`{"architecture":"amd64","os":"linux","repo":"${repo}"}`);
  for (const blob of [config]) {
    const start = await http("POST", `/v2/${repo}/blobs/uploads/`, { auth: admin });
    expect(start.status, start.text).toBe(202);
    const location = new URL(start.headers.get("location") ?? "", berth.url);
    location.searchParams.set("digest", sha(blob));
    const put = await http("PUT", `${location.pathname}${location.search}`, {
      auth: admin,
      body: blob,
      headers: { "content-type": "application/octet-stream" },
    });
    expect(put.status, put.text).toBe(201);
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: sha(config),
      size: config.length,
    },
    layers: [],
  });
  const r = await http("PUT", `/v2/${repo}/manifests/v1`, {
    auth: admin,
    body: manifest,
    headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
  });
  expect(r.status, r.text).toBe(201);
}

async function audit(query: string): Promise<Array<Record<string, unknown>>> {
  const r = await adminJson("GET", `/api/v1/audit?${query}&page_size=100`);
  expect(r.status, r.text).toBe(200);
  return r.json().items as Array<Record<string, unknown>>;
}

async function newUser(username: string, role?: string, isAdmin = false): Promise<string> {
  const password = `${username}-pass-1`;
  await ok("POST", "/api/v1/users", { username, password, isAdmin });
  if (role) await ok("POST", "/api/v1/projects/team/members", { username, role });
  return password;
}

async function newRobot(name: string, extra: Record<string, unknown> = {}) {
  const r = await ok("POST", "/api/v1/projects/team/robots", {
    name,
    actions: ["pull"],
    ...extra,
  });
  return { name: (r.robot as { name: string }).name, secret: r.secret as string };
}

beforeAll(async () => {
  berth = await startBerth({ env: { BERTH_AUTH: "token", BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  await ok("POST", "/api/v1/projects", { name: "team" });
  await ok("POST", "/api/v1/projects", { name: "other" });
  await pushImage("team/app");
  await pushImage("other/secret");
}, 120_000);

afterAll(async () => berth?.stop());

describe("a password reset (High 2)", () => {
  it("by an administrator ends the user's refresh tokens, sessions and access tokens at once", async () => {
    const password = await newUser("alice", "developer");
    const refresh = await refreshTokenFor("alice", password);
    expect((await useRefresh(refresh)).status).toBe(200);
    const session = await signIn("alice", password);
    const me = () => http("GET", "/api/v1/users/current", { headers: { cookie: session.cookie } });
    expect((await me()).status).toBe(200);
    const token = await bearer("alice", password, "repository:team/app:pull");
    expect((await pull(token)).status).toBe(200);

    await ok("PUT", "/api/v1/users/alice/password", { password: "alice-new-pass-2" });

    const refused = await useRefresh(refresh);
    expect(refused.status, refused.text).toBe(401);
    expect((await me()).status).toBe(401);
    expect((await pull(token)).status).toBe(401);
    expect(await ok("GET", "/api/v1/users/alice/sessions")).toEqual({
      sessions: [],
      refreshTokens: [],
    });
    expect(
      (await pull(await bearer("alice", "alice-new-pass-2", "repository:team/app:pull"))).status,
    ).toBe(200);
    const revoked = (await audit("action=credentials.revoke&resource=alice")).find(
      (e) => e.resource === "alice",
    );
    expect(JSON.parse(String(revoked?.detail))).toMatchObject({
      reason: "password changed",
      sessions: 1,
      refreshTokens: 1,
      accessTokens: "all",
    });
  });

  it("by the user keeps the session it was made from and ends every other one", async () => {
    const password = await newUser("bob", "developer");
    const mine = await signIn("bob", password);
    const other = await signIn("bob", password);
    const r = await http("PUT", "/api/v1/users/bob/password", {
      body: JSON.stringify({ currentPassword: password, password: "bob-new-pass-2" }),
      headers: {
        cookie: mine.cookie,
        "x-csrf-token": mine.csrf,
        "content-type": "application/json",
      },
    });
    expect(r.status, r.text).toBe(204);
    const as = (s: { cookie: string }) =>
      http("GET", "/api/v1/users/current", { headers: { cookie: s.cookie } });
    expect((await as(mine)).status).toBe(200);
    expect((await as(other)).status).toBe(401);
    const entry = (await audit("action=user.password&resource=bob")).find(
      (e) => e.resource === "bob",
    );
    expect(JSON.parse(String(entry?.detail))).toEqual({ verifiedCurrentPassword: true });
  });
});

describe("berth admin user sessions / signout", () => {
  it("list a user's sessions and refresh tokens, and end them all", async () => {
    const password = await newUser("sid", "developer");
    const session = await signIn("sid", password);
    const refresh = await refreshTokenFor("sid", password);
    const token = await bearer("sid", password, "repository:team/app:pull");
    const admin = (...args: string[]) =>
      run(
        process.execPath,
        [BERTH_BIN, "admin", "--server", berth.url, "--format", "json", "user", ...args],
        {
          env: {
            ...process.env,
            BERTH_USERNAME: "admin",
            BERTH_PASSWORD: ADMIN_PASSWORD,
          },
          timeoutMs: 90_000,
        },
      );
    const listed = await admin("sessions", "sid");
    expect(listed.code, listed.stderr).toBe(0);
    const signedIn = JSON.parse(listed.stdout) as { sessions: unknown[]; refreshTokens: unknown[] };
    expect(signedIn.sessions).toEqual([
      expect.objectContaining({ remoteAddress: expect.stringContaining("127.0.0.1") }),
    ]);
    expect(signedIn.refreshTokens.length).toBe(1);
    const ended = await admin("signout", "sid");
    expect(ended.code, ended.stderr).toBe(0);
    expect(JSON.parse(ended.stdout)).toEqual({ username: "sid", sessions: 1, refreshTokens: 1 });
    expect(
      (await http("GET", "/api/v1/users/current", { headers: { cookie: session.cookie } })).status,
    ).toBe(401);
    expect((await useRefresh(refresh)).status).toBe(401);
    expect((await pull(token)).status).toBe(401);
  }, 180_000);
});

describe("the current-password check (Low 7)", () => {
  it("is throttled like a login (429 with Retry-After, even for the right one) and audited", async () => {
    const password = await newUser("pat");
    const change = (currentPassword: string) =>
      http("PUT", "/api/v1/users/pat/password", {
        auth: basicHeader("pat", password),
        address: "127.0.0.7",
        body: JSON.stringify({ currentPassword, password: "pat-new-pass-2" }),
        headers: { "content-type": "application/json" },
      });
    for (let i = 0; i < 5; i++) expect((await change(`guess-${i}`)).status).toBe(403);
    const locked = await change(password);
    expect(locked.status, locked.text).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    const failures = await audit("action=password.verify&outcome=failure");
    expect(failures.filter((e) => e.actor === "pat").length).toBeGreaterThanOrEqual(5);
    // The password is unchanged; from another address pat may still change it.
    const elsewhere = await http("PUT", "/api/v1/users/pat/password", {
      auth: basicHeader("pat", password),
      address: "127.0.0.8",
      body: JSON.stringify({ currentPassword: password, password: "pat-new-pass-2" }),
      headers: { "content-type": "application/json" },
    });
    expect(elsewhere.status, elsewhere.text).toBe(204);
  });
});

describe("rotating a robot's secret (High 3)", () => {
  it("ends its refresh tokens and access tokens; skopeo with the old token is refused", async () => {
    const robot = await newRobot("rotated");
    const refresh = await refreshTokenFor(robot.name, robot.secret);
    expect((await useRefresh(refresh)).status).toBe(200);
    const token = await bearer(robot.name, robot.secret, "repository:team/app:pull");
    const inspect = (t: string) =>
      run("skopeo", [
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--registry-token",
        t.slice("Bearer ".length),
        `docker://${berth.host}/team/app:v1`,
      ]);
    const before = await inspect(token);
    expect(before.code, before.stderr).toBe(0);

    const rotated = await ok("POST", `/api/v1/robots/${encodeURIComponent(robot.name)}/refresh`);

    expect((await useRefresh(refresh)).status).toBe(401);
    expect((await pull(token)).status).toBe(401);
    const after = await inspect(token);
    expect(after.code).not.toBe(0);
    expect(after.stderr).toMatch(/401|unauthorized/i);
    const fresh = await bearer(robot.name, rotated.secret as string, "repository:team/app:pull");
    expect((await pull(fresh)).status).toBe(200);
  });
});

describe("access tokens are rechecked on every request (Medium 4)", () => {
  it("refuse a disabled robot at once", async () => {
    const robot = await newRobot("disabled");
    const token = await bearer(robot.name, robot.secret, "repository:team/app:pull");
    expect((await pull(token)).status).toBe(200);
    await ok("PATCH", `/api/v1/robots/${encodeURIComponent(robot.name)}`, { disabled: true });
    expect((await pull(token)).status).toBe(401);
    // Enabling it again does not bring the old token back.
    await ok("PATCH", `/api/v1/robots/${encodeURIComponent(robot.name)}`, { disabled: false });
    expect((await pull(token)).status).toBe(401);
  });

  it("cap a robot's tokens at its expiry and refuse them once it has passed", async () => {
    const expiresAt = new Date(Date.now() + 4_000).toISOString();
    const robot = await newRobot("shortlived", { expiresAt });
    const r = await http("GET", "/service/token?service=berth&scope=repository:team/app:pull", {
      auth: basicHeader(robot.name, robot.secret),
    });
    expect(r.status).toBe(200);
    expect(r.json().expires_in as number).toBeLessThanOrEqual(4);
    const claims = decodeJwt(r.json().token as string);
    expect((claims.exp ?? 0) * 1000).toBeLessThanOrEqual(Date.parse(expiresAt));
    const token = `Bearer ${r.json().token as string}`;
    expect((await pull(token)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, Date.parse(expiresAt) - Date.now() + 200));
    // Within the verifier's 5 s clock tolerance the JWT alone would still pass.
    expect((await pull(token)).status).toBe(401);
  });

  it("refuse a deleted user's pulls and pushes at once", async () => {
    const password = await newUser("dan", "developer");
    const token = await bearer("dan", password, "repository:team/app:pull,push");
    expect((await pull(token)).status).toBe(200);
    expect((await http("POST", "/v2/team/app/blobs/uploads/", { auth: token })).status).toBe(202);
    await ok("DELETE", "/api/v1/users/dan");
    expect((await pull(token)).status).toBe(401);
    expect((await http("POST", "/v2/team/app/blobs/uploads/", { auth: token })).status).toBe(401);
  });

  it("refuse a removed member and a demoted member at once", async () => {
    const password = await newUser("mia", "developer");
    const token = await bearer("mia", password, "repository:team/app:pull,push");
    expect((await http("POST", "/v2/team/app/blobs/uploads/", { auth: token })).status).toBe(202);
    await ok("PATCH", "/api/v1/projects/team/members/mia", { role: "guest" });
    expect((await http("POST", "/v2/team/app/blobs/uploads/", { auth: token })).status).toBe(403);
    expect((await pull(token)).status).toBe(200);
    await ok("DELETE", "/api/v1/projects/team/members/mia");
    expect((await pull(token)).status).toBe(403);
  });

  it("refuse a demoted administrator's reads of private projects at once", async () => {
    const password = await newUser("ada", undefined, true);
    const token = await bearer("ada", password, "repository:other/secret:pull");
    expect((await pull(token, "other/secret")).status).toBe(200);
    await ok("PATCH", "/api/v1/users/ada", { isAdmin: false });
    expect((await pull(token, "other/secret")).status).toBe(403);
  });
});

describe("refresh tokens are bound to the account, not its name (Medium 5)", () => {
  it("a deleted dave's refresh token does not work for a new dave", async () => {
    const password = await newUser("dave", undefined, true);
    const refresh = await refreshTokenFor("dave", password);
    expect((await useRefresh(refresh)).status).toBe(200);
    await ok("DELETE", "/api/v1/users/dave");
    await newUser("dave", undefined, true);
    const r = await useRefresh(refresh);
    expect(r.status, r.text).toBe(401);
  });
});

describe("lockout (Low 10, Low 12)", () => {
  it("a locked account gets 429 with Retry-After on /v2/ and the token endpoint, from that address only", async () => {
    const password = await newUser("lou", "developer");
    const attacker = "127.0.0.9";
    for (let i = 0; i < 5; i++) {
      const r = await http("GET", "/v2/", {
        auth: basicHeader("lou", `wrong-${i}`),
        address: attacker,
      });
      expect(r.status).toBe(401);
    }
    for (const p of ["/v2/", "/v2/team/app/tags/list"]) {
      const locked = await http("GET", p, {
        auth: basicHeader("lou", password),
        address: attacker,
      });
      expect(locked.status, p).toBe(429);
      expect(Number(locked.headers.get("retry-after")), p).toBeGreaterThan(0);
      expect(locked.json()).toMatchObject({ errors: [{ code: "TOOMANYREQUESTS" }] });
    }
    const tokenLocked = await http("GET", "/service/token?service=berth", {
      auth: basicHeader("lou", password),
      address: attacker,
    });
    expect(tokenLocked.status).toBe(429);
    expect(Number(tokenLocked.headers.get("retry-after"))).toBeGreaterThan(0);
    // Not a denial of service: lou from her own address signs in as usual.
    const owner = await http("GET", "/v2/", {
      auth: basicHeader("lou", password),
      address: "127.0.0.10",
    });
    expect(owner.status).toBe(200);
  });

  it("never locks a robot out for wrong secrets", async () => {
    const robot = await newRobot("ci");
    for (let i = 0; i < 8; i++) {
      const r = await http("GET", "/v2/", {
        auth: basicHeader(robot.name, `wrong-${i}`),
        address: "127.0.0.11",
      });
      expect(r.status).toBe(401);
    }
    const fromAttacker = await http("GET", "/v2/", {
      auth: basicHeader(robot.name, robot.secret),
      address: "127.0.0.11",
    });
    expect(fromAttacker.status).toBe(200);
    const fromCi = await http(
      "GET",
      "/service/token?service=berth&scope=repository:team/app:pull",
      {
        auth: basicHeader(robot.name, robot.secret),
        address: "127.0.0.12",
      },
    );
    expect(fromCi.status).toBe(200);
  });
});
