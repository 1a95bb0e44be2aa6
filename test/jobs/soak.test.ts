// Soak test of online garbage collection (issue 11, "Proof"): for a bounded time (50 s by
// default, BERTH_SOAK_MS to change it) several real `skopeo copy` pushers write images with
// distinct and shared layers into their own repositories (tags re-pushed with the same or
// another image, some manifests deleted by digest), real `skopeo` pullers copy acknowledged
// images back by digest, and GC jobs run back to back through the API (the path users take:
// `POST /api/v1/gc`, run by the server's worker), alternating with and without
// --delete-untagged, with `gc.grace` 0 so every unreferenced link and untagged manifest is
// collectable the moment GC looks, then (after a restart on the same data) with a 3 s grace
// so that most pushes are acknowledged while GC collects what was untagged or deleted (the
// default 2 h grace would collect nothing within the soak). Two stable images sharing
// layers with the others are pushed once and never touched.
// Afterwards: every tag's last acknowledged push (skopeo exited 0, no later delete) pulls
// back identical by digest; every acknowledged delete left its tag absent; no puller ever
// failed on an image whose tag nobody touched during the pull; and after a final GC with
// grace 0 the data directory is consistent (test/support/store-consistency.ts: hashes, rows,
// and blob bytes on disk = bytes the manifests reference).
// Pushes and deletes may fail under GC (a manifest PUT whose blob link GC removed first is
// refused): those are not acknowledged, so the tag may hold either state afterwards.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berth as berthCli } from "../cli/berth-cli.js";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import { inspectRaw, skopeo, skopeoCopy } from "../support/container-tools.js";
import { checkStoreConsistency } from "../support/store-consistency.js";
import { syntheticImageLayout, type WrittenImage } from "../support/synthetic-images.js";

const SOAK_MS = Number(process.env.BERTH_SOAK_MS ?? 50_000);
const PUSHERS = 3;
const PULLERS = 2;
const TAGS = 3;
const VARIANTS = 3;
const PASSWORD = "soak-admin-pass-1";
const CREDS = `admin:${PASSWORD}`;
const AUTH = `Basic ${Buffer.from(CREDS).toString("base64")}`;

type Image = WrittenImage & { reference: string };

/** What a tag may hold on the server: one entry when certain; null = no such tag. */
interface TagLedger {
  possible: (string | null)[];
  /** Bumped when an operation on the tag starts and when it ends. */
  epoch: number;
  busy: boolean;
}

