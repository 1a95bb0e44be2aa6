// The OpenAPI document validates (swagger-parser), and every documented operation answers
// with a documented status and a body matching the documented schema, called for real over
// HTTP with fixtures in the database (including a real stored manifest for artifact routes).
import SwaggerParser from "@apidevtools/swagger-parser";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobQueue } from "../../src/jobs/index.js";
import { recordGateResult } from "../../src/meta/gate-results.js";
import { putManifest, recordBlobInRepository } from "../../src/meta/index.js";
import { ADMIN, type ApiHarness, api, basic, startApi } from "./harness.js";

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
type Operation = {
  responses: Record<string, { content?: { "application/json": { schema: object } } }>;
};
type Doc = { paths: Record<string, Record<string, Operation>> };

let h: ApiHarness;
let doc: Doc;
let robotId = "";
let ruleId = "";
/** Jobs in the states the job routes act on (kinds no worker runs here, so they stay put). */
const jobIds = { done: 0, queued: 0, cancelled: 0 };
const trashIds = { shown: 0, restorable: 0 };
const layer = `sha256:${"a".repeat(64)}`;
const manifestDigest = `sha256:${"b".repeat(64)}`;

let session: Record<string, string> = {};

type Sample = { params?: Record<string, string>; body?: unknown; headers?: Record<string, string> };

/** Path parameters, bodies and (for browser sessions) headers of each documented operation. */
function sample(method: string, path: string): Sample | undefined {
  const p = {
    project: "team",
    username: "alice",
    id: robotId,
    repository: "team/app",
    reference: "v1",
    tag: "v1",
  };
  const table: Record<string, Sample> = {
    "get /api/v1/systeminfo": {},
    "get /api/v1/users/current": {},
    "post /api/v1/session": { body: ADMIN },
    "get /api/v1/session": { headers: session },
    "delete /api/v1/session": { headers: session },
    "get /api/v1/users": {},
    "post /api/v1/users": { body: { username: "carol", password: "carol-pass-1" } },
    "get /api/v1/users/{username}": { params: p },
    "patch /api/v1/users/{username}": { params: p, body: { email: "alice@example.com" } },
    "put /api/v1/users/{username}/password": { params: p, body: { password: "alice-pass-2" } },
    "get /api/v1/users/{username}/sessions": { params: { username: "admin" }, headers: session },
    "delete /api/v1/users/{username}/sessions": { params: { username: "dave" } },
    "delete /api/v1/users/{username}": { params: { username: "bob" } },
    "get /api/v1/projects": {},
    "post /api/v1/projects": { body: { name: "fresh", public: true } },
    "get /api/v1/projects/{project}": { params: p },
    "patch /api/v1/projects/{project}": { params: p, body: { public: false } },
    "delete /api/v1/projects/{project}": { params: { project: "empty" } },
    "get /api/v1/projects/{project}/quota": { params: p },
    "get /api/v1/projects/{project}/permissions": { params: p },
    "put /api/v1/projects/{project}/quota": { params: p, body: { limitBytes: 1_000_000 } },
    "get /api/v1/quotas": {},
    "get /api/v1/projects/{project}/members": { params: p },
    "post /api/v1/projects/{project}/members": {
      params: p,
      body: { username: "carol", role: "guest" },
    },
    "patch /api/v1/projects/{project}/members/{username}": {
      params: p,
      body: { role: "maintainer" },
    },
    "delete /api/v1/projects/{project}/members/{username}": {
      params: { project: "team", username: "dave" },
    },
    "get /api/v1/robots": {},
    "post /api/v1/robots": {
      body: { name: "sys", permissions: [{ project: "team", actions: ["pull"] }] },
    },
    "get /api/v1/projects/{project}/robots": { params: p },
    "post /api/v1/projects/{project}/robots": {
      params: p,
      body: { name: "ci2", actions: ["pull", "push"], expiresIn: "30d" },
    },
    "get /api/v1/robots/{id}": { params: p },
    "patch /api/v1/robots/{id}": { params: p, body: { disabled: true } },
    "post /api/v1/robots/{id}/refresh": { params: p },
    "delete /api/v1/robots/{id}": { params: p },
    "get /api/v1/repositories": {},
    "get /api/v1/projects/{project}/repositories": { params: p },
    "delete /api/v1/projects/{project}/repositories/{repository}": {
      params: { project: "team", repository: "team/old" },
    },
    "get /api/v1/projects/{project}/repositories/{repository}/artifacts": { params: p },
    "delete /api/v1/projects/{project}/repositories/{repository}/artifacts/{reference}": {
      params: { project: "team", repository: "team/app", reference: "doomed" },
    },
    "post /api/v1/projects/{project}/repositories/{repository}/artifacts/{reference}/tags": {
      params: p,
      body: { name: "stable" },
    },
    "delete /api/v1/projects/{project}/repositories/{repository}/artifacts/{reference}/tags/{tag}":
      {
        params: { ...p, tag: "stable" },
      },
    "get /api/v1/jobs": {},
    "get /api/v1/jobs/{job}": { params: { job: String(jobIds.done) } },
    "post /api/v1/jobs/{job}/cancel": { params: { job: String(jobIds.queued) } },
    "post /api/v1/jobs/{job}/retry": { params: { job: String(jobIds.cancelled) } },
    "post /api/v1/gc": { body: { dryRun: true } },
    "post /api/v1/fsck": { body: { repair: false } },
    "get /api/v1/audit": {},
    "get /api/v1/projects/{project}/audit": { params: p },
    "get /api/v1/system/quota": {},
    "put /api/v1/system/quota": { body: { limitBytes: 10_000_000 } },
    "get /api/v1/projects/{project}/repositories/{repository}/quota": { params: p },
    "put /api/v1/projects/{project}/repositories/{repository}/quota": {
      params: p,
      body: { limitBytes: 5_000_000 },
    },
    "get /api/v1/projects/{project}/immutable-rules": { params: p },
    "post /api/v1/projects/{project}/immutable-rules": {
      params: p,
      body: { repositoryPattern: "locked/**", tagPattern: "release-*" },
    },
    "delete /api/v1/projects/{project}/immutable-rules/{id}": {
      params: { project: "team", id: ruleId },
    },
    "get /api/v1/projects/{project}/retention": { params: p },
    "put /api/v1/projects/{project}/retention": {
      params: p,
      body: { schedule: "0 3 * * *", rules: [{ retain: { mostRecentlyPushed: 10 } }] },
    },
    "delete /api/v1/projects/{project}/retention": { params: p },
    "post /api/v1/projects/{project}/retention/runs": { params: p, body: { dryRun: true } },
    "put /api/v1/projects/{project}/gate-policy": {
      params: p,
      body: { policy: "maxSize: 200MB\nrequiredLabels:\n  maintainer: .+\n" },
    },
    "get /api/v1/trash": {},
    "get /api/v1/trash/{id}": { params: { id: String(trashIds.shown) } },
    "post /api/v1/trash/{id}/restore": { params: { id: String(trashIds.restorable) } },
    "post /api/v1/trash/purge": { body: {} },
    "get /api/v1/projects/{project}/gate-policy": { params: p },
    "delete /api/v1/projects/{project}/gate-policy": { params: p },
    "get /api/v1/projects/{project}/repositories/{repository}/artifacts/{reference}/gate": {
      params: p,
    },
  };
  return table[`${method} ${path}`];
}

