// The hooks other modules plug into: AccessController decisions (401 challenge, 403 DENIED,
// the target each route asks for, mount source checked for pull), admission hooks, registry
// events, and Fastify plugins for non-/v2 paths.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  AccessController,
  AccessDecision,
  AccessRequest,
  AccessTarget,
} from "../../src/auth/access.js";
import { RegistryError } from "../../src/registry/errors.js";
import type { ManifestPushedEvent } from "../../src/registry/events.js";
import {
  errorCode,
  pushBlob,
  pushImage,
  randomBytes,
  sha256,
  startTestRegistry,
  type TestRegistry,
} from "./harness.js";

/** Allows everything except what `deny` says; records every target asked about. */
class RecordingAccess implements AccessController {
  readonly seen: AccessTarget[] = [];
  constructor(private readonly deny: (r: AccessRequest) => AccessDecision | undefined) {}
  async check(request: AccessRequest): Promise<AccessDecision> {
    this.seen.push(request.target);
    return (
      this.deny(request) ?? {
        allowed: true,
        principal: { name: "tester", kind: "user", isAdmin: false },
      }
    );
  }
  async canList(_p: unknown, repository: string): Promise<boolean> {
    return !repository.startsWith("secret/");
  }
}

const access = new RecordingAccess((r) => {
  if (r.headers.authorization === undefined && r.target.kind === "registry") {
    return {
      allowed: false,
      status: 401,
      challenge: 'Bearer realm="http://x/token",service="berth"',
      message: "log in",
    };
  }
  if (r.target.kind === "repository" && r.target.repository.startsWith("locked/")) {
    return { allowed: false, status: 403, message: "no access to locked" };
  }
  if (
    r.target.kind === "repository" &&
    r.target.repository === "private/src" &&
    r.target.actions.includes("pull")
  ) {
    return { allowed: false, status: 403, message: "private" };
  }
  return undefined;
});

const pushed: ManifestPushedEvent[] = [];
let registry: TestRegistry;
let url: string;

beforeAll(async () => {
  registry = await startTestRegistry({
    access,
    admission: {
      async beforeManifestPut(req) {
        if (req.tag === "forbidden") throw new RegistryError("DENIED", "tag forbidden by policy");
      },
      async beforeBlobCommit(req) {
        if (req.size === 4242) throw new RegistryError("DENIED", "quota exceeded");
      },
    },
    plugins: [
      async (app, ctx) => {
        app.get("/api/v1/ping", async () => ({ pong: true, db: typeof ctx.db }));
      },
    ],
  });
  url = registry.url;
  registry.context.events.on("manifest.pushed", (e) => pushed.push(e));
});
afterAll(async () => {
  await registry.destroy();
});

describe("access control", () => {
  it("answers 401 with the controller's challenge", async () => {
    const res = await fetch(`${url}/v2/`);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(
      'Bearer realm="http://x/token",service="berth"',
    );
    expect(await errorCode(res)).toBe("UNAUTHORIZED");
    const ok = await fetch(`${url}/v2/`, { headers: { Authorization: "Bearer x" } });
    expect(ok.status).toBe(200);
  });

  it("answers 403 DENIED and never touches data", async () => {
    const res = await fetch(`${url}/v2/locked/app/blobs/uploads/?digest=${sha256("x")}`, {
      method: "POST",
      body: "x",
    });
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe("DENIED");
    const head = await fetch(`${url}/v2/locked/app/manifests/v1`, { method: "HEAD" });
    expect(head.status).toBe(403);
  });

  it("asks for the right action per route", async () => {
    access.seen.length = 0;
    const image = await pushImage(url, "acl/app", "v1");
    await fetch(`${url}/v2/acl/app/manifests/v1`);
    await fetch(`${url}/v2/acl/app/tags/list`);
    await fetch(`${url}/v2/acl/app/manifests/v1`, { method: "DELETE" });
    await fetch(`${url}/v2/_catalog`);
    const kinds = access.seen.map((t) =>
      t.kind === "repository" ? `${t.repository}:${t.actions.join(",")}` : t.kind,
    );
    expect(kinds).toContain("acl/app:push");
    expect(kinds).toContain("acl/app:pull");
    expect(kinds).toContain("acl/app:delete");
    expect(kinds).toContain("catalog");
    expect(image.digest).toMatch(/^sha256:/);
  });

  it("does not mount from a repository the caller may not pull", async () => {
    const digest = await pushBlob(url, "private/src", randomBytes(100, 5));
    const res = await fetch(`${url}/v2/acl/dst/blobs/uploads/?mount=${digest}&from=private/src`, {
      method: "POST",
    });
    expect(res.status).toBe(202);
  });

  it("lists only repositories the caller may see in the catalog", async () => {
    await pushImage(url, "secret/app", "v1");
    const body = (await (await fetch(`${url}/v2/_catalog`)).json()) as { repositories: string[] };
    expect(body.repositories).not.toContain("secret/app");
    expect(body.repositories).toContain("acl/app");
  });
});

