// Manifest GET rate with authentication on: a real `berth serve` with BERTH_AUTH=token, a
// private project, a pull-only robot, one small image; a Bearer token for the robot from
// the token endpoint; then http-load.ts (keep-alive, one request in flight per connection)
// against GET /v2/team/app/manifests/v1. Measures what every authenticated pull pays for
// token verification and the per-request account check (docs/security.md). Besides the
// rate it reports the server's own CPU time per request (/proc/PID/stat): on a loaded
// machine the rate follows the load, the CPU cost per request much less so.
//
//   node --import tsx bench/auth-bearer.ts [CONNECTIONS=32] [SECONDS=10] [ROUNDS=3] [TARGET=manifest]
//   →  JSON lines; TARGET `manifest` (GET by tag) or `blob-head` (HEAD of the layer)
//
// BENCH_NODE_ARGS="--flag …" starts the server's node with those flags (V8 heap experiments).
// BENCH_AUTH=none runs the same against Berth with BERTH_AUTH=none (the ceiling: no token).
// BENCH_CPU_PROF_DIR=DIR leaves the server's `node --cpu-prof` profile in DIR; summarise it
// with `node --import tsx bench/profile-top.ts DIR/*.cpuprofile`.
//
// Runs Berth from source (BERTH_FROM_SOURCE=1) unless BERTH_FROM_SOURCE is set to "" (then
// from dist/, after `npm run build`). Stops only the process it started.
import { createHash } from "node:crypto";
import { basicHeader } from "../src/auth/credentials.js";
import { startBerth } from "../test/support/berth-process.js";
import { runLoad } from "./load.js";
import { cpuSeconds, peakRss } from "./servers.js";

const ADMIN = basicHeader("admin", "admin-password-1");
const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

async function call(
  base: string,
  method: string,
  p: string,
  body?: Buffer | string,
  type?: string,
) {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { authorization: ADMIN, ...(type ? { "content-type": type } : {}) },
    body,
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return { headers: res.headers, text };
}

async function pushBlob(base: string, bytes: Buffer): Promise<void> {
  const start = await call(base, "POST", "/v2/team/app/blobs/uploads/");
  const location = new URL(start.headers.get("location") ?? "", base);
  location.searchParams.set("digest", sha(bytes));
  await call(
    base,
    "PUT",
    `${location.pathname}${location.search}`,
    bytes,
    "application/octet-stream",
  );
}

interface Robot {
  robot: { name: string };
  secret: string;
}

async function createRobot(base: string): Promise<Robot> {
  const json = "application/json";
  await call(base, "POST", "/api/v1/projects", JSON.stringify({ name: "team" }), json);
  const body = JSON.stringify({ name: "bench", actions: ["pull"] });
  return JSON.parse((await call(base, "POST", "/api/v1/projects/team/robots", body, json)).text);
}

async function tokenFor(base: string, robot: Robot): Promise<string> {
  const tokenRes = await fetch(
    `${base}/service/token?service=berth&scope=repository:team/app:pull`,
    { headers: { authorization: basicHeader(robot.robot.name, robot.secret) } },
  );
  return ((await tokenRes.json()) as { token: string }).token;
}

async function main(): Promise<void> {
  const [connections = "32", seconds = "10", rounds = "3", target = "manifest"] =
    process.argv.slice(2);
  if (target !== "manifest" && target !== "blob-head") {
    throw new Error(`TARGET must be manifest or blob-head, not ${target}`);
  }
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  const open = process.env.BENCH_AUTH === "none";
  const berth = await startBerth({
    nodeArgs: [
      ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []),
      ...(process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
    ],
    env: {
      BERTH_AUTH: open ? "none" : "token",
      BERTH_ADMIN_PASSWORD: "admin-password-1",
      BERTH_LOG_LEVEL: "warn",
      ...(process.env.BERTH_FROM_SOURCE === "" ? { BERTH_FROM_SOURCE: "" } : {}),
    },
  });
  try {
    const robot = open ? undefined : await createRobot(berth.url);
    const config = Buffer.from(
      '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
    );
    const layer = Buffer.from("bench layer ".repeat(64));
    await pushBlob(berth.url, config);
    await pushBlob(berth.url, layer);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
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
    await call(
      berth.url,
      "PUT",
      "/v2/team/app/manifests/v1",
      manifest,
      "application/vnd.oci.image.manifest.v1+json",
    );
    for (let round = 1; round <= Number(rounds); round++) {
      // A fresh token each round: access tokens live 5 minutes.
      const token = robot ? await tokenFor(berth.url, robot) : undefined;
      const cpuBefore = cpuSeconds(berth.pid);
      const result = await runLoad({
        method: target === "manifest" ? "GET" : "HEAD",
        url:
          target === "manifest"
            ? `${berth.url}/v2/team/app/manifests/v1`
            : `${berth.url}/v2/team/app/blobs/${sha(layer)}`,
        connections: Number(connections),
        seconds: Number(seconds),
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          accept: "application/vnd.oci.image.manifest.v1+json",
        },
      });
      const requests = result.requestsPerSecond * Number(seconds);
      const serverCpuUsPerRequest = ((cpuSeconds(berth.pid) - cpuBefore) * 1e6) / requests;
      const peakRssMB = Math.round(peakRss(berth.pid) / 1e6);
      process.stdout.write(
        `${JSON.stringify({ round, target, peakRssMB, connections: Number(connections), ...result, serverCpuUsPerRequest })}\n`,
      );
    }
  } finally {
    await berth.stop();
  }
}

await main();
