// Cataloging OS packages from images built in the test and read through Berth's real `oci:`
// transport: dpkg status (and the distroless status.d variant), apk's installed database,
// an rpm database; OS detection and its fallbacks; layer attribution (the layer and command
// that introduced each package); whiteouts and opaque directories.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { MediaType } from "../../../src/oci/index.js";
import { catalogImage } from "../../../src/scan/catalogers/index.js";
import type { Package } from "../../../src/scan/package.js";
import { openImageSource } from "../../../src/transport/index.js";
import { OciLayoutWriter } from "../../support/oci-layout.js";
import { type BuiltImage, buildImage, type LayerSpec, tarOf } from "./support/image-builder.js";
import { rpmDbFixtures } from "./support/rpmdb-fixtures.js";

const built: BuiltImage[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all([...built.map((b) => b.remove()), ...cleanups.map((c) => c())]);
});

async function catalog(layers: LayerSpec[]) {
  const image = await buildImage(layers);
  built.push(image);
  const source = await image.open();
  try {
    return { image, result: await catalogImage(source) };
  } finally {
    await source.close();
  }
}

const nv = (p: Package) => `${p.name}@${p.version}`;

const DEBIAN_OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
ID=debian
`;

const stanza = (name: string, version: string, extra = "", status = "install ok installed") =>
  `Package: ${name}\nStatus: ${status}\nPriority: optional\nArchitecture: amd64\n${extra}Version: ${version}\nDescription: ${name}\n multi-line\n .\n description\n`;

const BASE_STATUS = [
  stanza("libc6", "2.36-9+deb12u4", "Source: glibc\n"),
  stanza("libssl3", "3.0.11-1~deb12u2", "Source: openssl\n"),
  stanza("bash", "5.2.15-2+b2", "Source: bash (5.2.15-2)\n"),
  stanza("removed-pkg", "1.0-1", "", "deinstall ok config-files"),
].join("\n");

const WITH_CURL = [BASE_STATUS, stanza("curl", "7.88.1-10+deb12u5")].join("\n");

describe("dpkg", () => {
  it("lists installed packages with their source packages, release and purl", async () => {
    const { result, image } = await catalog([
      {
        createdBy: "ADD rootfs.tar /",
        entries: [
          { path: "usr/lib/os-release", content: DEBIAN_OS_RELEASE },
          { path: "etc/os-release", symlink: "../usr/lib/os-release" },
          { path: "var/lib/dpkg/status", content: BASE_STATUS },
          {
            path: "usr/share/doc/bash/copyright",
            content:
              "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: bash\n\nFiles: *\nCopyright: 1987-2022 FSF\nLicense: GPL-3+\n\nFiles: doc/*\nCopyright: FSF\nLicense: GFDL-NIV-1.3\n\nLicense: GPL-3+\n The full text\n",
          },
          {
            path: "usr/share/doc/libc6/copyright",
            content: "Free-form text.\nLicense: not machine-readable\n",
          },
        ],
      },
      {
        createdBy: "RUN apt-get install -y curl",
        entries: [{ path: "var/lib/dpkg/status", content: WITH_CURL }],
      },
    ]);
    expect(result.os).toEqual({
      id: "debian",
      versionId: "12",
      prettyName: "Debian GNU/Linux 12 (bookworm)",
    });
    expect(result.packages.map(nv)).toEqual([
      "bash@5.2.15-2+b2",
      "curl@7.88.1-10+deb12u5",
      "libc6@2.36-9+deb12u4",
      "libssl3@3.0.11-1~deb12u2",
    ]);
    const bash = result.packages.find((p) => p.name === "bash");
    expect(bash).toEqual({
      name: "bash",
      version: "5.2.15-2+b2",
      ecosystem: "Debian",
      type: "os",
      release: "12",
      sourceName: "bash",
      sourceVersion: "5.2.15-2",
      licenses: ["GPL-3+", "GFDL-NIV-1.3"],
      purl: "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12",
      locations: ["/var/lib/dpkg/status"],
      layer: { index: 0, digest: image.layerDigests[0], createdBy: "ADD rootfs.tar /" },
    });
    expect(result.packages.find((p) => p.name === "libc6")?.licenses).toBeUndefined();
    const ssl = result.packages.find((p) => p.name === "libssl3");
    expect(ssl?.sourceName).toBe("openssl");
    expect(ssl?.sourceVersion).toBe("3.0.11-1~deb12u2");
    expect(ssl?.purl).toBe(
      "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl",
    );
    const curl = result.packages.find((p) => p.name === "curl");
    expect(curl?.layer).toEqual({
      index: 1,
      digest: image.layerDigests[1],
      createdBy: "RUN apt-get install -y curl",
    });
  });

  it("reads distroless status.d files, ignoring md5sums", async () => {
    const { result } = await catalog([
      {
        createdBy: "bazel build",
        entries: [
          { path: "etc/os-release", content: DEBIAN_OS_RELEASE },
          {
            path: "var/lib/dpkg/status.d/libc6",
            content:
              "Package: libc6\nVersion: 2.36-9+deb12u4\nArchitecture: amd64\nSource: glibc\n",
          },
          { path: "var/lib/dpkg/status.d/libc6.md5sums", content: "abc  lib/x.so\n" },
          {
            path: "var/lib/dpkg/status.d/tzdata",
            content: "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n",
          },
        ],
      },
    ]);
    expect(result.packages.map((p) => [p.name, p.version, p.sourceName, p.locations[0]])).toEqual([
      ["libc6", "2.36-9+deb12u4", "glibc", "/var/lib/dpkg/status.d/libc6"],
      ["tzdata", "2024a-0+deb12u1", "tzdata", "/var/lib/dpkg/status.d/tzdata"],
    ]);
  });

  it("forgets a package database deleted by a whiteout, and one replaced under an opaque dir", async () => {
    const deleted = await catalog([
      {
        createdBy: "base",
        entries: [
          { path: "etc/os-release", content: DEBIAN_OS_RELEASE },
          { path: "var/lib/dpkg/status", content: BASE_STATUS },
          {
            path: "usr/lib/node_modules/left-pad/package.json",
            content: '{"name":"left-pad","version":"1.3.0"}',
          },
        ],
      },
      {
        createdBy: "RUN rm -rf /var/lib/dpkg/status /usr/lib/node_modules",
        entries: [
          { path: "var/lib/dpkg/status", whiteout: true },
          { path: "usr/lib/node_modules", whiteout: true },
        ],
      },
    ]);
    expect(deleted.result.packages).toEqual([]);
    expect(deleted.result.os?.id).toBe("debian");

    const opaque = await catalog([
      {
        createdBy: "base",
        entries: [{ path: "var/lib/dpkg/status.d/old", content: "Package: old\nVersion: 1\n" }],
      },
      {
        createdBy: "replace status.d",
        entries: [
          { path: "var/lib/dpkg/status.d", dir: true },
          { path: "var/lib/dpkg/status.d", opaque: true },
          { path: "var/lib/dpkg/status.d/new", content: "Package: new\nVersion: 2\n" },
        ],
      },
    ]);
    expect(opaque.result.packages.map(nv)).toEqual(["new@2"]);
    expect(opaque.result.packages[0]?.layer?.index).toBe(1);
  });
});

describe("apk", () => {
  it("lists installed packages with origin and license", async () => {
    const installed = [
      "C:Q1abc=\nP:musl\nV:1.2.4_git20230717-r4\nA:x86_64\nS:383152\nI:622592\nT:the musl c library\nU:https://musl.libc.org/\nL:MIT\no:musl\nm:Maintainer <m@example.org>\nt:1700000000\nc:abc\nF:lib\nR:ld-musl-x86_64.so.1\n",
      "C:Q1def=\nP:libcrypto3\nV:3.1.4-r5\nA:x86_64\nL:Apache-2.0\no:openssl\n",
      "P:busybox-binsh\nV:1.36.1-r15\nA:x86_64\nL:GPL-2.0-only\no:busybox\n",
    ].join("\n");
    const { result } = await catalog([
      {
        createdBy: "ADD alpine-minirootfs.tar.gz /",
        entries: [
          {
            path: "etc/os-release",
            content:
              'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n',
          },
          { path: "lib/apk/db/installed", content: installed },
        ],
      },
    ]);
    expect(result.os?.versionId).toBe("3.19.1");
    expect(
      result.packages.map((p) => [p.name, p.version, p.sourceName, p.release, p.licenses, p.purl]),
    ).toEqual([
      [
        "busybox-binsh",
        "1.36.1-r15",
        "busybox",
        "3.19",
        ["GPL-2.0-only"],
        "pkg:apk/alpine/busybox-binsh@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1&upstream=busybox",
      ],
      [
        "libcrypto3",
        "3.1.4-r5",
        "openssl",
        "3.19",
        ["Apache-2.0"],
        "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1&upstream=openssl",
      ],
      [
        "musl",
        "1.2.4_git20230717-r4",
        "musl",
        "3.19",
        ["MIT"],
        "pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=alpine-3.19.1",
      ],
    ]);
    expect(result.packages.every((p) => p.ecosystem === "Alpine" && p.type === "os")).toBe(true);
  });

  it("detects Alpine from /etc/alpine-release when os-release is missing", async () => {
    const { result } = await catalog([
      {
        createdBy: "base",
        entries: [
          { path: "etc/alpine-release", content: "3.18.4\n" },
          { path: "lib/apk/db/installed", content: "P:zlib\nV:1.3-r2\nA:x86_64\no:zlib\n" },
        ],
      },
    ]);
    expect(result.os).toMatchObject({ id: "alpine", versionId: "3.18.4" });
    expect(result.packages[0]).toMatchObject({ name: "zlib", release: "3.18" });
  });
});

describe("rpm", () => {
  it("lists packages from the sqlite rpmdb of a Rocky-like image", async () => {
    const { sqlite } = await rpmDbFixtures();
    const { result } = await catalog([
      {
        createdBy: "ADD rocky.tar /",
        entries: [
          {
            path: "etc/os-release",
            content:
              'NAME="Rocky Linux"\nVERSION_ID="9.3"\nID="rocky"\nID_LIKE="rhel centos fedora"\n',
          },
          { path: "usr/lib/sysimage/rpm/rpmdb.sqlite", content: sqlite },
          { path: "var/lib/rpm", symlink: "../../usr/lib/sysimage/rpm" },
        ],
      },
    ]);
    expect(
      result.packages.map((p) => [p.name, p.version, p.ecosystem, p.release, p.sourceName, p.purl]),
    ).toEqual([
      [
        "berth-data",
        "2:1.2.3-4.el9",
        "Rocky Linux",
        "9",
        "berth-tools",
        "pkg:rpm/rocky/berth-data@1.2.3-4.el9?arch=noarch&distro=rocky-9.3&epoch=2&upstream=berth-tools",
      ],
      [
        "berth-tools",
        "2:1.2.3-4.el9",
        "Rocky Linux",
        "9",
        "berth-tools",
        "pkg:rpm/rocky/berth-tools@1.2.3-4.el9?arch=x86_64&distro=rocky-9.3&epoch=2",
      ],
      [
        "zlib-fixture",
        "1.2.11-40.el9",
        "Rocky Linux",
        "9",
        "zlib-fixture",
        "pkg:rpm/rocky/zlib-fixture@1.2.11-40.el9?arch=x86_64&distro=rocky-9.3",
      ],
    ]);
  });

  it("reads a CentOS 7 style Berkeley DB, with the OS from /etc/redhat-release", async () => {
    const { bdb } = await rpmDbFixtures();
    const { result } = await catalog([
      {
        createdBy: "ADD centos.tar /",
        entries: [
          { path: "etc/redhat-release", content: "CentOS Linux release 7.9.2009 (Core)\n" },
          { path: "var/lib/rpm/Packages", content: bdb },
        ],
      },
    ]);
    expect(result.os).toMatchObject({ id: "centos", versionId: "7.9.2009" });
    expect(result.packages.map((p) => `${nv(p)} ${p.ecosystem} ${p.release}`)).toEqual([
      "berth-data@2:1.2.3-4.el9 Red Hat 7",
      "berth-tools@2:1.2.3-4.el9 Red Hat 7",
      "zlib-fixture@1.2.11-40.el9 Red Hat 7",
    ]);
  });

  it("reads an openSUSE ndb Packages.db", async () => {
    const { ndb } = await rpmDbFixtures();
    const { result } = await catalog([
      {
        createdBy: "ADD suse.tar /",
        entries: [
          {
            path: "usr/lib/os-release",
            content: 'NAME="openSUSE Leap"\nVERSION_ID="15.5"\nID="opensuse-leap"\n',
          },
          { path: "usr/lib/sysimage/rpm/Packages.db", content: ndb },
        ],
      },
    ]);
    expect(result.packages.map((p) => `${nv(p)} ${p.ecosystem} ${p.release}`)).toEqual([
      "berth-data@2:1.2.3-4.el9 openSUSE 15.5",
      "berth-tools@2:1.2.3-4.el9 openSUSE 15.5",
      "zlib-fixture@1.2.11-40.el9 openSUSE 15.5",
    ]);
  });
});

describe("image walk", () => {
  it("reports progress per layer and refuses a layer whose bytes do not match its digest", async () => {
    const image = await buildImage([
      { createdBy: "one", entries: [{ path: "etc/debian_version", content: "12.5\n" }] },
    ]);
    built.push(image);
    const source = await image.open();
    const seen: number[] = [];
    const result = await catalogImage(source, { onProgress: (p) => seen.push(p.index) });
    await source.close();
    expect(seen).toEqual([0]);
    expect(result.os).toMatchObject({ id: "debian", versionId: "12" });
    const digest = image.layerDigests[0] as string;
    const blob = join(image.dir, "blobs", "sha256", digest.slice("sha256:".length));
    const tampered = gzipSync(await tarOf([{ path: "etc/debian_version", content: "11.9\n" }]));
    expect((await readFile(blob)).length).toBeGreaterThan(0);
    await writeFile(blob, tampered);
    const again = await image.open();
    await expect(catalogImage(again)).rejects.toThrow(/digest/);
    await again.close();
  });

  it("names the layer that is not a readable tar", async () => {
    const dir = await mkdtemp(join(tmpdir(), "berth-catalog-bad-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const layout = await OciLayoutWriter.create(dir);
    const garbage = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(600, 7)]);
    const layer = await layout.writeBlob(garbage, MediaType.OciLayerGzip);
    const config = await layout.writeJson(
      { architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [layer.digest] } },
      MediaType.OciConfig,
    );
    const manifest = await layout.writeJson(
      { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer] },
      MediaType.OciManifest,
    );
    layout.addManifest(manifest, "bad");
    await layout.finish();
    const source = await openImageSource(`oci:${dir}:bad`);
    await expect(catalogImage(source)).rejects.toThrow(
      new RegExp(`layer 0 \\(${layer.digest}\\) is unreadable`),
    );
    await source.close();
  });
});
