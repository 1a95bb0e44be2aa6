// The trash with real clients and a real Berth process (default trash.keep, 7 days): skopeo
// pushes two images sharing a layer and deletes one by digest; `berth admin trash ls` lists
// it; `berth admin gc --wait` frees nothing of it; `berth admin trash restore REPO@DIGEST`
// brings it back and skopeo reads the same digest; `berth delete REPO:TAG` trashes the tag
// alone and `trash restore REPO:TAG` puts it back; a restore whose tag was taken since fails
// with a sentence naming it (exit 3); after `trash purge --all`, GC leaves exactly the bytes still
// referenced on disk. Audit entries for delete-to-trash, restore and purge.
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestOf } from "../../src/oci/index.js";
import { BERTH_BIN, type BerthProcess, startBerth } from "../support/berth-process.js";
import { skopeo, skopeoCopy } from "../support/container-tools.js";
import { run } from "../support/process-control.js";
import { syntheticImageLayout } from "../support/synthetic-images.js";

const PASSWORD = "trash-admin-pass-1";
const creds = `admin:${PASSWORD}`;

async function filesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

interface Entry {
  id: number;
  repository: string;
  kind: string;
  digest: string;
  tag: string | null;
  tags: string[];
  expiresAt: string;
  deletedAt: string;
}

