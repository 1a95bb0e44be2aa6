// Interop: a two-platform OCI index (linux/amd64 + linux/arm64/v8, distinct configs, one shared
// layer) is pushed with `skopeo copy --all --preserve-digests`; the index keeps its digest, and
// each platform is then fetched on its own (by digest, and by `--override-arch` through the
// tag) into a fresh OCI layout with its digests intact.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspectRaw, skopeo, skopeoCopy } from "../support/container-tools.js";
import { readLayoutBlob, readLayoutEntry } from "../support/oci-layout.js";
import { RegistryHttp } from "../support/registry-http.js";
import {
  printRegistryLogOnFailure,
  type RegistryUnderTest,
  startRegistryUnderTest,
} from "../support/registry-under-test.js";
import { type TwoPlatformIndex, twoPlatformIndexLayout } from "../support/synthetic-images.js";

describe("skopeo copy --all of a multi-arch index", { timeout: 240_000 }, () => {
  let registry: RegistryUnderTest;
  printRegistryLogOnFailure(() => registry);
  let work: string;
  let fixture: TwoPlatformIndex;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "berth-interop-multiarch-"));
    fixture = await twoPlatformIndexLayout(join(work, "src"), "v1", "multiarch");
    registry = await startRegistryUnderTest();
  });

  afterAll(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("keeps the index digest and both platform manifests", async () => {
    const remote = `docker://${registry.host}/team/multiarch:v1`;
    await skopeoCopy(fixture.reference, remote, ["--all", "--preserve-digests"]);

    const index = await inspectRaw(remote);
    expect(index.digest).toBe(fixture.index.digest);
    expect(index.bytes.equals(fixture.indexBytes)).toBe(true);
    expect(index.json.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(
      index.json.manifests?.map((m) => `${m.platform?.os}/${m.platform?.architecture}`),
    ).toEqual(["linux/amd64", "linux/arm64"]);
    const configs = new Set(fixture.images.map(({ image }) => image.config.digest));
    expect(configs.size).toBe(2);
  });

  it("serves each platform by digest, byte for byte, with its layers", async () => {
    const http = new RegistryHttp(registry.url);
    for (const { platform, image } of fixture.images) {
      const byDigest = await inspectRaw(
        `docker://${registry.host}/team/multiarch@${image.manifest.digest}`,
      );
      expect(byDigest.bytes.equals(image.manifestBytes)).toBe(true);
      for (const descriptor of [image.config, ...image.layers]) {
        const blob = await http.hashBlob("team/multiarch", descriptor.digest);
        expect(blob, `${platform.architecture} ${descriptor.digest}`).toEqual({
          status: 200,
          digest: descriptor.digest,
          size: descriptor.size,
        });
      }
    }
  });

  it("lets skopeo pick each platform out of the index into a new layout", async () => {
    for (const { platform, image } of fixture.images) {
      const outDir = join(work, `out-${platform.architecture}`);
      const args = ["--override-os", platform.os, "--override-arch", platform.architecture];
      if (platform.variant) args.push("--override-variant", platform.variant);
      await skopeo([
        ...args,
        "copy",
        "--quiet",
        "--src-tls-verify=false",
        "--preserve-digests",
        `docker://${registry.host}/team/multiarch:v1`,
        `oci:${outDir}:${platform.architecture}`,
      ]);
      const entry = await readLayoutEntry(outDir, platform.architecture);
      expect(entry.digest).toBe(image.manifest.digest);
      for (const descriptor of [image.config, ...image.layers])
        await readLayoutBlob(outDir, descriptor.digest);
    }
  });
});
