// vitest globalSetup: before any test file runs, make sure the real tools the suite talks to
// (REQUIRED_TOOLS in tools.ts: skopeo, podman, buildah, docker-registry, debootstrap, openssl,
// zstd, wrk, chromium, rpm, go) are installed — installing them as root when possible — and
// fail the run loudly otherwise.
// Then it makes sure dist/ is current (build.ts), because the tests run bin/berth.js as
// shipped, from dist/. It must never start servers or build fixtures (tests do that
// themselves, on demand).
import { ensureCliBuild } from "./build.js";
import { ensureTools } from "./tools.js";

export default async function setup(): Promise<void> {
  await ensureTools();
  await ensureCliBuild();
}
