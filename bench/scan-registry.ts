// Benchmark of scanning in the registry (issue 15), run by hand, not part of npm test:
// the push of the real Debian bookworm image (test/support/debian-image.ts) through skopeo to a
// project with scan on push OFF and to one with it ON, in the same run against the same
// server, alternating; the time from the end of each ON push to its stored scan result (polled
// through the API); and the scan's duration and CPU time as the server recorded them. Each
// push is a distinct image (the Debian layer plus a tiny round-specific layer, so every ON push
// really triggers a scan of the whole Debian layer), and one warm-up push comes first, so both
// modes push over the same already-stored base layer. The OFF push of a round runs before the
// ON one: a scan still running from the previous round would otherwise slow the OFF push.
//   node --import tsx bench/scan-registry.ts [rounds]
// Numbers go to stdout as one JSON document.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { digestOf, MediaType } from "../src/oci/index.js";
import { tarOf } from "../test/scan/catalogers/support/image-builder.js";
import { debianImage } from "../test/support/debian-image.js";
import { OciLayoutWriter } from "../test/support/oci-layout.js";
import { runOk } from "../test/support/process-control.js";
import { importFixtureDb, startScanningBerth } from "../test/support/scanning.js";

const ROUNDS = Number(process.argv[2] ?? 3);
const PASSWORD = "bench-scan-admin-1";
const CREDS = `admin:${PASSWORD}`;

interface Variant {
  reference: string;
  digest: string;
}

/** The Debian image with one extra small layer naming `seed`: a new digest, same big layer. */
async function variant(dir: string, seed: string, base: Awaited<ReturnType<typeof debianImage>>) {
  const layout = await OciLayoutWriter.create(dir);
  const layer = await layout.writeBlob(
    await readFile(join(base.layoutDir, "blobs", "sha256", base.layer.digest.slice(7))),
    base.layer.mediaType,
  );
  const extraTar = await tarOf([{ path: "etc/bench-variant", content: seed }]);
  const extra = await layout.writeBlob(gzipSync(extraTar), MediaType.OciLayerGzip);
  const config = await layout.writeJson(
    {
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [base.diffId, digestOf(extraTar)] },
      history: [{ created_by: "debootstrap bookworm" }, { created_by: `COPY ${seed}` }],
    },
    MediaType.OciConfig,
  );
  const manifest = await layout.writeJson(
    { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer, extra] },
    MediaType.OciManifest,
  );
  layout.addManifest(manifest, "v");
  await layout.finish();
  return { reference: `oci:${dir}:v`, digest: manifest.digest } satisfies Variant;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "berth-bench-scan-"));
  const dbDir = await importFixtureDb(join(work, "vulndb"));
  const base = await debianImage();
  const server = await startScanningBerth({
    adminPassword: PASSWORD,
    dbDir,
    dataDir: join(work, "data"),
    env: { BERTH_SCAN_RESCAN_SCHEDULE: "" },
  });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(CREDS).toString("base64")}`,
        ...(body ? { "content-type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    return (await res.json()) as Record<string, unknown>;
  };
  const push = async (v: Variant, target: string) => {
    const started = performance.now();
    await runOk(
      "skopeo",
      [
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds",
        CREDS,
        v.reference,
        `docker://${server.host}/${target}`,
      ],
      { timeoutMs: 600_000 },
    );
    return performance.now() - started;
  };
  try {
    for (const p of ["off", "on"]) await api("POST", "/projects", { name: p });
    await api("PUT", "/projects/on/scan-policy", { scanOnPush: true });
    await push(await variant(join(work, "warm"), "warm", base), "off/warm:v");
    const off: number[] = [];
    const on: number[] = [];
    const toResult: number[] = [];
    const scans: { durationMs: number; cpuMs: number; packages: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const a = await variant(join(work, `off-${round}`), `off-${round}`, base);
      const b = await variant(join(work, `on-${round}`), `on-${round}`, base);
      off.push(await push(a, `off/deb:r${round}`));
      on.push(await push(b, `on/deb:r${round}`));
      const pushed = performance.now();
      for (;;) {
        const r = await api(
          "GET",
          `/projects/on/repositories/${encodeURIComponent("on/deb")}/artifacts/${b.digest}/scan`,
        );
        if (r.status === "done") {
          toResult.push(performance.now() - pushed);
          scans.push({
            durationMs: r.durationMs as number,
            cpuMs: r.cpuMs as number,
            packages: r.packages as number,
          });
          break;
        }
        if (r.status === "failed") throw new Error(`scan failed: ${r.error}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    process.stdout.write(
      `${JSON.stringify(
        {
          rounds: ROUNDS,
          pushMs: { off, on, medianOff: median(off), medianOn: median(on) },
          ratio: median(on) / median(off),
          pushToResultMs: toResult,
          scans,
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await server.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
