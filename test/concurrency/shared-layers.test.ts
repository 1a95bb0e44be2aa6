// Concurrency: 20 clients push at once — 10 real `skopeo copy` processes from OCI layouts and
// 10 undici clients speaking raw HTTP (half monolithic POST+PUT, half chunked PATCH uploads) —
// 20 distinct images that share layers: one base layer common to all, one of two "runtime"
// layers, and one layer of their own. They go to 4 repositories, so identical blobs race into
// the same repository and into different ones. Afterwards every image pulls back intact by
// digest, every tag is listed, and no stored blob file has bytes that don't match its digest.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MediaType } from "../../src/oci/index.js";
import { verifyStoredBlobs } from "../support/blob-integrity.js";
import { skopeoCopy } from "../support/container-tools.js";
import {
  type AcknowledgedImage,
  acknowledgedImage,
  expectImagePullsIntact,
} from "../support/image-check.js";
import { readLayoutBlob } from "../support/oci-layout.js";
import { RegistryHttp, withDigest } from "../support/registry-http.js";
import {
  printRegistryLogOnFailure,
  type RegistryUnderTest,
  startRegistryUnderTest,
} from "../support/registry-under-test.js";
import { syntheticImageLayout } from "../support/synthetic-images.js";

const CLIENTS = 20;
const REPOSITORIES = ["storm/a", "storm/b", "storm/c", "storm/d"];
const KiB = 1024;

interface Client {
  index: number;
  kind: "skopeo" | "undici-monolithic" | "undici-chunked";
  layoutDir: string;
  reference: string;
  image: AcknowledgedImage;
}

/** Pushes one blob as three PATCH chunks (Content-Range) and a closing PUT ?digest=. */
async function pushChunked(
  http: RegistryHttp,
  repository: string,
  bytes: Buffer,
  digest: string,
): Promise<void> {
  let location = await http.startUpload(repository);
  const chunk = Math.ceil(bytes.length / 3);
  for (let start = 0; start < bytes.length; start += chunk) {
    const piece = bytes.subarray(start, Math.min(start + chunk, bytes.length));
    const answer = await http.send("PATCH", location, {
      headers: {
        "content-type": "application/octet-stream",
        "content-range": `${start}-${start + piece.length - 1}`,
        "content-length": String(piece.length),
      },
      body: piece,
    });
    if (answer.status !== 202)
      throw new Error(`PATCH ${digest}: HTTP ${answer.status} ${answer.body.toString()}`);
    location = http.resolve(answer.headers.location ?? location);
  }
  const closed = await http.send("PUT", withDigest(location, digest), {
    headers: { "content-length": "0" },
  });
  if (closed.status !== 201)
    throw new Error(`PUT ${digest}: HTTP ${closed.status} ${closed.body.toString()}`);
}

async function pushWithUndici(registry: RegistryUnderTest, client: Client): Promise<void> {
  const http = new RegistryHttp(registry.url);
  const { repository, tag } = client.image;
  for (const blob of client.image.blobs) {
    const bytes = await readLayoutBlob(client.layoutDir, blob.digest);
    if (client.kind === "undici-chunked") await pushChunked(http, repository, bytes, blob.digest);
    else await http.pushBlob(repository, bytes, blob.digest);
  }
  const answer = await http.putManifest(
    repository,
    tag,
    client.image.manifestBytes,
    MediaType.OciManifest,
  );
  if (answer.status !== 201)
    throw new Error(
      `PUT manifest ${repository}:${tag}: HTTP ${answer.status} ${answer.body.toString()}`,
    );
}

describe("20 clients pushing images that share layers, all at once", { timeout: 240_000 }, () => {
  let registry: RegistryUnderTest;
  printRegistryLogOnFailure(() => registry);
  let work: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "berth-concurrency-"));
    for (let index = 0; index < CLIENTS; index++) {
      const kind: Client["kind"] =
        index % 2 === 0 ? "skopeo" : index % 4 === 1 ? "undici-monolithic" : "undici-chunked";
      const repository = REPOSITORIES[index % REPOSITORIES.length] as string;
      const tag = `client-${index}`;
      const layoutDir = join(work, tag);
      const written = await syntheticImageLayout(layoutDir, tag, {
        label: tag,
        layers: [
          { seed: "storm-base", size: 2048 * KiB },
          { seed: `storm-runtime-${index % 2}`, size: 512 * KiB },
          { seed: `storm-own-${index}`, size: 64 * KiB },
        ],
      });
      clients.push({
        index,
        kind,
        layoutDir,
        reference: written.reference,
        image: acknowledgedImage(repository, tag, written.manifestBytes),
      });
    }
    registry = await startRegistryUnderTest();
  });

  afterAll(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("accepts every push", async () => {
    const results = await Promise.allSettled(
      clients.map((client) =>
        client.kind === "skopeo"
          ? skopeoCopy(
              client.reference,
              `docker://${registry.host}/${client.image.repository}:${client.image.tag}`,
              ["--preserve-digests"],
            )
          : pushWithUndici(registry, client),
      ),
    );
    const failures = results.flatMap((result, i) =>
      result.status === "rejected"
        ? [`${clients[i]?.kind} #${i}: ${String(result.reason).slice(0, 600)}`]
        : [],
    );
    expect(failures).toEqual([]);
  });

  it("serves every image back intact by digest", async () => {
    const http = new RegistryHttp(registry.url);
    await Promise.all(clients.map((client) => expectImagePullsIntact(http, client.image)));
  });

  it("lists every tag in each repository", async () => {
    const http = new RegistryHttp(registry.url);
    for (const repository of REPOSITORIES) {
      const answer = await http.send("GET", `/v2/${repository}/tags/list`);
      expect(answer.status).toBe(200);
      const expected = clients
        .filter((c) => c.image.repository === repository)
        .map((c) => c.image.tag);
      expect([...(JSON.parse(answer.body.toString()) as { tags: string[] }).tags].sort()).toEqual(
        expected.sort(),
      );
    }
  });

  it("holds no blob file whose bytes do not match its digest, and stores shared layers once", async () => {
    const report = await verifyStoredBlobs(registry.dataDir);
    expect(report.mismatches).toEqual([]);
    // 20 configs + 20 own layers + 2 runtime layers + 1 base layer, each stored once
    // (a registry may keep manifests as blob files too; those are allowed on top).
    const expected = new Set(clients.flatMap((c) => c.image.blobs.map((b) => b.digest)));
    expect(expected.size).toBe(2 * CLIENTS + 3);
    for (const digest of expected) {
      expect(
        report.digests.filter((d) => d === digest),
        `files holding ${digest}`,
      ).toHaveLength(1);
    }
  });
});
