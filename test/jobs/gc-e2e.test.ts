// Proof that disk returns, with real clients and a real Berth process: skopeo pushes three
// images (two share a layer), one is deleted, `berth admin gc --wait` runs over the API,
// and afterwards the bytes under blobs/ are exactly the bytes the remaining manifests
// reference; the kept images copy back identical by digest; the run is in the job history
// (`berth admin jobs ls|show`). Also: an outbox event acknowledged by a 201 survives kill -9.
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OutboxDispatcher } from "../../src/jobs/index.js";
import { type OutboxEvent, openDatabase } from "../../src/meta/index.js";
import { digestOf } from "../../src/oci/index.js";
import { pushImage } from "../registry/harness.js";
import { BERTH_BIN, type BerthProcess, startBerth } from "../support/berth-process.js";
import { inspectRaw, skopeo, skopeoCopy } from "../support/container-tools.js";
import { run } from "../support/process-control.js";
import { syntheticImageLayout } from "../support/synthetic-images.js";

const PASSWORD = "gc-admin-pass-1";
const creds = `admin:${PASSWORD}`;

async function filesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

describe("garbage collection with real clients", () => {
  let berth: BerthProcess;
  let work: string;
  beforeAll(async () => {
    berth = await startBerth({
      env: {
        BERTH_AUTH: "token",
        BERTH_ADMIN_PASSWORD: PASSWORD,
        BERTH_AUTO_CREATE_PROJECTS: "true",
        BERTH_GC_GRACE: "0",
        BERTH_TRASH_KEEP: "0", // deletes are final here (the trash: trash-e2e.test.ts)
      },
    });
    work = await mkdtemp(join(tmpdir(), "berth-gc-e2e-"));
  }, 120_000);
  afterAll(async () => {
    await berth?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const admin = (args: string[]) =>
    run(
      process.execPath,
      [BERTH_BIN, "admin", "--server", berth.url, "--format", "json", ...args],
      {
        env: {
          ...process.env,
          BERTH_USERNAME: "admin",
          BERTH_PASSWORD: PASSWORD,
        },
        timeoutMs: 120_000,
      },
    );

  /** `skopeo inspect --raw` with the admin's credentials (auto-created projects are private). */
  const rawOf = async (reference: string) => {
    const out = await skopeo([
      "inspect",
      "--raw",
      "--tls-verify=false",
      "--creds",
      creds,
      reference,
    ]);
    const bytes = Buffer.from(out.stdout);
    return { digest: digestOf(bytes), json: JSON.parse(out.stdout) as unknown };
  };

  it("leaves exactly the referenced bytes on disk", async () => {
    const shared = { seed: "gc-shared", size: 200_000 };
    const images = {
      a: await syntheticImageLayout(join(work, "a"), "1", {
        layers: [shared, { seed: "gc-a", size: 50_000 }],
        label: "a",
      }),
      b: await syntheticImageLayout(join(work, "b"), "1", {
        layers: [shared, { seed: "gc-b", size: 300_000 }],
        label: "b",
      }),
      c: await syntheticImageLayout(join(work, "c"), "1", {
        layers: [{ seed: "gc-c", size: 120_000 }],
        label: "c",
      }),
    };
    for (const [name, image] of Object.entries(images)) {
      await skopeoCopy(image.reference, `docker://${berth.host}/team/${name}:1`, [
        "--dest-creds",
        creds,
      ]);
    }
    const blobsDir = join(berth.dataDir, "blobs");
    const before = await filesUnder(blobsDir);
    // Delete b by digest: the manifest and its tag.
    expect((await rawOf(`docker://${berth.host}/team/b:1`)).digest).toBe(images.b.manifest.digest);
    await skopeo([
      "delete",
      "--tls-verify=false",
      "--creds",
      creds,
      `docker://${berth.host}/team/b@${images.b.manifest.digest}`,
    ]);

    const dry = await admin(["gc", "--dry-run", "--wait"]);
    expect(dry.code).toBe(0);
    const dryJob = JSON.parse(dry.stdout) as {
      state: string;
      result: { bytesFreed: number; blobs: number };
    };
    expect(dryJob.state).toBe("succeeded");
    expect(await filesUnder(blobsDir)).toBe(before); // a dry run changes nothing

    const result = await admin(["gc", "--wait"]);
    expect(result.code).toBe(0);
    const job = JSON.parse(result.stdout) as {
      id: number;
      state: string;
      result: { blobs: number; bytesFreed: number };
    };
    expect(job.state).toBe("succeeded");
    expect(job.result.blobs).toBe(2); // b's own layer and config; the shared layer stays
    expect(job.result.bytesFreed).toBe(dryJob.result.bytesFreed);

    // Bytes on disk = distinct config + layer bytes of the manifests that remain.
    const referenced = new Map<string, number>();
    for (const name of ["a", "c"]) {
      const raw = await rawOf(`docker://${berth.host}/team/${name}:1`);
      const json = raw.json as {
        config: { digest: string; size: number };
        layers: { digest: string; size: number }[];
      };
      referenced.set(json.config.digest, json.config.size);
      for (const l of json.layers) referenced.set(l.digest, l.size);
    }
    const expected = [...referenced.values()].reduce((a, n) => a + n, 0);
    expect(await filesUnder(blobsDir)).toBe(expected);
    expect(before - expected).toBe(job.result.bytesFreed);

    // The kept images copy back identical by digest.
    for (const name of ["a", "c"]) {
      const out = join(work, `out-${name}`);
      await skopeoCopy(`docker://${berth.host}/team/${name}:1`, `oci:${out}:x`, [
        "--src-creds",
        creds,
      ]);
      const back = await inspectRaw(`oci:${out}:x`);
      expect(back.digest).toBe(images[name as "a" | "c"].manifest.digest);
    }

    // History: the two runs are gc jobs, the real one with its log.
    const ls = JSON.parse((await admin(["jobs", "ls", "--kind", "gc"])).stdout) as { id: number }[];
    expect(ls.map((j) => j.id)).toContain(job.id);
    const shown = JSON.parse((await admin(["jobs", "show", String(job.id)])).stdout) as {
      log: { message: string }[];
    };
    expect(shown.log.some((l) => l.message.startsWith("deleted 2 blobs"))).toBe(true);
    const bad = await admin(["jobs", "show", "nope"]);
    expect(bad.code).toBe(2);
  }, 600_000);
});

describe("the transactional outbox across kill -9", () => {
  it("a consumer sees an event whose 201 was sent just before the process died", async () => {
    const berth = await startBerth({ env: { BERTH_AUTH: "none" }, keepData: true });
    const dbPath = join(berth.dataDir, "berth.db");
    try {
      // The consumer's cursor exists before the push (it starts at the newest event).
      const before = await openDatabase({ driver: "sqlite", path: dbPath });
      const registering = new OutboxDispatcher(before.db, pino({ level: "silent" }), {
        owner: "t",
      });
      await registering.subscribe({ name: "after-crash", handle: async () => {} });
      await before.close();
      const image = await pushImage(berth.url, "crash/app", "v1", { seed: 77 });
      await berth.kill9(); // right after the 201: no listener ran
      const again = await startBerth({ dataDir: berth.dataDir, env: { BERTH_AUTH: "none" } });
      try {
        expect((await fetch(`${again.url}/v2/crash/app/manifests/v1`)).status).toBe(200);
        const meta = await openDatabase({ driver: "sqlite", path: dbPath });
        const seen: OutboxEvent[] = [];
        const consumer = new OutboxDispatcher(meta.db, pino({ level: "silent" }), { owner: "t2" });
        await consumer.subscribe({
          name: "after-crash",
          types: ["manifest.pushed"],
          handle: async (events) => void seen.push(...events),
        });
        await consumer.dispatch();
        await consumer.stop();
        await meta.close();
        expect(
          seen.map((e) => [e.type, e.repository, (e.data as { digest: string }).digest]),
        ).toEqual([["manifest.pushed", "crash/app", image.digest]]);
      } finally {
        await again.stop();
      }
    } finally {
      await berth.removeData();
    }
  }, 300_000);
});
