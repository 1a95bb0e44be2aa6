// `berth ls` on local image locations (an OCI layout, an oci-archive, a docker-archive) lists
// the names they give their images, as text and as one JSON document; an unknown transport
// prefix is a usage error (exit 2) naming the known transports, with no request made.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syntheticImageLayout } from "../support/synthetic-images.js";
import { berth, berthOk } from "./berth-cli.js";

let work: string;
let layout: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-local-ls-"));
  layout = join(work, "layout");
  const image = await syntheticImageLayout(layout, "1.0", {
    layers: [{ seed: "local-ls", size: 4_000 }],
  });
  await berthOk(["copy", image.reference, `oci:${layout}:stable`]);
  await berthOk(["copy", image.reference, `oci-archive:${join(work, "image.oci.tar")}:v2`]);
  await berthOk([
    "copy",
    image.reference,
    `docker-archive:${join(work, "image.tar")}:example/app:3`,
  ]);
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("berth ls on local transports", () => {
  it("lists an OCI layout's tags, as lines and as JSON", async () => {
    expect((await berthOk(["ls", `oci:${layout}`])).stdout).toBe("1.0\nstable\n");
    const json = JSON.parse((await berthOk(["ls", `oci:${layout}`, "--format", "json"])).stdout);
    expect(json).toEqual({ location: `oci:${layout}`, tags: ["1.0", "stable"] });
  });

  it("lists oci-archive and docker-archive names", async () => {
    expect((await berthOk(["ls", `oci-archive:${join(work, "image.oci.tar")}`])).stdout).toBe(
      "v2\n",
    );
    const json = JSON.parse(
      (await berthOk(["ls", "--format", "json", `docker-archive:${join(work, "image.tar")}`]))
        .stdout,
    );
    expect(json.tags).toEqual(["example/app:3"]);
  });

  it("exits 2 for a location with a tag or one that is not a layout", async () => {
    const tagged = await berth(["ls", `oci:${layout}:1.0`]);
    expect(tagged.code).toBe(2);
    expect(tagged.stderr).toMatch(/names one image/);
    const missing = await berth(["ls", `oci:${join(work, "nowhere")}`, "--format", "json"]);
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout)).toHaveProperty("error.message");
  });
});

describe("unknown transports", () => {
  it("is a usage error naming the known transports, for every command", async () => {
    for (const args of [
      ["inspect", "unknown-transport:./foo"],
      ["copy", "dir:/tmp/x", `oci:${join(work, "out")}`],
      ["ls", "containers-storage:alpine"],
    ]) {
      const result = await berth(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(
        /berth does not know; use docker:\/\/, oci:, oci-archive:, docker-archive:/,
      );
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
    }
  });
});

describe("short names", () => {
  it("are a usage error naming the known transports and the qualified name, for every command", async () => {
    for (const [args, text, qualified] of [
      [
        ["inspect", "unknown-transport:foo"],
        "unknown-transport:foo",
        "docker.io/library/unknown-transport:foo",
      ],
      [
        ["copy", "alpine:3.20", `oci:${join(work, "short")}`],
        "alpine:3.20",
        "docker.io/library/alpine:3.20",
      ],
      [["ls", "team/app"], "team/app", "docker.io/team/app"],
      [
        ["load", join(work, "image.tar"), "restored/app:1"],
        "restored/app:1",
        "docker.io/restored/app:1",
      ],
    ] as const) {
      const result = await berth([...args]);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr.trim()).toBe(
        `berth: "${text}" names no registry host and no transport berth knows (docker://, oci:, oci-archive:, docker-archive:); berth does not guess a registry for a short name: write e.g. ${qualified}`,
      );
    }
  });
});
