// Scenario 4: manifest GET by tag and by digest, and blob HEAD, under load from a separate
// process (bench/http-load.ts) at 32 and 256 concurrent connections: requests/s, p99
// latency, errors. On Berth as shipped each request is made three ways, as real clients
// make it: with a Bearer token from /service/token (docker, podman, skopeo, containerd after
// the challenge), with Basic credentials on every request, and anonymously from a public
// project. The auth-off Berth and the reference registry have no authentication: there the
// three are the same request, measured once and reported in each variant's row (the ceiling
// and the baseline the variant is compared with).
import { MediaType } from "../../src/oci/index.js";
import { runLoad } from "../load.js";
import { type Metric, metric, type Scenario } from "../scenario.js";
import { type BenchServer, bearerToken, cpuSeconds } from "../servers.js";
import { pushSmallImage } from "./small-image.js";

const SECONDS = 5;
const ACCEPT = { accept: `${MediaType.OciManifest}, ${MediaType.DockerManifest}` };
const digests = new Map<string, { manifest: string; layer: string }>();

/** How the request authenticates on Berth as shipped. */
export type AuthVariant = "Bearer" | "Basic" | "anonymous, public project";
export const AUTH_VARIANTS: readonly AuthVariant[] = [
  "Bearer",
  "Basic",
  "anonymous, public project",
];

interface Target {
  readonly name: string;
  readonly path: (repo: string, d: { manifest: string; layer: string }) => string;
  readonly method: "GET" | "HEAD";
}

const TARGETS: readonly Target[] = [
  { name: "manifest GET by tag", path: (repo) => `/v2/${repo}/manifests/v1`, method: "GET" },
  {
    name: "manifest GET by digest",
    path: (repo, d) => `/v2/${repo}/manifests/${d.manifest}`,
    method: "GET",
  },
  { name: "blob HEAD", path: (repo, d) => `/v2/${repo}/blobs/${d.layer}`, method: "HEAD" },
];

/** Repository and Authorization header of one variant on `server`. */
async function variantRequest(
  server: BenchServer,
  variant: AuthVariant,
): Promise<{ repo: string; headers: Record<string, string> }> {
  if (!server.auth) return { repo: "bench/small", headers: {} };
  if (variant === "anonymous, public project") return { repo: "pub/small", headers: {} };
  if (variant === "Basic") return { repo: "bench/small", headers: { authorization: server.auth } };
  // A fresh token per variant run: access tokens live 5 minutes.
  const token = await bearerToken(server, "repository:bench/small:pull");
  return { repo: "bench/small", headers: { authorization: token } };
}

export async function requestRateMetrics(
  server: BenchServer,
  connections: readonly number[],
  variants: readonly AuthVariant[] = AUTH_VARIANTS,
  targets: readonly string[] = TARGETS.map((t) => t.name),
): Promise<Metric[]> {
  const d = digests.get(server.url);
  if (!d) throw new Error("request-rate set-up did not run");
  const out: Metric[] = [];
  // Without auth every variant is the same request: measure it once.
  const measured = server.auth ? variants : variants.slice(0, 1);
  await warmUp(server, measured[0] ?? "Bearer", d, targets);
  for (const variant of measured) {
    const { repo, headers } = await variantRequest(server, variant);
    for (const c of connections) {
      for (const t of TARGETS.filter((x) => targets.includes(x.name))) {
        const cpuBefore = cpuSeconds(server.pid);
        const r = await runLoad({
          url: `${server.url}${t.path(repo, d)}`,
          method: t.method,
          connections: c,
          seconds: SECONDS,
          headers: { ...ACCEPT, ...headers },
        });
        // The server's CPU per request: on a loaded machine the rate follows the load, this
        // much less (it is what the request costs the server, wherever the time went).
        const cpuUs =
          ((cpuSeconds(server.pid) - cpuBefore) * 1e6) / (r.requestsPerSecond * SECONDS);
        const names = server.auth ? [variant] : variants;
        for (const v of names) {
          const label = `${t.name} [${v}] c=${c}`;
          out.push(metric(`${label} req/s`, "req/s", r.requestsPerSecond, true));
          out.push(metric(`${label} p99`, "ms", r.p99Ms, false));
          out.push(metric(`${label} errors`, "count", r.errors, false));
          out.push(metric(`${label} server CPU/req`, "µs", cpuUs, false));
        }
      }
    }
  }
  return out;
}

/**
 * One unmeasured second of each target's load, so the first measured variant does not pay for
 * V8 compiling the server's hot path (every server gets the same warm-up).
 */
async function warmUp(
  server: BenchServer,
  variant: AuthVariant,
  d: { manifest: string; layer: string },
  targets: readonly string[],
): Promise<void> {
  const { repo, headers } = await variantRequest(server, variant);
  for (const t of TARGETS.filter((x) => targets.includes(x.name))) {
    await runLoad({
      url: `${server.url}${t.path(repo, d)}`,
      method: t.method,
      connections: 32,
      seconds: 1,
      headers: { ...ACCEPT, ...headers },
    });
  }
}

export async function setupSmallRepo(server: BenchServer): Promise<void> {
  const image = await pushSmallImage(server.url, "bench/small", "v1", server.auth);
  if (server.auth) await pushSmallImage(server.url, "pub/small", "v1", server.auth);
  digests.set(server.url, {
    manifest: image.manifest.digest,
    layer: image.layer.descriptor.digest,
  });
}

export const requestRateScenario: Scenario = {
  id: "request-rate",
  title:
    "4. manifest GET (tag, digest) and blob HEAD under load, 32 and 256 connections; Bearer, Basic, anonymous-public",
  prepare: async () => {},
  setup: (server) => setupSmallRepo(server),
  run: (server) => requestRateMetrics(server, [32, 256]),
};
