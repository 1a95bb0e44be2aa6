// The management API × every credential kind (issue 12, defect 1: a registry token with no
// scope deleted a repository; one scoped to `repository:proja/x:pull` added a project admin).
// Over real HTTP against the API and token endpoint: a browser session (with and without the
// CSRF token), Basic credentials (administrator and robot), registry tokens from
// /service/token (no scope, full repository + catalog scope, a robot's), a refresh token
// sent as Bearer, and no credentials. Expectations are written out cell by cell; every
// refused write is checked to have changed nothing. Then every documented operation is
// tried with every kind of Bearer token: all must answer 401.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { putManifest, recordBlobInRepository } from "../../src/meta/index.js";
import { ADMIN, type ApiHarness, api, basic, startApi } from "./harness.js";

type Kind =
  | "session"
  | "session without CSRF"
  | "basic"
  | "registry token, no scope"
  | "registry token, full scope"
  | "robot registry token"
  | "refresh token"
  | "robot basic"
  | "anonymous";

const KINDS: Kind[] = [
  "session",
  "session without CSRF",
  "basic",
  "registry token, no scope",
  "registry token, full scope",
  "robot registry token",
  "refresh token",
  "robot basic",
  "anonymous",
];

interface Operation {
  /** Performs it with `headers`; returns the status and a check that nothing changed. */
  run(
    headers: Record<string, string>,
    n: number,
  ): Promise<{ status: number; unchanged: () => Promise<boolean> }>;
}

const ADMIN_OK = {
  read: 200,
  list: 200,
  "add project admin": 201,
  "delete repository": 204,
  "create project": 201,
  "list users": 200,
  "create robot": 201,
};
const ALL_401 = {
  read: 401,
  list: 401,
  "add project admin": 401,
  "delete repository": 401,
  "create project": 401,
  "list users": 401,
  "create robot": 401,
};

/** Expected status of each operation for each credential kind (the administrator's, unless "robot"). */
const EXPECTED: Record<Kind, Record<string, number>> = {
  session: ADMIN_OK,
  "session without CSRF": {
    ...ADMIN_OK,
    "add project admin": 403,
    "delete repository": 403,
    "create project": 403,
    "create robot": 403,
  },
  basic: ADMIN_OK,
  "registry token, no scope": ALL_401,
  "registry token, full scope": ALL_401,
  "robot registry token": ALL_401,
  "refresh token": ALL_401,
  "robot basic": {
    read: 200,
    list: 200,
    "add project admin": 403,
    "delete repository": 403,
    "create project": 403,
    "list users": 403,
    "create robot": 403,
  },
  anonymous: ALL_401,
};

let h: ApiHarness;
const headersOf = new Map<Kind, Record<string, string>>();
let counter = 0;
const layer = `sha256:${"a".repeat(64)}`;

async function storeRepository(repository: string): Promise<void> {
  counter++;
  await recordBlobInRepository(h.meta.db, repository, layer, 10);
  await putManifest(h.meta.db, {
    repository,
    digest: `sha256:${counter.toString(16).padStart(64, "0")}`,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    content: Buffer.from(`{"schemaVersion":2,"n":${counter}}`),
    references: [{ kind: "blob", digest: layer }],
    tag: "v1",
  });
}

const asAdmin = (method: string, path: string, body?: unknown) =>
  api(h.url, method, path, { headers: basic(ADMIN), body });

const OPERATIONS: Record<string, Operation> = {
  read: {
    async run(headers) {
      const r = await api(h.url, "GET", "/api/v1/projects/team", { headers });
      return { status: r.status, unchanged: async () => true };
    },
  },
  list: {
    async run(headers) {
      const r = await api(h.url, "GET", "/api/v1/projects/team/repositories", { headers });
      return { status: r.status, unchanged: async () => true };
    },
  },
  "add project admin": {
    async run(headers, n) {
      const username = `victim${n}`;
      expect(
        (await asAdmin("POST", "/api/v1/users", { username, password: `${username}-pass-1` }))
          .status,
      ).toBe(201);
      const r = await api(h.url, "POST", "/api/v1/projects/team/members", {
        headers,
        body: { username, role: "projectAdmin" },
      });
      return {
        status: r.status,
        unchanged: async () => {
          const members = await asAdmin("GET", "/api/v1/projects/team/members?page_size=100");
          const items = (members.body as { items: { username: string }[] }).items;
          return members.status === 200 && !items.some((m) => m.username === username);
        },
      };
    },
  },
  "delete repository": {
    async run(headers, n) {
      const repository = `team/app${n}`;
      await storeRepository(repository);
      const path = `/api/v1/projects/team/repositories/${encodeURIComponent(repository)}`;
      const r = await api(h.url, "DELETE", path, { headers });
      return {
        status: r.status,
        unchanged: async () => (await asAdmin("GET", `${path}/artifacts`)).status === 200,
      };
    },
  },
  "create project": {
    async run(headers, n) {
      const name = `made${n}`;
      const r = await api(h.url, "POST", "/api/v1/projects", { headers, body: { name } });
      return {
        status: r.status,
        unchanged: async () => (await asAdmin("GET", `/api/v1/projects/${name}`)).status === 404,
      };
    },
  },
  "list users": {
    async run(headers) {
      const r = await api(h.url, "GET", "/api/v1/users", { headers });
      return { status: r.status, unchanged: async () => true };
    },
  },
  "create robot": {
    async run(headers, n) {
      const name = `forever${n}`;
      const r = await api(h.url, "POST", "/api/v1/projects/team/robots", {
        headers,
        body: { name, actions: ["pull", "push", "delete"], expiresIn: "never" },
      });
      return {
        status: r.status,
        unchanged: async () =>
          (await asAdmin("GET", `/api/v1/robots/${encodeURIComponent(`robot$team+${name}`)}`))
            .status === 404,
      };
    },
  },
};

