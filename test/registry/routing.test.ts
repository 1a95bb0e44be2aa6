// Routing of the whole server (registry router + Fastify with the management API): query
// strings never change which handler answers, and every unmatched request — unknown path or
// wrong method, under /v2/, /api/ or anywhere else — answers the documented
// {"errors":[{"code","message"}]} shape, never Fastify's default body. Also systeminfo's
// authMode, which must be the value operators configure (auth.mode).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { multiTenancy } from "../../src/api/multi-tenancy.js";
import { authSettingsFrom } from "../../src/auth/system.js";
import { defaultConfig } from "../../src/config/config.js";
import { startTestRegistry, type TestRegistry } from "./harness.js";

let registry: TestRegistry;

beforeAll(async () => {
  registry = await startTestRegistry(
    multiTenancy({
      settings: authSettingsFrom(defaultConfig().auth, {}),
      adminPassword: "admin-password-1",
      version: "test",
    }),
  );
});
afterAll(async () => {
  await registry?.destroy();
});

async function errorsOf(res: Response): Promise<Array<{ code: string; message: string }>> {
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = (await res.json()) as { errors?: Array<{ code: string; message: string }> };
  expect(Object.keys(body)).toEqual(["errors"]);
  expect(body.errors?.length).toBe(1);
  expect(typeof body.errors?.[0]?.message).toBe("string");
  return body.errors ?? [];
}

describe("query strings never change routing", () => {
  it.each(["/healthz?x=1", "/healthz?", "/readyz?verbose", "/readyz?a=1&b=2"])("%s", async (p) => {
    const res = await fetch(`${registry.url}${p}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string };
    expect(body.status).toBe(p.startsWith("/healthz") ? "ok" : "ready");
  });

  it("/v2/?x=1 and /api/v1/systeminfo?x=1 reach their routes", async () => {
    const v2 = await fetch(`${registry.url}/v2/?x=1`);
    expect(v2.status).toBe(401); // the registry's challenge, not a 404
    expect(v2.headers.get("www-authenticate")).toMatch(/^Bearer /);
    const info = await fetch(`${registry.url}/api/v1/systeminfo?x=1`);
    expect(info.status).toBe(200);
  });
});

describe("unmatched requests answer the documented error shape", () => {
  it.each([
    ["GET", "/nope", 404, "NOT_FOUND"],
    ["GET", "/nope?x=1", 404, "NOT_FOUND"],
    // GET / serves the web UI (src/web-ui.ts), so other methods on / are 405 with Allow.
    ["POST", "/", 405, "METHOD_NOT_ALLOWED"],
    ["GET", "/api/nope", 404, "NOT_FOUND"],
    ["GET", "/api/v1/nope", 404, "NOT_FOUND"],
    ["DELETE", "/api/v1/systeminfo", 405, "METHOD_NOT_ALLOWED"],
    ["PUT", "/api/v1/users/current", 405, "METHOD_NOT_ALLOWED"],
    ["POST", "/healthz", 405, "METHOD_NOT_ALLOWED"],
    ["DELETE", "/readyz?x=1", 405, "METHOD_NOT_ALLOWED"],
    ["GET", "/v2foo", 404, "NOT_FOUND"],
  ])("%s %s → %i %s", async (method, p, status, code) => {
    const res = await fetch(`${registry.url}${p}`, { method });
    expect(res.status).toBe(status);
    expect((await errorsOf(res))[0]?.code).toBe(code);
    if (status === 405) expect(res.headers.get("allow")).toMatch(/GET/);
  });

  it("a URL Fastify cannot decode is a 400 in the same shape", async () => {
    const res = await fetch(`${registry.url}/api/v1/projects/%E0%A4%A`);
    expect(res.status).toBe(400);
    expect((await errorsOf(res))[0]?.code).toBe("INVALID_INPUT");
  });

  it("registry: unknown endpoints and methods get spec codes (with Allow on 405)", async () => {
    const auth = {
      authorization: `Basic ${Buffer.from("admin:admin-password-1").toString("base64")}`,
    };
    const unknown = await fetch(`${registry.url}/v2/library/app/nothing/here`, { headers: auth });
    expect(unknown.status).toBe(404);
    expect((await errorsOf(unknown))[0]?.code).toBe("UNSUPPORTED");
    const patch = await fetch(`${registry.url}/v2/library/app/manifests/v1`, {
      method: "PATCH",
      headers: auth,
    });
    expect(patch.status).toBe(405);
    expect(patch.headers.get("allow")).toBe("GET, HEAD, PUT, DELETE");
    expect((await errorsOf(patch))[0]?.code).toBe("UNSUPPORTED");
    const catalog = await fetch(`${registry.url}/v2/_catalog`, { method: "POST", headers: auth });
    expect(catalog.status).toBe(405);
    expect(catalog.headers.get("allow")).toBe("GET, HEAD");
    const tags = await fetch(`${registry.url}/v2/library/none/tags/list`, { headers: auth });
    expect(tags.status).toBe(404);
    expect((await errorsOf(tags))[0]?.code).toBe("NAME_UNKNOWN");
  });
});

describe("systeminfo", () => {
  it("reports authMode as configured (token), and whether htpasswd is a user source", async () => {
    const res = await fetch(`${registry.url}/api/v1/systeminfo`);
    const info = (await res.json()) as { authMode: string; htpasswd: boolean };
    expect(info.authMode).toBe("token");
    expect(info.htpasswd).toBe(false);
  });
});
