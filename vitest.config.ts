import { defineConfig } from "vitest/config";

// Unit tests are fast and pure; interop/e2e tests start real servers and real clients
// (skopeo, podman, buildah, docker-registry), so they get generous timeouts.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: "forks",
    // Checks (and as root installs) the real tools the suite needs; fails loudly if missing.
    globalSetup: ["./test/support/global-setup.ts"],
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
