// Webhooks and /metrics against a real Berth process and real skopeo: a receiver on
// 127.0.0.1 verifies every signature; push, pull and delete produce deliveries; a receiver
// failing three times gets exactly one successful delivery; a delivery pending while Berth
// is killed with SIGKILL arrives after the restart; /metrics parses strictly, its counters
// move, and callers who are not administrators get 401/403.

import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifySignature } from "../../src/webhooks/signing.js";
import { BERTH_BIN, type BerthProcess, startBerth } from "../support/berth-process.js";
import { skopeo, skopeoCopy } from "../support/container-tools.js";
import { run } from "../support/process-control.js";
import { parsePrometheusText, sampleValue } from "../support/prometheus-text.js";
import { syntheticImageLayout } from "../support/synthetic-images.js";

const PASSWORD = "hooks-admin-pass-1";
const creds = `admin:${PASSWORD}`;
const SECRET = "receiver-secret-0123456789";

interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  verified: boolean;
}

function startReceiver(failFirst: Record<string, number>, port = 0) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const path = req.url ?? "/";
      const header = req.headers["x-berth-signature"];
      received.push({
        path,
        headers: req.headers,
        body,
        verified: verifySignature(SECRET, typeof header === "string" ? header : undefined, body),
      });
      const left = failFirst[path] ?? 0;
      if (left > 0) {
        failFirst[path] = left - 1;
        res.writeHead(500).end("not yet");
      } else res.writeHead(204).end();
    });
  });
  return new Promise<{ server: Server; port: number; received: Received[] }>((resolve) =>
    server.listen(port, "127.0.0.1", () =>
      resolve({ server, port: (server.address() as AddressInfo).port, received }),
    ),
  );
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 90_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("webhooks and metrics with real clients", () => {
  let berth: BerthProcess;
  let work: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const env = {
    BERTH_AUTH: "token",
    BERTH_ADMIN_PASSWORD: PASSWORD,
    BERTH_WEBHOOKS_ALLOW_PRIVATE_TARGETS: "true",
    BERTH_JOBS_RETRY_BACKOFF: "200ms",
    BERTH_JOBS_POLL_INTERVAL: "200ms",
  };
  const basic = (user: string, pass: string) =>
    `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
  const api = async (
    method: string,
    path: string,
    body?: unknown,
    auth = basic("admin", PASSWORD),
  ) => {
    const res = await fetch(`${berth.url}${path}`, {
      method,
      headers: { authorization: auth, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as never) : undefined };
  };
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
  const metrics = async () => {
    const res = await fetch(`${berth.url}/metrics`, {
      headers: { authorization: basic("admin", PASSWORD) },
    });
    expect(res.status).toBe(200);
    return parsePrometheusText(await res.text());
  };

  beforeAll(async () => {
    receiver = await startReceiver({ "/flaky": 3 });
    berth = await startBerth({ env, keepData: true });
    work = await mkdtemp(join(tmpdir(), "berth-hooks-"));
  }, 120_000);
  afterAll(async () => {
    await berth?.stop();
    await berth?.removeData();
    receiver?.server.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  let goodId = "";
  let flakyId = "";

  it("adds targets with the CLI and never shows the secret again", async () => {
    expect((await api("POST", "/api/v1/projects", { name: "hooks" })).status).toBe(201);
    const good = await admin([
      "webhook",
      "add",
      "hooks",
      "--url",
      `http://127.0.0.1:${receiver.port}/good`,
      "--events",
      "all",
      "--secret",
      SECRET,
      "--header",
      "X-Team: platform",
    ]);
    goodId = (JSON.parse(good.stdout) as { id: string }).id;
    const flaky = await api("POST", "/api/v1/projects/hooks/webhooks", {
      url: `http://127.0.0.1:${receiver.port}/flaky`,
      events: ["push"],
      secret: SECRET,
      format: "cloudevents",
    });
    expect(flaky.status).toBe(201);
    flakyId = (flaky.json as unknown as { id: string }).id;
    // `--payload-format` under `berth admin --format json`: the two formats never collide.
    const ce = await admin([
      "webhook",
      "add",
      "hooks",
      "--url",
      `http://127.0.0.1:${receiver.port}/ce`,
      "--events",
      "delete",
      "--payload-format",
      "cloudevents",
    ]);
    expect(ce.code, ce.stderr).toBe(0);
    const ceTarget = JSON.parse(ce.stdout) as { id: string; format: string };
    expect(ceTarget.format).toBe("cloudevents");
    const badFormat = await admin([
      "webhook",
      "add",
      "hooks",
      "--url",
      `http://127.0.0.1:${receiver.port}/x`,
      "--events",
      "push",
      "--payload-format",
      "xml",
    ]);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stdout + badFormat.stderr).toContain(
      "--payload-format is default or cloudevents",
    );
    expect((await admin(["webhook", "rm", "hooks", ceTarget.id])).code).toBe(0);
    const listed = await admin(["webhook", "ls", "hooks"]);
    expect(listed.stdout).not.toContain(SECRET);
    expect(listed.stdout).toContain(goodId);
    const bad = await api("POST", "/api/v1/projects/hooks/webhooks", {
      url: "ftp://x",
      events: ["push"],
    });
    expect(bad.status).toBe(400);
    const badEvent = await api("POST", "/api/v1/projects/hooks/webhooks", {
      url: "http://127.0.0.1:1/",
      events: ["pushed"],
    });
    expect(badEvent.status).toBe(400);
  }, 120_000);

  it("delivers signed push, pull and delete events; a flaky receiver gets one success", async () => {
    const before = await metrics();
    const image = await syntheticImageLayout(join(work, "a"), "1", {
      layers: [{ seed: "hooks-a", size: 40_000 }],
      label: "hooks-a",
    });
    await skopeoCopy(image.reference, `docker://${berth.host}/hooks/app:1`, [
      "--dest-creds",
      creds,
    ]);
    const push = await until("push delivery", () =>
      receiver.received.find(
        (r) => r.path === "/good" && JSON.parse(r.body).type === "PUSH_ARTIFACT",
      ),
    );
    expect(push.verified).toBe(true);
    expect(push.headers["x-team"]).toBe("platform");
    const payload = JSON.parse(push.body);
    expect(payload.event_data.repository.repo_full_name).toBe("hooks/app");
    expect(payload.event_data.resources[0].digest).toBe(image.manifest.digest);
    expect(payload.operator).toBe("admin");

    await skopeo([
      "inspect",
      "--raw",
      "--tls-verify=false",
      "--creds",
      creds,
      `docker://${berth.host}/hooks/app:1`,
    ]);
    const pull = await until("pull delivery", () =>
      receiver.received.find(
        (r) => r.path === "/good" && JSON.parse(r.body).type === "PULL_ARTIFACT",
      ),
    );
    expect(pull.verified).toBe(true);

    await skopeo([
      "delete",
      "--tls-verify=false",
      "--creds",
      creds,
      `docker://${berth.host}/hooks/app@${image.manifest.digest}`,
    ]);
    const del = await until("delete delivery", () =>
      receiver.received.find(
        (r) => r.path === "/good" && JSON.parse(r.body).type === "DELETE_ARTIFACT",
      ),
    );
    expect(del.verified).toBe(true);

    const flakyLog = await until("flaky success", async () => {
      const out = await admin(["webhook", "deliveries", "hooks", flakyId]);
      const list = JSON.parse(out.stdout) as {
        state: string;
        attempts: number;
        statusCode: number;
      }[];
      return list.some((d) => d.state === "succeeded") ? list : undefined;
    });
    const flakyHits = receiver.received.filter((r) => r.path === "/flaky");
    expect(flakyHits.every((r) => r.verified)).toBe(true);
    expect(flakyHits.map((r) => JSON.parse(r.body).specversion)).toContain("1.0");
    expect(flakyLog.filter((d) => d.state === "succeeded")).toHaveLength(1);
    expect(flakyLog[0]!.attempts).toBe(4);
    expect(flakyHits).toHaveLength(4);

    const after = await metrics();
    expect(sampleValue(after, "berth_pushes_total", { project: "hooks" })).toBeGreaterThan(
      sampleValue(before, "berth_pushes_total", { project: "hooks" }),
    );
    expect(sampleValue(after, "berth_pulls_total", { project: "hooks" })).toBeGreaterThan(
      sampleValue(before, "berth_pulls_total", { project: "hooks" }),
    );
    expect(
      sampleValue(after, "berth_http_requests_total", {
        route: "/v2/{name}/manifests/{reference}",
        method: "PUT",
        status: "201",
      }),
    ).toBeGreaterThan(0);
    expect(
      sampleValue(after, "berth_webhook_deliveries_total", { outcome: "succeeded" }),
    ).toBeGreaterThan(0);
    expect(
      after.get("berth_process_cpu_user_seconds")?.type ??
        after.get("berth_process_cpu_user_seconds_total")?.type,
    ).toBeDefined();
  }, 240_000);

  it("answers 401 to anonymous and 403 to non-admin callers of /metrics", async () => {
    expect((await fetch(`${berth.url}/metrics`)).status).toBe(401);
    expect(
      (await api("POST", "/api/v1/users", { username: "dev", password: "dev-password-123" }))
        .status,
    ).toBe(201);
    const res = await fetch(`${berth.url}/metrics`, {
      headers: { authorization: basic("dev", "dev-password-123") },
    });
    expect(res.status).toBe(403);
  }, 60_000);

  it("delivers an event pending while Berth is killed with SIGKILL after the restart", async () => {
    const down = await startReceiver({});
    const port = down.port;
    await new Promise((r) => down.server.close(r));
    const made = await api("POST", "/api/v1/projects/hooks/webhooks", {
      url: `http://127.0.0.1:${port}/late`,
      events: ["push"],
      secret: SECRET,
    });
    expect(made.status).toBe(201);
    const lateId = (made.json as unknown as { id: string }).id;
    const image = await syntheticImageLayout(join(work, "b"), "1", {
      layers: [{ seed: "hooks-b", size: 30_000 }],
      label: "hooks-b",
    });
    await skopeoCopy(image.reference, `docker://${berth.host}/hooks/late:1`, [
      "--dest-creds",
      creds,
    ]);
    await until("a failed attempt", async () => {
      const list = (await api("GET", `/api/v1/projects/hooks/webhooks/${lateId}/deliveries`))
        .json as unknown as { attempts: number }[];
      return list.some((d) => d.attempts > 0) ? true : undefined;
    });
    await berth.kill9();
    const up = await startReceiver({}, port);
    berth = await startBerth({ dataDir: berth.dataDir, env });
    const late = await until(
      "late delivery",
      () => up.received.find((r) => r.path === "/late"),
      120_000,
    );
    expect(late.verified).toBe(true);
    expect(JSON.parse(late.body).event_data.repository.repo_full_name).toBe("hooks/late");
    up.server.close();
  }, 240_000);
});
