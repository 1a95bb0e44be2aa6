// End to end: `berth scan oci:DIR:TAG` on images built in the test (the cataloger tests'
// image builder: real OCI layouts read through Berth's `oci:` transport) with package
// databases at known versions, matched against the real OSV fixture records. Exact expected
// findings, including what must NOT match, and the layer command that installed each package.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importOsv } from "../../../src/scan/osv/import.js";
import { type BuiltImage, buildImage } from "../catalogers/support/image-builder.js";
import { RECORDS_DIR } from "../fixtures.js";

const BIN = join(import.meta.dirname, "../../../bin/berth.js");
const work = mkdtempSync(join(tmpdir(), "berth-scan-image-"));
const db = join(work, "db");
const images: BuiltImage[] = [];

interface Report {
  os: { family: string; version: string } | null;
  results: {
    target: string;
    vulnerabilities: {
      id: string;
      fixedVersion: string | null;
      package: {
        name: string;
        version: string;
        layer: { index: number; createdBy: string } | null;
      };
    }[];
  }[];
}

function run(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    env: { ...process.env },
    timeout: 120_000,
  });
}

function scan(
  reference: string,
  extra: string[] = [],
): { status: number | null; report: Report; stderr: string } {
  const r = spawnSync(
    process.execPath,
    [BIN, "scan", reference, "--db-dir", db, "--format", "json", ...extra],
    {
      encoding: "utf8",
      env: { ...process.env },
      timeout: 120_000,
    },
  );
  return { status: r.status, report: JSON.parse(r.stdout || "null") as Report, stderr: r.stderr };
}

const dpkgStatus = [
  "Package: libssl1.1\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: 1.1.0l-1~deb9u5\nDescription: SSL\n",
  "Package: openssl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.1.0l-1~deb9u6\nDescription: SSL tools\n",
  "Package: libssl1.0.2\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl1.0\nVersion: 1.0.2u-1~deb9u7\nDescription: SSL 1.0\n",
  "Package: dpkg\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.18.25\nDescription: package manager\n",
].join("\n");

let debian: BuiltImage;
let alpine: BuiltImage;

beforeAll(async () => {
  await importOsv(db, [RECORDS_DIR]);
  debian = await buildImage([
    {
      createdBy: "ADD rootfs.tar.xz / # debian stretch",
      entries: [
        {
          path: "etc/os-release",
          content:
            'PRETTY_NAME="Debian GNU/Linux 9 (stretch)"\nNAME="Debian GNU/Linux"\nVERSION_ID="9"\nID=debian\n',
        },
        { path: "var/lib/dpkg/status", content: dpkgStatus },
      ],
    },
    {
      createdBy: "RUN npm install lodash@4.17.11 semver@7.5.1",
      entries: [
        {
          path: "app/node_modules/lodash/package.json",
          content: JSON.stringify({ name: "lodash", version: "4.17.11" }),
        },
        {
          path: "app/node_modules/semver/package.json",
          content: JSON.stringify({ name: "semver", version: "7.5.1" }),
        },
      ],
    },
    {
      createdBy: "RUN pip install requests==2.31.0",
      entries: [
        {
          path: "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA",
          content: "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n",
        },
      ],
    },
    {
      createdBy: "RUN rm -rf /app/node_modules/semver",
      entries: [{ path: "app/node_modules/semver", whiteout: true }],
    },
  ]);
  alpine = await buildImage([
    {
      createdBy: "ADD alpine-minirootfs-3.18.4-x86_64.tar.gz /",
      entries: [
        {
          path: "etc/os-release",
          content:
            'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.18.4\nPRETTY_NAME="Alpine Linux v3.18"\n',
        },
        {
          // A partial upgrade: musl itself is at the fix, musl-utils (same origin) is not.
          path: "lib/apk/db/installed",
          content:
            "P:musl\nV:1.2.4-r3\nA:x86_64\no:musl\nT:the musl c library\n\nP:musl-utils\nV:1.2.4-r2\nA:x86_64\no:musl\nT:the musl c library (libc) implementation\n\n",
        },
      ],
    },
  ]);
  images.push(debian, alpine);
});

afterAll(async () => {
  await Promise.all(images.map((i) => i.remove()));
  rmSync(work, { recursive: true, force: true });
});

function findings(report: Report): string[] {
  return report.results
    .flatMap((t) =>
      t.vulnerabilities.map(
        (v) =>
          `${v.package.name}@${v.package.version} ${v.id} ${v.fixedVersion} layer${v.package.layer?.index}`,
      ),
    )
    .sort();
}

describe("berth scan on built images", () => {
  it("Debian image: source-package matches, fixed/other-name packages and whiteouts excluded", () => {
    const { status, report, stderr } = scan(debian.reference);
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(report.os).toMatchObject({ family: "debian", version: "9" });
    expect(findings(report)).toEqual([
      "dpkg@1.18.25 DLA-3022-1 1.18.26 layer0",
      "libssl1.1@1.1.0l-1~deb9u5 DLA-3008-1 1.1.0l-1~deb9u6 layer0",
      "lodash@4.17.11 GHSA-jf85-cpcp-j695 4.17.12 layer1",
    ]);
    const lodash = report.results
      .flatMap((t) => t.vulnerabilities)
      .find((v) => v.package.name === "lodash");
    expect(lodash?.package.layer?.createdBy).toBe("RUN npm install lodash@4.17.11 semver@7.5.1");
  });

  it("Alpine image: origin package, branch v3.18, fixed version excluded", () => {
    const { report } = scan(alpine.reference);
    expect(findings(report)).toEqual(["musl-utils@1.2.4-r2 ALPINE-CVE-2025-26519 1.2.4-r3 layer0"]);
  });

  it("warns about an OS it cannot match and still checks language packages", async () => {
    const image = await buildImage([
      {
        createdBy: "ADD plan9.tar /",
        entries: [
          { path: "etc/os-release", content: "ID=plan9\nVERSION_ID=4\n" },
          {
            path: "app/node_modules/lodash/package.json",
            content: JSON.stringify({ name: "lodash", version: "4.17.11" }),
          },
        ],
      },
    ]);
    images.push(image);
    const { status, report, stderr } = scan(image.reference);
    expect(status).toBe(0);
    expect(stderr).toMatch(/warning: unknown OS "plan9 4"/);
    expect(findings(report)).toEqual(["lodash@4.17.11 GHSA-jf85-cpcp-j695 4.17.12 layer0"]);
  });

  it("fails clearly on an unreadable layer", async () => {
    const image = await buildImage([
      { createdBy: "ADD x /", entries: [{ path: "etc/debian_version", content: "12.5\n" }] },
    ]);
    images.push(image);
    const blobs = join(image.dir, "blobs", "sha256");
    const layer = (image.layerDigests[0] as string).slice("sha256:".length);
    expect(readdirSync(blobs)).toContain(layer);
    writeFileSync(join(blobs, layer), "this is not a gzip tar");
    const r = run(["scan", image.reference, "--db-dir", db]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^berth: .+/);
    expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1);
  });

  it("--exit-code fails the build on findings, --pkg-types os narrows", () => {
    expect(scan(debian.reference, ["--exit-code", "1", "--severity", "CRITICAL"]).status).toBe(1);
    const os = scan(debian.reference, ["--pkg-types", "os"]);
    expect(findings(os.report).every((f) => !f.startsWith("lodash"))).toBe(true);
  });
});
