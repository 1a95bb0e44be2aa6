// Crash: kill -9 the registry in the middle of a 200 MiB chunked upload (8 MiB PATCH chunks
// with Content-Range, sent with undici), restart it on the same data directory, and show:
// (a monolithic PUT of 32 MiB is cut half-way by the same kill);
// - the upload is still known and GET on it reports a durable offset that keeps every
//   acknowledged chunk (and nothing beyond what was sent); the client resumes from that
//   offset, closes with PUT ?digest=, and the blob's digest is right;
// - the cut monolithic PUT left no blob behind;
// - every image acknowledged before the crash (the real Debian image, a synthetic one) still
//   pulls byte for byte;
// - no blob file in the data directory has bytes that do not match its digest.
import { createReadStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyStoredBlobs } from "../support/blob-integrity.js";
import { skopeoCopy } from "../support/container-tools.js";
import { debianImage } from "../support/debian-image.js";
import {
  type AcknowledgedImage,
  acknowledgedImage,
  expectImagePullsIntact,
} from "../support/image-check.js";
import { RegistryHttp, sendStalled, withDigest } from "../support/registry-http.js";
import {
  printRegistryLogOnFailure,
  type RegistryUnderTest,
  startRegistryUnderTest,
} from "../support/registry-under-test.js";
import { syntheticImageLayout, writeDeterministicFile } from "../support/synthetic-images.js";

const MiB = 1024 * 1024;
const TOTAL = 200 * MiB;
const CHUNK = 8 * MiB;
const ACKNOWLEDGED_CHUNKS = 10;
const REPOSITORY = "crash/big-upload";
const MONOLITHIC_SIZE = 32 * MiB;

/** The path and query of an upload Location, so it can be replayed against a restarted server. */
function uploadPath(location: string): string {
  const url = new URL(location, "http://placeholder");
  return `${url.pathname}${url.search}`;
}

async function* fileRange(
  path: string,
  start: number,
  endInclusive: number,
): AsyncGenerator<Buffer> {
  for await (const chunk of createReadStream(path, {
    start,
    end: endInclusive,
    highWaterMark: MiB,
  })) {
    yield chunk as Buffer;
  }
}

