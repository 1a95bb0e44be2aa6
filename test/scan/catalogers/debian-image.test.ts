// The real Debian image (debootstrap bookworm root filesystem packed as an OCI layout by
// test/support/debian-image.ts): every package dpkg itself reports as installed is cataloged
// — same names, architectures, versions and source packages as `dpkg-query` prints for that
// root filesystem — both from the image's layer and from the root filesystem directory.
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { catalogFilesystem, catalogImage } from "../../../src/scan/catalogers/index.js";
import type { Package } from "../../../src/scan/package.js";
import { openImageSource } from "../../../src/transport/index.js";
import { type DebianImage, debianImage } from "../../support/debian-image.js";
import { runOk } from "../../support/process-control.js";

let debian: DebianImage;
let installed: string[];

/** `name:arch version source sourceVersion` for each package dpkg says is installed. */
async function dpkgQuery(rootfs: string): Promise<string[]> {
  const { stdout } = await runOk(
    "dpkg-query",
    [
      `--admindir=${join(rootfs, "var/lib/dpkg")}`,
      "-W",
      "-f",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
      "${db:Status-Abbrev}|${Package}:${Architecture} ${Version} ${source:Package} ${source:Version}\\n",
    ],
    { timeoutMs: 120_000 },
  );
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("ii"))
    .map((l) => l.slice(l.indexOf("|") + 1))
    .sort();
}

const asDpkg = (p: Package) =>
  `${p.name}:${/arch=([^&]+)/.exec(p.purl)?.[1]} ${p.version} ${p.sourceName} ${p.sourceVersion}`;

beforeAll(async () => {
  debian = await debianImage();
  installed = await dpkgQuery(debian.rootfsDir);
}, 1_800_000);

describe("the real Debian bookworm image", () => {
  it("catalogs every installed package from the image, crediting the one layer", async () => {
    const source = await openImageSource(debian.reference);
    const result = await catalogImage(source);
    await source.close();
    expect(installed.length).toBeGreaterThan(80);
    expect(result.os).toMatchObject({ id: "debian", versionId: "12" });
    const dpkg = result.packages.filter((p) => p.type === "os");
    expect(dpkg.length).toBe(installed.length);
    expect(dpkg.map(asDpkg).sort()).toEqual(installed);
    expect(dpkg.every((p) => p.ecosystem === "Debian" && p.release === "12")).toBe(true);
    expect(dpkg.every((p) => p.layer?.digest === debian.layer.digest)).toBe(true);
    expect(dpkg[0]?.layer?.createdBy).toMatch(/^debootstrap/);
    // Licenses come from the packages' machine-readable copyright files.
    expect(dpkg.find((p) => p.name === "adduser")?.licenses).toEqual(["GPL-2+"]);
    expect(dpkg.filter((p) => p.licenses && p.licenses.length > 0).length).toBeGreaterThan(40);
  });

  it("catalogs the same packages from the root filesystem directory", async () => {
    const result = await catalogFilesystem(debian.rootfsDir);
    const dpkg = result.packages.filter((p) => p.type === "os");
    expect(dpkg.map(asDpkg).sort()).toEqual(installed);
    expect(result.os).toMatchObject({ id: "debian", versionId: "12" });
  });
});
