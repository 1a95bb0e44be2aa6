// Interop with podman and buildah, run as root in a sandbox: private vfs storage in temp dirs
// (--root/--runroot/--storage-driver vfs), cgroupfs, file events, chroot isolation, no TLS.
// podman pulls the Debian image skopeo pushed (image ID = config digest, digest = manifest
// digest), pushes it under a new name (the registry stores exactly the digest podman reports),
// and a clean storage pulls that back. buildah builds on the image (`from`, `copy`, `run`,
// `commit`) and pushes a two-layer image whose every blob comes back intact.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildah,
  type ContainerStorage,
  inspectRaw,
  podman,
  privateContainerStorage,
  skopeoCopy,
} from "../support/container-tools.js";
import { type DebianImage, debianImage } from "../support/debian-image.js";
import { readLayoutBlob, readLayoutEntry } from "../support/oci-layout.js";
import { runOk } from "../support/process-control.js";
import {
  printRegistryLogOnFailure,
  type RegistryUnderTest,
  startRegistryUnderTest,
} from "../support/registry-under-test.js";

describe("podman and buildah against the registry", { timeout: 240_000 }, () => {
  let registry: RegistryUnderTest;
  printRegistryLogOnFailure(() => registry);
  let debian: DebianImage;
  let work: string;
  const storages: ContainerStorage[] = [];

  async function storage(): Promise<ContainerStorage> {
    const created = await privateContainerStorage();
    storages.push(created);
    return created;
  }

  beforeAll(async () => {
    debian = await debianImage();
    work = await mkdtemp(join(tmpdir(), "berth-interop-podman-"));
    registry = await startRegistryUnderTest();
    await skopeoCopy(debian.reference, `docker://${registry.host}/library/debian:bookworm`, [
      "--preserve-digests",
    ]);
  });

  afterAll(async () => {
    await registry?.stop();
    for (const s of storages) await s.remove();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("podman pulls, pushes under a new name, and a clean storage pulls the same image back", async () => {
    const first = await storage();
    const source = `${registry.host}/library/debian:bookworm`;
    await podman(first, ["pull", "--quiet", "--tls-verify=false", source]);
    const pulled = (
      await podman(first, ["image", "inspect", "--format", "{{.Id}} {{.Digest}}", source])
    ).stdout.trim();
    expect(pulled).toBe(`${debian.config.digest.slice(7)} ${debian.manifest.digest}`);

    const target = `${registry.host}/podman/debian:retagged`;
    const digestFile = join(work, "podman.digest");
    await podman(first, ["tag", source, target]);
    await podman(first, [
      "push",
      "--quiet",
      "--tls-verify=false",
      "--digestfile",
      digestFile,
      target,
    ]);
    const pushedDigest = (await readFile(digestFile, "utf8")).trim();
    const stored = await inspectRaw(`docker://${target}`);
    expect(stored.digest).toBe(pushedDigest);
    expect(stored.json.config?.digest).toBe(debian.config.digest);

    const second = await storage();
    const byDigest = `${registry.host}/podman/debian@${pushedDigest}`;
    await podman(second, ["pull", "--quiet", "--tls-verify=false", byDigest]);
    const again = (
      await podman(second, ["image", "inspect", "--format", "{{.Id}} {{.Digest}}", byDigest])
    ).stdout.trim();
    expect(again).toBe(`${debian.config.digest.slice(7)} ${pushedDigest}`);
  });

  it("buildah builds on the image and pushes a two-layer image that comes back intact", async () => {
    const builder = await storage();
    const container = (
      await buildah(builder, [
        "from",
        "--quiet",
        "--tls-verify=false",
        `${registry.host}/library/debian:bookworm`,
      ])
    ).stdout.trim();
    // The pulled layers are a working Debian: run a command in it (chroot isolation).
    const version = (
      await buildah(builder, ["run", container, "--", "cat", "/etc/debian_version"])
    ).stdout.trim();
    expect(version).toMatch(/^12\./);

    const greeting = join(work, "hello.txt");
    await writeFile(greeting, "hello from buildah\n");
    await buildah(builder, ["copy", container, greeting, "/hello.txt"]);
    await buildah(builder, ["config", "--label", "berth.test=buildah", container]);
    await buildah(builder, ["commit", "--quiet", container, "localhost/berth-buildah:1"]);
    const digestFile = join(work, "buildah.digest");
    const target = `${registry.host}/buildah/debian:built`;
    await buildah(builder, [
      "push",
      "--quiet",
      "--tls-verify=false",
      "--digestfile",
      digestFile,
      "localhost/berth-buildah:1",
      `docker://${target}`,
    ]);
    const pushedDigest = (await readFile(digestFile, "utf8")).trim();

    const stored = await inspectRaw(`docker://${target}`);
    expect(stored.digest).toBe(pushedDigest);
    expect(stored.json.layers).toHaveLength(2);
    expect(stored.json.layers?.[0]?.digest).toBe(debian.layer.digest);

    const outDir = join(work, "buildah-out");
    await skopeoCopy(`docker://${target}`, `oci:${outDir}:built`, ["--preserve-digests"]);
    expect((await readLayoutEntry(outDir, "built")).digest).toBe(pushedDigest);
    for (const layer of stored.json.layers ?? []) await readLayoutBlob(outDir, layer.digest);
    const added = stored.json.layers?.[1]?.digest.slice(7) ?? "";
    const content = await runOk("tar", [
      "-xzOf",
      join(outDir, "blobs", "sha256", added),
      "hello.txt",
    ]);
    expect(content.stdout).toBe("hello from buildah\n");
  });
});
