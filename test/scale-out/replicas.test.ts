// Scale-out end to end: three `berth serve` replicas sharing one real PostgreSQL and one bucket
// on a real Ceph radosgw, behind a real nginx doing round-robin with no sticky sessions, and
// skopeo as the client. Proves: the three start together on an empty database (the schema is
// migrated once, the others wait on the migration lock); parallel pushes and pulls through
// the balancer land on every replica; a token issued by one replica is accepted by the others
// (token auth, signing keys shared through the database with auth.secretKey); one chunked upload continues from replica to replica
// (each PATCH on a different one); kill -9 of a replica in the middle of a push is absorbed by
// the client's retry through the balancer; GC, scheduled on one replica, runs while pushes go
// through the others and removes a deleted image's objects from the bucket; and at the end
// every acknowledged image pulls back identical by digest. Caches: a tag move, a manifest
// delete and a permission change on one replica are seen by the others on the next request
// (LISTEN/NOTIFY, src/meta/cluster.ts).
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestOf } from "../../src/oci/index.js";
import { S3BlobStore } from "../../src/storage/index.js";
import { type PostgresServer, startPostgres } from "../registry/postgres-server.js";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import { type CephRgw, freshBucket, s3Client, s3Env, sharedCephRgw } from "../support/ceph-rgw.js";
import { inspectRaw, skopeo, skopeoCopy } from "../support/container-tools.js";
import { type NginxBalancer, startNginxBalancer } from "../support/nginx-balancer.js";
import { syntheticImageLayout } from "../support/synthetic-images.js";

const MiB = 1024 * 1024;
const ADMIN_PASSWORD = "scale-out-admin-1";
const BASIC = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64")}`;
const CREDS = `admin:${ADMIN_PASSWORD}`;
let postgres: PostgresServer;
let rgw: CephRgw;
let bucket: string;
let replicas: BerthProcess[] = [];
let lb: NginxBalancer;
let work: string;
/** Every image a push acknowledged: reference through the balancer → manifest digest. */
const acknowledged = new Map<string, string>();
/** When the first and the latest skopeo push through the balancer ended (ms). */
const pushWindow = { first: 0, last: 0 };

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-scale-out-"));
  [postgres, rgw] = await Promise.all([startPostgres(), sharedCephRgw()]);
  const databaseUrl = await postgres.createDatabase("scale_out");
  bucket = await freshBucket(rgw, "scale-out");
  const shared = {
    BERTH_AUTH: "token",
    BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
    // One secret on every replica: the token signing keys are then shared through the database.
    BERTH_AUTH_SECRET_KEY: randomBytes(32).toString("base64"),
    BERTH_DATABASE_DRIVER: "postgres",
    BERTH_DATABASE_URL: databaseUrl,
    // The by-digest manifest LRU stays on (the default): evictions travel by LISTEN/NOTIFY.
    BERTH_JOBS_WORKERS: "0",
    // Schedules live in the database: every replica must carry the same ones (a replica
    // without it would remove the schedule at start-up). Only replica 0 runs jobs.
    BERTH_GC_SCHEDULE: "*/5 * * * * *",
    BERTH_GC_GRACE: "20s",
    BERTH_TRASH_KEEP: "0", // the deleted image is collected by the scheduled GC, not kept in the trash
    ...s3Env(rgw, bucket, "registry"),
  };
  // Replica 0 runs the jobs (and the GC schedule); all three start at once on an empty database.
  replicas = await Promise.all(
    [0, 1, 2].map((i) =>
      startBerth({
        env:
          i === 0
            ? {
                ...shared,
                BERTH_JOBS_WORKERS: "1",
                BERTH_JOBS_POLL_INTERVAL: "500ms",
              }
            : shared,
        startTimeoutMs: 120_000,
      }),
    ),
  );
  lb = await startNginxBalancer(replicas.map((r) => r.host));
  const project = await fetch(`${lb.url}/api/v1/projects`, {
    method: "POST",
    headers: { Authorization: BASIC, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "team" }),
  });
  expect(project.status).toBe(201);
}, 300_000);

