// Graceful stop: SIGTERM arrives while a 64 MiB monolithic blob upload (POST, then PUT ?digest=)
// is still streaming. Berth must drain: let the in-flight PUT finish and answer 201 with the
// right digest, then exit with code 0 (not be SIGKILLed by the harness after its grace period).
// After a restart on the same data the blob is there, byte for byte.
// Berth-specific (its `serve` drain contract), so it starts Berth directly.
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import { RegistryHttp, withDigest } from "../support/registry-http.js";
import { printRegistryLogOnFailure } from "../support/registry-under-test.js";
import { writeDeterministicFile } from "../support/synthetic-images.js";

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
const SIGNAL_AFTER = 8 * MiB;
const REPOSITORY = "drain/blob";

describe("SIGTERM while a blob upload is streaming", { timeout: 240_000 }, () => {
  let berth: BerthProcess;
  printRegistryLogOnFailure(() => (berth ? { ...berth, kind: "berth" } : undefined));
  let work: string;
  let file: string;
  let digest: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "berth-drain-"));
    file = join(work, "blob.bin");
    digest = await writeDeterministicFile(file, "sigterm-drain", SIZE);
    berth = await startBerth({ keepData: true });
  });

  afterAll(async () => {
    await berth?.stop();
    await berth?.removeData();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("finishes the in-flight upload, then exits 0; the blob is there after a restart", async () => {
    const uploadUrl = await new RegistryHttp(berth.url).startUpload(REPOSITORY);
    let sent = 0;
    let stopping: Promise<void> | undefined;
    const server = berth;
    async function* paced(): AsyncGenerator<Buffer> {
      for await (const chunk of createReadStream(file, { highWaterMark: MiB })) {
        yield chunk as Buffer;
        sent += (chunk as Buffer).length;
        // SIGTERM (SIGKILL only after 60 s) once part of the body is on its way.
        if (sent >= SIGNAL_AFTER && !stopping) stopping = server.stop(60_000);
        await sleep(10);
      }
    }
    const response = await request(withDigest(uploadUrl, digest), {
      method: "PUT",
      headers: { "content-type": "application/octet-stream", "content-length": String(SIZE) },
      body: Readable.from(paced()),
    });
    const body = await response.body.text();
    expect(stopping, "SIGTERM was sent mid-upload").toBeDefined();
    expect(response.statusCode, body).toBe(201);
    expect(response.headers["docker-content-digest"]).toBe(digest);
    await stopping;
    expect(berth.exitStatus()).toEqual({ code: 0, signal: null });

    berth = await startBerth({ dataDir: berth.dataDir });
    const pulled = await new RegistryHttp(berth.url).hashBlob(REPOSITORY, digest);
    expect(pulled).toEqual({ status: 200, digest, size: SIZE });
  });
});
