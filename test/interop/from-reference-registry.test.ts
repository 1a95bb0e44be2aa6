// Interop: images living in a running reference registry (CNCF distribution 2.8,
// docker-registry) are copied into the registry under test with `skopeo copy --all
// --preserve-digests`, registry to registry. Every digest — index, per-platform manifests,
// configs, layers — must be preserved, for an OCI multi-arch index and for a Docker schema2
// image (Docker media types), and served with the same Content-Type as the source. Then the
// same images go back from the registry under test into docker-registry, digests intact.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspectRaw, type RawManifest, skopeoCopy } from "../support/container-tools.js";
import { debianImage } from "../support/debian-image.js";
import { type ReferenceRegistry, startReferenceRegistry } from "../support/reference-registry.js";
import { RegistryHttp } from "../support/registry-http.js";
import {
  printRegistryLogOnFailure,
  type RegistryUnderTest,
  startRegistryUnderTest,
} from "../support/registry-under-test.js";
import { twoPlatformIndexLayout } from "../support/synthetic-images.js";

interface DigestTree {
  /** The root manifest first, then each child manifest of an index. */
  manifests: string[];
  /** Configs and layers, in manifest order. */
  blobs: { digest: string; size?: number }[];
}

/** Every manifest and blob digest reachable from `reference` (an index's children included). */
async function digestTree(
  host: string,
  repository: string,
  reference: string,
): Promise<DigestTree> {
  const separator = reference.startsWith("sha256:") ? "@" : ":";
  const root: RawManifest = await inspectRaw(
    `docker://${host}/${repository}${separator}${reference}`,
  );
  const tree: DigestTree = { manifests: [root.digest], blobs: [] };
  for (const child of root.json.manifests ?? []) {
    const sub = await digestTree(host, repository, child.digest);
    tree.manifests.push(...sub.manifests);
    tree.blobs.push(...sub.blobs);
  }
  if (root.json.config) tree.blobs.push({ digest: root.json.config.digest });
  for (const layer of root.json.layers ?? [])
    tree.blobs.push({ digest: layer.digest, size: layer.size });
  return tree;
}

describe("skopeo copy --all from docker-registry into the registry under test", {
  timeout: 240_000,
}, () => {
  let reference: ReferenceRegistry;
  let registry: RegistryUnderTest;
  printRegistryLogOnFailure(() => registry);
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "berth-interop-from-reference-"));
    [reference, registry] = await Promise.all([startReferenceRegistry(), startRegistryUnderTest()]);
    const multiArch = await twoPlatformIndexLayout(join(work, "multiarch"), "v2", "from-reference");
    await skopeoCopy(multiArch.reference, `docker://${reference.host}/mirror/multiarch:v2`, [
      "--all",
      "--preserve-digests",
    ]);
    const debian = await debianImage();
    // Converted to Docker schema2 on the way in, so the source holds Docker media types.
    await skopeoCopy(debian.reference, `docker://${reference.host}/mirror/debian:schema2`, [
      "--format",
      "v2s2",
    ]);
  });

  afterAll(async () => {
    await Promise.all([reference?.stop(), registry?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  for (const [repository, tag, mediaType] of [
    ["mirror/multiarch", "v2", "application/vnd.oci.image.index.v1+json"],
    ["mirror/debian", "schema2", "application/vnd.docker.distribution.manifest.v2+json"],
  ] as const) {
    it(`preserves every digest of ${repository}:${tag}`, async () => {
      const source = await digestTree(reference.host, repository, tag);
      await skopeoCopy(
        `docker://${reference.host}/${repository}:${tag}`,
        `docker://${registry.host}/${repository}:${tag}`,
        ["--all", "--preserve-digests"],
      );
      const copied = await digestTree(registry.host, repository, tag);
      expect(copied).toEqual(source);

      const sourceRoot = await new RegistryHttp(reference.url).getManifest(repository, tag);
      const copiedRoot = await new RegistryHttp(registry.url).getManifest(repository, tag);
      expect(copiedRoot.status).toBe(200);
      expect(copiedRoot.body.equals(sourceRoot.body)).toBe(true);
      expect(sourceRoot.headers["content-type"]).toBe(mediaType);
      expect(copiedRoot.headers["content-type"]).toBe(mediaType);
      expect(copiedRoot.headers["docker-content-digest"]).toBe(source.manifests[0]);

      const http = new RegistryHttp(registry.url);
      expect(source.blobs.length).toBeGreaterThan(1);
      for (const blob of source.blobs) {
        const pulled = await http.hashBlob(repository, blob.digest);
        expect(pulled.status).toBe(200);
        expect(pulled.digest).toBe(blob.digest);
        if (blob.size !== undefined) expect(pulled.size).toBe(blob.size);
      }
    });
  }

  it("copies back from the registry under test into docker-registry with every digest intact", async () => {
    // Runs after the copies above: the reference must accept what the registry under test serves.
    for (const [repository, tag] of [
      ["mirror/multiarch", "v2"],
      ["mirror/debian", "schema2"],
    ] as const) {
      const original = await digestTree(reference.host, repository, tag);
      await skopeoCopy(
        `docker://${registry.host}/${repository}:${tag}`,
        `docker://${reference.host}/returned/${repository}:${tag}`,
        ["--all", "--preserve-digests"],
      );
      expect(await digestTree(reference.host, `returned/${repository}`, tag)).toEqual(original);
    }
  });
});