describe("kill -9 during a large chunked upload", { timeout: 240_000 }, () => {
  let registry: RegistryUnderTest;
  printRegistryLogOnFailure(() => registry);
  let work: string;
  let bigFile: string;
  let bigDigest: string;
  let monolithicFile: string;
  let monolithicDigest: string;
  const acknowledged: AcknowledgedImage[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "berth-crash-upload-"));
    bigFile = join(work, "big.bin");
    monolithicFile = join(work, "monolithic.bin");
    const [digest, debian, monoDigest] = await Promise.all([
      writeDeterministicFile(bigFile, "crash-upload", TOTAL),
      debianImage(),
      writeDeterministicFile(monolithicFile, "crash-monolithic", MONOLITHIC_SIZE),
    ]);
    bigDigest = digest;
    monolithicDigest = monoDigest;
    registry = await startRegistryUnderTest({ keepData: true });

    await skopeoCopy(debian.reference, `docker://${registry.host}/library/debian:bookworm`, [
      "--preserve-digests",
    ]);
    const debianManifest = await readFile(
      join(debian.layoutDir, "blobs", "sha256", debian.manifest.digest.slice(7)),
    );
    acknowledged.push(acknowledgedImage("library/debian", "bookworm", debianManifest));
    const small = await syntheticImageLayout(join(work, "small"), "v1", {
      label: "acknowledged",
      layers: [
        { seed: "crash-acked-1", size: 256 * 1024 },
        { seed: "crash-acked-2", size: 64 * 1024 },
      ],
    });
    await skopeoCopy(small.reference, `docker://${registry.host}/crash/acked:v1`, [
      "--preserve-digests",
    ]);
    acknowledged.push(acknowledgedImage("crash/acked", "v1", small.manifestBytes));
  });

  afterAll(async () => {
    await registry?.stop();
    await registry?.removeData();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("resumes the upload from its durable offset after a restart, and the digest matches", async () => {
    let http = new RegistryHttp(registry.url);
    let location = uploadPath(await http.startUpload(REPOSITORY));
    for (let index = 0; index < ACKNOWLEDGED_CHUNKS; index++) {
      const start = index * CHUNK;
      const end = start + CHUNK - 1;
      const answer = await http.send("PATCH", location, {
        headers: {
          "content-type": "application/octet-stream",
          "content-range": `${start}-${end}`,
          "content-length": String(CHUNK),
        },
        body: createReadStream(bigFile, { start, end }),
      });
      expect(answer.status, answer.body.toString()).toBe(202);
      expect(answer.headers.range).toBe(`0-${end}`);
      location = uploadPath(answer.headers.location ?? location);
    }
    const acknowledgedBytes = ACKNOWLEDGED_CHUNKS * CHUNK;

    // The next chunk is in flight — 3 MiB of its 8 sent, the rest never comes — when the
    // server is killed.
    const inFlightStart = acknowledgedBytes;
    const inFlight = sendStalled(
      "PATCH",
      `${registry.url}${location}`,
      {
        "content-type": "application/octet-stream",
        "content-range": `${inFlightStart}-${inFlightStart + CHUNK - 1}`,
        "content-length": String(CHUNK),
      },
      fileRange(bigFile, inFlightStart, inFlightStart + CHUNK - 1),
      3 * MiB,
    );
    // And a monolithic PUT (POST, then PUT ?digest= with the whole body) is half-way through.
    const monolithicUpload = await http.startUpload(REPOSITORY);
    const monolithic = sendStalled(
      "PUT",
      withDigest(monolithicUpload, monolithicDigest),
      { "content-type": "application/octet-stream", "content-length": String(MONOLITHIC_SIZE) },
      fileRange(monolithicFile, 0, MONOLITHIC_SIZE - 1),
      MONOLITHIC_SIZE / 2,
    );
    await Promise.all([inFlight.stalled, monolithic.stalled]);
    await sleep(500);
    await registry.kill9();
    for (const request of [inFlight, monolithic]) {
      request.abort();
      await request.settled;
    }

    registry = await startRegistryUnderTest({ dataDir: registry.dataDir });
    http = new RegistryHttp(registry.url);
    const status = await http.send("GET", location);
    expect(status.status, `upload status after restart: ${status.body.toString()}`).toBe(204);
    const range = /^0-(\d+)$/.exec(status.headers.range ?? "");
    expect(range, `Range header "${status.headers.range}"`).not.toBeNull();
    const durableOffset = Number(range?.[1]) + 1;
    expect(durableOffset).toBeGreaterThanOrEqual(acknowledgedBytes);
    expect(durableOffset).toBeLessThanOrEqual(acknowledgedBytes + inFlight.bytesSent());
    location = uploadPath(status.headers.location ?? location);

    for (let start = durableOffset; start < TOTAL; start += CHUNK) {
      const end = Math.min(start + CHUNK, TOTAL) - 1;
      const answer = await http.send("PATCH", location, {
        headers: {
          "content-type": "application/octet-stream",
          "content-range": `${start}-${end}`,
          "content-length": String(end - start + 1),
        },
        body: createReadStream(bigFile, { start, end }),
      });
      expect(answer.status, answer.body.toString()).toBe(202);
      location = uploadPath(answer.headers.location ?? location);
    }
    const closed = await http.send("PUT", withDigest(`${registry.url}${location}`, bigDigest), {
      headers: { "content-length": "0" },
    });
    expect(closed.status, closed.body.toString()).toBe(201);
    expect(closed.headers["docker-content-digest"]).toBe(bigDigest);
    expect(await http.hashBlob(REPOSITORY, bigDigest)).toEqual({
      status: 200,
      digest: bigDigest,
      size: TOTAL,
    });
  });

  it("has no blob for the monolithic PUT the crash cut short", async () => {
    const http = new RegistryHttp(registry.url);
    const head = await http.send("HEAD", `/v2/${REPOSITORY}/blobs/${monolithicDigest}`);
    expect(head.status).toBe(404);
    const report = await verifyStoredBlobs(registry.dataDir);
    expect(report.digests).not.toContain(monolithicDigest);
  });

  it("still serves every image acknowledged before the crash, byte for byte", async () => {
    const http = new RegistryHttp(registry.url);
    for (const image of acknowledged) await expectImagePullsIntact(http, image);
  });

  it("holds no blob file whose bytes do not match its digest", async () => {
    const report = await verifyStoredBlobs(registry.dataDir);
    expect(report.mismatches).toEqual([]);
    // Debian (config + layer), the synthetic image (config + 2 layers), the 200 MiB blob.
    expect(report.checked).toBeGreaterThanOrEqual(6);
  });
});
