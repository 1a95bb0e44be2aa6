import { defineConfig } from "vitest/config";

// Unit tests are fast and pure; interop/e2e tests start real servers and real clients
// (skopeo, podman, buildah, docker-registry), so they get generous timeouts.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: "forks",
    // Two files at a time: most e2e time is spent waiting on real clients and servers, and
    // the suite's shared fixtures (Ceph, chromium, built images) are guarded by file locks.
    // Serial, the suite took ~1,500 s on the 2-core CI machine; two at a time, ~990 s.
    maxWorkers: 2,
    // Checks (and as root installs) the real tools the suite needs; fails loudly if missing.
    globalSetup: ["./test/support/global-setup.ts"],
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
