// Digests survive archives: `berth save` writes one tar that is both a docker-archive and an
// OCI layout (blobs shared by both views), `berth load` / `berth copy docker-archive:` read the
// OCI view back, so a single image and a whole multi-arch index come back with their original
// digests; `podman load` still reads the file; an archive laid out exactly as Docker 25 writes
// it loads with its digest kept. Against the CNCF reference registry and real podman/skopeo.
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import * as tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ContainerStorage,
  inspectRaw,
  podman,
  privateContainerStorage,
} from "../support/container-tools.js";
import { writeDocker25Archive } from "../support/docker25-archive.js";
import { type ReferenceRegistry, startReferenceRegistry } from "../support/reference-registry.js";
import {
  syntheticImageLayout,
  type TwoPlatformIndex,
  twoPlatformIndexLayout,
} from "../support/synthetic-images.js";
import { berthOk } from "./berth-cli.js";

let registry: ReferenceRegistry;
let work: string;
let storage: ContainerStorage;
let multi: TwoPlatformIndex;
let single: Awaited<ReturnType<typeof syntheticImageLayout>>;
let R: string;

beforeAll(async () => {
  registry = await startReferenceRegistry();
  R = registry.host;
  work = await mkdtemp(join(tmpdir(), "berth-archive-digests-"));
  storage = await privateContainerStorage();
  multi = await twoPlatformIndexLayout(join(work, "multi"), "1.0", "archive-multi");
  single = await syntheticImageLayout(join(work, "single"), "1.0", {
    label: "archive-single",
    layers: [
      { seed: "archive-single-a", size: 120_000 },
      { seed: "archive-single-b", size: 30_000 },
    ],
  });
  await berthOk(["copy", "--all", multi.reference, `${R}/app/multi:1.0`]);
  await berthOk(["copy", single.reference, `${R}/app/single:1.0`]);
}, 300_000);

afterAll(async () => {
  await registry?.stop();
  await storage?.remove();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Every entry name of a tar, in order (duplicates kept). */
async function tarEntries(file: string): Promise<string[]> {
  const names: string[] = [];
  const extract = tar.extract();
  extract.on("entry", (header, stream, next) => {
    names.push(header.name);
    stream.on("end", next);
    stream.resume();
  });
  await pipeline(createReadStream(file), extract);
  return names;
}

describe("save → load keeps digests", () => {
  it("a single image: same manifest digest, layers stored once for both views", async () => {
    const archive = join(work, "single.tar");
    await berthOk(["save", `${R}/app/single:1.0`, "-o", archive]);
    const entries = await tarEntries(archive);
    expect(entries).toEqual(
      expect.arrayContaining(["manifest.json", "repositories", "oci-layout", "index.json"]),
    );
    for (const layer of single.layers) {
      const path = `blobs/sha256/${layer.digest.slice(7)}`;
      expect(entries.filter((e) => e === path)).toHaveLength(1);
    }
    expect(entries.filter((e) => e.startsWith("blobs/")).length).toBe(new Set(entries).size - 4);

    const loaded = JSON.parse(
      (await berthOk(["load", archive, `${R}/restored/single:1.0`, "--format", "json"])).stdout,
    ) as { loaded: { digest: string }[] };
    expect(loaded.loaded[0]?.digest).toBe(single.manifest.digest);
    expect((await inspectRaw(`docker://${R}/restored/single:1.0`)).digest).toBe(
      single.manifest.digest,
    );
    const copied = JSON.parse(
      (
        await berthOk([
          "copy",
          "--format",
          "json",
          `docker-archive:${archive}`,
          `oci:${join(work, "single-copy")}:x`,
        ])
      ).stdout,
    ) as { digest: string };
    expect(copied.digest).toBe(single.manifest.digest);
  });

  it("a multi-arch index: saved whole, loaded with the index digest; podman load reads it", async () => {
    const archive = join(work, "multi.tar");
    await berthOk(["save", `${R}/app/multi:1.0`, "-o", archive]);
    await berthOk(["load", archive, `${R}/restored/multi:1.0`]);
    const raw = await inspectRaw(`docker://${R}/restored/multi:1.0`);
    expect(raw.digest).toBe(multi.index.digest);
    for (const { platform, image } of multi.images) {
      const child = await inspectRaw(
        `docker://${R}/restored/multi@${raw.json.manifests?.find((m) => m.platform?.architecture === platform.architecture)?.digest}`,
      );
      expect(child.digest).toBe(image.manifest.digest);
    }
    const copied = JSON.parse(
      (
        await berthOk([
          "copy",
          "--all",
          "--format",
          "json",
          `docker-archive:${archive}`,
          `${R}/copied/multi:1`,
        ])
      ).stdout,
    ) as { digest: string };
    expect(copied.digest).toBe(multi.index.digest);

    const loaded = await podman(storage, ["load", "-i", archive]);
    expect(loaded.stdout).toContain(`${R}/app/multi:1.0`);
    const ids = await podman(storage, [
      "images",
      "--no-trunc",
      "--format",
      "{{.Repository}}:{{.Tag}} {{.ID}}",
    ]);
    const amd = multi.images.find((i) => i.platform.architecture === "amd64");
    expect(ids.stdout).toContain(`${R}/app/multi:1.0 ${amd?.image.config.digest}`);
  });

  it("a single image archive still loads with podman load", async () => {
    const archive = join(work, "single-podman.tar");
    await berthOk(["save", `${R}/app/single:1.0`, "-o", archive]);
    await podman(storage, ["load", "-i", archive]);
    const ids = await podman(storage, [
      "images",
      "--no-trunc",
      "--format",
      "{{.Repository}}:{{.Tag}} {{.ID}}",
    ]);
    expect(ids.stdout).toContain(`${R}/app/single:1.0 ${single.config.digest}`);
  });
});

describe("archives written by Docker 25+", () => {
  it.each(["graphdriver", "containerd"] as const)(
    "%s store: loads with the manifest digest Docker wrote",
    async (store) => {
      const archive = join(work, `docker25-${store}.tar`);
      const written = await writeDocker25Archive(
        archive,
        "example/app:1.0",
        [`d25-${store}-a`, `d25-${store}-b`],
        store,
      );
      const out = await berthOk(["load", archive, `${R}/from-docker-${store}`, "--format", "json"]);
      const loaded = JSON.parse(out.stdout) as { loaded: { target: string; digest: string }[] };
      expect(loaded.loaded).toEqual([
        { target: `${R}/from-docker-${store}:1.0`, digest: written.manifestDigest },
      ]);
      const raw = await inspectRaw(`docker://${R}/from-docker-${store}:1.0`);
      expect(raw.digest).toBe(written.manifestDigest);
      expect(raw.json.config?.digest).toBe(written.configDigest);
      const copied = JSON.parse(
        (
          await berthOk([
            "copy",
            "--format",
            "json",
            `docker-archive:${archive}:example/app:1.0`,
            `oci:${join(work, `d25-layout-${store}`)}:1.0`,
          ])
        ).stdout,
      ) as { digest: string };
      expect(copied.digest).toBe(written.manifestDigest);
    },
  );
});
