// `berth` image commands against the real tools and a real registry (CNCF distribution 2.8):
// `berth save` output loads with `podman load`; an OCI layout written by `berth copy` is read
// by `skopeo inspect oci:` and `skopeo copy`; a `skopeo copy … docker-archive:` archive loads
// with `berth load`; `oci-archive:` and `docker-archive:` files go both ways between berth
// and skopeo/podman; `berth index create` output is pulled per platform by `podman pull
// --platform`; and the data commands (inspect/manifest/config/digest/ls/catalog/tag/delete/
// mirror) print what they should with stable exit codes.
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestOf } from "../../src/oci/index.js";
import {
  type ContainerStorage,
  inspectRaw,
  podman,
  privateContainerStorage,
  skopeo,
  skopeoCopy,
} from "../support/container-tools.js";
import { type ReferenceRegistry, startReferenceRegistry } from "../support/reference-registry.js";
import {
  syntheticImageLayout,
  type TwoPlatformIndex,
  twoPlatformIndexLayout,
} from "../support/synthetic-images.js";
import { berth, berthOk } from "./berth-cli.js";

let registry: ReferenceRegistry;
let work: string;
let storage: ContainerStorage;
let multi: TwoPlatformIndex;
let single: Awaited<ReturnType<typeof syntheticImageLayout>>;
let R: string;

beforeAll(async () => {
  registry = await startReferenceRegistry();
  R = registry.host;
  work = await mkdtemp(join(tmpdir(), "berth-cli-interop-"));
  storage = await privateContainerStorage();
  multi = await twoPlatformIndexLayout(join(work, "multi"), "1.0", "cli-multi");
  single = await syntheticImageLayout(join(work, "single"), "2.0", {
    label: "cli-single",
    layers: [
      { seed: "cli-single-a", size: 200_000 },
      { seed: "cli-single-b", size: 60_000 },
    ],
  });
  await berthOk(["copy", "--all", multi.reference, `${R}/app/multi:1.0`]);
  await berthOk(["copy", single.reference, `${R}/app/single:2.0`]);
});