interface SoakStats {
  pushesAcknowledged: number;
  pushesFailed: string[];
  deletesAcknowledged: number;
  deletesFailed: string[];
  pulls: number;
  /** Failed pulls whose tag was re-pushed or deleted meanwhile (allowed). */
  pullsSuperseded: number;
  /** Failed pulls of images nobody touched meanwhile: each one is a bug. */
  violations: string[];
  gcRuns: number;
  gcBlobsDeleted: number;
  gcManifestsDeleted: number;
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const message = (err: unknown) =>
  (err instanceof Error ? err.message : String(err)).split("\n").slice(0, 3).join(" ");

describe("soak: skopeo pushers and pullers while GC runs in a loop", () => {
  let berth: BerthProcess;
  let work: string;
  /** (Re)starts Berth on the same data directory with `gc.grace` = `grace`. */
  const startWithGrace = async (grace: string) => {
    await berth?.stop();
    berth = await startBerth({
      ...(berth ? { dataDir: berth.dataDir } : { keepData: true }),
      env: {
        BERTH_AUTH: "token",
        BERTH_ADMIN_PASSWORD: PASSWORD,
        BERTH_AUTO_CREATE_PROJECTS: "true",
        BERTH_GC_GRACE: grace,
        BERTH_TRASH_KEEP: "0", // deletes are final here (the trash: trash-e2e.test.ts)
        BERTH_LOG_LEVEL: "warn",
      },
    });
  };
  beforeAll(async () => {
    await startWithGrace("0");
    work = await mkdtemp(join(tmpdir(), "berth-soak-"));
  }, 120_000);
  afterAll(async () => {
    await berth?.stop();
    await berth?.removeData();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${berth.url}${path}`, {
      method,
      headers: { Authorization: AUTH, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };

  /** Starts a GC job and waits for it; returns its result. */
  const gcOnce = async (deleteUntagged: boolean) => {
    const job = await api("POST", "/api/v1/gc", { deleteUntagged });
    for (;;) {
      const now = await api("GET", `/api/v1/jobs/${job.id}`);
      if (now.state === "succeeded")
        return now.result as { blobs: number; manifests: number; links: number };
      if (now.state !== "queued" && now.state !== "running")
        throw new Error(`GC job ${job.id} ended ${now.state}: ${JSON.stringify(now.error)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  /** The manifest digest a tag or digest reference resolves to, or null when unknown. */
  const headDigest = async (repository: string, reference: string) => {
    const res = await fetch(`${berth.url}/v2/${repository}/manifests/${reference}`, {
      method: "HEAD",
      headers: {
        Authorization: AUTH,
        Accept: "application/vnd.oci.image.manifest.v1+json",
      },
    });
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(`HEAD ${repository}:${reference}: ${res.status}`);
    return res.headers.get("docker-content-digest");
  };

  /** skopeo copy by digest into a fresh OCI layout; checks the manifest digest came back. */
  const pullBack = async (repository: string, digest: string, dir: string) => {
    await rm(dir, { recursive: true, force: true });
    await skopeoCopy(`docker://${berth.host}/${repository}@${digest}`, `oci:${dir}:x`, [
      "--src-creds",
      CREDS,
    ]);
    const back = await inspectRaw(`oci:${dir}:x`);
    if (back.digest !== digest) throw new Error(`pulled ${back.digest}, expected ${digest}`);
    await rm(dir, { recursive: true, force: true });
  };

  it("loses no acknowledged image and ends consistent", async () => {
    // Images: variant v of tag t has a base layer shared by every repository (and with the
    // stable images), a layer shared by every variant of the tag, and one of its own.
    const images: Image[][] = [];
    for (let t = 0; t < TAGS; t++) {
      images.push([]);
      for (let v = 0; v < VARIANTS; v++) {
        images[t]!.push(
          await syntheticImageLayout(join(work, `img-${t}-${v}`), "x", {
            layers: [
              { seed: `soak-base-${v % 2}`, size: 40_000 },
              { seed: `soak-tag-${t}`, size: 20_000 },
              { seed: `soak-own-${t}-${v}`, size: 8_000 },
            ],
            label: `t${t}v${v}`,
          }),
        );
      }
    }
    const stable: { repository: string; image: Image }[] = [];
    for (let s = 0; s < 2; s++) {
      const image = await syntheticImageLayout(join(work, `stable-${s}`), "x", {
        layers: [
          { seed: `soak-base-${s}`, size: 40_000 },
          { seed: `soak-stable-${s}`, size: 12_000 },
        ],
        label: `stable${s}`,
      });
      await skopeoCopy(image.reference, `docker://${berth.host}/soak/stable:s${s}`, [
        "--dest-creds",
        CREDS,
      ]);
      stable.push({ repository: "soak/stable", image });
    }

    const ledger = new Map<string, TagLedger>(); // "repo:tag"
    for (let p = 0; p < PUSHERS; p++)
      for (let t = 0; t < TAGS; t++)
        ledger.set(`soak/r${p}:t${t}`, { possible: [null], epoch: 0, busy: false });
    const stats: SoakStats = {
      pushesAcknowledged: 0,
      pushesFailed: [],
      deletesAcknowledged: 0,
      deletesFailed: [],
      pulls: 0,
      pullsSuperseded: 0,
      violations: [],
      gcRuns: 0,
      gcBlobsDeleted: 0,
      gcManifestsDeleted: 0,
    };
    let deadline = 0;
    const running = () => Date.now() < deadline;

    const begin = (entry: TagLedger) => {
      entry.busy = true;
      entry.epoch++;
    };
    const end = (entry: TagLedger, possible: (string | null)[]) => {
      entry.possible = [...new Set(possible)];
      entry.busy = false;
      entry.epoch++;
    };

    const pusher = async (p: number) => {
      const repository = `soak/r${p}`;
      while (running()) {
        const t = Math.floor(Math.random() * TAGS);
        const key = `${repository}:t${t}`;
        const entry = ledger.get(key)!;
        const current = entry.possible.length === 1 ? entry.possible[0] : undefined;
        if (current && Math.random() < 0.15) {
          begin(entry);
          try {
            await skopeo([
              "delete",
              "--tls-verify=false",
              "--creds",
              CREDS,
              `docker://${berth.host}/${repository}@${current}`,
            ]);
            stats.deletesAcknowledged++;
            end(entry, [null]);
          } catch (err) {
            stats.deletesFailed.push(`${key}: ${message(err)}`);
            end(entry, [current, null]);
          }
          continue;
        }
        const image = pick(images[t]!);
        begin(entry);
        try {
          await skopeoCopy(image.reference, `docker://${berth.host}/${key}`, [
            "--dest-creds",
            CREDS,
          ]);
          stats.pushesAcknowledged++;
          end(entry, [image.manifest.digest]);
        } catch (err) {
          stats.pushesFailed.push(`${key}: ${message(err)}`);
          end(entry, [...entry.possible, image.manifest.digest]);
        }
      }
    };

    const puller = async (n: number) => {
      const dir = join(work, `pull-${n}`);
      while (running()) {
        if (Math.random() < 0.3) {
          const { repository, image } = pick(stable);
          stats.pulls++;
          try {
            await pullBack(repository, image.manifest.digest, dir);
          } catch (err) {
            stats.violations.push(`stable ${repository}@${image.manifest.digest}: ${message(err)}`);
          }
          continue;
        }
        const certain = [...ledger.entries()].filter(
          ([, e]) => !e.busy && e.possible.length === 1 && e.possible[0] !== null,
        );
        if (certain.length === 0) {
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        const [key, entry] = pick(certain);
        const digest = entry.possible[0]!;
        const epoch = entry.epoch;
        const repository = key.slice(0, key.indexOf(":"));
        stats.pulls++;
        try {
          await pullBack(repository, digest, dir);
        } catch (err) {
          // Only an image whose tag nobody touched during the pull must come back.
          if (entry.epoch !== epoch) stats.pullsSuperseded++;
          else stats.violations.push(`${key} (${digest}): ${message(err)}`);
        }
      }
    };

    const collector = async () => {
      while (running()) {
        const result = await gcOnce(stats.gcRuns % 2 === 1);
        stats.gcRuns++;
        stats.gcBlobsDeleted += result.blobs;
        stats.gcManifestsDeleted += result.manifests;
      }
    };

    const phase = async (ms: number) => {
      deadline = Date.now() + ms;
      await Promise.all([
        ...Array.from({ length: PUSHERS }, (_, p) => pusher(p)),
        ...Array.from({ length: PULLERS }, (_, n) => puller(n)),
        collector(),
      ]);
    };
    // Phase 1, grace 0: GC may take the link of a blob skopeo has just uploaded before the
    // manifest arrives, so many pushes are refused (MANIFEST_BLOB_UNKNOWN, not acknowledged);
    // deletes, pulls and aggressive collection go on. Phase 2, after a restart on the same
    // data, grace 3 s: uploads are protected, so most pushes are acknowledged, and what was
    // untagged or deleted more than 3 s ago is collected while the pushes go on.
    await phase(Math.round(SOAK_MS * 0.4));
    const phase1Acknowledged = stats.pushesAcknowledged;
    await startWithGrace("3s");
    await phase(SOAK_MS - Math.round(SOAK_MS * 0.4));
    console.log(
      `soak ${SOAK_MS} ms: ${JSON.stringify({ ...stats, pushesFailed: stats.pushesFailed.length, deletesFailed: stats.deletesFailed.length })}`,
    );
    console.log(`phase 1 acknowledged ${phase1Acknowledged} pushes`);
    const refusals = stats.pushesFailed.filter((f) => !f.includes("manifest blob unknown"));
    if (refusals.length > 0) console.log(`other failed pushes:\n${refusals.join("\n")}`);
    if (stats.deletesFailed.length > 0)
      console.log(`failed deletes:\n${stats.deletesFailed.join("\n")}`);

    expect(stats.violations).toEqual([]);
    // The soak did something worth checking: pushes, pulls, and GC that deleted things.
    expect(stats.pushesAcknowledged).toBeGreaterThanOrEqual(PUSHERS * 2);
    expect(stats.pulls).toBeGreaterThanOrEqual(PULLERS * 2);
    expect(stats.gcRuns).toBeGreaterThanOrEqual(2);
    expect(stats.gcBlobsDeleted + stats.gcManifestsDeleted).toBeGreaterThan(0);

    const verifyEnd = async () => {
      for (const [key, entry] of ledger) {
        const [repository, tag] = key.split(":") as [string, string];
        const actual = await headDigest(repository, tag);
        expect(entry.possible, `${key} holds ${actual}`).toContain(actual);
        if (actual !== null) await pullBack(repository, actual, join(work, "final"));
      }
      for (const [s, { repository, image }] of stable.entries()) {
        expect(await headDigest(repository, `s${s}`)).toBe(image.manifest.digest);
        await pullBack(repository, image.manifest.digest, join(work, "final"));
      }
    };
    await verifyEnd();
    // A final GC with grace 0 (untagged manifests too): nothing acknowledged goes, and the
    // disk then holds exactly what the remaining manifests reference.
    await startWithGrace("0");
    await gcOnce(true);
    await verifyEnd();
    await berth.stop();
    const consistency = await checkStoreConsistency(berth.dataDir);
    console.log(
      `consistency: ${consistency.blobFiles} blob files, ${consistency.diskBytes} bytes on disk, ${consistency.referencedBytes} referenced`,
    );
    expect(consistency.problems).toEqual([]);
    expect(consistency.diskBytes).toBe(consistency.referencedBytes);
    // And Berth's own checker agrees: `berth admin fsck` on the stopped server's data is clean.
    const fsck = await berthCli(["admin", "--data", berth.dataDir, "fsck", "--format", "json"]);
    expect(fsck.stderr).toBe("");
    expect(JSON.parse(fsck.stdout).problems).toEqual([]);
    expect(fsck.code).toBe(0);
  }, 600_000);
});
