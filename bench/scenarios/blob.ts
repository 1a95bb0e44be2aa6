// Scenarios 1–3: one 1 GiB incompressible blob pushed monolithically (POST + PUT with the
// body), pushed in 16 MiB chunks (PATCH … PUT), pulled whole and as a ranged read of its
// last 100 MiB. Reported as MB/s. The client is curl (see curl-transfer.ts); the chunked
// push sends the blob's 16 MiB pieces, split once into files beside it.
import { createHash, randomFillSync } from "node:crypto";
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { pullBlob, pushChunked, pushMonolithic } from "../curl-transfer.js";
import { type BenchContext, MB, MiB, metric, type Scenario, timed } from "../scenario.js";

const BLOB_SIZE = 1024 * MiB;
const RANGE_SIZE = 100 * MiB;
const CHUNK_SIZE = 16 * MiB;

interface BlobFixture {
  file: string;
  digest: string;
  chunks: { file: string; size: number }[];
}

let fixture: BlobFixture | undefined;

/** Writes bench/.work/blob-1g once (random bytes) and remembers its digest. */
async function blobFixture(ctx: BenchContext): Promise<BlobFixture> {
  if (fixture) return fixture;
  const file = join(ctx.workDir, "blob-1g");
  const digestFile = `${file}.digest`;
  if (!existsSync(file) || !existsSync(digestFile)) {
    const hash = createHash("sha256");
    const fd = openSync(file, "w");
    const chunk = Buffer.allocUnsafe(16 * MiB);
    for (let written = 0; written < BLOB_SIZE; written += chunk.length) {
      randomFillSync(chunk);
      hash.update(chunk);
      writeSync(fd, chunk);
    }
    closeSync(fd);
    writeFileSync(digestFile, `sha256:${hash.digest("hex")}`);
  }
  fixture = { file, digest: readFileSync(digestFile, "utf8").trim(), chunks: splitChunks(file) };
  return fixture;
}

/** The blob's CHUNK_SIZE pieces as files `blob-1g.chunk-NNN` (written once). */
function splitChunks(file: string): { file: string; size: number }[] {
  const chunks: { file: string; size: number }[] = [];
  const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
  const source = openSync(file, "r");
  try {
    for (let offset = 0, i = 0; offset < BLOB_SIZE; offset += CHUNK_SIZE, i++) {
      const size = Math.min(CHUNK_SIZE, BLOB_SIZE - offset);
      const path = `${file}.chunk-${String(i).padStart(3, "0")}`;
      if (!existsSync(path)) {
        readSync(source, buffer, 0, size, offset);
        writeFileSync(path, buffer.subarray(0, size));
      }
      chunks.push({ file: path, size });
    }
  } finally {
    closeSync(source);
  }
  return chunks;
}

export const pushMonolithicScenario: Scenario = {
  id: "push-monolithic",
  title: "1. push 1 GiB blob, monolithic (POST + PUT)",
  freshServerPerRound: true,
  prepare: async (ctx) => void (await blobFixture(ctx)),
  async run(server, ctx, round) {
    const { file, digest } = await blobFixture(ctx);
    const seconds = await timed(() =>
      pushMonolithic(server.url, `bench/mono${round}`, file, digest, server.auth),
    );
    return [metric("throughput", "MB/s", BLOB_SIZE / MB / seconds, true)];
  },
};

export const pushChunkedScenario: Scenario = {
  id: "push-chunked",
  title: "2. push 1 GiB blob in 16 MiB chunks (PATCH … PUT)",
  freshServerPerRound: true,
  prepare: async (ctx) => void (await blobFixture(ctx)),
  async run(server, ctx, round) {
    const { chunks, digest } = await blobFixture(ctx);
    const seconds = await timed(() =>
      pushChunked(server.url, `bench/chunked${round}`, chunks, digest, server.auth),
    );
    return [metric("throughput", "MB/s", BLOB_SIZE / MB / seconds, true)];
  },
};

export const pullScenario: Scenario = {
  id: "pull",
  title: "3. pull the 1 GiB blob (GET), and a ranged GET of its last 100 MiB",
  prepare: async (ctx) => void (await blobFixture(ctx)),
  async setup(server, ctx) {
    const { file, digest } = await blobFixture(ctx);
    await pushMonolithic(server.url, "bench/pull", file, digest, server.auth);
  },
  async run(server, ctx) {
    const { digest } = await blobFixture(ctx);
    let bytes = 0;
    const whole = await timed(async () => {
      bytes = await pullBlob(server.url, "bench/pull", digest, undefined, server.auth);
    });
    if (bytes !== BLOB_SIZE) throw new Error(`pull returned ${bytes} bytes`);
    const range = { start: BLOB_SIZE - RANGE_SIZE, end: BLOB_SIZE - 1 };
    const ranged = await timed(async () => {
      bytes = await pullBlob(server.url, "bench/pull", digest, range, server.auth);
    });
    if (bytes !== RANGE_SIZE) throw new Error(`ranged pull returned ${bytes} bytes`);
    return [
      metric("GET throughput", "MB/s", BLOB_SIZE / MB / whole, true),
      metric("ranged GET throughput", "MB/s", RANGE_SIZE / MB / ranged, true),
    ];
  },
};
