// Multi-tenancy on the registry's data path, against a real `berth serve` process:
// the /v2/ challenge, the role × action matrix for pull/push/delete over Basic and Bearer,
// token edge cases (wrong signature, expired, wrong audience, alg none, scope escalation),
// cross-project blob mounts, nonexistent projects, quotas (clean refusal, nothing partial
// left behind, shared blobs counted once) and the audit trail of pushes and pulls.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basicHeader } from "../../src/auth/credentials.js";
import { SigningKey, TokenService } from "../../src/auth/tokens.js";
import { type BerthProcess, startBerth } from "../support/berth-process.js";

const ADMIN_PASSWORD = "admin-password-1";
const admin = basicHeader("admin", ADMIN_PASSWORD);
const ROLES = ["limitedGuest", "guest", "developer", "maintainer", "projectAdmin"] as const;
let berth: BerthProcess;

const user = (name: string) => basicHeader(name.toLowerCase(), `${name.toLowerCase()}-pass-1`);
const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

async function http(
  method: string,
  p: string,
  auth?: string,
  body?: Buffer | string,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${berth.url}${p}`, {
    method,
    headers: { ...(auth ? { authorization: auth } : {}), ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

async function json(method: string, p: string, body?: unknown) {
  const r = await http(method, p, admin, body === undefined ? undefined : JSON.stringify(body), {
    "content-type": "application/json",
  });
  return { ...r, body: r.text ? JSON.parse(r.text) : undefined };
}

/** Upload a blob (POST then PUT ?digest=); returns the final status and body. */
async function pushBlob(repo: string, bytes: Buffer, auth?: string) {
  const start = await http("POST", `/v2/${repo}/blobs/uploads/`, auth);
  if (start.status !== 202) return start;
  const location = new URL(start.headers.get("location") ?? "", berth.url);
  location.searchParams.set("digest", sha(bytes));
  return http("PUT", `${location.pathname}${location.search}`, auth, bytes, {
    "content-type": "application/octet-stream",
  });
}

/** Push a tiny image (config + one layer + manifest) and return the manifest digest. */
async function pushImage(repo: string, tag: string, auth: string, seed = tag) {
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      seed,
      rootfs: { type: "layers", diff_ids: [] },
    }),
  );
  const layer = Buffer.from(`layer ${seed} `.repeat(20));
  for (const b of [config, layer]) {
    const r = await pushBlob(repo, b, auth);
    if (r.status !== 201) throw new Error(`blob push to ${repo}: ${r.status} ${r.text}`);
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: sha(config),
        size: config.length,
      },
      layers: [
        {
          mediaType: "application/vnd.oci.image.layer.v1.tar",
          digest: sha(layer),
          size: layer.length,
        },
      ],
    }),
  );
  const r = await http("PUT", `/v2/${repo}/manifests/${tag}`, auth, manifest, {
    "content-type": "application/vnd.oci.image.manifest.v1+json",
  });
  if (r.status !== 201) throw new Error(`manifest push to ${repo}: ${r.status} ${r.text}`);
  return { digest: sha(manifest), manifest, layer, config };
}

async function token(auth: string | undefined, ...scopes: string[]) {
  const q = scopes.map((s) => `scope=${encodeURIComponent(s)}`).join("&");
  const r = await http("GET", `/service/token?service=berth&${q}`, auth);
  expect(r.status, r.text).toBe(200);
  return `Bearer ${(JSON.parse(r.text) as { token: string }).token}`;
}

beforeAll(async () => {
  berth = await startBerth({ env: { BERTH_AUTH: "token", BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  for (const name of ["team", "other"])
    expect((await json("POST", "/api/v1/projects", { name })).status).toBe(201);
  for (const who of [...ROLES, "outsider"]) {
    const username = who.toLowerCase();
    expect(
      (await json("POST", "/api/v1/users", { username, password: `${username}-pass-1` })).status,
    ).toBe(201);
  }
  for (const role of ROLES) {
    expect(
      (await json("POST", "/api/v1/projects/team/members", { username: role.toLowerCase(), role }))
        .status,
    ).toBe(201);
  }
  expect(
    (
      await json("POST", "/api/v1/projects/other/members", {
        username: "outsider",
        role: "projectAdmin",
      })
    ).status,
  ).toBe(201);
  await pushImage("team/app", "v1", admin);
  await pushImage("other/secret", "v1", admin, "secret");
}, 120_000);

afterAll(async () => berth?.stop());

describe("the /v2/ challenge", () => {
  it("asks for a bearer token at the token endpoint, naming the scope", async () => {
    const base = await http("GET", "/v2/");
    expect(base.status).toBe(401);
    expect(base.headers.get("www-authenticate")).toBe(
      `Bearer realm="${berth.url}/service/token",service="berth"`,
    );
    const repo = await http("GET", "/v2/team/app/manifests/v1");
    expect(repo.status).toBe(401);
    expect(repo.headers.get("www-authenticate")).toContain('scope="repository:team/app:pull"');
    expect(JSON.parse(repo.text).errors[0].code).toBe("UNAUTHORIZED");
    expect((await http("GET", "/v2/", admin)).status).toBe(200);
    expect((await http("GET", "/v2/", basicHeader("admin", "wrong-password"))).status).toBe(401);
  });
});

describe("role × registry action over Basic and Bearer", () => {
  const allowed: Record<string, string[]> = {
    pull: ["limitedGuest", "guest", "developer", "maintainer", "projectAdmin"],
    push: ["developer", "maintainer", "projectAdmin"],
    delete: ["maintainer", "projectAdmin"],
  };

  for (const who of [...ROLES, "outsider"]) {
    it(`${who}`, async () => {
      const auth = user(who);
      const bearer = await token(auth, "repository:team/app:pull,push,delete");
      for (const credentials of [auth, bearer]) {
        const pull = await http("GET", "/v2/team/app/manifests/v1", credentials, undefined, {
          accept: "application/vnd.oci.image.manifest.v1+json",
        });
        expect(pull.status, `${who} pull`).toBe(
          allowed.pull.includes(who) ? 200 : credentials === auth ? 403 : 401,
        );
        const push = await http("POST", "/v2/team/app/blobs/uploads/", credentials);
        expect(push.status, `${who} push`).toBe(
          allowed.push.includes(who) ? 202 : credentials === auth ? 403 : 401,
        );
        if (push.status === 202)
          await http(
            "DELETE",
            new URL(push.headers.get("location") ?? "", berth.url).pathname,
            credentials,
          );
      }
      // Delete: a throwaway artifact each time, so the allowed ones really delete something.
      const victim = await pushImage(
        "team/app",
        `del-${who.toLowerCase()}`,
        admin,
        `victim-${who}`,
      );
      const del = await http("DELETE", `/v2/team/app/manifests/${victim.digest}`, auth);
      expect(del.status, `${who} delete`).toBe(allowed.delete.includes(who) ? 202 : 403);
      if (!allowed.push.includes(who)) {
        const denied = JSON.parse((await http("POST", "/v2/team/app/blobs/uploads/", auth)).text);
        expect(denied.errors[0].code).toBe("DENIED");
      }
    });
  }

  it("a member of another project reads nothing here, and the catalog hides it", async () => {
    expect((await http("GET", "/v2/team/app/tags/list", user("outsider"))).status).toBe(403);
    const catalog = await http("GET", "/v2/_catalog", user("outsider"));
    expect(catalog.status).toBe(200);
    const repos = JSON.parse(catalog.text).repositories as string[];
    expect(repos).toContain("other/secret");
    expect(repos).not.toContain("team/app");
  });

  it("anonymous: public pull works, push and private pull do not", async () => {
    await pushImage("library/base", "1", admin, "base");
    expect(
      (
        await http("GET", "/v2/library/base/manifests/1", undefined, undefined, {
          accept: "application/vnd.oci.image.manifest.v1+json",
        })
      ).status,
    ).toBe(200);
    const anonToken = await token(undefined, "repository:library/base:pull,push");
    expect((await http("GET", "/v2/library/base/tags/list", anonToken)).status).toBe(200);
    expect((await http("POST", "/v2/library/base/blobs/uploads/", anonToken)).status).toBe(401);
    expect((await http("POST", "/v2/library/base/blobs/uploads/")).status).toBe(401);
    expect((await http("GET", "/v2/team/app/tags/list")).status).toBe(401);
  });
});

describe("cross-project blob mount", () => {
  it("mounts only from a repository the caller may pull", async () => {
    const secret = await pushImage("other/secret", "v2", admin, "mount-secret");
    const dev = user("developer");
    const stolen = await http(
      "POST",
      `/v2/team/app/blobs/uploads/?mount=${secret.layer ? sha(secret.layer) : ""}&from=other/secret`,
      dev,
    );
    expect(stolen.status, "no mount without pull on the source").toBe(202);
    expect((await http("HEAD", `/v2/team/app/blobs/${sha(secret.layer)}`, dev)).status).toBe(404);
    const own = await pushImage("team/app", "mount-src", admin, "mount-own");
    const mounted = await http(
      "POST",
      `/v2/team/lib/blobs/uploads/?mount=${sha(own.layer)}&from=team/app`,
      dev,
    );
    expect(mounted.status).toBe(201);
  });
});

describe("tokens presented to /v2/", () => {
  let key: SigningKey;
  beforeAll(async () => {
    key = await SigningKey.fromPem(
      await readFile(path.join(berth.dataDir, "auth", "token-signing-key.pem"), "utf8"),
    );
  });
  const settings = {
    issuer: "berth",
    service: "berth",
    accessTtlSeconds: 300,
    refreshTtlSeconds: 600,
  };
  const scope = [{ type: "repository", name: "team/app", actions: ["pull", "push"] }];
  let admin_ = { name: "admin", kind: "user" as const, isAdmin: true, id: "", generation: "" };

  it("accept a genuine token and refuse expired, wrong-audience, foreign, unsigned and escalated ones", async () => {
    // The admin's account id and credential generation, as the token endpoint stamps them.
    const issued = JSON.parse(
      Buffer.from((await token(admin)).slice(7).split(".")[1] ?? "", "base64url").toString(),
    ) as { aid: string; gen: string };
    admin_ = { ...admin_, id: issued.aid, generation: issued.gen };
    const genuine = await new TokenService(key, settings).issueAccess(admin_, scope);
    expect((await http("GET", "/v2/team/app/tags/list", `Bearer ${genuine.token}`)).status).toBe(
      200,
    );

    const expired = await new TokenService(key, settings, () => Date.now() - 3_600_000).issueAccess(
      admin_,
      scope,
    );
    const wrongAud = await new TokenService(key, { ...settings, service: "elsewhere" }).issueAccess(
      admin_,
      scope,
    );
    const { privateKey } = await import("node:crypto").then((c) =>
      c.generateKeyPairSync("ec", { namedCurve: "P-256" }),
    );
    const now = Math.floor(Date.now() / 1000);
    const claims = { access: scope, use: "access", kind: "user", adm: true };
    const foreign = await new SignJWT(claims)
      .setProtectedHeader({ alg: "ES256" })
      .setIssuer("berth")
      .setAudience("berth")
      .setSubject("admin")
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(privateKey);
    const unsigned = new UnsecuredJWT(claims)
      .setIssuer("berth")
      .setAudience("berth")
      .setSubject("admin")
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .encode();
    for (const [name, t] of [
      ["expired", expired.token],
      ["wrong audience", wrongAud.token],
      ["foreign key", foreign],
      ["alg none", unsigned],
      ["garbage", "abc.def.ghi"],
    ]) {
      const r = await http("GET", "/v2/team/app/tags/list", `Bearer ${t}`);
      expect(r.status, name).toBe(401);
      expect(r.headers.get("www-authenticate"), name).toContain('error="invalid_token"');
    }
  });

  it("refuse using a token beyond its granted scope", async () => {
    const guestToken = await token(user("guest"), "repository:team/app:pull,push");
    expect((await http("GET", "/v2/team/app/tags/list", guestToken)).status).toBe(200);
    const push = await http("POST", "/v2/team/app/blobs/uploads/", guestToken);
    expect(push.status).toBe(401);
    expect(push.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    expect((await http("GET", "/v2/other/secret/tags/list", guestToken)).status).toBe(401);
    const [h, p, s] = guestToken.slice(7).split(".");
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    claims.access = [{ type: "repository", name: "team/app", actions: ["pull", "push", "delete"] }];
    const edited = `Bearer ${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${s}`;
    expect((await http("POST", "/v2/team/app/blobs/uploads/", edited)).status).toBe(401);
  });
});

describe("projects and quotas on push", () => {
  it("refuses pushes to a project that does not exist", async () => {
    const r = await pushBlob("ghost/app", Buffer.from("x"), admin);
    expect(r.status).toBe(403);
    expect(JSON.parse(r.text).errors[0]).toMatchObject({ code: "DENIED" });
    expect(r.text).toContain('project \\"ghost\\" does not exist');
  });

  it("stops at the quota with DENIED naming it, leaves nothing behind, and counts shared blobs once", async () => {
    expect(
      (await json("POST", "/api/v1/projects", { name: "small", quotaBytes: 3000 })).status,
    ).toBe(201);
    const a = Buffer.alloc(1000, 1);
    const b = Buffer.alloc(1000, 2);
    const c = Buffer.alloc(1500, 3);
    expect((await pushBlob("small/one", a, admin)).status).toBe(201);
    expect((await pushBlob("small/one", b, admin)).status).toBe(201);
    const start = await http("POST", "/v2/small/one/blobs/uploads/", admin);
    expect(start.status).toBe(202);
    const upload = new URL(start.headers.get("location") ?? "", berth.url);
    const closing = new URL(upload);
    closing.searchParams.set("digest", sha(c));
    const over = await http("PUT", `${closing.pathname}${closing.search}`, admin, c, {
      "content-type": "application/octet-stream",
    });
    expect(over.status).toBe(403);
    // The refused upload is discarded, not left waiting for the purge.
    expect((await http("GET", `${upload.pathname}${upload.search}`, admin)).status).toBe(404);
    const error = JSON.parse(over.text).errors[0];
    expect(error.code).toBe("DENIED");
    expect(error.message).toContain('quota exceeded: project "small"');
    expect(error.message).toContain("3000 bytes");
    expect((await http("HEAD", `/v2/small/one/blobs/${sha(c)}`, admin)).status).toBe(404);
    // The same blob in another repository of the project costs nothing more.
    expect((await pushBlob("small/two", a, admin)).status).toBe(201);
    const quota = await json("GET", "/api/v1/projects/small/quota");
    expect(quota.body).toEqual({ project: "small", limitBytes: 3000, usedBytes: 2000 });
    // A manifest push over the quota is refused too, and leaves no tag behind.
    const config = Buffer.alloc(900, 4);
    const manifestOver = await pushBlob("small/one", config, admin);
    expect(manifestOver.status).toBe(201);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {
          mediaType: "application/vnd.oci.image.config.v1+json",
          digest: sha(config),
          size: config.length,
        },
        layers: [
          { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: sha(a), size: a.length },
        ],
        annotations: { pad: "x".repeat(200) },
      }),
    );
    const put = await http("PUT", "/v2/small/one/manifests/latest", admin, manifest, {
      "content-type": "application/vnd.oci.image.manifest.v1+json",
    });
    expect(put.status).toBe(403);
    expect((await http("GET", "/v2/small/one/tags/list", admin)).text).not.toContain("latest");
    const raised = await json("PUT", "/api/v1/projects/small/quota", { limitBytes: 10_000 });
    expect(raised.status).toBe(200);
    expect((await pushBlob("small/one", c, admin)).status).toBe(201);
  });
});

describe("quota under concurrent pushes", () => {
  it("admits only what fits when many uploads close at once, and counts a shared blob once", async () => {
    expect(
      (await json("POST", "/api/v1/projects", { name: "race", quotaBytes: 5000 })).status,
    ).toBe(201);
    // Ten distinct 1000-byte blobs closed at the same moment, into five repositories: at most
    // five fit. Each upload is started first so that all the commits race.
    const blobs = Array.from({ length: 10 }, (_, i) => Buffer.alloc(1000, 100 + i));
    const sessions = await Promise.all(
      blobs.map(async (bytes, i) => {
        const start = await http("POST", `/v2/race/r${i % 5}/blobs/uploads/`, admin);
        expect(start.status).toBe(202);
        const url = new URL(start.headers.get("location") ?? "", berth.url);
        url.searchParams.set("digest", sha(bytes));
        return { url, bytes, repo: `race/r${i % 5}` };
      }),
    );
    const results = await Promise.all(
      sessions.map((s) =>
        http("PUT", `${s.url.pathname}${s.url.search}`, admin, s.bytes, {
          "content-type": "application/octet-stream",
        }),
      ),
    );
    const admitted = results.filter((r) => r.status === 201).length;
    expect(admitted).toBe(5);
    for (const r of results.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(403);
      expect(JSON.parse(r.text).errors[0].message).toContain('quota exceeded: project "race"');
    }
    // Refused blobs are nowhere to be found.
    for (const [i, s] of sessions.entries()) {
      const head = await http("HEAD", `/v2/${s.repo}/blobs/${sha(s.bytes)}`, admin);
      expect(head.status, `blob ${i}`).toBe(results[i]?.status === 201 ? 200 : 404);
    }
    const quota = await json("GET", "/api/v1/projects/race/quota");
    expect(quota.body).toEqual({ project: "race", limitBytes: 5000, usedBytes: 5000 });

    // One new blob pushed at once into three repositories of a project with room for it
    // once (but not twice) is admitted everywhere: it counts once.
    expect(
      (await json("POST", "/api/v1/projects", { name: "shared", quotaBytes: 3000 })).status,
    ).toBe(201);
    const big = Buffer.alloc(2000, 7);
    const pushes = await Promise.all(
      ["shared/a", "shared/b", "shared/c"].map((repo) => pushBlob(repo, big, admin)),
    );
    expect(pushes.map((r) => r.status)).toEqual([201, 201, 201]);
    const shared = await json("GET", "/api/v1/projects/shared/quota");
    expect(shared.body).toEqual({ project: "shared", limitBytes: 3000, usedBytes: 2000 });
    // Concurrent monolithic pushes (POST ?digest=) of blobs that together exceed the rest.
    const more = [Buffer.alloc(600, 8), Buffer.alloc(600, 9)];
    const monolithic = await Promise.all(
      more.map((bytes, i) =>
        http("POST", `/v2/shared/m${i}/blobs/uploads/?digest=${sha(bytes)}`, admin, bytes, {
          "content-type": "application/octet-stream",
        }),
      ),
    );
    expect(monolithic.map((r) => r.status).sort()).toEqual([201, 403]);
    const after = await json("GET", "/api/v1/projects/shared/quota");
    expect(after.body.usedBytes).toBe(2600);
  });
});

describe("deletes through the management API", () => {
  it("act like /v2/ deletes: the manifest is gone at once (no stale cache) and each is audited", async () => {
    const img = await pushImage("team/gone", "v1", admin, "gone");
    const accept = { accept: "application/vnd.oci.image.manifest.v1+json" };
    // Served once by digest, so the registry's manifest cache holds it.
    const first = await http(
      "GET",
      `/v2/team/gone/manifests/${img.digest}`,
      admin,
      undefined,
      accept,
    );
    expect(first.status).toBe(200);
    const art = `/api/v1/projects/team/repositories/${encodeURIComponent("team/gone")}/artifacts`;
    expect((await json("POST", `${art}/${img.digest}/tags`, { name: "extra" })).status).toBe(201);
    const dev = await http("DELETE", `${art}/extra/tags/extra`, user("developer"));
    expect(dev.status).toBe(403);
    expect((await http("DELETE", `${art}/extra/tags/extra`, user("maintainer"))).status).toBe(204);
    expect((await http("DELETE", `${art}/${img.digest}`, user("maintainer"))).status).toBe(204);
    const after = await http(
      "GET",
      `/v2/team/gone/manifests/${img.digest}`,
      admin,
      undefined,
      accept,
    );
    expect(after.status).toBe(404);
    expect((await http("GET", "/v2/team/gone/manifests/v1", admin, undefined, accept)).status).toBe(
      404,
    );
    // Removing a whole repository, and a /v2/ tag delete, are audited too.
    await pushImage("team/doomed", "v1", admin, "doomed");
    await pushImage("team/doomed", "v2", admin, "doomed2");
    expect((await http("DELETE", "/v2/team/doomed/manifests/v2", user("maintainer"))).status).toBe(
      202,
    );
    const repo = `/api/v1/projects/team/repositories/${encodeURIComponent("team/doomed")}`;
    expect((await http("DELETE", repo, user("projectadmin"))).status).toBe(204);
    await new Promise((r) => setTimeout(r, 300));

    const deletes = await json(
      "GET",
      "/api/v1/audit?action=delete&resource=team/gone&page_size=50",
    );
    const gone = deletes.body.items as {
      actor: string;
      resourceType: string;
      resource: string;
      remoteAddress: string;
      project: string;
    }[];
    expect(gone).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actor: "maintainer",
          resourceType: "artifact",
          resource: `team/gone@${img.digest}`,
          project: "team",
          remoteAddress: expect.stringContaining("127.0.0.1"),
        }),
        expect.objectContaining({
          actor: "maintainer",
          resourceType: "tag",
          resource: "team/gone:extra",
        }),
      ]),
    );
    const doomed = await json(
      "GET",
      "/api/v1/projects/team/audit?resource=team/doomed&action=delete",
    );
    const kinds = (doomed.body.items as { resourceType: string; actor: string }[]).map(
      (e) => `${e.actor}:${e.resourceType}`,
    );
    expect(kinds).toEqual(
      expect.arrayContaining([
        "maintainer:tag",
        "projectadmin:repository",
        "projectadmin:artifact",
        "projectadmin:blob",
      ]),
    );
    // Filters narrow: by resource type, by outcome, by time.
    const onlyRepos = await json("GET", "/api/v1/audit?action=delete&resource_type=repository");
    expect(
      (onlyRepos.body.items as { resourceType: string }[]).every(
        (e) => e.resourceType === "repository",
      ),
    ).toBe(true);
    expect(onlyRepos.body.total).toBeGreaterThan(0);
    const future = await json("GET", "/api/v1/audit?since=2999-01-01T00:00:00Z");
    expect(future.body.total).toBe(0);
    const badTime = await json("GET", "/api/v1/audit?since=yesterday");
    expect(badTime.status).toBe(400);
  });
});

describe("audit of registry events", () => {
  it("records pushes and pulls with who and from where", async () => {
    await http("GET", "/v2/team/app/manifests/v1", user("guest"), undefined, {
      accept: "application/vnd.oci.image.manifest.v1+json",
    });
    await new Promise((r) => setTimeout(r, 300));
    const pulls = await json("GET", "/api/v1/audit?action=pull&actor=guest");
    expect(pulls.body.total).toBeGreaterThan(0);
    expect(pulls.body.items[0]).toMatchObject({
      project: "team",
      remoteAddress: expect.stringContaining("127.0.0.1"),
    });
    const pushes = await json("GET", "/api/v1/projects/team/audit?action=push");
    expect(pushes.body.items.some((e: { actor: string }) => e.actor === "admin")).toBe(true);
  });
});
