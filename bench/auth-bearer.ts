// Manifest GET rate with authentication on: a real `berth serve` with BERTH_AUTH=token, a
// private project, a pull-only robot, one small image; a Bearer token for the robot from
// the token endpoint; then http-load.ts (keep-alive, one request in flight per connection)
// against GET /v2/team/app/manifests/v1. Measures what every authenticated pull pays for
// token verification and the per-request account check (docs/security.md). Besides the
// rate it reports the server's own CPU time per request (/proc/PID/stat): on a loaded
// machine the rate follows the load, the CPU cost per request much less so.
//
//   node --import tsx bench/auth-bearer.ts [CONNECTIONS=32] [SECONDS=10] [ROUNDS=3]  →  JSON lines
//
// Runs Berth from source (BERTH_FROM_SOURCE=1) unless BERTH_FROM_SOURCE is set to "" (then
// from dist/, after `npm run build`). Stops only the process it started.
import { createHash } from "node:crypto";
import { basicHeader } from "../src/auth/credentials.js";
import { startBerth } from "../test/support/berth-process.js";
import { runLoad } from "./load.js";
import { cpuSeconds } from "./servers.js";

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

async function main(): Promise<void> {
  const [connections = "32", seconds = "10", rounds = "3"] = process.argv.slice(2);
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  const berth = await startBerth({
    ...(profileDir ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] } : {}),
    env: {
      BERTH_AUTH: "token",
      BERTH_ADMIN_PASSWORD: "admin-password-1",
      BERTH_LOG_LEVEL: "warn",
      ...(process.env.BERTH_FROM_SOURCE === "" ? { BERTH_FROM_SOURCE: "" } : {}),
    },
  });
  try {
    const json = "application/json";
    await call(berth.url, "POST", "/api/v1/projects", JSON.stringify({ name: "team" }), json);
    const robot = JSON.parse(
      (
        await call(
          berth.url,
          "POST",
          "/api/v1/projects/team/robots",
          JSON.stringify({ name: "bench", actions: ["pull"] }),
          json,
        )
      ).text,
    ) as { robot: { name: string }; secret: string };
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
      const tokenRes = await fetch(
        `${berth.url}/service/token?service=berth&scope=repository:team/app:pull`,
        { headers: { authorization: basicHeader(robot.robot.name, robot.secret) } },
      );
      const { token } = (await tokenRes.json()) as { token: string };
      const cpuBefore = cpuSeconds(berth.pid);
      const result = await runLoad({
        method: "GET",
        url: `${berth.url}/v2/team/app/manifests/v1`,
        connections: Number(connections),
        seconds: Number(seconds),
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/vnd.oci.image.manifest.v1+json",
        },
      });
      const requests = result.requestsPerSecond * Number(seconds);
      const serverCpuUsPerRequest = ((cpuSeconds(berth.pid) - cpuBefore) * 1e6) / requests;
      process.stdout.write(
        `${JSON.stringify({ round, connections: Number(connections), ...result, serverCpuUsPerRequest })}\n`,
      );
    }
  } finally {
    await berth.stop();
  }
}

await main();
