// Batched pull audit records against a real `berth serve` (token auth, a one-hour flush
// interval so only the events under test can write them): a pull's record waits in memory
// (not yet in the database), an audit query of the API writes it first and shows it, and
// SIGTERM writes the ones still waiting before the process exits.
import { createHash } from "node:crypto";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basicHeader } from "../../src/auth/credentials.js";
import { type BerthProcess, startBerth } from "../support/berth-process.js";

const admin = basicHeader("admin", "admin-password-1");
const MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";
const sha = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
let berth: BerthProcess;

async function call(method: string, p: string, body?: Buffer | string, type?: string) {
  const res = await fetch(`${berth.url}${p}`, {
    method,
    headers: { authorization: admin, ...(type ? { "content-type": type } : {}) },
    body,
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return { headers: res.headers, text };
}

async function pushBlob(bytes: Buffer): Promise<void> {
  const start = await call("POST", "/v2/team/app/blobs/uploads/");
  const location = new URL(start.headers.get("location") ?? "", berth.url);
  location.searchParams.set("digest", sha(bytes));
  await call("PUT", `${location.pathname}${location.search}`, bytes, "application/octet-stream");
}

async function pull(times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const res = await fetch(`${berth.url}/v2/team/app/manifests/v1`, {
      headers: { authorization: admin, accept: MANIFEST_TYPE },
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  }
}

/** Pull records in the database file, read by another connection (what a crash would leave). */
function pullRowsOnDisk(): { id: string; at: string; actor: string; resource: string }[] {
  const db = new Database(join(berth.dataDir, "berth.db"), { readonly: true });
  try {
    return db
      .prepare("select id, at, actor, resource from audit_log where action = 'pull' order by id")
      .all() as { id: string; at: string; actor: string; resource: string }[];
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  berth = await startBerth({
    keepData: true,
    env: {
      BERTH_AUTH: "token",
      BERTH_ADMIN_PASSWORD: "admin-password-1",
      BERTH_PULL_AUDIT_FLUSH_INTERVAL: "1h",
      BERTH_LOG_LEVEL: "warn",
    },
  });
  await call("POST", "/api/v1/projects", JSON.stringify({ name: "team" }), "application/json");
  const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}');
  const layer = Buffer.from("pull audit layer");
  await pushBlob(config);
  await pushBlob(layer);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST_TYPE,
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: sha(config),
      size: config.length,
    },
    layers: [
      {
        mediaType: "application/vnd.oci.image.layer.v1.tar",
        digest: sha(layer),
        size: layer.length,
      },
    ],
  });
  await call("PUT", "/v2/team/app/manifests/v1", manifest, MANIFEST_TYPE);
}, 120_000);

afterAll(async () => {
  if (berth.exitStatus() === undefined) await berth.stop();
  await berth.removeData();
});

describe("batched pull audit records", () => {
  it("keeps pulls in memory, and an audit query writes and shows them at once", async () => {
    await pull(3);
    expect(pullRowsOnDisk()).toEqual([]);
    const res = await call("GET", "/api/v1/audit?action=pull&actor=admin");
    const page = JSON.parse(res.text) as { total: number; items: { resource: string }[] };
    expect(page.total).toBe(3);
    expect(page.items[0]?.resource).toMatch(/^team\/app:v1@sha256:/);
    expect(pullRowsOnDisk()).toHaveLength(3);
  });

  it("writes the pulls still waiting when the server gets SIGTERM", async () => {
    const before = new Date().toISOString();
    await pull(4);
    expect(pullRowsOnDisk()).toHaveLength(3);
    await berth.stop();
    expect(berth.exitStatus()).toMatchObject({ code: 0 });
    const rows = pullRowsOnDisk();
    expect(rows).toHaveLength(7);
    expect(new Set(rows.map((r) => r.id)).size).toBe(7);
    const late = rows.filter((r) => r.at >= before);
    expect(late).toHaveLength(4);
    expect(late.every((r) => r.actor === "admin")).toBe(true);
  });
});
