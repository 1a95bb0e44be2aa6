// The registry access controller's cache of allowed decisions (src/auth/decision-cache.ts),
// in process over a real SQLite auth database: a repeated request with the same credentials
// is answered without touching the database (counted), and every change that could end the
// access ends it on the very next request — a role removed, a member removed, a robot
// disabled, a password changed, a project made private — with the same credentials that
// were just served from the cache. A decision never serves other credentials, another
// repository or other actions; a check that raced with a change does not store its answer.
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AccessRequest, RepositoryAction } from "../../src/auth/access.js";
import { basicHeader } from "../../src/auth/credentials.js";
import { DecisionCache } from "../../src/auth/decision-cache.js";
import { Management } from "../../src/auth/management.js";
import type { AuthStore } from "../../src/auth/store.js";
import { openTestAuth, type TestAuth } from "./db.js";

const operator = { name: "operator", kind: "system" as const, isAdmin: true };
let t: TestAuth;
let management: Management;
let app: FastifyInstance;
let storeCalls: number;

/** Counts every AuthStore call (each one is at least one database query). */
function countStoreCalls(store: AuthStore): void {
  const proto = Object.getPrototypeOf(store) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const method = proto[name];
    if (name === "constructor" || typeof method !== "function") continue;
    Object.defineProperty(store, name, {
      value: (...args: unknown[]) => {
        storeCalls++;
        return (method as (...a: unknown[]) => unknown).apply(store, args);
      },
    });
  }
}

function pull(
  authorization: string | undefined,
  repository = "team/app",
  actions: RepositoryAction[] = ["pull"],
  remoteAddress = "127.0.0.1",
): AccessRequest {
  return {
    headers: authorization ? { authorization } : {},
    remoteAddress,
    target: { kind: "repository", repository, actions },
  };
}

async function tokenFor(authorization: string, scope: string): Promise<string> {
  const res = await app.inject({
    method: "GET",
    url: `/service/token?service=berth&scope=${encodeURIComponent(scope)}`,
    headers: { authorization },
  });
  expect(res.statusCode, res.body).toBe(200);
  return `Bearer ${(res.json() as { token: string }).token}`;
}

async function check(request: AccessRequest) {
  return t.auth.controller.check(request);
}

/** Checks twice; the second answer must come from the cache (no store call). */
async function allowedTwiceSecondCached(request: AccessRequest): Promise<void> {
  expect((await check(request)).allowed).toBe(true);
  const before = storeCalls;
  expect((await check(request)).allowed).toBe(true);
  expect(storeCalls - before, "store calls on the cached check").toBe(0);
}

beforeEach(async () => {
  t = await openTestAuth();
  management = new Management(t.auth.store, t.auth.audit, t.auth.authorizer);
  await management.createProject(operator, { name: "team", isPublic: false, quotaBytes: null });
  await management.createProject(operator, { name: "other", isPublic: false, quotaBytes: null });
  await management.createUser(operator, {
    username: "alice",
    password: "alice-password-1",
    isAdmin: false,
  });
  await management.createUser(operator, {
    username: "bob",
    password: "bob-password-1",
    isAdmin: false,
  });
  await management.setMember(operator, "team", "alice", "developer");
  app = Fastify({ logger: false });
  await app.register(t.auth.tokenRoutes);
  storeCalls = 0;
  countStoreCalls(t.auth.store);
});

afterEach(async () => {
  await app.close();
  await t.close();
});

