// vitest globalSetup: before any test file runs, make sure the real tools the suite talks to
// (REQUIRED_TOOLS in tools.ts: skopeo, podman, buildah, docker-registry, debootstrap, openssl,
// zstd, wrk, chromium, rpm, go) are installed — installing them as root when possible — and
// fail the run loudly otherwise.
// Then it makes sure dist/ is current (build.ts), because the tests run bin/berth.js as
// shipped, from dist/. It must never start servers or build fixtures (tests do that
// themselves, on demand); the teardown stops the run's shared Ceph radosgw (ceph-rgw.ts) if a
// test started one.
import { ensureCliBuild } from "./build.js";
import { stopSharedCephRgw } from "./ceph-rgw.js";
import { ensureTools } from "./tools.js";

export default async function setup(): Promise<() => Promise<void>> {
  await ensureTools();
  await ensureCliBuild();
  return stopSharedCephRgw;
}