async function tokenFor(auth: Record<string, string>, scope: string): Promise<string> {
  const r = await api(h.url, "GET", `/service/token?service=berth${scope}`, { headers: auth });
  expect(r.status).toBe(200);
  return (r.body as { token: string }).token;
}

beforeAll(async () => {
  h = await startApi();
  expect((await asAdmin("POST", "/api/v1/projects", { name: "team" })).status).toBe(201);
  await storeRepository("team/app");
  const robot = await asAdmin("POST", "/api/v1/projects/team/robots", {
    name: "reader",
    actions: ["pull"],
  });
  expect(robot.status).toBe(201);
  const robotCreds = basic({
    username: (robot.body as { robot: { name: string } }).robot.name,
    password: (robot.body as { secret: string }).secret,
  });
  const signIn = await api(h.url, "POST", "/api/v1/session", { body: ADMIN });
  expect(signIn.status).toBe(201);
  const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const csrf = (signIn.body as { csrfToken: string }).csrfToken;
  const full = "&scope=repository:team/app:pull,push,delete&scope=registry:catalog:*";
  const offline = await api(h.url, "GET", "/service/token?service=berth&offline_token=true", {
    headers: basic(ADMIN),
  });
  const refreshToken = (offline.body as { refresh_token?: string }).refresh_token;
  expect(typeof refreshToken).toBe("string");
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  headersOf.set("session", { cookie, "x-csrf-token": csrf });
  headersOf.set("session without CSRF", { cookie });
  headersOf.set("basic", basic(ADMIN));
  headersOf.set("registry token, no scope", bearer(await tokenFor(basic(ADMIN), "")));
  headersOf.set("registry token, full scope", bearer(await tokenFor(basic(ADMIN), full)));
  headersOf.set(
    "robot registry token",
    bearer(await tokenFor(robotCreds, "&scope=repository:team/app:pull")),
  );
  headersOf.set("refresh token", bearer(refreshToken ?? ""));
  headersOf.set("robot basic", robotCreds);
  headersOf.set("anonymous", {});
}, 60_000);

afterAll(async () => h?.close());

describe("the management API with every credential kind", () => {
  for (const kind of KINDS) {
    it(`${kind}: allowed exactly where expected, refusals change nothing`, async () => {
      const headers = headersOf.get(kind) ?? {};
      for (const [name, op] of Object.entries(OPERATIONS)) {
        const { status, unchanged } = await op.run(headers, ++counter);
        expect(status, `${kind} → ${name}`).toBe(EXPECTED[kind][name]);
        if (status >= 400)
          expect(await unchanged(), `${kind} → ${name} changed something`).toBe(true);
      }
    });
  }

  it("refuses every Bearer token on every documented operation (401)", async () => {
    const doc = (await asAdmin("GET", "/api/v1/openapi.json")).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })),
    );
    expect(operations.length).toBeGreaterThan(30);
    const bearerKinds = KINDS.filter((k) => headersOf.get(k)?.authorization?.startsWith("Bearer "));
    expect(bearerKinds.length).toBe(4);
    const wrong: string[] = [];
    for (const { method, path } of operations) {
      const url = path.replace(/\{(\w+)\}/g, (_m, name: string) =>
        name === "project" ? "team" : name === "repository" ? "team%2Fapp" : "x",
      );
      for (const kind of bearerKinds) {
        const r = await api(h.url, method, url, {
          headers: headersOf.get(kind) ?? {},
          ...(method === "GET" || method === "DELETE" ? {} : { body: {} }),
        });
        if (r.status !== 401) wrong.push(`${kind}: ${method} ${path} → ${r.status}`);
      }
    }
    expect(wrong).toEqual([]);
    // Nothing the sweep sent changed the project.
    expect(
      (await asAdmin("GET", "/api/v1/projects/team/repositories/team%2Fapp/artifacts")).status,
    ).toBe(200);
  });
});
