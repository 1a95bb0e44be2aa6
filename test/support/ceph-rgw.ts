// The S3 engine of the test suite: one throwaway Ceph cluster with radosgw (scripts/ceph-rgw.sh:
// one monitor, one memstore OSD, no cephx, beast on 127.0.0.1), started at most once per test
// run, on first use, and shared by every test file (a file lock serialises the start; its
// state lives in test/.work/ceph-rgw/). The globalSetup teardown stops it by the PIDs the
// script recorded. Each test gets buckets of its own (freshBucket), so tests never see each
// other's objects. A cluster left by a crashed run is reused when it still answers, otherwise
// stopped by its recorded PIDs and started afresh.
// It must never signal a process it did not start, nor bind anything but 127.0.0.1.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { withFileLock } from "./file-lock.js";
import { freePort, isAlive, runOk } from "./process-control.js";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CEPH_RGW_SCRIPT = join(REPO_ROOT, "scripts", "ceph-rgw.sh");
const WORK = join(REPO_ROOT, "test", ".work");
const CLUSTER_DIR = join(WORK, "ceph-rgw");
const STATE_FILE = join(WORK, "ceph-rgw.json");

export interface CephRgw {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  pids: number[];
}

/** The run's shared radosgw, started on first use. */
export async function sharedCephRgw(): Promise<CephRgw> {
  await mkdir(WORK, { recursive: true });
  return withFileLock(
    join(WORK, "ceph-rgw.lock"),
    async () => {
      const existing = await readState();
      if (existing && (await answers(existing))) return existing;
      if (existing) await stopCluster();
      await rm(CLUSTER_DIR, { recursive: true, force: true });
      const state = await startCluster();
      await writeFile(STATE_FILE, JSON.stringify(state), { mode: 0o600 });
      return state;
    },
    5 * 60_000,
  );
}

/** Stops the shared cluster if this run (or a crashed one) started it. For globalSetup. */
export async function stopSharedCephRgw(): Promise<void> {
  if (!existsSync(STATE_FILE) && !existsSync(join(CLUSTER_DIR, "pids"))) return;
  await stopCluster();
  await rm(STATE_FILE, { force: true });
  await rm(CLUSTER_DIR, { recursive: true, force: true });
}

/** An S3 client on the shared cluster, with the settings Ceph needs. */
export function s3Client(rgw: CephRgw): S3Client {
  return new S3Client({
    endpoint: rgw.endpoint,
    region: rgw.region,
    forcePathStyle: true,
    credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** Creates an empty bucket with a unique name (`<label>-<random>`) and returns its name. */
export async function freshBucket(rgw: CephRgw, label = "berth"): Promise<string> {
  const safe = label
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, 40);
  const name = `${safe}-${randomBytes(6).toString("hex")}`;
  const client = s3Client(rgw);
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } finally {
    client.destroy();
  }
  return name;
}

/** The environment a `berth serve` needs to keep its blobs in `bucket` on this cluster. */
export function s3Env(rgw: CephRgw, bucket: string, prefix = ""): NodeJS.ProcessEnv {
  return {
    BERTH_STORAGE_DRIVER: "s3",
    BERTH_S3_ENDPOINT: rgw.endpoint,
    BERTH_S3_REGION: rgw.region,
    BERTH_S3_BUCKET: bucket,
    BERTH_S3_PREFIX: prefix,
    BERTH_S3_FORCE_PATH_STYLE: "true",
    BERTH_S3_ACCESS_KEY_ID: rgw.accessKeyId,
    BERTH_S3_SECRET_ACCESS_KEY: rgw.secretAccessKey,
  };
}

async function startCluster(): Promise<CephRgw> {
  const port = await freePort();
  const started = await runOk(
    "bash",
    [CEPH_RGW_SCRIPT, "start", CLUSTER_DIR, String(port), "2048"],
    {
      timeoutMs: 180_000,
    },
  );
  const pids = [...started.stdout.matchAll(/^pid \S+ (\d+)$/gm)].map((m) => Number(m[1]));
  const endpoint = /^endpoint (\S+)$/m.exec(started.stdout)?.[1];
  if (!endpoint || pids.length !== 3) {
    throw new Error(`scripts/ceph-rgw.sh start printed no endpoint/PIDs:\n${started.stdout}`);
  }
  const user = await runOk("bash", [CEPH_RGW_SCRIPT, "user", CLUSTER_DIR, "berth-tests"], {
    timeoutMs: 60_000,
  });
  const accessKeyId = /^access_key (\S+)$/m.exec(user.stdout)?.[1];
  const secretAccessKey = /^secret_key (\S+)$/m.exec(user.stdout)?.[1];
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(`scripts/ceph-rgw.sh user printed no keys:\n${user.stdout}`);
  }
  return { endpoint, region: "us-east-1", accessKeyId, secretAccessKey, pids };
}

async function stopCluster(): Promise<void> {
  await runOk("bash", [CEPH_RGW_SCRIPT, "stop", CLUSTER_DIR], { timeoutMs: 60_000 });
}

async function readState(): Promise<CephRgw | undefined> {
  try {
    return JSON.parse(await readFile(STATE_FILE, "utf8")) as CephRgw;
  } catch {
    return undefined;
  }
}

async function answers(state: CephRgw): Promise<boolean> {
  if (!state.pids.every(isAlive)) return false;
  try {
    const response = await fetch(state.endpoint, { signal: AbortSignal.timeout(3_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}
