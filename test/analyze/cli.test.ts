// `berth analyze` as users run it: `node bin/berth.js analyze …` (dist/, as built),
// on the known image (known-image.ts): human output, JSON, tree, CI thresholds and exit codes.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BERTH_BIN } from "../support/berth-process.js";
import { type CommandResult, run } from "../support/process-control.js";
import { startReferenceRegistry } from "../support/reference-registry.js";
import { type FixtureImage, writeFixtureImage } from "./fixture-image.js";
import { KNOWN_DOCKERFILE, knownImageSteps } from "./known-image.js";

let work: string;
let known: FixtureImage;
let dockerfile: string;

function berth(...args: string[]): Promise<CommandResult> {
  return run(process.execPath, [BERTH_BIN, "analyze", ...args], {
    env: { ...process.env },
    timeoutMs: 60_000,
  });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-analyze-cli-"));
  known = await writeFixtureImage(join(work, "layout"), knownImageSteps());
  dockerfile = join(work, "Dockerfile");
  await writeFile(dockerfile, KNOWN_DOCKERFILE);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("berth analyze", () => {
  it("prints the layer table, dive's totals and the findings with Dockerfile lines", async () => {
    const result = await berth(known.reference, "--dockerfile", dockerfile);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    // efficiency 23400/35900 = 65.18%, wasted 18500 B, user wasted 6500/23900 = 27.20%
    expect(result.stdout).toContain("Efficiency 65.18%");
    expect(result.stdout).toContain("wasted 18.5 kB");
    expect(result.stdout).toContain("user wasted 27.20% (6.5 kB)");
    expect(result.stdout).toMatch(
      /^\s+1\s+\d+ B\s+16\.4 kB\s+2\s+1\s+0\s+\[line 5\] RUN apt-get update/m,
    );
    expect(result.stdout).toContain(
      "8 kB of /var/lib/apt/lists written by layer 1 `RUN apt-get update && apt-get install -y curl` (Dockerfile line 5) is still in the image",
    );
    expect(result.stdout).toContain("at: Dockerfile line 5: RUN apt-get update && \\");
    // The lint rule of the same instruction, under the waste it explains…
    expect(result.stdout).toMatch(
      /at: Dockerfile line 5: .*\n\s+lint: BL2005 \(warning, line 5\): The apt package lists stay in this layer/,
    );
    // …and the Dockerfile's lint findings with the layer (and bytes) each line built.
    expect(result.stdout).toMatch(/Dockerfile lint: 6 /);
    expect(result.stdout).toMatch(
      /line 5: BL2005 warning \[layer 1, [\d.]+ kB\]: The apt package lists/,
    );
    expect(result.stdout).toMatch(/line 2: BL1002 info: Base image "debian:12" is not pinned/);
  });

  it("prints every number as JSON and exits 1 when a CI threshold is crossed", async () => {
    const result = await berth(
      known.reference,
      "--format",
      "json",
      "--lowest-efficiency",
      "0.95",
      "--highest-wasted-bytes",
      "20MB",
      "--highest-user-wasted-percent",
      "0.10",
    );
    expect(result.code).toBe(1);
    const doc = JSON.parse(result.stdout);
    expect(doc.wastedBytes).toBe(18500);
    expect(doc.efficiency).toBeCloseTo(23400 / 35900, 12);
    expect(doc.userWastedPercent).toBeCloseTo(6500 / 23900, 12);
    expect(doc.userWastedBytes).toBe(6500);
    expect(doc.sizeBytes).toBe(35900);
    expect(doc.userSizeBytes).toBe(23900);
    expect(doc.layers).toHaveLength(4);
    expect(doc.layers.map((l: { compressedBytes: number }) => l.compressedBytes)).toEqual(
      known.layers.map((l) => l.size),
    );
    expect(doc.layers.map((l: { uncompressedBytes: number }) => l.uncompressedBytes)).toEqual(
      known.tarSizes,
    );
    expect(doc.layers[2].changes).toMatchObject({ added: 0, modified: 1, removed: 3 });
    expect(doc.inefficiencies).toHaveLength(6);
    expect(doc.findings.length).toBeGreaterThan(0);
    expect(doc.ci.passed).toBe(false);
    expect(doc.ci.rules.map((r: { rule: string; passed: boolean }) => [r.rule, r.passed])).toEqual([
      ["lowestEfficiency", false],
      ["highestWastedBytes", true],
      ["highestUserWastedPercent", false],
    ]);
  });

  it("exits 0 when every threshold holds, and 1 with a FAIL line when one is crossed", async () => {
    const pass = await berth(
      known.reference,
      "--lowest-efficiency",
      "0.65",
      "--highest-wasted-bytes",
      "18500",
      "--highest-user-wasted-percent",
      "0.78",
    );
    expect(pass.code).toBe(0);
    expect(pass.stdout).toContain("Result: PASS [Total:3] [Passed:3] [Failed:0]");

    const configFile = join(work, ".dive-ci");
    await writeFile(configFile, "rules:\n  highestWastedBytes: 18.4kB\n");
    const fail = await berth(known.reference, "--ci-config", configFile);
    expect(fail.code).toBe(1);
    expect(fail.stdout).toContain(
      "FAIL: highestWastedBytes: too many bytes wasted (wasted-bytes=18500 > threshold=18400)",
    );
  });

  it("shows one layer's changes as a tree", async () => {
    const result = await berth(known.reference, "--tree", "--layer", "3");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Changes in layer 3:");
    expect(result.stdout).toMatch(/^-\s+700 B\s+.*── a$/m);
    expect(result.stdout).toMatch(/^\+\s+5 kB\s+.*── tool-copy$/m);
  });

  it("exits 2 on bad usage and bad input", async () => {
    const badThreshold = await berth(known.reference, "--highest-wasted-bytes", "lots");
    expect(badThreshold.code).toBe(2);
    expect(badThreshold.stderr).toContain("--highest-wasted-bytes must be a size");

    const badLayer = await berth(known.reference, "--layer", "9", "--format", "json");
    expect(badLayer.code).toBe(2);
    expect(JSON.parse(badLayer.stdout).error.message).toContain("--layer 9 is out of range");

    const missing = await berth(`oci:${join(work, "nowhere")}:test`);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^berth: /);
  });

  it("says in one sentence what is wrong with the image or the flags (exit 2)", async () => {
    const junk = join(work, "junk.tar");
    await writeFile(junk, Buffer.alloc(4096, 7));
    const notTar = await berth(`docker-archive:${junk}`);
    expect(notTar.code).toBe(2);
    expect(notTar.stdout).toBe("");
    // One line that names the archive (transport's own message, or analyze's prefix).
    expect(notTar.stderr).toMatch(/^berth: [^\n]*junk\.tar[^\n]*not a tar archive[^\n]*\n$/);

    const directory = await berth(`docker-archive:${work}`);
    expect(directory.code).toBe(2);
    expect(directory.stderr).toMatch(/^berth: [^\n]*directory[^\n]*\n$/);
    expect(directory.stderr).toContain(work);

    const badTarget = await berth(known.reference, "--dockerfile", dockerfile, "--target", "nope");
    expect(badTarget.code).toBe(2);
    expect(badTarget.stderr).toBe(
      "berth: --target nope is not a stage of the Dockerfile: it has no named stages\n",
    );

    const otherPlatform = await berth(known.reference, "--platform", "linux/arm64");
    expect(otherPlatform.code).toBe(2);
    expect(otherPlatform.stderr).toBe(
      `berth: ${known.reference} is a single-platform image for linux/amd64, not linux/arm64\n`,
    );
  });

  it("exits 3 with one sentence when the registry has no such image", async () => {
    const registry = await startReferenceRegistry();
    try {
      const result = await berth(`${registry.host}/analyze/missing:1.0`);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/^berth: [^\n]*analyze\/missing[^\n]*not found[^\n]*\n$/);
    } finally {
      await registry.stop();
    }
  });
});
