// kill -9 during a retention run (issue 11, "Proof"): a project of 4 repositories × 500
// tags, the policy "retain the 20 most recently pushed", run as a `retention` job by the
// server's worker. Each repository gets one image pushed over HTTP; the other 499 tagged
// manifests (distinct by an annotation, same config and layer) are stored through meta/ while
// the server is stopped, with distinct push times, so the run has 1,920 deletions to do.
// The server is killed by PID when a quarter and then two thirds of the planned deletions
// are done, restarted on the same data each time (the dead worker's lease
// is made to expire once the new server is up, instead of after its 60 s), and the job
// is taken over and runs again from fresh facts until it succeeds. Afterwards the tags and
// manifests left are exactly what the dry run (made before) said would stay, and after a
// final GC with grace 0 the store is consistent (test/support/store-consistency.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobQueue } from "../../src/jobs/index.js";
import { openDatabase, putManifest } from "../../src/meta/index.js";
import { digestOf } from "../../src/oci/index.js";
import { berth as berthCli } from "../cli/berth-cli.js";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import { checkStoreConsistency } from "../support/store-consistency.js";

const PASSWORD = "retention-crash-pass-1";
const AUTH = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString("base64")}`;
const REPOS = 4;
const TAGS = 500;
const KEEP = 20;
const ENV = {
  BERTH_AUTH: "token",
  BERTH_ADMIN_PASSWORD: PASSWORD,
  BERTH_AUTO_CREATE_PROJECTS: "true",
  BERTH_GC_GRACE: "0",
  BERTH_TRASH_KEEP: "0", // deletes are final here (the trash: trash-e2e.test.ts)
  BERTH_JOBS_POLL_INTERVAL: "100ms",
  BERTH_LOG_LEVEL: "warn",
};

/** An OCI manifest of `config` + `layer`; `tag` in an annotation makes each one distinct. */
function manifestOf(config: Buffer, layer: Buffer, tag: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: digestOf(config),
        size: config.length,
      },
      layers: [
        {
          mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
          digest: digestOf(layer),
          size: layer.length,
        },
      ],
      annotations: { tag },
    }),
  );
}

async function pushBlob(url: string, repository: string, data: Buffer): Promise<string> {
  const digest = digestOf(data);
  const res = await fetch(`${url}/v2/${repository}/blobs/uploads/?digest=${digest}`, {
    method: "POST",
    headers: { Authorization: AUTH, "Content-Type": "application/octet-stream" },
    body: data,
  });
  if (res.status !== 201) throw new Error(`blob push: ${res.status} ${await res.text()}`);
  return digest;
}

/** One image (config + layer) tagged `tag`, by HTTP. */
async function pushTagged(url: string, repository: string, tag: string, layer: Buffer) {
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", repository }));
  await pushBlob(url, repository, layer);
  await pushBlob(url, repository, config);
  const res = await fetch(`${url}/v2/${repository}/manifests/${tag}`, {
    method: "PUT",
    headers: { Authorization: AUTH, "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
    body: manifestOf(config, layer, tag),
  });
  if (res.status !== 201) throw new Error(`manifest push: ${res.status} ${await res.text()}`);
  return config;
}

describe("kill -9 during a retention run", () => {
  let berth: BerthProcess;
  beforeAll(async () => {
    berth = await startBerth({ keepData: true, env: ENV });
  }, 120_000);
  afterAll(async () => {
    await berth?.stop();
    await berth?.removeData();
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${berth.url}/api/v1${path}`, {
      method,
      headers: { Authorization: AUTH, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };

  it("resumes after each kill and ends where the dry run said", async () => {
    const images: { repository: string; config: Buffer; layer: Buffer }[] = [];
    for (let r = 0; r < REPOS; r++) {
      const repository = `ret/app${r}`;
      const layer = Buffer.from(`layer of repository ${r} `.repeat(200));
      images.push({
        repository,
        layer,
        config: await pushTagged(berth.url, repository, "v0", layer),
      });
    }
    await berth.stop();
    const dbPath = `${berth.dataDir}/berth.db`;
    const seed = await openDatabase({ driver: "sqlite", path: dbPath });
    const now = Date.now();
    for (const { repository, config, layer } of images) {
      const references = [
        { kind: "blob" as const, digest: digestOf(config) },
        { kind: "blob" as const, digest: digestOf(layer) },
      ];
      for (let t = 1; t < TAGS; t++) {
        const content = manifestOf(config, layer, `v${t}`);
        await putManifest(seed.db, {
          repository,
          digest: digestOf(content),
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          content,
          references,
          tag: `v${t}`,
        });
      }
    }
    // Distinct push times: v0 oldest, v499 newest.
    await seed.db
      .updateTable("manifests")
      .set((eb) => ({ pushed_at: eb(eb.val(now - 1_000_000), "+", eb.ref("id")) }))
      .execute();
    await seed.close();
    berth = await startBerth({ dataDir: berth.dataDir, env: ENV });
    await api("PUT", "/projects/ret/retention", {
      rules: [
        {
          repositories: { matching: "**" },
          tags: { matching: "**" },
          retain: { mostRecentlyPushed: KEEP },
        },
      ],
    });
    const dry = (await api("POST", "/projects/ret/retention/runs", { dryRun: true })) as {
      deleted: { repository: string; digest: string; tags: string[] }[];
      retained: { repository: string; digest: string; tags: string[] }[];
    };
    expect(dry.deleted.length).toBe(REPOS * (TAGS - KEEP));
    const expectedTags = dry.retained
      .flatMap((v) => v.tags.map((t) => `${v.repository}:${t}`))
      .sort();

    const meta = await openDatabase({ driver: "sqlite", path: dbPath });
    try {
      const tagCount = async () =>
        Number(
          (
            await meta.db
              .selectFrom("tags")
              .select((eb) => eb.fn.countAll().as("n"))
              .executeTakeFirstOrThrow()
          ).n,
        );
      const job = await new JobQueue(meta.db).enqueue(
        "retention",
        { project: "ret" },
        { maxAttempts: 10 },
      );
      const total = REPOS * TAGS;
      for (const fraction of [0.25, 0.66]) {
        const target = total - Math.round(dry.deleted.length * fraction);
        const deadline = Date.now() + 120_000;
        let left = await tagCount();
        while (left > target) {
          if (Date.now() > deadline) throw new Error(`no progress to ${target} tags: ${left}`);
          await new Promise((r) => setTimeout(r, 1));
          left = await tagCount();
        }
        await berth.kill9();
        const after = await tagCount();
        expect(after, `killed at ${fraction} mid-run, with deletions still to do`).toBeGreaterThan(
          total - dry.deleted.length,
        );
        const row = await meta.db
          .selectFrom("jobs")
          .select(["state", "attempts"])
          .where("id", "=", job.id)
          .executeTakeFirstOrThrow();
        expect(row.state).toBe("running");
        // Restart first, then fast-forward the dead worker's lease (60 s) so the restarted
        // worker takes the job over while this test watches.
        berth = await startBerth({ dataDir: berth.dataDir, env: ENV });
        await meta.db
          .updateTable("jobs")
          .set({ lease_expires_at: 0 })
          .where("id", "=", job.id)
          .execute();
      }
      const deadline = Date.now() + 120_000;
      let done = await new JobQueue(meta.db).get(job.id);
      while (done?.state !== "succeeded") {
        if (Date.now() > deadline || done?.state === "failed" || done?.state === "cancelled")
          throw new Error(`retention job: ${JSON.stringify(done)}`);
        await new Promise((r) => setTimeout(r, 100));
        done = await new JobQueue(meta.db).get(job.id);
      }
      expect(done.attempts).toBe(3);

      const left = await meta.db
        .selectFrom("tags as t")
        .innerJoin("manifests as m", "m.id", "t.manifest_id")
        .innerJoin("repositories as r", "r.id", "m.repository_id")
        .select(["r.name", "t.name as tag"])
        .execute();
      expect(left.map((l) => `${l.name}:${l.tag}`).sort()).toEqual(expectedTags);
      const manifests = await meta.db
        .selectFrom("manifests as m")
        .innerJoin("repositories as r", "r.id", "m.repository_id")
        .select(["r.name", "m.digest"])
        .execute();
      expect(manifests.map((m) => `${m.name}@${m.digest}`).sort()).toEqual(
        dry.retained.map((v) => `${v.repository}@${v.digest}`).sort(),
      );
    } finally {
      await meta.close();
    }

    const gc = await api("POST", "/gc", {});
    for (;;) {
      const now = await api("GET", `/jobs/${gc.id}`);
      if (now.state === "succeeded") break;
      if (now.state !== "queued" && now.state !== "running")
        throw new Error(`GC job: ${JSON.stringify(now)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await berth.stop();
    const consistency = await checkStoreConsistency(berth.dataDir);
    expect(consistency.problems).toEqual([]);
    // And Berth's own checker agrees: `berth admin fsck` on the stopped server's data is clean.
    const fsck = await berthCli(["admin", "--data", berth.dataDir, "fsck", "--format", "json"]);
    expect(fsck.stderr).toBe("");
    expect(JSON.parse(fsck.stdout).problems).toEqual([]);
    expect(fsck.code).toBe(0);
    // Each repository's config and layer stay (its kept manifests reference them).
    expect(consistency.blobFiles).toBe(REPOS * 2);
  }, 600_000);
});
