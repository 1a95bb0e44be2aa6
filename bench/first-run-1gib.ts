// One-off first measurement for issue 2's closing note (not part of `npm test` or `npm run bench`):
// a 1 GiB incompressible blob pushed monolithically (POST, then PUT ?digest= with the whole
// body) and pulled back (GET, rehashed while streaming), once against Berth and once against
// the reference registry (docker-registry), same file, same disk. Prints MB/s for each.
//   node --import tsx bench/first-run-1gib.ts            (Berth from source, via tsx)
//   BERTH_FROM_SOURCE= node --import tsx bench/first-run-1gib.ts   (Berth from dist/, after a build)
// Timings are printed, never asserted. Stops only the servers it started, by PID.
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBerth } from "../test/support/berth-process.js";
import { startReferenceRegistry } from "../test/support/reference-registry.js";
import { RegistryHttp, withDigest } from "../test/support/registry-http.js";
import { writeDeterministicFile } from "../test/support/synthetic-images.js";

const SIZE = 1024 * 1024 * 1024;
const MB = 1_000_000;

interface Server {
  name: string;
  url: string;
  stop(): Promise<void>;
}

async function measure(
  server: Server,
  file: string,
  digest: string,
): Promise<{ push: number; pull: number }> {
  const http = new RegistryHttp(server.url);
  const pushStart = performance.now();
  const location = await http.startUpload("bench/onegib");
  const put = await http.send("PUT", withDigest(location, digest), {
    headers: { "content-type": "application/octet-stream", "content-length": String(SIZE) },
    body: createReadStream(file, { highWaterMark: 1 << 20 }),
  });
  const pushSeconds = (performance.now() - pushStart) / 1000;
  if (put.status !== 201)
    throw new Error(`${server.name}: PUT answered ${put.status} ${put.body.toString()}`);

  const pullStart = performance.now();
  const pulled = await http.hashBlob("bench/onegib", digest);
  const pullSeconds = (performance.now() - pullStart) / 1000;
  if (pulled.digest !== digest || pulled.size !== SIZE) {
    throw new Error(`${server.name}: pulled ${pulled.size} bytes with digest ${pulled.digest}`);
  }
  return { push: SIZE / MB / pushSeconds, pull: SIZE / MB / pullSeconds };
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "berth-first-run-"));
  try {
    const file = join(work, "onegib.bin");
    const digest = await writeDeterministicFile(file, "first-run-1gib", SIZE);
    process.stdout.write(`blob: 1 GiB incompressible, ${digest}\n`);
    const results: Record<string, { push: number; pull: number }> = {};
    for (const name of ["docker-registry", "berth"]) {
      const server: Server =
        name === "berth"
          ? await startBerth({ env: { BERTH_LOG_LEVEL: "warn" } }).then((b) => ({
              name,
              url: b.url,
              stop: b.stop,
            }))
          : await startReferenceRegistry().then((r) => ({ name, url: r.url, stop: r.stop }));
      try {
        results[name] = await measure(server, file, digest);
      } finally {
        await server.stop();
      }
      const r = results[name];
      process.stdout.write(
        `${name.padEnd(16)} push ${r?.push.toFixed(0)} MB/s   pull ${r?.pull.toFixed(0)} MB/s\n`,
      );
    }
    const berth = results.berth;
    const reference = results["docker-registry"];
    if (berth && reference) {
      process.stdout.write(
        `ratio berth/reference: push ${(berth.push / reference.push).toFixed(2)}  pull ${(berth.pull / reference.pull).toFixed(2)}\n`,
      );
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
