// Scenario 4: manifest GET by tag and by digest, and blob HEAD, under load from a separate
// process (bench/http-load.ts) at 32 and 256 concurrent connections: requests/s, p99
// latency, errors.
import { MediaType } from "../../src/oci/index.js";
import { runLoad } from "../load.js";
import { type Metric, metric, type Scenario } from "../scenario.js";
import type { BenchServer } from "../servers.js";
import { pushSmallImage } from "./small-image.js";

const SECONDS = 5;
const ACCEPT = { accept: `${MediaType.OciManifest}, ${MediaType.DockerManifest}` };
const digests = new Map<string, { manifest: string; layer: string }>();

export async function requestRateMetrics(
  server: BenchServer,
  connections: readonly number[],
): Promise<Metric[]> {
  const d = digests.get(server.url);
  if (!d) throw new Error("request-rate set-up did not run");
  const targets = [
    {
      name: "manifest GET by tag",
      url: `${server.url}/v2/bench/small/manifests/v1`,
      method: "GET",
    },
    {
      name: "manifest GET by digest",
      url: `${server.url}/v2/bench/small/manifests/${d.manifest}`,
      method: "GET",
    },
    { name: "blob HEAD", url: `${server.url}/v2/bench/small/blobs/${d.layer}`, method: "HEAD" },
  ] as const;
  const out: Metric[] = [];
  for (const c of connections) {
    for (const t of targets) {
      const r = await runLoad({
        url: t.url,
        method: t.method,
        connections: c,
        seconds: SECONDS,
        headers: ACCEPT,
      });
      out.push(metric(`${t.name} c=${c} req/s`, "req/s", r.requestsPerSecond, true));
      out.push(metric(`${t.name} c=${c} p99`, "ms", r.p99Ms, false));
      out.push(metric(`${t.name} c=${c} errors`, "count", r.errors, false));
    }
  }
  return out;
}

export async function setupSmallRepo(server: BenchServer): Promise<void> {
  const image = await pushSmallImage(server.url, "bench/small", "v1");
  digests.set(server.url, {
    manifest: image.manifest.digest,
    layer: image.layer.descriptor.digest,
  });
}

export const requestRateScenario: Scenario = {
  id: "request-rate",
  title: "4. manifest GET (tag, digest) and blob HEAD under load, 32 and 256 connections",
  prepare: async () => {},
  setup: (server) => setupSmallRepo(server),
  run: (server) => requestRateMetrics(server, [32, 256]),
};
