// Crash: kill -9 the registry while manifests are being pushed — a stream of tag PUTs in
// flight, plus one manifest PUT whose body stops half-way — then restart it on the same data
// directory and show:
// - every manifest PUT that was acknowledged (201) is there, by tag and by digest, byte for
//   byte, and its blobs pull intact;
// - every PUT that was not acknowledged is either absent (404 MANIFEST_UNKNOWN) or complete
//   and exact — never a half-written manifest or a tag pointing at nothing;
// - the half-sent manifest is unknown, and the registry accepts all pushes again;
// - no blob file in the data directory has bytes that do not match its digest.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestOf, MediaType } from "../../src/oci/index.js";
import { verifyStoredBlobs } from "../support/blob-integrity.js";
import {
  type AcknowledgedImage,
  acknowledgedImage,
  expectImagePullsIntact,
} from "../support/image-check.js";
import { OciLayoutWriter, readLayoutBlob } from "../support/oci-layout.js";
import { RegistryHttp, sendStalled } from "../support/registry-http.js";
import {
  printRegistryLogOnFailure,
  type RegistryUnderTest,
  startRegistryUnderTest,
} from "../support/registry-under-test.js";
import { writeSyntheticImage } from "../support/synthetic-images.js";

const REPOSITORY = "crash/manifests";
const IMAGE_COUNT = 40;
const KILL_AFTER_ACKNOWLEDGED = 12;
const CONCURRENT_PUTS = 4;

interface Candidate {
  tag: string;
  image: AcknowledgedImage;
  blobBytes: Map<string, Buffer>;
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

describe("kill -9 during manifest pushes", { timeout: 240_000 }, () => {
  let registry: RegistryUnderTest;
  printRegistryLogOnFailure(() => registry);
  let work: string;
  const candidates: Candidate[] = [];
  const acknowledged = new Set<string>();
  const unacknowledged = new Set<string>();
  let halfSent: Candidate;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "berth-crash-manifest-"));
    const layout = await OciLayoutWriter.create(join(work, "images"));
    for (let index = 0; index <= IMAGE_COUNT; index++) {
      const written = await writeSyntheticImage(layout, {
        label: `crash-manifest-${index}`,
        layers: [
          { seed: "crash-manifest-shared", size: 64 * 1024 },
          { seed: `crash-manifest-${index}`, size: 4 * 1024 },
        ],
      });
      const blobBytes = new Map<string, Buffer>();
      for (const d of [written.config, ...written.layers])
        blobBytes.set(d.digest, await readLayoutBlob(layout.dir, d.digest));
      const tag = `t${String(index).padStart(3, "0")}`;
      candidates.push({
        tag,
        image: acknowledgedImage(REPOSITORY, tag, written.manifestBytes),
        blobBytes,
      });
    }
    halfSent = candidates.pop() as Candidate;
    registry = await startRegistryUnderTest({ keepData: true });
    const http = new RegistryHttp(registry.url);
    for (const candidate of [...candidates, halfSent]) {
      for (const [digest, bytes] of candidate.blobBytes)
        await http.pushBlob(REPOSITORY, bytes, digest);
    }
  });

  afterAll(async () => {
    await registry?.stop();
    await registry?.removeData();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("kills the registry with manifest PUTs in flight and one manifest half-sent", async () => {
    const http = new RegistryHttp(registry.url);
    const bytes = halfSent.image.manifestBytes;
    const stalled = sendStalled(
      "PUT",
      `${registry.url}/v2/${REPOSITORY}/manifests/${halfSent.tag}`,
      { "content-type": MediaType.OciManifest, "content-length": String(bytes.length) },
      once(bytes),
      Math.floor(bytes.length / 2),
    );
    await stalled.stalled;

    let next = 0;
    let killed: Promise<void> | undefined;
    async function pusher(): Promise<void> {
      while (next < candidates.length) {
        const candidate = candidates[next++] as Candidate;
        unacknowledged.add(candidate.tag);
        try {
          const answer = await http.putManifest(
            REPOSITORY,
            candidate.tag,
            candidate.image.manifestBytes,
            MediaType.OciManifest,
          );
          if (answer.status === 201) {
            expect(answer.headers["docker-content-digest"]).toBe(candidate.image.manifestDigest);
            unacknowledged.delete(candidate.tag);
            acknowledged.add(candidate.tag);
          }
        } catch {
          // The connection died with the server: not acknowledged.
        }
        if (acknowledged.size >= KILL_AFTER_ACKNOWLEDGED && !killed) killed = registry.kill9();
      }
    }
    await Promise.all(Array.from({ length: CONCURRENT_PUTS }, pusher));
    await killed;
    stalled.abort();
    await stalled.settled;
    expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKNOWLEDGED);
    expect(unacknowledged.size).toBeGreaterThan(0);

    registry = await startRegistryUnderTest({ dataDir: registry.dataDir });
  });

  it("serves every acknowledged manifest by tag and digest, byte for byte, with its blobs", async () => {
    const http = new RegistryHttp(registry.url);
    for (const candidate of candidates.filter((c) => acknowledged.has(c.tag))) {
      await expectImagePullsIntact(http, candidate.image);
    }
    const tags = await http.send("GET", `/v2/${REPOSITORY}/tags/list`);
    const listed = new Set((JSON.parse(tags.body.toString()) as { tags: string[] }).tags);
    for (const tag of acknowledged) expect(listed.has(tag), `tag ${tag} listed`).toBe(true);
  });

  it("has each unacknowledged manifest either absent or complete, never half-written", async () => {
    const http = new RegistryHttp(registry.url);
    for (const candidate of [...candidates.filter((c) => unacknowledged.has(c.tag)), halfSent]) {
      for (const reference of [candidate.tag, candidate.image.manifestDigest]) {
        const answer = await http.getManifest(REPOSITORY, reference);
        if (answer.status === 200) {
          expect(digestOf(answer.body), `${reference} is complete`).toBe(
            candidate.image.manifestDigest,
          );
        } else {
          expect(answer.status, `${reference}: ${answer.body.toString()}`).toBe(404);
          expect(JSON.parse(answer.body.toString()).errors[0].code).toBe("MANIFEST_UNKNOWN");
        }
      }
    }
    const half = await http.getManifest(REPOSITORY, halfSent.tag);
    expect(half.status, "the half-sent manifest must not exist").toBe(404);
  });

  it("accepts every push again after the restart", async () => {
    const http = new RegistryHttp(registry.url);
    for (const candidate of [...candidates.filter((c) => !acknowledged.has(c.tag)), halfSent]) {
      const answer = await http.putManifest(
        REPOSITORY,
        candidate.tag,
        candidate.image.manifestBytes,
        MediaType.OciManifest,
      );
      expect(answer.status, answer.body.toString()).toBe(201);
      await expectImagePullsIntact(http, candidate.image);
    }
  });

  it("holds no blob file whose bytes do not match its digest", async () => {
    const report = await verifyStoredBlobs(registry.dataDir);
    expect(report.mismatches).toEqual([]);
    expect(report.checked).toBeGreaterThanOrEqual(IMAGE_COUNT);
  });
});
