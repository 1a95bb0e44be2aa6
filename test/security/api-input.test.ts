// The management API against a real `berth serve` (token auth):
// - every list route answers absurd, negative and non-integer page / page_size with 400 and
//   a message naming the parameter (never 500); registry listings do the same for `n`;
// - durations (a robot's expiresIn) and byte counts (quotas) out of range answer 400;
// - an anonymous or unprivileged caller gets the very same answer (status, content type,
//   body with the asked-for name substituted) for a private project or robot that exists
//   as for one that does not, on every per-resource route.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basicHeader } from "../../src/auth/credentials.js";
import { OCI_MANIFEST, sha256 } from "../registry/harness.js";
import { type BerthProcess, startBerth } from "../support/berth-process.js";

const ADMIN_PASSWORD = "input-admin-password-1";
const CAROL = { username: "carol", password: "carol-password-1" };
const admin = { authorization: basicHeader("admin", ADMIN_PASSWORD) };
const carol = { authorization: basicHeader(CAROL.username, CAROL.password) };

let berth: BerthProcess;
let projectRobotId: string;
let systemRobotId: string;

interface Answer {
  status: number;
  contentType: string | null;
  text: string;
}

async function call(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<Answer> {
  const res = await fetch(`${berth.url}${path}`, {
    method,
    headers: { ...headers, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return {
    status: res.status,
    contentType: res.headers.get("content-type"),
    text: await res.text(),
  };
}

/** A config-only image pushed as admin (Basic credentials on /v2/). */
async function pushTinyImage(repository: string, tag: string): Promise<void> {
  const config = Buffer.from(
    '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
  );
  const blob = await fetch(
    `${berth.url}/v2/${repository}/blobs/uploads/?digest=${sha256(config)}`,
    {
      method: "POST",
      headers: { ...admin, "content-type": "application/octet-stream" },
      body: new Uint8Array(config),
    },
  );
  expect(blob.status, await blob.text()).toBe(201);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: sha256(config),
      size: config.length,
    },
    layers: [],
  });
  const put = await fetch(`${berth.url}/v2/${repository}/manifests/${tag}`, {
    method: "PUT",
    headers: { ...admin, "content-type": OCI_MANIFEST },
    body: manifest,
  });
  expect(put.status, await put.text()).toBe(201);
}

beforeAll(async () => {
  berth = await startBerth({ env: { BERTH_AUTH: "token", BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  const made = [
    await call("POST", "/api/v1/projects", admin, { name: "hidden", public: false }),
    await call("POST", "/api/v1/users", admin, CAROL),
  ];
  for (const r of made) expect(r.status, r.text).toBe(201);
  await pushTinyImage("hidden/app", "v1");
  const projectRobot = await call("POST", "/api/v1/projects/hidden/robots", admin, {
    name: "ci",
    actions: ["pull"],
  });
  expect(projectRobot.status, projectRobot.text).toBe(201);
  projectRobotId = (JSON.parse(projectRobot.text) as { robot: { id: string } }).robot.id;
  const systemRobot = await call("POST", "/api/v1/robots", admin, {
    name: "sys",
    permissions: [{ project: "hidden", actions: ["pull"] }],
  });
  expect(systemRobot.status, systemRobot.text).toBe(201);
  systemRobotId = (JSON.parse(systemRobot.text) as { robot: { id: string } }).robot.id;
});

afterAll(async () => {
  await berth?.stop();
});

const LIST_ROUTES = [
  "/api/v1/projects",
  "/api/v1/quotas",
  "/api/v1/repositories",
  "/api/v1/users",
  "/api/v1/robots",
  "/api/v1/audit",
  "/api/v1/projects/hidden/members",
  "/api/v1/projects/hidden/robots",
  "/api/v1/projects/hidden/repositories",
  "/api/v1/projects/hidden/audit",
  "/api/v1/projects/hidden/repositories/hidden%2Fapp/artifacts",
];

describe("pagination input on every list route", () => {
  const badPages = ["1e20", "99999999999999999999", "1000001", "-1", "0", "1.5", "abc", ""];
  const badSizes = ["1e20", "101", "0", "-5", "2.5", "x"];

  it("the list routes all answer 200 to a sane page (the checks below are not 404s)", async () => {
    for (const route of LIST_ROUTES) {
      const r = await call("GET", `${route}?page=2&page_size=1`, admin);
      expect(r.status, `${route}: ${r.text}`).toBe(200);
    }
  });

  it("answers 400 INVALID_INPUT naming page / page_size, never 500", async () => {
    for (const route of LIST_ROUTES) {
      for (const [name, values] of [
        ["page", badPages],
        ["page_size", badSizes],
      ] as const) {
        for (const value of values) {
          const r = await call("GET", `${route}?${name}=${encodeURIComponent(value)}`, admin);
          expect(r.status, `${route}?${name}=${value}: ${r.text}`).toBe(400);
          const error = (JSON.parse(r.text) as { errors: { code: string; message: string }[] })
            .errors[0]!;
          expect(error.code).toBe("INVALID_INPUT");
          expect(error.message, `${route}?${name}=${value}`).toContain(name);
        }
      }
    }
  });

  it("the registry listings refuse a malformed n and bound a huge one", async () => {
    for (const path of ["/v2/_catalog", "/v2/hidden/app/tags/list"]) {
      for (const n of ["1e20", "-1", "abc", "1.5"]) {
        const r = await call("GET", `${path}?n=${n}`, admin);
        expect(r.status, `${path}?n=${n}: ${r.text}`).toBe(400);
        expect(r.text).toContain("PAGINATION_NUMBER_INVALID");
      }
      const huge = await call("GET", `${path}?n=99999999999999999999999&last=%ff%fe`, admin);
      expect(huge.status, huge.text).toBe(200);
    }
  });
});

describe("durations and byte counts", () => {
  it("refuses robot expiry durations that are unreadable, zero or past 100 years", async () => {
    for (const expiresIn of [
      "100000000d",
      "99999999999999999999999ms",
      "0d",
      "0",
      "-1d",
      "soon",
      "36501d",
    ]) {
      for (const [path, body] of [
        [
          "/api/v1/robots",
          { name: "r-bad", permissions: [{ project: "hidden", actions: ["pull"] }] },
        ],
        ["/api/v1/projects/hidden/robots", { name: "r-bad", actions: ["pull"] }],
      ] as const) {
        const r = await call("POST", path, admin, { ...body, expiresIn });
        expect(r.status, `${path} expiresIn=${expiresIn}: ${r.text}`).toBe(400);
        expect(r.text).toContain("expiresIn");
      }
    }
    const longest = await call("POST", "/api/v1/robots", admin, {
      name: "r-long",
      permissions: [{ project: "hidden", actions: ["pull"] }],
      expiresIn: "36500d",
    });
    expect(longest.status, longest.text).toBe(201);
  });

  it("refuses quotas that cannot be stored exactly", async () => {
    for (const [method, path, body] of [
      ["PUT", "/api/v1/projects/hidden/quota", { limitBytes: 1e20 }],
      ["PUT", "/api/v1/projects/hidden/quota", { limitBytes: 1e300 }],
      ["PUT", "/api/v1/projects/hidden/quota", { limitBytes: -1 }],
      ["PATCH", "/api/v1/projects/hidden", { quotaBytes: 1e300 }],
      ["POST", "/api/v1/projects", { name: "q-huge", quotaBytes: 2 ** 60 }],
    ] as const) {
      const r = await call(method, path, admin, body);
      expect(r.status, `${method} ${path} ${JSON.stringify(body)}: ${r.text}`).toBe(400);
      expect(r.text).toContain("INVALID_INPUT");
    }
    const sane = await call("PUT", "/api/v1/projects/hidden/quota", admin, {
      limitBytes: 10_000_000,
    });
    expect(sane.status, sane.text).toBe(200);
  });
});

describe("existence of private projects and robots is not revealed", () => {
  /** Pairs [exists, does not exist] of the same route; `name` is substituted before comparing. */
  function pairs(): [string, string, string, unknown?][] {
    const ghost = randomUUID();
    return [
      ["GET", "/api/v1/projects/hidden", "/api/v1/projects/nosuch"],
      ["PATCH", "/api/v1/projects/hidden", "/api/v1/projects/nosuch", { public: true }],
      ["DELETE", "/api/v1/projects/hidden", "/api/v1/projects/nosuch"],
      ["GET", "/api/v1/projects/hidden/quota", "/api/v1/projects/nosuch/quota"],
      ["GET", "/api/v1/projects/hidden/members", "/api/v1/projects/nosuch/members"],
      [
        "POST",
        "/api/v1/projects/hidden/members",
        "/api/v1/projects/nosuch/members",
        { username: "carol", role: "guest" },
      ],
      [
        "PUT",
        "/api/v1/projects/hidden/members/admin",
        "/api/v1/projects/nosuch/members/admin",
        { role: "guest" },
      ],
      ["DELETE", "/api/v1/projects/hidden/members/admin", "/api/v1/projects/nosuch/members/admin"],
      ["GET", "/api/v1/projects/hidden/robots", "/api/v1/projects/nosuch/robots"],
      [
        "POST",
        "/api/v1/projects/hidden/robots",
        "/api/v1/projects/nosuch/robots",
        { name: "x", actions: ["pull"] },
      ],
      ["GET", "/api/v1/projects/hidden/audit", "/api/v1/projects/nosuch/audit"],
      ["GET", "/api/v1/projects/hidden/repositories", "/api/v1/projects/nosuch/repositories"],
      [
        "DELETE",
        "/api/v1/projects/hidden/repositories/hidden%2Fapp",
        "/api/v1/projects/nosuch/repositories/nosuch%2Fapp",
      ],
      [
        "GET",
        "/api/v1/projects/hidden/repositories/hidden%2Fapp/artifacts",
        "/api/v1/projects/nosuch/repositories/nosuch%2Fapp/artifacts",
      ],
      [
        "DELETE",
        "/api/v1/projects/hidden/repositories/hidden%2Fapp/artifacts/v1",
        "/api/v1/projects/nosuch/repositories/nosuch%2Fapp/artifacts/v1",
      ],
      [
        "POST",
        "/api/v1/projects/hidden/repositories/hidden%2Fapp/artifacts/v1/tags",
        "/api/v1/projects/nosuch/repositories/nosuch%2Fapp/artifacts/v1/tags",
        { name: "v2" },
      ],
      [
        "DELETE",
        "/api/v1/projects/hidden/repositories/hidden%2Fapp/artifacts/v1/tags/v1",
        "/api/v1/projects/nosuch/repositories/nosuch%2Fapp/artifacts/v1/tags/v1",
      ],
      ["GET", `/api/v1/robots/${projectRobotId}`, `/api/v1/robots/${ghost}`],
      ["GET", `/api/v1/robots/${systemRobotId}`, `/api/v1/robots/${ghost}`],
      ["GET", "/api/v1/robots/robot$hidden+ci", "/api/v1/robots/robot$nosuch+ci"],
      ["GET", "/api/v1/robots/robot$sys", "/api/v1/robots/robot$nosuch"],
      ["PATCH", `/api/v1/robots/${projectRobotId}`, `/api/v1/robots/${ghost}`, { disabled: true }],
      ["POST", `/api/v1/robots/${systemRobotId}/refresh`, `/api/v1/robots/${ghost}/refresh`],
      ["DELETE", `/api/v1/robots/${projectRobotId}`, `/api/v1/robots/${ghost}`],
    ];
  }

  /** The answer with the name the caller asked for replaced, so two answers compare exactly. */
  function normalized(answer: Answer, asked: string): string {
    const id = asked.split("/").pop()!;
    return JSON.stringify({
      ...answer,
      text: answer.text.replaceAll(id, "<id>").replaceAll(asked, "<name>"),
    });
  }

  function askedName(path: string): string {
    const robot = /\/robots\/([^/]+)/.exec(path);
    if (robot && path.startsWith("/api/v1/robots/")) return decodeURIComponent(robot[1]!);
    return /\/projects\/([^/]+)/.exec(path)![1]!;
  }

  for (const [who, headers] of [
    ["anonymous", {}],
    ["a signed-in user with no role", carol],
  ] as const) {
    it(`${who}: the same answer for "exists but hidden" as for "does not exist"`, async () => {
      for (const [method, existing, missing, body] of pairs()) {
        const a = await call(method, existing, headers, body);
        const b = await call(method, missing, headers, body);
        expect(a.status, `${method} ${existing}: ${a.text}`).toBeGreaterThanOrEqual(400);
        expect(a.status).not.toBe(500);
        expect(normalized(a, askedName(existing)), `${method} ${existing} vs ${missing}`).toBe(
          normalized(b, askedName(missing)),
        );
      }
      // Nothing was changed by any of those calls.
      const still = await call("GET", `/api/v1/robots/${projectRobotId}`, admin);
      expect(JSON.parse(still.text)).toMatchObject({ disabled: false });
      expect((await call("GET", "/api/v1/projects/hidden", admin)).status).toBe(200);
    });
  }
});
