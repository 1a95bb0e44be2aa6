// `berth copy` from a running docker-registry (CNCF distribution 2.8) into Berth and back keeps
// every digest (index, per-platform manifests, configs, layers), and the registry commands
// work against Berth itself: ls, catalog, tag, delete, mirror idempotence, and referrers
// through Berth's OCI 1.1 referrers API. Berth runs open (BERTH_AUTH=none) — credentials are covered in
// credentials.test.ts.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BerthProcess, startBerth } from "../support/berth-process.js";
import { inspectRaw } from "../support/container-tools.js";
import { OciLayoutWriter } from "../support/oci-layout.js";
import { type ReferenceRegistry, startReferenceRegistry } from "../support/reference-registry.js";
import {
  artifactFor,
  type TwoPlatformIndex,
  twoPlatformIndexLayout,
} from "../support/synthetic-images.js";
import { berth, berthOk } from "./berth-cli.js";

let reference: ReferenceRegistry;
let server: BerthProcess;
let work: string;
let multi: TwoPlatformIndex;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "berth-cli-roundtrip-"));
  reference = await startReferenceRegistry();
  server = await startBerth({ env: { BERTH_AUTH: "none", BERTH_LOG_LEVEL: "warn" } });
  multi = await twoPlatformIndexLayout(join(work, "multi"), "1.0", "roundtrip");
  await berthOk(["copy", "--all", multi.reference, `${reference.host}/origin/app:1.0`]);
});

afterAll(async () => {
  await server?.stop();
  await reference?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("docker-registry → Berth → docker-registry", () => {
  it("keeps every digest both ways", async () => {
    const intoBerth = `${server.host}/proj/app:1.0`;
    const back = `${reference.host}/back/app:1.0`;
    await berthOk(["copy", "--all", `${reference.host}/origin/app:1.0`, intoBerth]);
    await berthOk(["copy", "--all", intoBerth, back]);
    for (const ref of [intoBerth, back]) {
      const raw = await inspectRaw(`docker://${ref}`);
      expect(raw.digest, ref).toBe(multi.index.digest);
      expect(raw.bytes.equals(multi.indexBytes), ref).toBe(true);
    }
    for (const { image } of multi.images) {
      for (const ref of [`${server.host}/proj/app`, `${reference.host}/back/app`]) {
        const child = await inspectRaw(`docker://${ref}@${image.manifest.digest}`);
        expect(child.json.config?.digest).toBe(image.config.digest);
        expect(child.json.layers?.map((l) => l.digest)).toEqual(image.layers.map((l) => l.digest));
      }
    }
    expect((await berthOk(["ls", `${server.host}/proj/app`])).stdout).toBe("1.0\n");
    const again = JSON.parse(
      (
        await berthOk([
          "mirror",
          `${reference.host}/origin/app`,
          `${server.host}/proj/app`,
          "--all",
          "--format",
          "json",
        ])
      ).stdout,
    ) as {
      tags: { action: string }[];
    };
    expect(again.tags.map((t) => t.action)).toEqual(["skipped"]);
  });

  it("tags, lists, catalogs and deletes on Berth", async () => {
    const one = `${server.host}/proj/one:1`;
    await berthOk(["copy", "--platform", "linux/arm64", `${reference.host}/origin/app:1.0`, one]);
    await berthOk(["tag", one, "2"]);
    expect(
      (await berthOk(["ls", `${server.host}/proj/one`])).stdout.split("\n").filter(Boolean).sort(),
    ).toEqual(["1", "2"]);
    const catalog = JSON.parse(
      (await berthOk(["catalog", server.host, "--format", "json"])).stdout,
    ) as { repositories: string[] };
    expect(catalog.repositories).toEqual(expect.arrayContaining(["proj/app", "proj/one"]));
    // REPO:TAG removes that tag only (OCI 1.1 tag delete); tag 2 keeps the manifest.
    const untagged = JSON.parse((await berthOk(["delete", one, "--format", "json"])).stdout) as {
      digest: string;
      kind: string;
    };
    expect(untagged).toMatchObject({ kind: "tag", digest: multi.images[1]?.image.manifest.digest });
    expect((await berth(["digest", one])).code).toBe(3);
    expect((await berthOk(["digest", `${server.host}/proj/one:2`])).stdout.trim()).toBe(
      untagged.digest,
    );
    // REPO@DIGEST removes the manifest with every tag on it.
    const deleted = JSON.parse(
      (await berthOk(["delete", `${server.host}/proj/one@${untagged.digest}`, "--format", "json"]))
        .stdout,
    ) as { digest: string; kind: string };
    expect(deleted).toMatchObject({ kind: "manifest", digest: untagged.digest });
    const gone = await berth(["digest", `${server.host}/proj/one:2`]);
    expect(gone.code).toBe(3);
  });

  it("lists referrers through Berth's referrers API", async () => {
    const amd = multi.images[0]?.image;
    if (!amd) throw new Error("fixture has no amd64 image");
    const artifact = artifactFor(
      amd.manifest,
      "application/vnd.example.sbom+json",
      '{"packages":[]}',
    );
    const layout = await OciLayoutWriter.create(join(work, "artifact"));
    for (const blob of artifact.blobs)
      await layout.writeBlob(blob.bytes, blob.descriptor.mediaType);
    await layout.writeBlob(artifact.manifestBytes, artifact.manifest.mediaType);
    layout.addManifest(artifact.manifest, "sbom");
    await layout.finish();
    await berthOk([
      "copy",
      `oci:${join(work, "artifact")}:sbom`,
      `${server.host}/proj/app@${artifact.manifest.digest}`,
    ]);
    const listed = JSON.parse(
      (
        await berthOk([
          "referrers",
          `${server.host}/proj/app@${amd.manifest.digest}`,
          "--format",
          "json",
        ])
      ).stdout,
    ) as {
      referrers: { digest: string; artifactType?: string }[];
    };
    expect(listed.referrers.map((r) => [r.digest, r.artifactType])).toEqual([
      [artifact.manifest.digest, artifact.artifactType],
    ]);
  });
});
