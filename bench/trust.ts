// Benchmark of trust-policy enforcement (issue 14): manifest GET requests/s of a signed image
// with the project's trust policy off and in enforce mode (cached verdict), in the
// configuration users run (token auth on, Basic credentials of a user with pull rights),
// side by side in one run; and the CPU one first verification costs (cold caches, in
// process, over the real SQLite database and blob store the server wrote).
//   npm run build && node --import tsx bench/trust.ts [seconds]
// Not part of npm test; numbers go to stdout as one JSON document.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../src/meta/index.js";
import { TrustAdmission } from "../src/policy/trust-admission.js";
import { RegistryEvents } from "../src/registry/index.js";
import { createBlobStore } from "../src/storage/index.js";
import { berthOk } from "../test/cli/berth-cli.js";
import { startBerth } from "../test/support/berth-process.js";
import { syntheticImageLayout } from "../test/support/synthetic-images.js";
import { runLoad } from "./load.js";

const SECONDS = Number(process.argv[2] ?? 10);
const PASSWORD = "bench-trust-admin-1";
const CREDS = `admin:${PASSWORD}`;

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "berth-bench-trust-"));
  const dataDir = join(work, "data");
  const env = {
    BERTH_AUTH: "token",
    BERTH_ADMIN_PASSWORD: PASSWORD,
    BERTH_AUTO_CREATE_PROJECTS: "true",
    BERTH_LOG_LEVEL: "warn",
    BERTH_FROM_SOURCE: "",
  };
  const server = await startBerth({ dataDir, env });
  const keyEnv = { COSIGN_PASSWORD: "bench" };
  try {
    const layout = await syntheticImageLayout(join(work, "layout"), "1.0", {
      label: "bench",
      layers: [{ seed: "bench", size: 4096 }],
    });
    await berthOk(["copy", "--creds", CREDS, layout.reference, `${server.host}/team/app:1.0`]);
    await berthOk(["key", "generate", "--output-key-prefix", join(work, "k")], { env: keyEnv });
    await berthOk(
      ["sign", "--creds", CREDS, "--key", join(work, "k.key"), `${server.host}/team/app:1.0`],
      { env: keyEnv },
    );
    const headers = {
      Authorization: `Basic ${Buffer.from(CREDS).toString("base64")}`,
      Accept: "application/vnd.oci.image.manifest.v1+json",
    };
    const url = `${server.url}/v2/team/app/manifests/${layout.manifest.digest}`;
    const load = () => runLoad({ url, connections: 32, seconds: SECONDS, method: "GET", headers });
    const adminEnv = { BERTH_USERNAME: "admin", BERTH_PASSWORD: PASSWORD };
    const setMode = (mode: string) =>
      berthOk(
        [
          "admin",
          "--server",
          server.url,
          "trust",
          "set",
          "team",
          "--mode",
          mode,
          ...(mode === "off" ? [] : ["--key", join(work, "k.pub")]),
        ],
        { env: adminEnv },
      );
    await setMode("off");
    await load(); // warm-up
    const off = await load();
    await setMode("enforce");
    const enforce = await load();
    await server.stop();
    const firstVerificationCpuMs = await coldVerification(dataDir, layout.manifest.digest);
    process.stdout.write(
      `${JSON.stringify({ seconds: SECONDS, connections: 32, off, enforce, ratio: enforce.requestsPerSecond / off.requestsPerSecond, firstVerificationCpuMs }, null, 2)}\n`,
    );
  } finally {
    await server.stop().catch(() => {});
    await rm(work, { recursive: true, force: true });
  }
}

/** CPU of one pull decision with every cache cold: policy read, discovery, verification. */
async function coldVerification(dataDir: string, digest: string): Promise<number> {
  const meta = await openDatabase({ driver: "sqlite", path: join(dataDir, "berth.db") });
  const store = createBlobStore({ driver: "filesystem", path: dataDir, fsync: false });
  await store.init();
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    const admission = new TrustAdmission({
      db: meta.db,
      store,
      events: new RegistryEvents(),
      audit: { refused: () => {} },
    });
    const before = process.cpuUsage();
    await admission.beforeManifestPull({
      method: "GET",
      repository: "team/app",
      digest,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      principal: { name: "bench", kind: "user", isAdmin: false },
    });
    const used = process.cpuUsage(before);
    samples.push((used.user + used.system) / 1000);
  }
  await meta.close();
  return Math.min(...samples.slice(1));
}

await main();