describe("the trash with real clients", () => {
  let berth: BerthProcess;
  let work: string;
  beforeAll(async () => {
    berth = await startBerth({
      env: {
        BERTH_AUTH: "token",
        BERTH_ADMIN_PASSWORD: PASSWORD,
        BERTH_AUTO_CREATE_PROJECTS: "true",
        BERTH_GC_GRACE: "0",
      },
    });
    work = await mkdtemp(join(tmpdir(), "berth-trash-e2e-"));
  }, 120_000);
  afterAll(async () => {
    await berth?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const env = { ...process.env, BERTH_USERNAME: "admin", BERTH_PASSWORD: PASSWORD };
  const admin = (args: string[]) =>
    run(
      process.execPath,
      [BERTH_BIN, "admin", "--server", berth.url, "--format", "json", ...args],
      {
        env,
        timeoutMs: 120_000,
      },
    );
  const berthCli = (args: string[]) =>
    run(process.execPath, [BERTH_BIN, ...args], { env, timeoutMs: 120_000 });
  const digestAt = async (reference: string) =>
    digestOf(
      Buffer.from(
        (await skopeo(["inspect", "--raw", "--tls-verify=false", "--creds", creds, reference]))
          .stdout,
      ),
    );
  const trashLs = async (...args: string[]) => {
    const out = await admin(["trash", "ls", ...args]);
    expect(out.code, out.stderr).toBe(0);
    return JSON.parse(out.stdout) as Entry[];
  };
  const api = async (path: string) => {
    const res = await fetch(`${berth.url}/api/v1${path}`, {
      headers: { authorization: `Basic ${Buffer.from(creds).toString("base64")}` },
    });
    return (await res.json()) as {
      items: { action: string; resource: string; detail?: unknown }[];
    };
  };

  it("skopeo delete → trash ls → restore → skopeo inspect reads the same digest; purge then GC frees it", async () => {
    const shared = { seed: "trash-shared", size: 150_000 };
    const images = {
      a: await syntheticImageLayout(join(work, "a"), "1", {
        layers: [shared, { seed: "trash-a", size: 40_000 }],
        label: "a",
      }),
      b: await syntheticImageLayout(join(work, "b"), "1", {
        layers: [shared, { seed: "trash-b", size: 250_000 }],
        label: "b",
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
    const bDigest = images.b.manifest.digest;
    await skopeo([
      "delete",
      "--tls-verify=false",
      "--creds",
      creds,
      `docker://${berth.host}/team/b@${bDigest}`,
    ]);
    const listed = await trashLs("--repository", "team/b");
    expect(listed.map((e) => [e.kind, e.digest, e.tags])).toEqual([["artifact", bDigest, ["1"]]]);
    const entry = listed[0]!;
    expect(Date.parse(entry.expiresAt) - Date.parse(entry.deletedAt)).toBe(7 * 24 * 3600_000);

    // GC, even with --delete-untagged and no grace, keeps everything the trash holds.
    const gc = await admin(["gc", "--delete-untagged", "--wait"]);
    expect(gc.code, gc.stderr).toBe(0);
    expect((JSON.parse(gc.stdout) as { result: { blobs: number } }).result.blobs).toBe(0);
    expect(await filesUnder(blobsDir)).toBe(before);

    const restored = await admin(["trash", "restore", `team/b@${bDigest}`]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(JSON.parse(restored.stdout)).toMatchObject({
      entry: { id: entry.id },
      manifests: [{ digest: bDigest, tags: ["1"] }],
    });
    expect(await digestAt(`docker://${berth.host}/team/b:1`)).toBe(bDigest);
    const out = join(work, "out-b");
    await skopeoCopy(`docker://${berth.host}/team/b:1`, `oci:${out}:x`, ["--src-creds", creds]);
    expect(await trashLs()).toEqual([]);

    // `berth delete REPO:TAG` trashes the tag only; restore by REPO:TAG.
    const del = await berthCli(["delete", `${berth.host}/team/a:1`, "--creds", creds]);
    expect(del.code, del.stderr).toBe(0);
    const tagEntries = await trashLs("--kind", "tag");
    expect(tagEntries.map((e) => [e.repository, e.tag, e.digest])).toEqual([
      ["team/a", "1", images.a.manifest.digest],
    ]);
    const tagBack = await admin(["trash", "restore", "team/a:1"]);
    expect(tagBack.code, tagBack.stderr).toBe(0);
    expect(await digestAt(`docker://${berth.host}/team/a:1`)).toBe(images.a.manifest.digest);

    // A tag taken since: exit 1, one sentence naming it, nothing changed.
    await skopeo([
      "delete",
      "--tls-verify=false",
      "--creds",
      creds,
      `docker://${berth.host}/team/b@${bDigest}`,
    ]);
    await skopeoCopy(images.a.reference, `docker://${berth.host}/team/b:1`, [
      "--dest-creds",
      creds,
    ]);
    const refused = await admin(["trash", "restore", `team/b@${bDigest}`]);
    expect(refused.code).toBe(3);
    // With --format json the error is a JSON document on stdout.
    const error = JSON.parse(refused.stdout) as { error: { message: string } };
    expect(JSON.stringify(error)).toContain("team/b:1 (now ");
    expect(refused.stdout + refused.stderr).not.toMatch(/\n\s+at /);
    expect(await digestAt(`docker://${berth.host}/team/b:1`)).toBe(images.a.manifest.digest);
    expect(await trashLs("--repository", "team/b")).toHaveLength(1);
    const badRef = await admin(["trash", "restore", "not a ref"]);
    expect(badRef.code).toBe(2);

    // Purge everything, then GC: exactly the bytes still referenced stay on disk.
    await skopeo([
      "delete",
      "--tls-verify=false",
      "--creds",
      creds,
      `docker://${berth.host}/team/b@${images.a.manifest.digest}`,
    ]);
    const purge = await admin(["trash", "purge", "--all"]);
    expect(purge.code, purge.stderr).toBe(0);
    expect((JSON.parse(purge.stdout) as { purged: number }).purged).toBe(2);
    expect(await trashLs()).toEqual([]);
    const after = await admin(["gc", "--wait"]);
    expect(after.code, after.stderr).toBe(0);
    const referenced = new Map<string, number>();
    const raw = JSON.parse(
      (
        await skopeo([
          "inspect",
          "--raw",
          "--tls-verify=false",
          "--creds",
          creds,
          `docker://${berth.host}/team/a:1`,
        ])
      ).stdout,
    ) as { config: { digest: string; size: number }; layers: { digest: string; size: number }[] };
    referenced.set(raw.config.digest, raw.config.size);
    for (const l of raw.layers) referenced.set(l.digest, l.size);
    expect(await filesUnder(blobsDir)).toBe([...referenced.values()].reduce((t, n) => t + n, 0));

    // The audit log has the delete (naming its trash entry), the restores and the purges.
    const restores = await api("/audit?action=trash.restore");
    expect(restores.items.map((e) => e.resource)).toEqual(
      expect.arrayContaining([`team/b@${bDigest}`, "team/a:1"]),
    );
    const purged = await api("/audit?action=trash.purged");
    expect(purged.items.length).toBe(2);
    expect((await api("/audit?action=trash.purge")).items.length).toBe(1);
    const deletes = await api("/audit?action=delete&page_size=100");
    // The API answers `detail` as the JSON text stored.
    const detailOf = (d: unknown) =>
      (typeof d === "string" ? JSON.parse(d) : d) as { trash?: number } | undefined;
    const trashed = deletes.items.filter((e) => typeof detailOf(e.detail)?.trash === "number");
    expect(trashed.map((e) => e.resource)).toEqual(
      expect.arrayContaining([`team/b@${bDigest}`, "team/a:1"]),
    );
  }, 600_000);
});