afterAll(async () => {
  await lb?.stop();
  await Promise.all(replicas.map((r) => r.stop()));
  await postgres?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function layout(name: string, layers: { seed: string; size: number }[]) {
  return syntheticImageLayout(join(work, name), "v1", { layers, label: name });
}

async function push(name: string, layers: { seed: string; size: number }[], extra: string[] = []) {
  const image = await layout(name, layers);
  const reference = `${lb.host}/team/${name}:v1`;
  await skopeoCopy(image.reference, `docker://${reference}`, ["--dest-creds", CREDS, ...extra]);
  acknowledged.set(reference, image.manifest.digest);
  pushWindow.first ||= Date.now();
  pushWindow.last = Date.now();
  return { ...image, reference };
}

/** A bearer token for `scope` from the token endpoint of the replica at `url`. */
async function bearer(url: string, scope: string): Promise<string> {
  const res = await fetch(`${url}/service/token?service=berth&scope=${encodeURIComponent(scope)}`, {
    headers: { Authorization: BASIC },
  });
  expect(res.status).toBe(200);
  return `Bearer ${((await res.json()) as { token: string }).token}`;
}

/** The manifest digest of a docker:// reference, as skopeo reads it with credentials. */
async function remoteDigest(reference: string): Promise<string> {
  const raw = await skopeo([
    "inspect",
    "--raw",
    "--tls-verify=false",
    "--creds",
    CREDS,
    `docker://${reference}`,
  ]);
  return digestOf(Buffer.from(raw.stdout));
}

/** Polls `check` until it holds (true) or `ms` have passed (false). */
async function within(ms: number, check: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Replica ports that served requests whose URI contains `fragment`. */
async function servedBy(fragment: string): Promise<Set<string>> {
  const lines = (await lb.accessLog()).filter((l) => l.includes(fragment));
  return new Set(lines.map((l) => l.split(" ").at(-1)!));
}

describe("three replicas behind nginx on PostgreSQL and Ceph RGW", () => {
  let doomedLayer: string;

  it("all three are ready, and /readyz reflects the database and the bucket", async () => {
    for (const r of replicas) {
      const ready = await fetch(`${r.url}/readyz`);
      expect(ready.status).toBe(200);
    }
    // A token from replica 0's endpoint is accepted by replicas 1 and 2, and nginx.
    const token = await bearer(replicas[0]!.url, "repository:team/doomed:pull,push,delete");
    for (const url of [replicas[1]!.url, replicas[2]!.url, lb.url]) {
      const res = await fetch(`${url}/v2/team/doomed/tags/list`, {
        headers: { Authorization: token },
      });
      expect([200, 404], url).toContain(res.status); // authorised (no repository yet: 404)
      expect(res.status).not.toBe(401);
    }
    // An image deleted now is what the scheduled GC must collect while the other tests push.
    const doomed = await push("doomed", [{ seed: "doomed-layer", size: 300_000 }]);
    doomedLayer = doomed.layers[0]!.digest;
    const res = await fetch(`${lb.url}/v2/team/doomed/manifests/${doomed.manifest.digest}`, {
      method: "DELETE",
      headers: { Authorization: token },
    });
    expect(res.status).toBe(202);
    acknowledged.delete(doomed.reference);
  });

  it("parallel skopeo pushes and pulls through the balancer land on every replica", async () => {
    const names = ["alpha", "beta", "gamma", "delta"];
    const pushed = await Promise.all(
      names.map((name, i) =>
        push(name, [
          { seed: `${name}-base`, size: 400_000 + i * 1000 },
          { seed: `${name}-app`, size: 2 * MiB },
        ]),
      ),
    );
    await Promise.all(
      pushed.map(async (image, i) => {
        const target = join(work, `pulled-${names[i]}`);
        await skopeoCopy(`docker://${image.reference}`, `oci:${target}:v1`, ["--src-creds", CREDS]);
        expect((await inspectRaw(`oci:${target}:v1`)).digest).toBe(image.manifest.digest);
      }),
    );
    const ports = await servedBy("/v2/team/");
    expect(ports.size).toBe(3);
  });

  it("a chunked upload continues on another replica at every PATCH", async () => {
    const data = Buffer.alloc(13 * MiB + 77);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 253;
    const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
    const [a, b, c] = replicas.map((r) => r.url);
    // One token, issued by replica 1, for requests to all three.
    const auth = { Authorization: await bearer(b!, "repository:team/chunked:pull,push") };
    const start = await fetch(`${a}/v2/team/chunked/blobs/uploads/`, {
      method: "POST",
      headers: auth,
    });
    expect(start.status).toBe(202);
    expect(start.headers.get("oci-chunk-min-length")).toBe(String(5 * MiB));
    let location = start.headers.get("location")!;
    const chunks: [string, number, number][] = [
      [b!, 0, 6 * MiB],
      [c!, 6 * MiB, 9 * MiB], // below the 5 MiB part minimum: staged, merged with the next
      [a!, 9 * MiB, 12 * MiB],
      [b!, 12 * MiB, data.length],
    ];
    for (const [replica, from, to] of chunks) {
      const res = await fetch(new URL(location, replica), {
        method: "PATCH",
        headers: {
          ...auth,
          "Content-Type": "application/octet-stream",
          "Content-Range": `${from}-${to - 1}`,
        },
        body: data.subarray(from, to),
      });
      expect(res.status, await res.clone().text()).toBe(202);
      expect(res.headers.get("range")).toBe(`0-${to - 1}`);
      location = res.headers.get("location")!;
    }
    const status = await fetch(new URL(location, a), { headers: auth });
    expect(status.status).toBe(204);
    expect(status.headers.get("range")).toBe(`0-${data.length - 1}`);
    const url = new URL(location, c);
    url.searchParams.set("digest", digest);
    const done = await fetch(url, { method: "PUT", headers: auth });
    expect(done.status, await done.clone().text()).toBe(201);
    const back = await fetch(`${lb.url}/v2/team/chunked/blobs/${digest}`, { headers: auth });
    const hash = createHash("sha256").update(Buffer.from(await back.arrayBuffer()));
    expect(`sha256:${hash.digest("hex")}`).toBe(digest);
    const ranged = await fetch(`${lb.url}/v2/team/chunked/blobs/${digest}`, {
      headers: { ...auth, Range: `bytes=${5 * MiB - 3}-${5 * MiB + 3}` },
    });
    expect(ranged.status).toBe(206);
    expect(
      Buffer.from(await ranged.arrayBuffer()).equals(data.subarray(5 * MiB - 3, 5 * MiB + 4)),
    ).toBe(true);
  });

  it("caches follow a tag move, a delete and a permission change made on another replica at once", async () => {
    const [a, b, c] = replicas.map((r) => r.url) as [string, string, string];
    const auth = { Authorization: await bearer(a, "repository:team/cached:pull,push,delete") };
    const blob = async (data: Buffer) => {
      const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
      const res = await fetch(`${a}/v2/team/cached/blobs/uploads/?digest=${digest}`, {
        method: "POST",
        headers: { ...auth, "Content-Type": "application/octet-stream" },
        body: data,
      });
      expect(res.status).toBe(201);
      return { digest, size: data.length };
    };
    const manifest = async (seed: string) => {
      const config = await blob(Buffer.from(JSON.stringify({ architecture: "amd64", os: seed })));
      const layer = await blob(Buffer.from(`layer ${seed}`));
      return JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
        layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", ...layer }],
      });
    };
    const put = async (body: string) => {
      const res = await fetch(`${a}/v2/team/cached/manifests/live`, {
        method: "PUT",
        headers: { ...auth, "Content-Type": "application/vnd.oci.image.manifest.v1+json" },
        body,
      });
      expect(res.status).toBe(201);
      return res.headers.get("docker-content-digest")!;
    };
    const get = (url: string, reference: string) =>
      fetch(`${url}/v2/team/cached/manifests/${reference}`, {
        headers: { ...auth, Accept: "application/vnd.oci.image.manifest.v1+json" },
      });
    const first = await put(await manifest("one"));
    const second = await manifest("two");
    // Replicas B and C read (and cache) the first manifest by tag and by digest.
    for (const url of [b, c]) {
      for (const ref of ["live", first]) expect((await get(url, ref)).status).toBe(200);
    }
    // The tag moves on A: B and C answer the new manifest at once.
    const moved = await put(second);
    for (const url of [b, c]) {
      const res = await get(url, "live");
      expect(res.headers.get("docker-content-digest")).toBe(moved);
      expect(await res.text()).toBe(second);
    }
    // The first manifest is deleted on A: B and C, which held it in their caches, refuse it at once.
    const deleted = await fetch(`${a}/v2/team/cached/manifests/${first}`, {
      method: "DELETE",
      headers: auth,
    });
    expect(deleted.status).toBe(202);
    // A notification, not a timeout: B and C hear it within milliseconds (the by-digest LRU
    // has no expiry, so without it they would answer 200 for ever).
    for (const url of [a, b, c]) {
      expect(await within(1000, async () => (await get(url, first)).status === 404), url).toBe(
        true,
      );
    }
    // A permission change on A (project made public, then private again) is seen by B at once:
    // the anonymous pull that B allowed (and cached) a moment ago is refused right after.
    const visibility = async (isPublic: boolean) => {
      const res = await fetch(`${a}/api/v1/projects/team`, {
        method: "PATCH",
        headers: { Authorization: BASIC, "Content-Type": "application/json" },
        body: JSON.stringify({ public: isPublic }),
      });
      expect(res.status).toBeLessThan(300);
    };
    const anonymousAccess = async () => {
      const res = await fetch(
        `${b}/service/token?service=berth&scope=${encodeURIComponent("repository:team/cached:pull")}`,
      );
      expect(res.status).toBe(200);
      const token = ((await res.json()) as { token: string }).token;
      const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as {
        access: { actions: string[] }[];
      };
      return claims.access.flatMap((entry) => entry.actions);
    };
    await visibility(true);
    expect(await anonymousAccess()).toEqual(["pull"]);
    await visibility(false);
    // Well inside the 2 s that the permission caches would otherwise keep the answer.
    const refused = await within(1000, async () => (await anonymousAccess()).length === 0);
    expect(refused).toBe(true);
  });

  it("kill -9 of a replica during a push: the client's retry through the balancer succeeds", async () => {
    const victim = replicas[2]!;
    const layers = [0, 1, 2, 3].map((i) => ({ seed: `kill-${i}`, size: 6 * MiB }));
    const image = await layout("survivor", layers);
    const reference = `${lb.host}/team/survivor:v1`;
    const pushing = skopeoCopy(image.reference, `docker://${reference}`, [
      "--dest-creds",
      CREDS,
      "--retry-times",
      "5",
    ]);
    // Kill once the push has reached the victim.
    const deadline = Date.now() + 60_000;
    while (!(await servedBy("/v2/team/survivor/")).has(victim.host) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const before = (await lb.accessLog()).filter((l) => l.includes("/v2/team/survivor/")).length;
    await victim.kill9();
    await pushing;
    expect(victim.exitStatus()?.signal).toBe("SIGKILL");
    const after = (await lb.accessLog()).filter((l) => l.includes("/v2/team/survivor/")).length;
    expect(after).toBeGreaterThan(before); // the push went on after the kill, on the others
    acknowledged.set(reference, image.manifest.digest);
    expect(await remoteDigest(reference)).toBe(image.manifest.digest);
  });

  it("GC on one replica, while pushes go through the others, removes the deleted image's objects", async () => {
    const store = new S3BlobStore({
      endpoint: rgw.endpoint,
      region: rgw.region,
      bucket,
      prefix: "registry",
      forcePathStyle: true,
      accessKeyId: rgw.accessKeyId,
      secretAccessKey: rgw.secretAccessKey,
      redirect: false,
      redirectExpiryMs: 60_000,
      storageClass: "",
      serverSideEncryption: "",
      sseKmsKeyId: "",
      caFile: "",
    });
    const client = s3Client(rgw);
    const present = () =>
      client.send(new HeadObjectCommand({ Bucket: bucket, Key: store.blobKey(doomedLayer) })).then(
        () => true,
        () => false,
      );
    expect(doomedLayer).toBeDefined();
    const deadline = Date.now() + 100_000;
    let round = 0; // pushes go on until the object is gone
    while ((await present()) && Date.now() < deadline) {
      await push(`during-gc-${round++}`, [{ seed: `during-gc-${round}`, size: 200_000 }]);
    }
    const gone = !(await present());
    client.destroy();
    const jobs = await fetch(`${lb.url}/api/v1/jobs?kind=gc`, {
      headers: { Authorization: BASIC },
    });
    const recent = JSON.stringify(await jobs.json()).slice(0, 3000);
    expect(gone, `GC jobs: ${recent}\nreplica 0 log:\n${replicas[0]!.output().slice(-2000)}`).toBe(
      true,
    );
    // GC ran (every 5 s, on replica 0) while the pushes of the tests above went through the
    // balancer: some runs started and finished between the first and the last push.
    const list = (await (
      await fetch(`${lb.url}/api/v1/jobs?kind=gc&pageSize=100`, {
        headers: { Authorization: BASIC },
      })
    ).json()) as {
      items: {
        state: string;
        startedAt: string | null;
        finishedAt: string | null;
        leaseOwner: string | null;
      }[];
    };
    const during = list.items.filter(
      (j) =>
        j.state === "succeeded" &&
        Date.parse(j.startedAt!) > pushWindow.first &&
        Date.parse(j.finishedAt!) < pushWindow.last,
    );
    expect(during.length, JSON.stringify(list.items.slice(0, 5))).toBeGreaterThan(0);
  }, 180_000);

  it("every acknowledged image pulls back identical by digest", async () => {
    expect(acknowledged.size).toBeGreaterThanOrEqual(5);
    for (const [reference, digest] of acknowledged) {
      const target = join(work, `final-${createHash("sha1").update(reference).digest("hex")}`);
      await skopeoCopy(`docker://${reference}`, `oci:${target}:v1`, ["--src-creds", CREDS]);
      expect((await inspectRaw(`oci:${target}:v1`)).digest, reference).toBe(digest);
    }
    const tags = await skopeo([
      "list-tags",
      "--tls-verify=false",
      "--creds",
      CREDS,
      `docker://${lb.host}/team/alpha`,
    ]);
    expect(JSON.parse(tags.stdout).Tags).toEqual(["v1"]);
  });
});
