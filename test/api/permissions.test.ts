// The role × action matrix (docs/permissions.md) over real HTTP, cell by cell, for every
// project role plus an outsider (member of another project) and an anonymous caller, in a
// private project: token grants for pull/push/delete and every management action,
// including the refusals. Expectations are written out here, independently of the code.
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { putManifest, recordBlobInRepository } from "../../src/meta/index.js";
import { ADMIN, type ApiHarness, api, basic, startApi } from "./harness.js";

type Who =
  | "limitedGuest"
  | "guest"
  | "developer"
  | "maintainer"
  | "projectAdmin"
  | "outsider"
  | "anonymous";
const ROLES = ["limitedGuest", "guest", "developer", "maintainer", "projectAdmin"] as const;
const EVERYONE: Who[] = [...ROLES, "outsider", "anonymous"];

/** Who may do each action (Harbor's matrix, adapted). */
const MATRIX: Record<string, Who[]> = {
  pull: ["limitedGuest", "guest", "developer", "maintainer", "projectAdmin"],
  push: ["developer", "maintainer", "projectAdmin"],
  delete: ["maintainer", "projectAdmin"],
  "see project": ["limitedGuest", "guest", "developer", "maintainer", "projectAdmin"],
  "edit project": ["projectAdmin"],
  "delete project": ["projectAdmin"],
  "list members": ["guest", "developer", "maintainer", "projectAdmin"],
  "manage members": ["projectAdmin"],
  "list logs": ["guest", "developer", "maintainer", "projectAdmin"],
  "list repositories": ["limitedGuest", "guest", "developer", "maintainer", "projectAdmin"],
  "delete repository": ["maintainer", "projectAdmin"],
  "list artifacts": ["limitedGuest", "guest", "developer", "maintainer", "projectAdmin"],
  "delete artifact": ["maintainer", "projectAdmin"],
  "add tag": ["developer", "maintainer", "projectAdmin"],
  "remove tag": ["maintainer", "projectAdmin"],
  "list robots": ["maintainer", "projectAdmin"],
  "manage robots": ["projectAdmin"],
  "see quota": ["limitedGuest", "guest", "developer", "maintainer", "projectAdmin"],
  "set quota": [],
};

let h: ApiHarness;
const layer = `sha256:${"e".repeat(64)}`;
const digestFor = (n: number) => `sha256:${n.toString(16).padStart(64, "0")}`;
let counter = 1;

function creds(who: Who): Record<string, string> {
  return who === "anonymous"
    ? {}
    : basic({ username: who.toLowerCase(), password: `${who.toLowerCase()}-pass-1` });
}

async function manifest(repository: string, tag: string): Promise<string> {
  const digest = digestFor(counter++);
  await recordBlobInRepository(h.meta.db, repository, layer, 10);
  await putManifest(h.meta.db, {
    repository,
    digest,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    content: Buffer.from(`{"schemaVersion":2,"n":"${digest}"}`),
    references: [{ kind: "blob", digest: layer }],
    tag,
  });
  return digest;
}

const art = (repo: string) =>
  `/api/v1/projects/team/repositories/${encodeURIComponent(repo)}/artifacts`;

/** Performs the action as `who`; returns the HTTP status (or, for registry actions, 200/403). */
async function attempt(action: string, who: Who): Promise<number> {
  const h0 = creds(who);
  const call = async (method: string, path: string, body?: unknown) =>
    (await api(h.url, method, path, { headers: h0, body })).status;
  const tag = `${who.toLowerCase()}-${counter}`;
  switch (action) {
    case "pull":
    case "push":
    case "delete": {
      const r = await api(h.url, "GET", `/service/token?scope=repository:team/app:${action}`, {
        headers: h0,
      });
      const granted = (
        decodeJwt((r.body as { token: string }).token) as { access: { actions: string[] }[] }
      ).access;
      return granted.some((a) => a.actions.includes(action)) ? 200 : 403;
    }
    case "see project":
      return call("GET", "/api/v1/projects/team");
    case "edit project":
      return call("PATCH", "/api/v1/projects/team", { public: false });
    case "delete project": {
      // A fresh, empty project with the same members as "team", deleted by `who`.
      const name = `gone-${counter++}`;
      const admin = basic(ADMIN);
      const made = await api(h.url, "POST", "/api/v1/projects", { headers: admin, body: { name } });
      expect(made.status).toBe(201);
      for (const role of ROLES) {
        const r = await api(h.url, "POST", `/api/v1/projects/${name}/members`, {
          headers: admin,
          body: { username: role.toLowerCase(), role },
        });
        expect(r.status).toBe(201);
      }
      return call("DELETE", `/api/v1/projects/${name}`);
    }
    case "list members":
      return call("GET", "/api/v1/projects/team/members");
    case "manage members":
      return call("POST", "/api/v1/projects/team/members", { username: "target", role: "guest" });
    case "list logs":
      return call("GET", "/api/v1/projects/team/audit");
    case "list repositories":
      return call("GET", "/api/v1/projects/team/repositories");
    case "delete repository": {
      const repo = `team/del-${tag}`;
      await manifest(repo, "x");
      return call("DELETE", `/api/v1/projects/team/repositories/${encodeURIComponent(repo)}`);
    }
    case "list artifacts":
      return call("GET", art("team/app"));
    case "delete artifact": {
      const digest = await manifest("team/app", `del-${tag}`);
      return call("DELETE", `${art("team/app")}/${digest}`);
    }
    case "add tag":
      return call("POST", `${art("team/app")}/v1/tags`, { name: `add-${tag}` });
    case "remove tag": {
      await manifest("team/app", `rm-${tag}`);
      return call("DELETE", `${art("team/app")}/rm-${tag}/tags/rm-${tag}`);
    }
    case "list robots":
      return call("GET", "/api/v1/projects/team/robots");
    case "manage robots":
      return call("POST", "/api/v1/projects/team/robots", { name: `r-${tag}`, actions: ["pull"] });
    case "see quota":
      return call("GET", "/api/v1/projects/team/quota");
    case "set quota":
      return call("PUT", "/api/v1/projects/team/quota", { limitBytes: 1 << 30 });
    default:
      throw new Error(`no way to attempt ${action}`);
  }
}