describe("admission", () => {
  it("lets a hook refuse a manifest", async () => {
    const image = await pushImage(url, "adm/app", "ok");
    const res = await fetch(`${url}/v2/adm/app/manifests/forbidden`, {
      method: "PUT",
      headers: { "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
      body: image.bytes,
    });
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe("DENIED");
    expect((await fetch(`${url}/v2/adm/app/manifests/forbidden`)).status).toBe(404);
  });

  it("discards a chunked upload whose commit a hook refuses", async () => {
    const data = randomBytes(4242, 9);
    const post = await fetch(`${url}/v2/adm/app/blobs/uploads/`, { method: "POST" });
    const location = post.headers.get("location")!;
    await fetch(`${url}${location}`, { method: "PATCH", body: data });
    const res = await fetch(`${url}${location}?digest=${sha256(data)}`, { method: "PUT" });
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe("DENIED");
    expect((await fetch(`${url}${location}`)).status).toBe(404);
    expect(
      (await fetch(`${url}/v2/adm/app/blobs/${sha256(data)}`, { method: "HEAD" })).status,
    ).toBe(404);
  });

  it("lets a hook refuse a blob", async () => {
    const data = randomBytes(4242, 8);
    const res = await fetch(`${url}/v2/adm/app/blobs/uploads/?digest=${sha256(data)}`, {
      method: "POST",
      body: data,
    });
    expect(res.status).toBe(403);
    expect(
      (await fetch(`${url}/v2/adm/app/blobs/${sha256(data)}`, { method: "HEAD" })).status,
    ).toBe(404);
  });
});

describe("events", () => {
  it("emits manifest.pushed with tag, subject and principal", async () => {
    pushed.length = 0;
    const target = await pushImage(url, "ev/app", "v1", { seed: 3 });
    const sig = await pushImage(url, "ev/app", "sig", {
      seed: 4,
      subject: {
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: target.digest,
        size: target.bytes.length,
      },
    });
    expect(pushed.map((e) => e.digest)).toEqual([target.digest, sig.digest]);
    expect(pushed[1]).toMatchObject({
      repository: "ev/app",
      tag: "sig",
      subject: target.digest,
      principal: "tester",
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      size: sig.bytes.length,
    });
    expect(pushed[1]!.remoteAddress).toMatch(/127\.0\.0\.1/);
  });

  it("survives a throwing listener", async () => {
    const thrower = () => {
      throw new Error("listener bug");
    };
    registry.context.events.on("blob.committed", thrower);
    try {
      await pushBlob(url, "ev/app", randomBytes(10, 99));
    } finally {
      registry.context.events.off("blob.committed", thrower);
    }
  });
});

describe("plugins", () => {
  it("serves non-/v2 paths through Fastify", async () => {
    const res = await fetch(`${url}/api/v1/ping`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ pong: true, db: "object" });
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect((await fetch(`${url}/api/v1/missing`)).status).toBe(404);
  });
});