async function storeManifest(repository: string, tag: string, digest: string) {
  await recordBlobInRepository(h.meta.db, repository, layer, 1000);
  await putManifest(h.meta.db, {
    repository,
    digest,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    content: Buffer.from(`{"schemaVersion":2,"x":"${digest}"}`),
    references: [{ kind: "blob", digest: layer }],
    tag,
  });
}

beforeAll(async () => {
  h = await startApi();
  const admin = basic(ADMIN);
  for (const username of ["alice", "bob", "dave"]) {
    const r = await api(h.url, "POST", "/api/v1/users", {
      headers: admin,
      body: { username, password: `${username}-pass-1` },
    });
    expect(r.status).toBe(201);
  }
  for (const name of ["team", "empty"]) {
    expect(
      (await api(h.url, "POST", "/api/v1/projects", { headers: admin, body: { name } })).status,
    ).toBe(201);
  }
  const gate = await api(h.url, "PUT", "/api/v1/projects/team/gate-policy", {
    headers: admin,
    body: { policy: "platforms: [linux/amd64]\n" },
  });
  expect(gate.status).toBe(200);
  for (const username of ["alice", "dave"]) {
    const r = await api(h.url, "POST", "/api/v1/projects/team/members", {
      headers: admin,
      body: { username, role: "developer" },
    });
    expect(r.status).toBe(201);
  }
  const robot = await api(h.url, "POST", "/api/v1/projects/team/robots", {
    headers: admin,
    body: { name: "ci", actions: ["pull"] },
  });
  expect(robot.status).toBe(201);
  robotId = (robot.body as { robot: { id: string } }).robot.id;
  await storeManifest("team/app", "v1", manifestDigest);
  await recordGateResult(h.meta.db, {
    repository: "team/app",
    digest: manifestDigest,
    verdict: "pass",
    rules: [
      {
        rule: "platforms",
        status: "pass",
        message: "every required platform is present",
        evidence: [],
      },
    ],
    policyUpdatedAt: new Date().toISOString(),
    evaluatedAt: new Date().toISOString(),
  });
  await storeManifest("team/app", "doomed", `sha256:${"c".repeat(64)}`);
  await storeManifest("team/old", "v0", `sha256:${"d".repeat(64)}`);
  // Two trash entries: one to show, one to restore.
  for (const [key, hex] of [
    ["shown", "e"],
    ["restorable", "f"],
  ] as const) {
    await storeManifest("team/app", `trash-${key}`, `sha256:${hex.repeat(64)}`);
    const gone = await api(
      h.url,
      "DELETE",
      `/api/v1/projects/team/repositories/${encodeURIComponent("team/app")}/artifacts/trash-${key}`,
      { headers: admin },
    );
    expect(gone.status).toBeLessThan(300);
    const listed = await api(h.url, "GET", "/api/v1/trash?q=trash-" + key, { headers: admin });
    trashIds[key] = (listed.body as { items: { id: number }[] }).items[0]!.id;
  }
  const rule = await api(h.url, "POST", "/api/v1/projects/team/immutable-rules", {
    headers: admin,
    body: { repositoryPattern: "locked/**", tagPattern: "v*" },
  });
  expect(rule.status).toBe(201);
  ruleId = (rule.body as { id: string }).id;
  const retention = await api(h.url, "PUT", "/api/v1/projects/team/retention", {
    headers: admin,
    body: { rules: [{ retain: { always: true } }] },
  });
  expect(retention.status).toBe(200);
  const queue = new JobQueue(h.meta.db);
  jobIds.done = (await queue.enqueue("fixture", { n: 1 })).id;
  jobIds.queued = (await queue.enqueue("fixture", { n: 2 })).id;
  jobIds.cancelled = (await queue.enqueue("fixture", { n: 3 })).id;
  await queue.cancel(jobIds.cancelled);
  doc = (await api(h.url, "GET", "/api/v1/openapi.json")).body as Doc;
  const signIn = await api(h.url, "POST", "/api/v1/session", { body: ADMIN });
  const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0];
  session = { cookie, "x-csrf-token": (signIn.body as { csrfToken: string }).csrfToken };
});

