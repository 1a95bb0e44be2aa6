// `berth copy` shows one progress bar per layer when stderr is a terminal, and nothing on a
// pipe (scripts read clean output): the same copy is run under `script` (a real pseudo-
// terminal) and through plain pipes, against a real registry (CNCF distribution 2.8).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BERTH_BIN } from "../support/berth-process.js";
import { run } from "../support/process-control.js";
import { type ReferenceRegistry, startReferenceRegistry } from "../support/reference-registry.js";
import { syntheticImageLayout } from "../support/synthetic-images.js";
import { berthOk } from "./berth-cli.js";

let registry: ReferenceRegistry;
let work: string;
let image: Awaited<ReturnType<typeof syntheticImageLayout>>;

beforeAll(async () => {
  registry = await startReferenceRegistry();
  work = await mkdtemp(join(tmpdir(), "berth-cli-progress-"));
  image = await syntheticImageLayout(join(work, "layout"), "1.0", {
    label: "progress",
    layers: [
      { seed: "progress-a", size: 400_000 },
      { seed: "progress-b", size: 300_000 },
    ],
  });
});

afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Runs `berth ARGS` with stdin, stdout and stderr on a pseudo-terminal; returns what it drew. */
async function berthOnTerminal(args: string[]): Promise<{ code: number; screen: string }> {
  const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const line = [process.execPath, BERTH_BIN, ...args].map(quote).join(" ");
  const result = await run("script", ["-qec", line, "/dev/null"], {
    env: { ...process.env, COLUMNS: "160" },
    cwd: join(BERTH_BIN, "..", ".."),
    timeoutMs: 120_000,
  });
  return { code: result.code, screen: result.stdout };
}

describe("progress output", () => {
  it("draws a bar per layer on a terminal, with the layer's short digest", async () => {
    const { code, screen } = await berthOnTerminal([
      "copy",
      image.reference,
      `${registry.host}/progress/tty:1`,
    ]);
    expect(code, screen).toBe(0);
    for (const layer of image.layers) {
      const short = layer.digest.slice("sha256:".length, "sha256:".length + 12);
      expect(screen).toMatch(new RegExp(`${short} \\[[^\\]]+\\] 100%`));
    }
    expect(screen).toMatch(/Copied .* \(3 blobs copied/);
  });

  it("is quiet on a pipe and with --quiet on a terminal", async () => {
    const piped = await berthOk(["copy", image.reference, `${registry.host}/progress/pipe:1`]);
    expect(piped.stderr).toBe("");
    expect(piped.stdout.trim().split("\n")).toHaveLength(1);

    const quiet = await berthOnTerminal([
      "copy",
      "-q",
      image.reference,
      `${registry.host}/progress/quiet:1`,
    ]);
    expect(quiet.code, quiet.screen).toBe(0);
    expect(quiet.screen).not.toMatch(/100%/);
    expect(quiet.screen.trim().split("\n")).toHaveLength(1);
  });
});