beforeAll(async () => {
  h = await startApi();
  const admin = basic(ADMIN);
  for (const name of ["team", "other"]) {
    expect(
      (await api(h.url, "POST", "/api/v1/projects", { headers: admin, body: { name } })).status,
    ).toBe(201);
  }
  for (const who of [...ROLES, "outsider", "target"]) {
    const username = who.toLowerCase();
    const r = await api(h.url, "POST", "/api/v1/users", {
      headers: admin,
      body: { username, password: `${username}-pass-1` },
    });
    expect(r.status).toBe(201);
  }
  for (const role of ROLES) {
    const r = await api(h.url, "POST", "/api/v1/projects/team/members", {
      headers: admin,
      body: { username: role.toLowerCase(), role },
    });
    expect(r.status).toBe(201);
  }
  await api(h.url, "POST", "/api/v1/projects/other/members", {
    headers: admin,
    body: { username: "outsider", role: "projectAdmin" },
  });
  await manifest("team/app", "v1");
});
afterAll(async () => h?.close());

describe("permission matrix over HTTP", () => {
  for (const [action, allowed] of Object.entries(MATRIX)) {
    it(`${action}: allowed for ${allowed.join(", ") || "system administrators only"}`, async () => {
      const outcome: Record<string, number> = {};
      for (const who of EVERYONE) outcome[who] = await attempt(action, who);
      for (const who of EVERYONE) {
        const status = outcome[who];
        if (allowed.includes(who)) {
          expect(status, `${who} should be allowed to ${action}`).toBeLessThan(300);
        } else if (who === "anonymous" && !["pull", "push", "delete"].includes(action)) {
          expect(status, `anonymous ${action}`).toBe(401);
        } else if (
          who === "outsider" &&
          !["pull", "push", "delete", "set quota"].includes(action)
        ) {
          expect(status, `a member of another project must not even see this one (${action})`).toBe(
            404,
          );
        } else {
          expect(status, `${who} must not ${action}`).toBe(403);
        }
      }
    });
  }

  it("a public project lets anyone see and pull, and nothing more", async () => {
    const admin = basic(ADMIN);
    expect(
      (
        await api(h.url, "POST", "/api/v1/projects", {
          headers: admin,
          body: { name: "open", public: true },
        })
      ).status,
    ).toBe(201);
    const anonProject = await api(h.url, "GET", "/api/v1/projects/open");
    expect(anonProject.status).toBe(200);
    const token = await api(h.url, "GET", "/service/token?scope=repository:open/app:pull,push");
    expect(
      (decodeJwt((token.body as { token: string }).token) as { access: unknown[] }).access,
    ).toEqual([{ type: "repository", name: "open/app", actions: ["pull"] }]);
    expect((await api(h.url, "GET", "/api/v1/projects/open/members")).status).toBe(401);
    expect(
      (await api(h.url, "GET", "/api/v1/projects/open/members", { headers: creds("outsider") }))
        .status,
    ).toBe(403);
  });

  it("private projects are hidden from listings of outsiders", async () => {
    const list = await api(h.url, "GET", "/api/v1/projects", { headers: creds("outsider") });
    const names = (list.body as { items: { name: string }[] }).items.map((p) => p.name);
    expect(names).toContain("other");
    expect(names).toContain("library");
    expect(names).not.toContain("team");
    const search = await api(h.url, "GET", "/api/v1/repositories", { headers: creds("outsider") });
    expect((search.body as { items: { name: string }[] }).items.map((r) => r.name)).not.toContain(
      "team/app",
    );
  });
});
