// Disabling a user (PATCH /api/v1/users/{username} {disabled}) against a real `berth serve`
// with token auth: every credential the user held stops working at once (browser session,
// Basic on the API and the registry, access tokens from /service/token, refresh tokens),
// signing in again is refused, the last administrator cannot be disabled, the change is
// audited, and enabling the user lets them sign in again with the same password.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BerthProcess, startBerth } from "../support/berth-process.js";

const ADMIN_PASSWORD = "admin-password-user-disable";
const DORA = { username: "dora", password: "dora-password-1" };

let berth: BerthProcess;

const basic = (who: { username: string; password: string }) => ({
  authorization: `Basic ${Buffer.from(`${who.username}:${who.password}`).toString("base64")}`,
});
const ADMIN = basic({ username: "admin", password: ADMIN_PASSWORD });

async function call(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const r = await fetch(`${berth.url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { text };
  }
  return { status: r.status, body: parsed, headers: r.headers };
}

beforeAll(async () => {
  berth = await startBerth({ env: { BERTH_AUTH: "token", BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  expect((await call("POST", "/api/v1/users", ADMIN, DORA)).status).toBe(201);
});

afterAll(async () => {
  await berth?.stop();
});

describe("disabling a user", () => {
  it("ends every credential at once and refuses signing in until enabled again", async () => {
    const signIn = await call("POST", "/api/v1/session", {}, DORA);
    expect(signIn.status).toBe(201);
    const session = { cookie: (signIn.headers.get("set-cookie") ?? "").split(";")[0] ?? "" };
    expect((await call("GET", "/api/v1/session", session)).status).toBe(200);
    const token = await call("GET", "/service/token?service=berth&offline_token=true", basic(DORA));
    expect(token.status).toBe(200);
    expect(typeof token.body.refresh_token).toBe("string");
    const bearer = { authorization: `Bearer ${token.body.token as string}` };
    expect((await call("GET", "/v2/", bearer)).status).toBe(200);
    expect((await call("GET", "/api/v1/users/dora", basic(DORA))).status).toBe(200);

    const disabled = await call("PATCH", "/api/v1/users/dora", ADMIN, { disabled: true });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ username: "dora", disabled: true, isAdmin: false });

    expect((await call("GET", "/api/v1/session", session)).status).toBe(401);
    expect((await call("GET", "/v2/", bearer)).status).toBe(401);
    expect((await call("GET", "/api/v1/users/dora", basic(DORA))).status).toBe(401);
    expect((await call("GET", "/v2/", basic(DORA))).status).toBe(401);
    expect((await call("POST", "/api/v1/session", {}, DORA)).status).toBe(401);
    expect((await call("GET", "/service/token?service=berth", basic(DORA))).status).toBe(401);
    const viaRefresh = await fetch(`${berth.url}/service/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: String(token.body.refresh_token),
        service: "berth",
      }),
    });
    expect(viaRefresh.status).toBe(401);

    const audit = await call("GET", "/api/v1/audit?action=user.update", ADMIN);
    expect(JSON.stringify(audit.body)).toContain('"resource":"dora"');

    const enabled = await call("PATCH", "/api/v1/users/dora", ADMIN, { disabled: false });
    expect(enabled.body).toMatchObject({ disabled: false });
    expect((await call("POST", "/api/v1/session", {}, DORA)).status).toBe(201);
    expect((await call("GET", "/v2/", basic(DORA))).status).toBe(200);
  });

  it("refuses to disable the last administrator, naming why, and changes nothing", async () => {
    const refused = await call("PATCH", "/api/v1/users/admin", ADMIN, { disabled: true });
    expect(refused.status).toBe(409);
    expect(JSON.stringify(refused.body)).toContain("cannot disable the last system administrator");
    expect((await call("GET", "/api/v1/users/admin", ADMIN)).body).toMatchObject({
      disabled: false,
    });
  });
});
