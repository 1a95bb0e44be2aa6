// `berth serve` as a real process: it starts, answers, and on SIGTERM stops accepting,
// lets an in-flight upload finish, and exits 0.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const bin = resolve(import.meta.dirname, "../../bin/berth.js");
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.pid) process.kill(child.pid, "SIGKILL");
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function startServe(): Promise<{
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}> {
  const dir = await mkdtemp(join(tmpdir(), "berth-serve-test-"));
  dirs.push(dir);
  const child = spawn(
    process.execPath,
    [bin, "serve", "--listen", "127.0.0.1:0", "--data", join(dir, "data")],
    {
      env: {
        ...process.env,
        BERTH_LOG_LEVEL: "info",
        BERTH_LOG_FORMAT: "json",
        BERTH_AUTH: "none",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  children.push(child);
  const exited = new Promise<number | null>((done) => child.on("close", (code) => done(code)));
  const url = await new Promise<string>((done, fail) => {
    let err = "";
    // The startup line is a record of the JSON log on stdout.
    child.stderr!.on("data", (d) => {
      err += d;
    });
    child.stdout!.on("data", (d) => {
      err += d;
      const m = /listening on (http:\/\/[^\s"]+)/.exec(err);
      if (m) done(m[1]!);
    });
    child.on("close", () => fail(new Error(`berth serve exited early: ${err}`)));
  });
  return { child, url, exited };
}

describe("berth serve process", () => {
  it("drains an in-flight upload on SIGTERM and exits 0", async () => {
    const { child, url, exited } = await startServe();
    const post = await fetch(`${url}/v2/drain/app/blobs/uploads/`, { method: "POST" });
    const location = post.headers.get("location")!;
    const target = new URL(`${url}${location}`);
    const body = Buffer.alloc(200_000, 1);
    const result = new Promise<{ status: number; range: string | undefined }>((done, fail) => {
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: "PATCH",
          headers: { "Content-Length": body.length, "Content-Type": "application/octet-stream" },
        },
        (res) => {
          res.resume();
          done({ status: res.statusCode ?? 0, range: res.headers.range as string | undefined });
        },
      );
      req.on("error", fail);
      // Half the body now, the rest after SIGTERM has been delivered.
      req.write(body.subarray(0, 100_000));
      setTimeout(() => {
        child.kill("SIGTERM");
        setTimeout(() => req.end(body.subarray(100_000)), 300);
      }, 300);
    });
    const { status, range } = await result;
    expect(status).toBe(202);
    expect(range).toBe("0-199999");
    expect(await exited).toBe(0);
  });
});
