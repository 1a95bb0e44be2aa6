// Upload endpoints: POST then PUT, chunked PATCH with Content-Range (in order, out of
// order → 416), streamed PATCH, status, cancel, final chunk on PUT, digest errors, unknown
// sessions, body-length errors, cross-repository mount, and resuming after a restart.
import { request } from "node:http";
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

beforeAll(async () => {
  registry = await startTestRegistry();
  url = registry.url;
});
afterAll(async () => {
  await registry.destroy();
});

async function startUpload(repository: string, base = url): Promise<string> {
  const res = await fetch(`${base}/v2/${repository}/blobs/uploads/`, { method: "POST" });
  expect(res.status).toBe(202);
  const location = res.headers.get("location");
  expect(location).toMatch(new RegExp(`^/v2/${repository}/blobs/uploads/[A-Za-z0-9-]+$`));
  expect(res.headers.get("range")).toBe("0-0");
  expect(res.headers.get("docker-upload-uuid")).toBeTruthy();
  return location!;
}

function patch(location: string, body: Buffer, range?: string, base = url) {
  const headers: Record<string, string> = { "Content-Type": "application/octet-stream" };
  if (range) headers["Content-Range"] = range;
  return fetch(`${base}${location}`, { method: "PATCH", headers, body });
}

describe("POST then PUT", () => {
  it("commits a blob sent in the PUT body", async () => {
    const data = randomBytes(50_000, 1);
    const location = await startUpload("up/one");
    const res = await fetch(`${url}${location}?digest=${sha256(data)}`, {
      method: "PUT",
      body: data,
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`/v2/up/one/blobs/${sha256(data)}`);
    expect(res.headers.get("docker-content-digest")).toBe(sha256(data));
    const get = await fetch(`${url}/v2/up/one/blobs/${sha256(data)}`);
    expect(Buffer.from(await get.arrayBuffer()).equals(data)).toBe(true);
    // The session is gone once closed.
    expect((await fetch(`${url}${location}`)).status).toBe(404);
  });

  it("requires ?digest= on the closing PUT", async () => {
    const location = await startUpload("up/one");
    const res = await fetch(`${url}${location}`, { method: "PUT" });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("DIGEST_INVALID");
  });

  it("discards the session when the digest does not match", async () => {
    const data = randomBytes(1000, 2);
    const location = await startUpload("up/one");
    const wrong = sha256("something else");
    const res = await fetch(`${url}${location}?digest=${wrong}`, { method: "PUT", body: data });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("DIGEST_INVALID");
    expect((await fetch(`${url}/v2/up/one/blobs/${wrong}`, { method: "HEAD" })).status).toBe(404);
    const status = await fetch(`${url}${location}`);
    expect(status.status).toBe(404);
    expect(await errorCode(status)).toBe("BLOB_UPLOAD_UNKNOWN");
  });
});

describe("chunked upload", () => {
  it("accepts ordered chunks, reports status, and closes with the final chunk in PUT", async () => {
    const data = randomBytes(300_000, 4);
    const location = await startUpload("up/chunked");
    const first = await patch(location, data.subarray(0, 100_000), "0-99999");
    expect(first.status).toBe(202);
    expect(first.headers.get("range")).toBe("0-99999");
    expect(first.headers.get("location")).toBe(location);
    const second = await patch(location, data.subarray(100_000, 200_000), "100000-199999");
    expect(second.headers.get("range")).toBe("0-199999");

    const status = await fetch(`${url}${location}`);
    expect(status.status).toBe(204);
    expect(status.headers.get("range")).toBe("0-199999");
    expect(status.headers.get("location")).toBe(location);

    const res = await fetch(`${url}${location}?digest=${sha256(data)}`, {
      method: "PUT",
      headers: { "Content-Range": "200000-299999" },
      body: data.subarray(200_000),
    });
    expect(res.status).toBe(201);
    const get = await fetch(`${url}/v2/up/chunked/blobs/${sha256(data)}`);
    expect(Buffer.from(await get.arrayBuffer()).equals(data)).toBe(true);
  });

  it("answers 416 with the held range for an out-of-order chunk, then continues", async () => {
    const data = randomBytes(30_000, 5);
    const location = await startUpload("up/chunked");
    await patch(location, data.subarray(0, 10_000), "0-9999");
    const bad = await patch(location, data.subarray(20_000), "20000-29999");
    expect(bad.status).toBe(416);
    expect(bad.headers.get("range")).toBe("0-9999");
    expect(bad.headers.get("location")).toBe(location);
    const rewind = await patch(location, data.subarray(0, 10_000), "0-9999");
    expect(rewind.status).toBe(416);
    await patch(location, data.subarray(10_000, 20_000), "10000-19999");
    await patch(location, data.subarray(20_000), "20000-29999");
    const res = await fetch(`${url}${location}?digest=${sha256(data)}`, { method: "PUT" });
    expect(res.status).toBe(201);
  });

  it("rejects a malformed Content-Range and a length that disagrees with it", async () => {
    const location = await startUpload("up/chunked");
    const malformed = await patch(location, Buffer.from("abc"), "zero-to-two");
    expect(malformed.status).toBe(400);
    expect(await errorCode(malformed)).toBe("BLOB_UPLOAD_INVALID");
    const backwards = await patch(location, Buffer.from("abc"), "5-2");
    expect(backwards.status).toBe(400);
    const mismatch = await patch(location, Buffer.from("abcdef"), "0-2");
    expect(mismatch.status).toBe(400);
    expect(await errorCode(mismatch)).toBe("BLOB_UPLOAD_INVALID");
    // Nothing was acknowledged by the failed chunks.
    const status = await fetch(`${url}${location}`);
    expect(status.headers.get("range")).toBe("0-0");
  });

  it("accepts streamed PATCHes without Content-Range", async () => {
    const data = randomBytes(70_000, 6);
    const location = await startUpload("up/streamed");
    const a = await patch(location, data.subarray(0, 30_000));
    expect(a.status).toBe(202);
    expect(a.headers.get("range")).toBe("0-29999");
    const b = await patch(location, data.subarray(30_000));
    expect(b.headers.get("range")).toBe("0-69999");
    const res = await fetch(`${url}${location}?digest=${sha256(data)}`, { method: "PUT" });
    expect(res.status).toBe(201);
  });

  it("rejects a body longer than its Content-Range, keeping the acknowledged bytes", async () => {
    const data = randomBytes(2000, 7);
    const location = await startUpload("up/long");
    await patch(location, data.subarray(0, 1000), "0-999");
    // Raw request: Content-Range says 10 bytes, the chunked body carries 1000.
    const status = await new Promise<number>((resolve, reject) => {
      const target = new URL(`${url}${location}`);
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: "PATCH",
          headers: { "Content-Range": "1000-1009", "Transfer-Encoding": "chunked" },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end(data.subarray(1000));
    });
    expect(status).toBe(400);
    const check = await fetch(`${url}${location}`);
    expect(check.headers.get("range")).toBe("0-999");
    await patch(location, data.subarray(1000), "1000-1999");
    const res = await fetch(`${url}${location}?digest=${sha256(data)}`, { method: "PUT" });
    expect(res.status).toBe(201);
  });
});

describe("session errors", () => {
  it("answers BLOB_UPLOAD_UNKNOWN for unknown sessions on every method", async () => {
    const location = "/v2/up/x/blobs/uploads/00000000-0000-0000-0000-000000000000";
    for (const method of ["GET", "PATCH", "PUT", "DELETE"]) {
      const res = await fetch(`${url}${location}?digest=${sha256("x")}`, {
        method,
        body: method === "PATCH" || method === "PUT" ? "x" : undefined,
      });
      expect(res.status, method).toBe(404);
      expect(await errorCode(res)).toBe("BLOB_UPLOAD_UNKNOWN");
    }
  });

  it("does not let another repository use a session", async () => {
    const location = await startUpload("up/owner");
    const stolen = location.replace("/v2/up/owner/", "/v2/up/thief/");
    const res = await fetch(`${url}${stolen}`);
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe("BLOB_UPLOAD_UNKNOWN");
  });

  it("cancels a session with DELETE", async () => {
    const location = await startUpload("up/cancel");
    await patch(location, Buffer.from("hello"), "0-4");
    const res = await fetch(`${url}${location}`, { method: "DELETE" });
    expect(res.status).toBe(204);
    const after = await fetch(`${url}${location}`);
    expect(after.status).toBe(404);
  });

  it("purges abandoned sessions", async () => {
    const location = await startUpload("up/abandoned");
    await patch(location, Buffer.from("partial"), "0-6");
    const purged = await registry.context.uploads.purge(-1000);
    expect(purged).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${url}${location}`)).status).toBe(404);
  });
});

describe("cross-repository mount", () => {
  it("mounts a blob the source repository has (201)", async () => {
    const data = randomBytes(4000, 8);
    const digest = await pushBlob(url, "mount/src", data);
    const res = await fetch(`${url}/v2/mount/dst/blobs/uploads/?mount=${digest}&from=mount/src`, {
      method: "POST",
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`/v2/mount/dst/blobs/${digest}`);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    const get = await fetch(`${url}/v2/mount/dst/blobs/${digest}`);
    expect(Buffer.from(await get.arrayBuffer()).equals(data)).toBe(true);
  });

  it("opens an upload session (202) when the source lacks the blob", async () => {
    const data = randomBytes(4000, 9);
    const digest = await pushBlob(url, "mount/elsewhere", data);
    const res = await fetch(`${url}/v2/mount/dst2/blobs/uploads/?mount=${digest}&from=mount/src`, {
      method: "POST",
    });
    expect(res.status).toBe(202);
    expect(res.headers.get("location")).toMatch(/^\/v2\/mount\/dst2\/blobs\/uploads\//);
    expect((await fetch(`${url}/v2/mount/dst2/blobs/${digest}`)).status).toBe(404);
  });

  it("opens an upload session without from= and for an invalid from=", async () => {
    const digest = sha256("anything");
    for (const q of [`mount=${digest}`, `mount=${digest}&from=BAD NAME`]) {
      const res = await fetch(`${url}/v2/mount/dst3/blobs/uploads/?${q}`, { method: "POST" });
      expect(res.status).toBe(202);
    }
  });
});

describe("restart", () => {
  it("resumes an upload after the server restarts", async () => {
    const own = await startTestRegistry();
    const data = randomBytes(200_000, 12);
    const location = await startUpload("restart/app", own.url);
    await patch(location, data.subarray(0, 120_000), "0-119999", own.url);
    await own.close();

    const again = await startTestRegistry({ dataDir: own.dataDir });
    try {
      const status = await fetch(`${again.url}${location}`);
      expect(status.status).toBe(204);
      expect(status.headers.get("range")).toBe("0-119999");
      const next = await patch(location, data.subarray(120_000), "120000-199999", again.url);
      expect(next.status).toBe(202);
      const res = await fetch(`${again.url}${location}?digest=${sha256(data)}`, { method: "PUT" });
      expect(res.status).toBe(201);
      const get = await fetch(`${again.url}/v2/restart/app/blobs/${sha256(data)}`);
      expect(Buffer.from(await get.arrayBuffer()).equals(data)).toBe(true);
    } finally {
      await again.destroy();
    }
  });
});