afterAll(async () => h?.close());

describe("OpenAPI document", () => {
  it("validates as OpenAPI 3.1", async () => {
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  it("is browsable at /api/docs", async () => {
    const page = await api(h.url, "GET", "/api/docs");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(String(page.body)).toContain("/api/v1/openapi.json");
  });

  it("every documented operation answers as documented", async () => {
    const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ path, method, op })),
    );
    expect(operations.length).toBeGreaterThan(30);
    // Deletions last, so the things other operations need still exist.
    operations.sort((a, b) => Number(a.method === "delete") - Number(b.method === "delete"));
    const failures: string[] = [];
    for (const { path, method, op } of operations) {
      const s = sample(method, path);
      if (!s) {
        failures.push(`${method} ${path}: no sample in the test`);
        continue;
      }
      const url = path.replace(/\{(\w+)\}/g, (_m, name: string) =>
        encodeURIComponent(s.params?.[name] ?? ""),
      );
      const headers = s.headers ?? basic(ADMIN);
      const res = await api(h.url, method.toUpperCase(), url, { headers, body: s.body });
      const documented = op.responses[String(res.status)];
      if (!documented || res.status >= 400) {
        failures.push(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
        continue;
      }
      const schema = documented.content?.["application/json"].schema;
      if (schema && !ajv.validate(schema, res.body)) {
        failures.push(`${method} ${path}: body does not match schema: ${ajv.errorsText()}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it("answers errors in the documented envelope", async () => {
    const missing = await api(h.url, "GET", "/api/v1/projects/nope", { headers: basic(ADMIN) });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ errors: [{ code: "NOT_FOUND", message: expect.any(String) }] });
    const bad = await api(h.url, "POST", "/api/v1/users", {
      headers: basic(ADMIN),
      body: { username: "x" },
    });
    expect(bad.status).toBe(400);
    expect((bad.body as { errors: { code: string }[] }).errors[0].code).toBe("INVALID_INPUT");
    const anon = await api(h.url, "GET", "/api/v1/users");
    expect(anon.status).toBe(401);
    const unknown = await api(h.url, "GET", "/api/v1/nothing-here");
    expect(unknown.status).toBe(404);
    expect((unknown.body as { errors: unknown[] }).errors).toHaveLength(1);
  });

  it("paginates and sorts lists", async () => {
    const admin = basic(ADMIN);
    const first = await api(h.url, "GET", "/api/v1/users?page=1&page_size=2&sort=-username", {
      headers: admin,
    });
    expect(first.status).toBe(200);
    const body = first.body as { items: { username: string }[]; total: number };
    expect(body.items).toHaveLength(2);
    expect(body.total).toBeGreaterThan(2);
    expect(first.headers.get("x-total-count")).toBe(String(body.total));
    expect(first.headers.get("link")).toContain("page=2");
    const names = body.items.map((u) => u.username);
    expect([...names].sort().reverse()).toEqual(names);
    const badSort = await api(h.url, "GET", "/api/v1/users?sort=password", { headers: admin });
    expect(badSort.status).toBe(400);
  });

  it("every documented list pages and sorts by each of its fields, both ways", async () => {
    const admin = basic(ADMIN);
    type Param = { name: string; in: string };
    const lists = Object.entries(doc.paths).flatMap(([path, methods]) => {
      const op = methods.get as (Operation & { parameters?: Param[] }) | undefined;
      const schema = op?.responses["200"]?.content?.["application/json"].schema as
        | { properties?: Record<string, unknown> }
        | undefined;
      return op && schema?.properties?.items ? [{ path, op }] : [];
    });
    expect(lists.length).toBeGreaterThanOrEqual(10);
    const failures: string[] = [];
    for (const { path, op } of lists) {
      const query = new Set(
        (op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name),
      );
      for (const name of ["page", "page_size", "sort"]) {
        if (!query.has(name)) failures.push(`${path}: no "${name}" parameter documented`);
      }
      const s = sample("get", path);
      const url = path.replace(/\{(\w+)\}/g, (_m, name: string) =>
        encodeURIComponent(s?.params?.[name] ?? ""),
      );
      // An unknown sort field is refused with the list of the ones allowed.
      const bad = await api(h.url, "GET", `${url}?sort=nonsense`, { headers: admin });
      const message = (bad.body as { errors?: { message: string }[] }).errors?.[0]?.message ?? "";
      const fields = /\(use ([^)]+)\)/.exec(message)?.[1]?.split(", ") ?? [];
      if (bad.status !== 400 || fields.length === 0) {
        failures.push(`${path}: unknown sort answered ${bad.status} ${message}`);
        continue;
      }
      for (const field of fields) {
        for (const descending of [false, true]) {
          const sort = `${descending ? "-" : ""}${field}`;
          const seen: Record<string, unknown>[] = [];
          let total = -1;
          for (let page = 1; page <= 200; page++) {
            const r = await api(h.url, "GET", `${url}?sort=${sort}&page=${page}&page_size=2`, {
              headers: admin,
            });
            const body = r.body as { items: Record<string, unknown>[]; total: number };
            if (r.status !== 200) {
              failures.push(`${path}?sort=${sort}: HTTP ${r.status}`);
              break;
            }
            total = body.total;
            seen.push(...body.items);
            if (body.items.length < 2) break;
          }
          if (seen.length !== total) failures.push(`${path}?sort=${sort}: ${seen.length}/${total}`);
          const keys = new Set(seen.map((i) => JSON.stringify(i)));
          if (keys.size !== seen.length) failures.push(`${path}?sort=${sort}: duplicates`);
          const values = seen.map((i) => i[field]).filter((v) => v !== null && v !== undefined);
          if (seen.length > 0 && values.length === 0 && !(field in (seen[0] ?? {}))) {
            failures.push(`${path}?sort=${sort}: items have no "${field}"`);
          }
          const ordered = values.every((v, i) => {
            if (i === 0) return true;
            const prev = values[i - 1] as string | number;
            const cur = v as string | number;
            return descending ? prev >= cur : prev <= cur;
          });
          if (!ordered)
            failures.push(`${path}?sort=${sort}: out of order ${JSON.stringify(values)}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
