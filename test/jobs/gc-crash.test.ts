// kill -9 during each phase of garbage collection, then a full GC: nothing acknowledged is
// lost, no row points at missing bytes, no claim is left, and the disk holds exactly the
// bytes the remaining manifests reference. The GC runs in a child process held at the step
// (gc-process.ts) and is killed there by PID.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkStore } from "../../src/jobs/fsck.js";
import { collectGarbage, type GcStep } from "../../src/jobs/gc.js";
import type { FilesystemBlobStore } from "../../src/storage/index.js";
import {
  pushImage,
  randomBytes,
  startTestRegistry,
  type TestRegistry,
} from "../registry/harness.js";

const STEPS: GcStep[] = [
  "planned",
  "before-manifest",
  "before-link",
  "before-claim",
  "claimed",
  "bytes-removed",
  "finished",
];

async function filesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

function gcUntilKilled(dataDir: string, step: GcStep): Promise<void> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "test/jobs/gc-process.ts", dataDir, step],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("paused")) child.kill("SIGKILL");
    });
    child.once("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve();
      else reject(new Error(`GC process ended (${code}) before step ${step}: ${out}`));
    });
  });
}

describe("kill -9 during garbage collection", () => {
  let registry: TestRegistry;
  beforeEach(async () => {
    registry = await startTestRegistry({
      env: {
        BERTH_AUTH: "none",
        BERTH_JOBS_WORKERS: "0",
        BERTH_GC_GRACE: "0",
        BERTH_TRASH_KEEP: "0", // deletes are final here (the trash: trash-e2e.test.ts)
        BERTH_MANIFEST_CACHE_ENTRIES: "0",
      },
    });
  });
  afterEach(async () => {
    await registry.destroy();
  });

  for (const step of STEPS) {
    it(`at "${step}", then a full run: nothing lost, nothing dangling`, async () => {
      const url = registry.url;
      const shared = randomBytes(5000, 90);
      const kept = await pushImage(url, "k/app", "v1", {
        layers: [shared, randomBytes(800, 91)],
        seed: 91,
      });
      const gone = await pushImage(url, "k/app", "old", {
        layers: [shared, randomBytes(900, 92)],
        seed: 92,
      });
      await fetch(`${url}/v2/k/app/manifests/${gone.digest}`, { method: "DELETE" });
      const untagged = await pushImage(url, "k/app", "tmp", { seed: 93 });
      await fetch(`${url}/v2/k/app/manifests/tmp`, { method: "DELETE" });

      await gcUntilKilled(registry.dataDir, step);
      const db = registry.context.db;
      const store = registry.context.store as FilesystemBlobStore;
      const report = await collectGarbage(db, store, { graceMs: 0, deleteUntagged: true });
      expect(report.dryRun).toBe(false);

      // The acknowledged image is whole: manifest, every blob readable and hashing to its name.
      expect((await fetch(`${url}/v2/k/app/manifests/v1`)).status).toBe(200);
      for (const digest of [kept.config, ...kept.layers]) {
        const res = await fetch(`${url}/v2/k/app/blobs/${digest}`);
        expect(res.status).toBe(200);
        const bytes = Buffer.from(await res.arrayBuffer());
        expect(`sha256:${createHash("sha256").update(bytes).digest("hex")}`).toBe(digest);
      }
      expect((await fetch(`${url}/v2/k/app/manifests/${gone.digest}`)).status).toBe(404);
      expect((await fetch(`${url}/v2/k/app/manifests/${untagged.digest}`)).status).toBe(404);
      // Every blob row has its bytes; no claim is left behind.
      const rows = await db.selectFrom("blobs").select(["digest", "size", "deleting_at"]).execute();
      for (const row of rows) {
        expect(row.deleting_at).toBeNull();
        expect((await stat(store.blobPath(row.digest))).size).toBe(Number(row.size));
      }
      // The disk holds exactly the kept image's blobs.
      const keptBytes = (
        await Promise.all([kept.config, ...kept.layers].map((d) => readFile(store.blobPath(d))))
      ).reduce((t, b) => t + b.length, 0);
      expect(await filesUnder(join(registry.dataDir, "blobs"))).toBe(keptBytes);
      expect(rows.map((r) => r.digest).sort()).toEqual([kept.config, ...kept.layers].sort());
      // And fsck agrees: every byte hashes to its name, every row points at what exists.
      const fsck = await checkStore(db, store);
      expect(fsck.problems).toEqual([]);
      expect(fsck.clean).toBe(true);
    }, 180_000);
  }
});
