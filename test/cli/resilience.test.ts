// Resilience of `berth copy` end to end, with real registries (CNCF distribution 2.8) and a
// fault-injecting proxy (test/client/fault-proxy.ts) in front of one of them:
// - the source server is killed (SIGKILL) while a layer is mid-transfer: the copy fails with
//   one sentence; after the server restarts on the same data, re-running the copy finishes
//   without re-sending the layers that had already arrived;
// - a registry that answers 429 is retried until it serves the request.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryClient } from "../../src/client/registry-client.js";
import { copyImage } from "../../src/transport/copy.js";
import { openImageDestination, openImageSource } from "../../src/transport/index.js";
import { FaultProxy } from "../client/fault-proxy.js";
import { inspectRaw } from "../support/container-tools.js";
import { type ReferenceRegistry, startReferenceRegistry } from "../support/reference-registry.js";
import { syntheticImageLayout } from "../support/synthetic-images.js";
import { berth, berthOk } from "./berth-cli.js";

const MiB = 1024 * 1024;
let source: ReferenceRegistry;
let destination: ReferenceRegistry;
let work: string;
let image: Awaited<ReturnType<typeof syntheticImageLayout>>;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-cli-resilience-"));
  source = await startReferenceRegistry({ keepData: true });
  destination = await startReferenceRegistry();
  image = await syntheticImageLayout(join(work, "layout"), "1.0", {
    label: "resilience",
    layers: [
      { seed: "res-0", size: 3 * MiB },
      { seed: "res-1", size: 3 * MiB },
      { seed: "res-2", size: 3 * MiB },
    ],
  });
  const src = await openImageSource(image.reference);
  const dst = await openImageDestination(`${source.host}/app/big:1`);
  await copyImage(src, dst);
  await src.close();
  await dst.close();
});

afterAll(async () => {
  await source?.stop();
  await source?.removeData();
  await destination?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("berth copy resilience", () => {
  it("resumes after the source server dies mid-layer, without re-sending finished layers", async () => {
    const [first, second] = image.layers;
    if (!first || !second) throw new Error("fixture needs layers");
    let held!: () => void;
    const heldNow = new Promise<void>((resolve) => {
      held = resolve;
    });
    const proxy = await FaultProxy.start(source.host, {
      holdBlob: { digest: second.digest, bytes: MiB, onHeld: () => held() },
    });
    try {
      const target = `${destination.host}/copied/big:1`;
      const running = berth(["copy", "-j", "1", `${proxy.host}/app/big:1`, target]);
      await heldNow;
      await source.kill9();
      proxy.dropHeld();
      const failed = await running;
      expect(failed.code).toBe(3);
      expect(failed.stderr.trim().split("\n")).toHaveLength(1);

      const check = new RegistryClient(destination.host);
      expect(await check.hasBlob("copied/big", first.digest)).toBe(true);
      expect(await check.hasBlob("copied/big", second.digest)).toBe(false);
      await check.close();

      source = await startReferenceRegistry({ dataDir: source.dataDir, keepData: true });
      proxy.upstream = source.host;
      const done = await berthOk([
        "copy",
        "-j",
        "1",
        "--format",
        "json",
        `${proxy.host}/app/big:1`,
        target,
      ]);
      const result = JSON.parse(done.stdout) as { digest: string; blobsSkipped: number };
      expect(result.digest).toBe(image.manifest.digest);
      expect(result.blobsSkipped).toBe(1);
      expect(proxy.blobGets(first.digest)).toHaveLength(1);
      expect(proxy.blobGets(second.digest).length).toBeGreaterThanOrEqual(2);
      expect((await inspectRaw(`docker://${target}`)).digest).toBe(image.manifest.digest);
    } finally {
      await proxy.stop();
    }
  });

  it("retries a registry that answers 429", async () => {
    const proxy = await FaultProxy.start(destination.host, { tooManyRequests: 4 });
    try {
      const target = `${proxy.host}/throttled/big:1`;
      await berthOk(["copy", `${source.host}/app/big:1`, target]);
      expect(proxy.injected429).toBe(4);
      expect((await inspectRaw(`docker://${destination.host}/throttled/big:1`)).digest).toBe(
        image.manifest.digest,
      );
    } finally {
      await proxy.stop();
    }
  });
});