afterAll(async () => {
  await registry?.stop();
  await storage?.remove();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("berth copy", () => {
  it("keeps every digest when copying an index to a registry", async () => {
    expect((await inspectRaw(`docker://${R}/app/multi:1.0`)).digest).toBe(multi.index.digest);
    expect((await inspectRaw(`docker://${R}/app/single:2.0`)).digest).toBe(single.manifest.digest);
  });

  it("writes an OCI layout that skopeo inspects and copies", async () => {
    const layout = join(work, "out-layout");
    await berthOk(["copy", "--all", `${R}/app/multi:1.0`, `oci:${layout}:v1`]);
    const raw = await inspectRaw(`oci:${layout}:v1`);
    expect(raw.digest).toBe(multi.index.digest);
    const inspected = JSON.parse((await skopeo(["inspect", `oci:${layout}:v1`])).stdout) as {
      Architecture: string;
    };
    expect(["amd64", "arm64"]).toContain(inspected.Architecture);
    await skopeoCopy(`oci:${layout}:v1`, `docker://${R}/from-skopeo/multi:v1`, ["--all"]);
    expect((await inspectRaw(`docker://${R}/from-skopeo/multi:v1`)).digest).toBe(
      multi.index.digest,
    );
  });

  it("copies one platform of an index with --platform", async () => {
    const arm = multi.images.find((i) => i.platform.architecture === "arm64");
    const out = await berthOk([
      "copy",
      "--platform",
      "linux/arm64",
      "--format",
      "json",
      `${R}/app/multi:1.0`,
      `${R}/app/arm-only:1`,
    ]);
    expect((JSON.parse(out.stdout) as { digest: string }).digest).toBe(arm?.image.manifest.digest);
  });
});

describe("berth save / load", () => {
  it("saves several images into one archive that podman load reads", async () => {
    const archive = join(work, "bundle.tar");
    await berthOk([
      "save",
      `${R}/app/multi:1.0`,
      `${R}/app/single:2.0`,
      "-o",
      archive,
      "--platform",
      "linux/amd64",
    ]);
    const loaded = await podman(storage, ["load", "-i", archive]);
    expect(loaded.stdout).toContain(`${R}/app/multi:1.0`);
    expect(loaded.stdout).toContain(`${R}/app/single:2.0`);
    const ids = await podman(storage, [
      "images",
      "--no-trunc",
      "--format",
      "{{.Repository}}:{{.Tag}} {{.ID}}",
    ]);
    const amd = multi.images.find((i) => i.platform.architecture === "amd64");
    expect(ids.stdout).toContain(`${R}/app/single:2.0 ${single.config.digest}`);
    expect(ids.stdout).toContain(`${R}/app/multi:1.0 ${amd?.image.config.digest}`);

    const layout = join(work, "loaded-layout");
    const loadedToLayout = JSON.parse(
      (await berthOk(["load", archive, `oci:${layout}`, "--format", "json"])).stdout,
    ) as { loaded: { target: string }[] };
    expect(loadedToLayout.loaded.map((l) => l.target).sort()).toEqual([
      `oci:${layout}:${R}/app/multi:1.0`,
      `oci:${layout}:${R}/app/single:2.0`,
    ]);
    const fromLayout = await inspectRaw(`oci:${layout}:${R}/app/single:2.0`);
    expect(fromLayout.json.config?.digest).toBe(single.config.digest);
  });

  it("loads an archive written by skopeo copy docker-archive: into a registry", async () => {
    const archive = join(work, "skopeo.tar");
    await skopeoCopy(`docker://${R}/app/single:2.0`, `docker-archive:${archive}:example/single:7`);
    const out = await berthOk(["load", archive, `${R}/loaded/single`]);
    expect(out.stdout).toContain(`${R}/loaded/single:7`);
    const config = await berthOk(["config", `${R}/loaded/single:7`]);
    expect(digestOf(Buffer.from(config.stdout))).toBe(single.config.digest);
    const raw = await inspectRaw(`docker://${R}/loaded/single:7`);
    expect(raw.json.layers?.length).toBe(2);
  });
});

describe("archive transports, both ways", () => {
  it("writes oci-archive: and docker-archive: files that skopeo and podman read", async () => {
    const ociArchive = join(work, "berth-multi.oci.tar");
    await berthOk(["copy", "--all", `${R}/app/multi:1.0`, `oci-archive:${ociArchive}:v1`]);
    expect((await inspectRaw(`oci-archive:${ociArchive}:v1`)).digest).toBe(multi.index.digest);
    await skopeoCopy(`oci-archive:${ociArchive}:v1`, `docker://${R}/from-oci-archive/multi:v1`, [
      "--all",
    ]);
    expect((await inspectRaw(`docker://${R}/from-oci-archive/multi:v1`)).digest).toBe(
      multi.index.digest,
    );

    const dockerArchive = join(work, "berth-single.docker.tar");
    await berthOk([
      "copy",
      `${R}/app/single:2.0`,
      `docker-archive:${dockerArchive}:example/berth-single:3`,
    ]);
    const config = JSON.parse(
      (await skopeo(["inspect", "--config", `docker-archive:${dockerArchive}`])).stdout,
    ) as { config?: { Labels?: Record<string, string> } };
    expect(config.config?.Labels?.["berth.test.label"]).toBe("cli-single");
    const loaded = await podman(storage, ["load", "-i", dockerArchive]);
    expect(loaded.stdout).toContain("example/berth-single:3");
    const ids = await podman(storage, [
      "images",
      "--no-trunc",
      "--format",
      "{{.Repository}}:{{.Tag}} {{.ID}}",
    ]);
    expect(ids.stdout).toContain(`example/berth-single:3 ${single.config.digest}`);
  });

  it("reads oci-archive: and docker-archive: files that skopeo wrote", async () => {
    const ociArchive = join(work, "skopeo-multi.oci.tar");
    await skopeoCopy(`docker://${R}/app/multi:1.0`, `oci-archive:${ociArchive}:v2`, ["--all"]);
    await berthOk([
      "copy",
      "--all",
      `oci-archive:${ociArchive}:v2`,
      `${R}/via-oci-archive/multi:2`,
    ]);
    expect((await inspectRaw(`docker://${R}/via-oci-archive/multi:2`)).digest).toBe(
      multi.index.digest,
    );

    const dockerArchive = join(work, "skopeo-single.docker.tar");
    await skopeoCopy(
      `docker://${R}/app/single:2.0`,
      `docker-archive:${dockerArchive}:example/skopeo-single:4`,
    );
    const out = await berthOk([
      "copy",
      "--format",
      "json",
      `docker-archive:${dockerArchive}:example/skopeo-single:4`,
      `${R}/via-docker-archive/single:4`,
    ]);
    const copied = JSON.parse(out.stdout) as { digest: string };
    const raw = await inspectRaw(`docker://${R}/via-docker-archive/single:4`);
    expect(raw.digest).toBe(copied.digest);
    expect(raw.json.config?.digest).toBe(single.config.digest);
    expect(raw.json.layers?.length).toBe(2);
  });
});

describe("berth index", () => {
  it("creates a multi-arch image that podman pulls for each platform", async () => {
    await berthOk([
      "copy",
      "--platform",
      "linux/amd64",
      `${R}/app/multi:1.0`,
      `${R}/parts/app:amd64`,
    ]);
    await berthOk([
      "copy",
      "--platform",
      "linux/arm64",
      `${R}/app/multi:1.0`,
      `${R}/parts/app:arm64`,
    ]);
    const created = await berthOk([
      "index",
      "create",
      `${R}/combined/app:1`,
      `${R}/parts/app:amd64`,
      `${R}/parts/app:arm64`,
      "--annotation",
      "org.opencontainers.image.source=https://example.com/app",
      "--format",
      "json",
    ]);
    const doc = JSON.parse(created.stdout) as {
      digest: string;
      manifests: { platform: { architecture: string } }[];
    };
    expect(doc.manifests.map((m) => m.platform.architecture)).toEqual(["amd64", "arm64"]);
    expect((await inspectRaw(`docker://${R}/combined/app:1`)).digest).toBe(doc.digest);
    for (const { platform, image } of multi.images) {
      const pulled = await podman(storage, [
        "pull",
        "--quiet",
        "--tls-verify=false",
        "--platform",
        `linux/${platform.architecture}`,
        `${R}/combined/app:1`,
      ]);
      expect(pulled.stdout.trim()).toBe(image.config.digest.slice("sha256:".length));
    }

    await berthOk([
      "index",
      "annotate",
      `${R}/combined/app:1`,
      "--for-platform",
      "linux/arm64",
      "--annotation",
      "tier=edge",
    ]);
    const annotated = JSON.parse((await berthOk(["manifest", `${R}/combined/app:1`])).stdout) as {
      manifests: { annotations?: Record<string, string> }[];
    };
    expect(annotated.manifests[1]?.annotations).toEqual({ tier: "edge" });
  });
});

describe("data commands", () => {
  it("inspect, manifest, config and digest agree with the registry", async () => {
    const json = JSON.parse(
      (
        await berthOk([
          "inspect",
          "--format",
          "json",
          "--platform",
          "linux/arm64",
          `${R}/app/multi:1.0`,
        ])
      ).stdout,
    ) as {
      digest: string;
      platforms: string[];
      image: {
        platform: string;
        labels: Record<string, string>;
        layers: { createdBy?: string }[];
      };
    };
    expect(json.digest).toBe(multi.index.digest);
    expect(json.platforms).toEqual(["linux/amd64", "linux/arm64/v8"]);
    expect(json.image.platform).toBe("linux/arm64/v8");
    expect(json.image.labels["berth.test.label"]).toBe("cli-multi-arm64");
    expect(json.image.layers).toHaveLength(2);
    for (const layer of json.image.layers)
      expect(layer.createdBy).toMatch(/^synthetic layer .* \(cli-multi-arm64\)$/);
    const text = await berthOk(["inspect", `${R}/app/single:2.0`]);
    expect(text.stdout).toMatch(/Layers \(2\):/);

    const manifest = await berthOk(["manifest", `${R}/app/multi:1.0`]);
    expect(`sha256:${createHash("sha256").update(manifest.stdout).digest("hex")}`).toBe(
      multi.index.digest,
    );
    expect((await berthOk(["digest", `${R}/app/multi:1.0`])).stdout).toBe(
      `${multi.index.digest}\n`,
    );
    const config = await berthOk(["config", "oci:" + join(work, "single") + ":2.0"]);
    expect(digestOf(Buffer.from(config.stdout))).toBe(single.config.digest);
  });

  it("ls, catalog, tag and delete", async () => {
    await berthOk(["tag", `${R}/app/single:2.0`, "stable"]);
    expect(
      (await berthOk(["ls", `${R}/app/single`])).stdout.split("\n").filter(Boolean).sort(),
    ).toEqual(["2.0", "stable"]);
    expect((await inspectRaw(`docker://${R}/app/single:stable`)).digest).toBe(
      single.manifest.digest,
    );
    const catalog = JSON.parse((await berthOk(["catalog", R, "--format", "json"])).stdout) as {
      repositories: string[];
    };
    expect(catalog.repositories).toContain("app/single");

    await berthOk(["copy", `${R}/app/single:2.0`, `${R}/scratch/single:x`]);
    // distribution 2.8 has no tag delete: berth refuses rather than drop the manifest.
    const tagOnly = await berth(["delete", `${R}/scratch/single:x`]);
    expect(tagOnly.code).toBe(3);
    expect(tagOnly.stderr).toMatch(/cannot delete a tag on its own .*@sha256:/);
    expect((await berthOk(["digest", `${R}/scratch/single:x`])).stdout).toBe(
      `${single.manifest.digest}\n`,
    );
    await berthOk(["delete", `${R}/scratch/single@${single.manifest.digest}`]);
    const gone = await berth(["digest", `${R}/scratch/single:x`]);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toMatch(/not found/);
  });

  it("mirror copies matching tags once and then skips them by digest", async () => {
    await berthOk(["tag", `${R}/app/single:2.0`, "2.1"]);
    const mirror = async () =>
      JSON.parse(
        (
          await berthOk([
            "mirror",
            `${R}/app/single`,
            `${R}/mirror/single`,
            "--tags",
            "2.*",
            "--format",
            "json",
          ])
        ).stdout,
      ) as { tags: { tag: string; action: string }[] };
    const first = await mirror();
    expect(first.tags.map((t) => `${t.tag}:${t.action}`).sort()).toEqual([
      "2.0:copied",
      "2.1:copied",
    ]);
    const second = await mirror();
    expect(second.tags.every((t) => t.action === "skipped")).toBe(true);
  });

  it("exits 2 for bad input and 3 for failed operations, with one sentence", async () => {
    const bad = await berth(["inspect", "Not A Ref"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    const missing = await berth(["inspect", `${R}/app/absent:1`]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^berth: manifest app\/absent:1 not found/);
    const json = await berth(["ls", "oci:/nowhere", "--format", "json"]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toHaveProperty("error.message");
  });
});
