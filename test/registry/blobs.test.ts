// Blob endpoints: monolithic push, GET/HEAD, ranges, digest errors, cross-repository
// isolation and DELETE.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  errorCode,
  pushBlob,
  randomBytes,
  sha256,
  startTestRegistry,
  type TestRegistry,
} from "./harness.js";

let registry: TestRegistry;
let url: string;
const data = randomBytes(100_000, 3);
let digest: string;

beforeAll(async () => {
  registry = await startTestRegistry();
  url = registry.url;
  digest = await pushBlob(url, "team/app", data);
});
afterAll(async () => {
  await registry.destroy();
});

describe("GET /v2/", () => {
  it("answers 200 with the API version header", async () => {
    const res = await fetch(`${url}/v2/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  it("echoes a sane X-Request-Id", async () => {
    const res = await fetch(`${url}/v2/`, { headers: { "X-Request-Id": "abc-123" } });
    expect(res.headers.get("x-request-id")).toBe("abc-123");
  });

  it("answers health and readiness", async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready" });
  });

  it("answers 404 for an unknown endpoint and 405 for a wrong method", async () => {
    const unknown = await fetch(`${url}/v2/team/app/nothing-here`);
    expect(unknown.status).toBe(404);
    expect(await errorCode(unknown)).toBe("UNSUPPORTED");
    const wrong = await fetch(`${url}/v2/team/app/tags/list`, { method: "POST" });
    expect(wrong.status).toBe(405);
    expect(await errorCode(wrong)).toBe("UNSUPPORTED");
  });
});

describe("blob reads", () => {
  it("serves the whole blob with its headers", async () => {
    const res = await fetch(`${url}/v2/team/app/blobs/${digest}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(res.headers.get("content-length")).toBe(String(data.length));
    expect(res.headers.get("etag")).toBe(`"${digest}"`);
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(Buffer.from(await res.arrayBuffer()).equals(data)).toBe(true);
  });

  it("answers HEAD with headers and no body", async () => {
    const res = await fetch(`${url}/v2/team/app/blobs/${digest}`, { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(data.length));
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it.each([
    ["bytes=0-9", 0, 9],
    ["bytes=99990-", 99990, 99999],
    ["bytes=-5", 99995, 99999],
    ["bytes=50-200000", 50, 99999],
  ])("serves Range %s as 206", async (range, start, end) => {
    const res = await fetch(`${url}/v2/team/app/blobs/${digest}`, { headers: { Range: range } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end}/${data.length}`);
    expect(res.headers.get("content-length")).toBe(String(end - start + 1));
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(data.subarray(start, end + 1))).toBe(true);
  });

  it("answers 416 for an unsatisfiable range", async () => {
    const res = await fetch(`${url}/v2/team/app/blobs/${digest}`, {
      headers: { Range: "bytes=200000-" },
    });
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe(`bytes */${data.length}`);
  });

  it("answers 404 BLOB_UNKNOWN for an unknown blob", async () => {
    const res = await fetch(`${url}/v2/team/app/blobs/${sha256("nope")}`);
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe("BLOB_UNKNOWN");
    const head = await fetch(`${url}/v2/team/app/blobs/${sha256("nope")}`, { method: "HEAD" });
    expect(head.status).toBe(404);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it("never serves another repository's blob by its digest", async () => {
    const res = await fetch(`${url}/v2/other/repo/blobs/${digest}`);
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe("BLOB_UNKNOWN");
    const head = await fetch(`${url}/v2/other/repo/blobs/${digest}`, { method: "HEAD" });
    expect(head.status).toBe(404);
  });

  it("answers 400 DIGEST_INVALID for a malformed digest", async () => {
    for (const bad of ["sha256:xyz", "md5:abcd", "sha256:" + "A".repeat(64)]) {
      const res = await fetch(`${url}/v2/team/app/blobs/${bad}`);
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe("DIGEST_INVALID");
    }
  });

  it("answers 400 NAME_INVALID for an invalid repository name", async () => {
    for (const bad of ["Team/App", "team//app", "-team/app", "team/app_"]) {
      const res = await fetch(`${url}/v2/${bad}/blobs/${digest}`);
      expect(res.status, bad).toBe(400);
      expect(await errorCode(res)).toBe("NAME_INVALID");
    }
  });
});

describe("monolithic push", () => {
  it("rejects bytes that do not match the digest and stores nothing", async () => {
    const other = randomBytes(5000, 9);
    const claimed = sha256(randomBytes(5000, 10));
    const res = await fetch(`${url}/v2/team/app/blobs/uploads/?digest=${claimed}`, {
      method: "POST",
      body: other,
    });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("DIGEST_INVALID");
    expect((await fetch(`${url}/v2/team/app/blobs/${claimed}`, { method: "HEAD" })).status).toBe(
      404,
    );
    expect(
      (await fetch(`${url}/v2/team/app/blobs/${sha256(other)}`, { method: "HEAD" })).status,
    ).toBe(404);
  });

  it("accepts a sha512 digest", async () => {
    const { createHash } = await import("node:crypto");
    const body = randomBytes(3000, 11);
    const d512 = `sha512:${createHash("sha512").update(body).digest("hex")}`;
    const res = await fetch(`${url}/v2/team/app/blobs/uploads/?digest=${d512}`, {
      method: "POST",
      body,
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`/v2/team/app/blobs/${d512}`);
    const get = await fetch(`${url}/v2/team/app/blobs/${d512}`);
    expect(Buffer.from(await get.arrayBuffer()).equals(body)).toBe(true);
  });

  it("accepts an empty blob", async () => {
    const empty = Buffer.alloc(0);
    const d = await pushBlob(url, "team/app", empty);
    const res = await fetch(`${url}/v2/team/app/blobs/${d}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe("0");
  });

  it("dedupes identical blobs pushed to two repositories", async () => {
    const d = await pushBlob(url, "dedupe/one", data);
    await pushBlob(url, "dedupe/two", data);
    expect(d).toBe(digest);
    expect((await fetch(`${url}/v2/dedupe/two/blobs/${d}`)).status).toBe(200);
  });
});

describe("DELETE blob", () => {
  it("unlinks the blob from the repository only", async () => {
    const body = randomBytes(2000, 21);
    const d = await pushBlob(url, "del/a", body);
    await pushBlob(url, "del/b", body);
    const res = await fetch(`${url}/v2/del/a/blobs/${d}`, { method: "DELETE" });
    expect(res.status).toBe(202);
    expect((await fetch(`${url}/v2/del/a/blobs/${d}`)).status).toBe(404);
    expect((await fetch(`${url}/v2/del/b/blobs/${d}`)).status).toBe(200);
    const again = await fetch(`${url}/v2/del/a/blobs/${d}`, { method: "DELETE" });
    expect(again.status).toBe(404);
    expect(await errorCode(again)).toBe("BLOB_UNKNOWN");
  });
});
