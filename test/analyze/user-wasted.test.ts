// dive's three numbers and Berth's user wasted percent on an image whose every number is
// worked out by hand below, shaped like the report in issue 13: a user layer that deletes a
// large base-image file. dive divides all wasted bytes (the base layer's included) by the user
// size and printed 250050.30% for this image; Berth divides the wasted bytes the user layers
// store by the same size. Without --dockerfile nothing tells that layer 0 is the base image's,
// so no finding blames it; with a Dockerfile that matches the history, it is.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzeImage, type ImageAnalysis } from "../../src/analyze/index.js";
import { openImageSource, resolveImage } from "../../src/transport/index.js";
import { BERTH_BIN } from "../support/berth-process.js";
import { run } from "../support/process-control.js";
import { dir, type FixtureImage, file, whiteout, writeFixtureImage } from "./fixture-image.js";

const DOCKERFILE = `FROM example/base:1
RUN rm /etc/big && echo hi > /etc/small && make install
RUN rm /tmp/build.log
`;

let work: string;
let image: FixtureImage;

async function analyze(dockerfile?: string): Promise<ImageAnalysis> {
  const source = await openImageSource(image.reference);
  try {
    const resolved = await resolveImage(source);
    return await analyzeImage(
      source,
      resolved,
      dockerfile ? { dockerfile: { text: dockerfile } } : {},
    );
  } finally {
    await source.close();
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-user-wasted-"));
  image = await writeFixtureImage(join(work, "layout"), [
    {
      createdBy: "/bin/sh -c #(nop) ADD file:base in / ",
      entries: [dir("etc"), file("etc/big", 5_000_000, "B"), file("etc/small", 3, "s")],
    },
    {
      createdBy: "RUN /bin/sh -c rm /etc/big && echo hi > /etc/small && make install # buildkit",
      entries: [
        whiteout("etc/big"),
        file("etc/small", 3, "t"),
        file("usr/bin/app", 997, "a"),
        file("tmp/build.log", 1000, "l"),
      ],
    },
    {
      createdBy: "RUN /bin/sh -c rm /tmp/build.log # buildkit",
      entries: [whiteout("tmp/build.log")],
    },
  ]);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("user wasted percent", () => {
  it("is the user layers' wasted bytes ÷ the user size, a ratio from 0 to 1", async () => {
    const a = await analyze();
    // Counted events per path (removals count 0; /etc in L0 has children, so it is no leaf):
    //   /etc/big        5,000,000 (L0) + 0 (L1 rm)   cumulative 5,000,000  min 0     inefficient
    //   /etc/small              3 (L0) + 3 (L1)      cumulative         6  min 3     inefficient
    //   /usr/bin/app          997 (L1)               cumulative       997  min 997
    //   /tmp/build.log      1,000 (L1) + 0 (L2 rm)   cumulative     1,000  min 0     inefficient
    // discovered = 5,000,000 + 6 + 997 + 1,000 = 5,002,003
    // minimum    = 0 + 3 + 997 + 0             = 1,000
    // efficiency = 1,000 / 5,002,003
    // wasted     = 5,000,000 + 6 + 1,000       = 5,001,006
    // layer sizes: L0 5,000,000 + 3 = 5,000,003; L1 0 + 3 + 997 + 1,000 = 2,000; L2 0
    // user size  = 2,000 + 0 = 2,000
    // user wasted = inefficient paths' events in L1 and L2 = 0 + 3 + 1,000 + 0 = 1,003
    // user wasted percent = 1,003 / 2,000 = 0.5015   (dive: 5,001,006 / 2,000 = 2500.503)
    expect(a.totals.efficiency).toBeCloseTo(1000 / 5_002_003, 12);
    expect(a.totals.wastedBytes).toBe(5_001_006);
    expect(a.totals.sizeBytes).toBe(5_002_003);
    expect(a.layers.map((l) => l.contentBytes)).toEqual([5_000_003, 2000, 0]);
    expect(a.totals.userSizeBytes).toBe(2000);
    expect(a.totals.userWastedBytes).toBe(1003);
    expect(a.totals.userWastedPercent).toBe(0.5015);
  });

  it("does not blame the base image without a Dockerfile, and does with one", async () => {
    const without = await analyze();
    const big = without.findings.find((f) => f.path === "/etc/big");
    expect(big).toMatchObject({
      kind: "removed-in-later-layer",
      bytes: 5_000_000,
      cause: { layer: 0 },
      other: { layer: 1 },
      fromBase: false,
      origin: "unknown",
    });
    expect(big?.fix).not.toContain("these files come from the base image");
    expect(big?.fix).toContain("run with --dockerfile");
    expect(without.layers.map((l) => l.origin)).toEqual(["unknown", "unknown", "unknown"]);

    const withDockerfile = await analyze(DOCKERFILE);
    expect(withDockerfile.layers.map((l) => l.origin)).toEqual([
      "base",
      "dockerfile",
      "dockerfile",
    ]);
    const blamed = withDockerfile.findings.find((f) => f.path === "/etc/big");
    expect(blamed).toMatchObject({ fromBase: true, origin: "base" });
    expect(blamed?.fix).toContain("these files come from the base image");
    const log = withDockerfile.findings.find((f) => f.path === "/tmp");
    expect(log).toMatchObject({ fromBase: false, origin: "dockerfile", cause: { layer: 1 } });
  });

  it("prints a sane percentage and gates CI on the same ratio", async () => {
    const berth = (...args: string[]) =>
      run(process.execPath, [BERTH_BIN, "analyze", image.reference, ...args], {
        env: { ...process.env },
        timeoutMs: 60_000,
      });
    // 1,003 / 2,000 = 50.15%; 1,003 B is printed as is.
    const text = await berth("--highest-user-wasted-percent", "0.6");
    expect(text.stderr).toBe("");
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("user wasted 50.15% (1 kB)");
    expect(text.stdout).not.toContain("250050");
    const fails = await berth("--highest-user-wasted-percent", "0.5", "--format", "json");
    expect(fails.code).toBe(1);
    const doc = JSON.parse(fails.stdout);
    expect(doc.userWastedPercent).toBe(0.5015);
    expect(doc.ci.rules).toEqual([
      expect.objectContaining({ rule: "highestUserWastedPercent", actual: 0.5015, passed: false }),
    ]);
    // A percentage where a ratio belongs would never fail: refused in one sentence.
    const percent = await berth("--highest-user-wasted-percent", "20");
    expect(percent.code).toBe(2);
    expect(percent.stderr.trim()).toBe(
      'berth: --highest-user-wasted-percent must be a ratio from 0 to 1 (0.2 for 20%), got "20"',
    );
    await writeFile(join(work, ".dive-ci"), "rules:\n  lowestEfficiency: 95\n");
    const ciFile = await berth("--ci-config", join(work, ".dive-ci"));
    expect(ciFile.code).toBe(2);
    expect(ciFile.stderr).toContain("lowestEfficiency must be a ratio from 0 to 1");
  });
});