describe("cached registry access decisions", () => {
  it("answer a repeated Bearer, Basic or anonymous request without a database query", async () => {
    const alice = basicHeader("alice", "alice-password-1");
    await allowedTwiceSecondCached(pull(alice));
    await allowedTwiceSecondCached(pull(await tokenFor(alice, "repository:team/app:pull")));
    await management.updateProject(operator, "team", { isPublic: true });
    await allowedTwiceSecondCached(pull(undefined));
  });

  it("a role removed: the next request with the same token or password is refused", async () => {
    const alice = basicHeader("alice", "alice-password-1");
    const token = await tokenFor(alice, "repository:team/app:pull,push");
    await allowedTwiceSecondCached(pull(token, "team/app", ["push"]));
    await allowedTwiceSecondCached(pull(alice, "team/app", ["push"]));
    await management.setMember(operator, "team", "alice", "guest");
    expect(await check(pull(token, "team/app", ["push"]))).toMatchObject({
      allowed: false,
      status: 403,
    });
    expect(await check(pull(alice, "team/app", ["push"]))).toMatchObject({
      allowed: false,
      status: 403,
    });
    expect((await check(pull(token))).allowed).toBe(true);
    await management.removeMember(operator, "team", "alice");
    expect((await check(pull(token))).allowed).toBe(false);
    expect((await check(pull(alice))).allowed).toBe(false);
  });

  it("a robot disabled: refused at once, with its Basic secret and with its token", async () => {
    const { robot, secret } = await management.createRobot(operator, {
      name: "ci",
      project: "team",
      permissions: [{ project: "team", actions: ["pull"] }],
      expiresAt: null,
    });
    const basic = basicHeader(robot.name, secret);
    const token = await tokenFor(basic, "repository:team/app:pull");
    await allowedTwiceSecondCached(pull(basic));
    await allowedTwiceSecondCached(pull(token));
    await management.setRobotDisabled(operator, robot, true);
    expect((await check(pull(basic))).allowed).toBe(false);
    expect(await check(pull(token))).toMatchObject({ allowed: false, status: 401 });
  });

  it("a password changed or a user deleted: the old credentials are refused at once", async () => {
    const alice = basicHeader("alice", "alice-password-1");
    const token = await tokenFor(alice, "repository:team/app:pull");
    await allowedTwiceSecondCached(pull(alice));
    await allowedTwiceSecondCached(pull(token));
    await management.setPassword(operator, "alice", "alice-password-2");
    expect(await check(pull(alice))).toMatchObject({ allowed: false, status: 401 });
    expect(await check(pull(token))).toMatchObject({ allowed: false, status: 401 });
    const fresh = basicHeader("alice", "alice-password-2");
    await allowedTwiceSecondCached(pull(fresh));
    await management.deleteUser(operator, "alice");
    expect((await check(pull(fresh))).allowed).toBe(false);
  });

  it("a user disabled: the cached password and token are refused at once", async () => {
    const alice = basicHeader("alice", "alice-password-1");
    const token = await tokenFor(alice, "repository:team/app:pull");
    await allowedTwiceSecondCached(pull(alice));
    await allowedTwiceSecondCached(pull(token));
    await management.updateUser(operator, "alice", { disabled: true });
    expect((await check(pull(alice))).allowed).toBe(false);
    expect(await check(pull(token))).toMatchObject({ allowed: false, status: 401 });
  });

  it("a public project made private: anonymous pulls are refused at once", async () => {
    await management.updateProject(operator, "team", { isPublic: true });
    await allowedTwiceSecondCached(pull(undefined));
    await management.updateProject(operator, "team", { isPublic: false });
    expect(await check(pull(undefined))).toMatchObject({ allowed: false, status: 401 });
  });

  it("never serves another principal, repository or action from a cached decision", async () => {
    const alice = basicHeader("alice", "alice-password-1");
    const token = await tokenFor(alice, "repository:team/app:pull");
    await allowedTwiceSecondCached(pull(alice));
    await allowedTwiceSecondCached(pull(token));
    // Another user, a wrong password, no credentials: each refused on the same repository.
    expect((await check(pull(basicHeader("bob", "bob-password-1")))).allowed).toBe(false);
    expect((await check(pull(basicHeader("alice", "wrong-password-1")))).allowed).toBe(false);
    expect((await check(pull(undefined))).allowed).toBe(false);
    // Bob's own token names no team access: nothing of Alice's decision reaches it.
    const bobToken = await tokenFor(
      basicHeader("bob", "bob-password-1"),
      "repository:team/app:pull",
    );
    expect((await check(pull(bobToken))).allowed).toBe(false);
    // Alice's token: another repository (outside its claim), other actions.
    expect((await check(pull(token, "team/other"))).allowed).toBe(false);
    expect((await check(pull(token, "other/app"))).allowed).toBe(false);
    expect((await check(pull(token, "team/app", ["push"]))).allowed).toBe(false);
    expect((await check(pull(alice, "other/app"))).allowed).toBe(false);
  });

  it("a cached Basic decision still obeys a login lock on that address", async () => {
    const alice = basicHeader("alice", "alice-password-1");
    await allowedTwiceSecondCached(pull(alice, "team/app", ["pull"], "127.0.0.9"));
    for (let i = 0; i < 5; i++) {
      await check(
        pull(basicHeader("alice", "wrong-password-1"), "team/app", ["pull"], "127.0.0.9"),
      );
    }
    expect(await check(pull(alice, "team/app", ["pull"], "127.0.0.9"))).toMatchObject({
      allowed: false,
      status: 429,
    });
    expect((await check(pull(alice, "team/app", ["pull"], "127.0.0.10"))).allowed).toBe(true);
  });
});

describe("DecisionCache", () => {
  const decision = {
    allowed: true as const,
    principal: { name: "a", kind: "user" as const, isAdmin: false },
  };

  it("drops an answer computed across a clear()", () => {
    const cache = new DecisionCache(2000);
    const generation = cache.generation;
    cache.clear();
    cache.set("k", generation, decision, Infinity);
    expect(cache.get("k")).toBeUndefined();
    cache.set("k", cache.generation, decision, Infinity);
    expect(cache.get("k")?.decision).toBe(decision);
  });

  it("never keeps an entry past its own end or the TTL, and stays bounded", () => {
    let now = 1_000_000;
    const cache = new DecisionCache(2000, () => now, 3);
    cache.set("token", cache.generation, decision, now + 500);
    cache.set("long", cache.generation, decision, Infinity);
    cache.set("gone", cache.generation, decision, now);
    expect(cache.get("gone")).toBeUndefined();
    now += 500;
    expect(cache.get("token")).toBeUndefined();
    expect(cache.get("long")).toBeDefined();
    now += 1500;
    expect(cache.get("long")).toBeUndefined();
    for (const k of ["a", "b", "c", "d"]) cache.set(k, cache.generation, decision, Infinity);
    expect(cache.size).toBeLessThanOrEqual(3);
  });
});
