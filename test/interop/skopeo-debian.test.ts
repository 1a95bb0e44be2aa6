// Interop: a real Debian root filesystem image (debootstrap minbase bookworm, one layer) goes
// from an OCI layout into the registry with `skopeo copy --preserve-digests`, then back out to
// a new OCI layout. Every digest — manifest, config, layer — must survive both trips, and the
// registry must serve the same bytes over raw HTTP.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspectRaw, skopeoCopy } from "../support/container-tools.js";
import { type DebianImage, debianImage } from "../support/debian-image.js";
import { readLayoutBlob, readLayoutEntry } from "../support/oci-layout.js";
import { RegistryHttp } from "../support/registry-http.js";
import {
  printRegistryLogOnFailure,
  type RegistryUnderTest,
  startRegistryUnderTest,
} from "../support/registry-under-test.js";

describe("skopeo copy of a real Debian image", { timeout: 240_000 }, () => {
  let debian: DebianImage;
  let registry: RegistryUnderTest;
  printRegistryLogOnFailure(() => registry);
  let work: string;

  beforeAll(async () => {
    debian = await debianImage();
    registry = await startRegistryUnderTest();
    work = await mkdtemp(join(tmpdir(), "berth-interop-debian-"));
  });

  afterAll(async () => {
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("round-trips OCI layout → registry → OCI layout with every digest preserved", async () => {
    const remote = `docker://${registry.host}/library/debian:bookworm`;
    await skopeoCopy(debian.reference, remote, ["--preserve-digests"]);

    const pushed = await inspectRaw(remote);
    const original = await readFile(
      join(debian.layoutDir, "blobs", "sha256", debian.manifest.digest.slice(7)),
    );
    expect(pushed.digest).toBe(debian.manifest.digest);
    expect(pushed.bytes.equals(original)).toBe(true);
    expect(pushed.json.config?.digest).toBe(debian.config.digest);
    expect(pushed.json.layers?.map((l) => l.digest)).toEqual([debian.layer.digest]);

    const http = new RegistryHttp(registry.url);
    const byDigest = await http.getManifest("library/debian", debian.manifest.digest);
    expect(byDigest.status).toBe(200);
    expect(byDigest.headers["docker-content-digest"]).toBe(debian.manifest.digest);
    expect(byDigest.headers["content-type"]).toBe(debian.manifest.mediaType);
    expect(byDigest.body.equals(original)).toBe(true);
    const layer = await http.hashBlob("library/debian", debian.layer.digest);
    expect(layer).toEqual({ status: 200, digest: debian.layer.digest, size: debian.layer.size });

    const outDir = join(work, "out");
    await skopeoCopy(remote, `oci:${outDir}:bookworm`, ["--preserve-digests"]);
    const back = await readLayoutEntry(outDir, "bookworm");
    expect(back.digest).toBe(debian.manifest.digest);
    const backManifest = JSON.parse((await readLayoutBlob(outDir, back.digest)).toString()) as {
      config: { digest: string };
      layers: { digest: string }[];
    };
    expect(backManifest.config.digest).toBe(debian.config.digest);
    expect(backManifest.layers.map((l) => l.digest)).toEqual([debian.layer.digest]);
    // readLayoutBlob rehashes: the bytes that came back are the bytes that went in.
    await readLayoutBlob(outDir, debian.config.digest);
    await readLayoutBlob(outDir, debian.layer.digest);
  });
});
