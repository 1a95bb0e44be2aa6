// Unit tests of the catalogers' pure parts: each parser on the edge cases its format has
// (dpkg Source forms and states, os-release quoting and fallbacks, lock-file variants,
// Go build info found in a stream), the layered evidence set, and purl encoding.
import { strToU8, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { parseDpkgStatus, wantsDpkg } from "../../../src/scan/catalogers/dpkg.js";
import type { Draft } from "../../../src/scan/catalogers/draft.js";
import { EvidenceSet } from "../../../src/scan/catalogers/evidence.js";
import {
  GoBuildInfoScanner,
  parseModinfo,
  readGoBuildInfo,
  toolchainVersion,
} from "../../../src/scan/catalogers/go-binary.js";
import { parseJavaArchive } from "../../../src/scan/catalogers/java.js";
import {
  parseNpmLockfile,
  wantsNpmLockfile,
  wantsNpmPackageJson,
} from "../../../src/scan/catalogers/npm.js";
import { releaseKey } from "../../../src/scan/catalogers/os-packages.js";
import { detectOs, parseOsRelease } from "../../../src/scan/catalogers/os-release.js";
import { purl } from "../../../src/scan/catalogers/purl.js";
import { parsePythonMetadata } from "../../../src/scan/catalogers/python.js";
import { parseGemspec } from "../../../src/scan/catalogers/ruby.js";
import { parseYarnLock } from "../../../src/scan/catalogers/yarn.js";
import { goFixture } from "./support/go-fixture.js";

const names = (drafts: Draft[]) =>
  drafts.map((d) =>
    d.kind === "os" ? `${d.name}@${d.version}` : `${d.pkg.name}@${d.pkg.version}`,
  );

describe("dpkg status", () => {
  it("keeps installed packages only, in all Source forms", () => {
    const text = [
      "Package: a\nStatus: install ok installed\nVersion: 1:2.0-1\nSource: a-src\n",
      "Package: b\nStatus: hold ok installed\nVersion: 3.0-2+b1\nSource: b-src (3.0-2)\n",
      "Package: c\nStatus: deinstall ok config-files\nVersion: 1.0\n",
      "Package: d\nStatus: install ok half-installed\nVersion: 1.0\n",
      "Package: e\nStatus: install ok unpacked\nVersion: 1.0\n",
      "Package: f\r\nStatus: install ok installed\r\nVersion: 9\r\nDescription: x\r\n y\r\n",
    ].join("\n");
    const drafts = parseDpkgStatus(text, "/var/lib/dpkg/status");
    expect(drafts.map((d) => [d.name, d.version, d.sourceName, d.sourceVersion])).toEqual([
      ["a", "1:2.0-1", "a-src", "1:2.0-1"],
      ["b", "3.0-2+b1", "b-src", "3.0-2"],
      ["f", "9", "f", "9"],
    ]);
  });

  it("selects status and status.d files only", () => {
    expect(wantsDpkg("var/lib/dpkg/status")).toBe(true);
    expect(wantsDpkg("var/lib/dpkg/status-old")).toBe(false);
    expect(wantsDpkg("var/lib/dpkg/status.d/base")).toBe(true);
    expect(wantsDpkg("var/lib/dpkg/status.d/base.md5sums")).toBe(false);
    expect(wantsDpkg("var/lib/dpkg/status.d/sub/x")).toBe(false);
  });
});

describe("OS detection", () => {
  it("parses quoted os-release values", () => {
    expect(
      parseOsRelease(
        '# comment\nNAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\nPRETTY_NAME=\'Ubuntu 22.04.3 LTS\'\n',
      ),
    ).toEqual({ id: "ubuntu", versionId: "22.04", prettyName: "Ubuntu 22.04.3 LTS" });
    expect(parseOsRelease("NAME=nothing\n")).toBeUndefined();
  });

  it("prefers /etc/os-release, then /usr/lib/os-release, then the old release files", () => {
    const files: Record<string, string> = {
      "usr/lib/os-release": "ID=fedora\nVERSION_ID=39\n",
      "etc/redhat-release": "Red Hat Enterprise Linux release 8.9 (Ootpa)\n",
    };
    expect(detectOs((p) => files[p])).toMatchObject({ id: "fedora", versionId: "39" });
    delete files["usr/lib/os-release"];
    expect(detectOs((p) => files[p])).toMatchObject({ id: "rhel", versionId: "8.9" });
    expect(detectOs(() => undefined)).toBeUndefined();
  });

  it("names Debian testing from /etc/debian_version", () => {
    const files: Record<string, string> = {
      "etc/os-release": 'PRETTY_NAME="Debian GNU/Linux trixie/sid"\nID=debian\n',
      "etc/debian_version": "trixie/sid\n",
    };
    expect(detectOs((p) => files[p])).toMatchObject({ id: "debian", versionId: "trixie/sid" });
  });

  it("derives the OSV release key per distribution", () => {
    expect(releaseKey({ id: "alpine", versionId: "3.19.1" })).toBe("3.19");
    expect(releaseKey({ id: "almalinux", versionId: "9.3" })).toBe("9");
    expect(releaseKey({ id: "ubuntu", versionId: "22.04" })).toBe("22.04");
    expect(releaseKey({ id: "debian", versionId: "12" })).toBe("12");
    expect(releaseKey({ id: "debian" })).toBeUndefined();
  });
});

describe("purl", () => {
  it("percent-encodes each part and sorts qualifiers", () => {
    expect(
      purl({
        type: "deb",
        namespace: "debian",
        name: "libc6",
        version: "1:2.36-9+deb12u4",
        qualifiers: { distro: "debian-12", arch: "amd64", epoch: undefined },
      }),
    ).toBe("pkg:deb/debian/libc6@1%3A2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12");
    expect(purl({ type: "npm", namespace: "@angular", name: "core", version: "17.0.0" })).toBe(
      "pkg:npm/%40angular/core@17.0.0",
    );
    expect(
      purl({ type: "golang", namespace: "github.com/a/b", name: "c", version: "v1.0.0" }),
    ).toBe("pkg:golang/github.com/a/b/c@v1.0.0");
  });
});

describe("npm", () => {
  it("selects package.json files of installed packages only", () => {
    expect(wantsNpmPackageJson("app/node_modules/x/package.json")).toBe(true);
    expect(wantsNpmPackageJson("node_modules/@s/x/package.json")).toBe(true);
    expect(wantsNpmPackageJson("app/node_modules/x/lib/package.json")).toBe(false);
    expect(wantsNpmPackageJson("app/package.json")).toBe(false);
    expect(wantsNpmLockfile("app/package-lock.json")).toBe(true);
    expect(wantsNpmLockfile("app/node_modules/x/package-lock.json")).toBe(false);
  });

  it("reads package-lock v1 trees and yarn berry locks", () => {
    const v1 = JSON.stringify({
      lockfileVersion: 1,
      dependencies: {
        a: { version: "1.0.0", dependencies: { b: { version: "2.0.0" } } },
        devonly: { version: "3.0.0", dev: true },
        gitdep: { version: "git+https://example.com/x.git#abc" },
      },
    });
    expect(names(parseNpmLockfile(v1, "/p/package-lock.json"))).toEqual(["a@1.0.0", "b@2.0.0"]);
    const berry =
      '__metadata:\n  version: 6\n\n"@scope/pkg@npm:^1.0.0":\n  version: 1.2.0\n  resolution: "@scope/pkg@npm:1.2.0"\n\n"ms@npm:2.1.2, ms@npm:^2.1.1":\n  version: 2.1.2\n';
    expect(names(parseYarnLock(berry, "/p/yarn.lock"))).toEqual(["@scope/pkg@1.2.0", "ms@2.1.2"]);
  });
});

describe("python and ruby metadata", () => {
  it("uses License-Expression first and ignores the body", () => {
    const meta =
      "Metadata-Version: 2.4\nName: attrs\nVersion: 23.2.0\nLicense-Expression: MIT\nClassifier: License :: OSI Approved :: MIT License\n\nName: body\n";
    const [draft] = parsePythonMetadata(meta, "/x/METADATA");
    expect(draft?.pkg).toMatchObject({ name: "attrs", version: "23.2.0", licenses: ["MIT"] });
  });

  it("falls back to the gemspec file name", () => {
    const [draft] = parseGemspec(
      "Gem::Specification.new do |s|\nend\n",
      "/g/specifications/net-imap-0.4.9.gemspec",
    );
    expect(draft?.pkg).toMatchObject({
      name: "net-imap",
      version: "0.4.9",
      purl: "pkg:gem/net-imap@0.4.9",
    });
  });
});

describe("java archives", () => {
  it("returns nothing for a corrupt archive and names jars without metadata from their file", () => {
    expect(parseJavaArchive(Buffer.from("not a zip"), "/x.jar")).toEqual([]);
    const bare = Buffer.from(zipSync({ "a/B.class": strToU8("x") }));
    const [draft] = parseJavaArchive(bare, "/lib/jackson-databind-2.13.4.jar");
    expect(draft?.pkg).toMatchObject({ name: "jackson-databind", version: "2.13.4" });
  });
});

describe("layered evidence", () => {
  const draft = (name: string, version: string): Draft => ({
    kind: "os",
    manager: "dpkg",
    name,
    version,
    location: "/var/lib/dpkg/status",
  });

  it("keeps the introducing layer of unchanged packages and resets it on upgrade", () => {
    const set = new EvidenceSet();
    set.putPackages("var/lib/dpkg/status", 0, [draft("a", "1"), draft("b", "1")]);
    set.putPackages("var/lib/dpkg/status", 2, [draft("a", "1"), draft("b", "2"), draft("c", "1")]);
    expect(set.packages().map((p) => `${names([p.draft])[0]}:${p.layer}`)).toEqual([
      "a@1:0",
      "b@2:2",
      "c@1:2",
    ]);
  });

  it("whiteouts remove a directory's files; opaque markers spare the same layer's files", () => {
    const set = new EvidenceSet();
    set.putPackages("a/x/one", 0, [draft("one", "1")]);
    set.putPackages("a/xy", 0, [draft("xy", "1")]);
    set.putPackages("a/x/two", 1, [draft("two", "1")]);
    set.opaque("a/x", 1);
    expect(names(set.packages().map((p) => p.draft))).toEqual(["two@1", "xy@1"]);
    set.whiteout("a/x");
    expect(names(set.packages().map((p) => p.draft))).toEqual(["xy@1"]);
  });
});

describe("Go build info", () => {
  it("applies module replacements, but not local directory ones", () => {
    const mods = parseModinfo(
      "path\tx\nmod\tx\t(devel)\t\ndep\ta\tv1.0.0\th1:=\n=>\tb\tv1.1.0\th1:=\ndep\tc\tv2.0.0\n=>\t../c\t(devel)\t\n",
    );
    expect(mods).toEqual([
      { path: "x", version: "(devel)", main: true },
      { path: "b", version: "v1.1.0", main: false },
      { path: "c", version: "v2.0.0", main: false },
    ]);
  });

  it("turns toolchain versions into the semantic versions of the Go vulnerability database", () => {
    expect(toolchainVersion("go1.21.3")).toBe("v1.21.3");
    expect(toolchainVersion("go1.20")).toBe("v1.20.0");
    expect(toolchainVersion("go1.21rc2")).toBe("v1.21.0-rc.2");
    expect(toolchainVersion("go1.22.1 X:boringcrypto")).toBe("v1.22.1");
    expect(toolchainVersion("devel go1.23-abc")).toBeUndefined();
  });

  it("finds the same build info in a stream of odd-sized chunks, past decoy magics", async () => {
    const { binary } = await goFixture();
    const whole = readGoBuildInfo(binary);
    expect(whole?.goVersion).toMatch(/^go1\./);
    const decoys = Buffer.alloc(64);
    decoys.write("\xff Go buildinf:", 3, "latin1"); // unaligned
    decoys.write("\xff Go buildinf:", 32, "latin1"); // aligned, pointer format: skipped
    decoys[32 + 14] = 8;
    const stream = Buffer.concat([decoys, binary]);
    const scanner = new GoBuildInfoScanner();
    for (let at = 0; at < stream.length; at += 7777) scanner.push(stream.subarray(at, at + 7777));
    expect(scanner.result()).toEqual(whole);
  });
});
