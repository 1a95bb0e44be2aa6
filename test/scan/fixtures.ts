// Shared test data for scan matching/report tests: the real OSV records in
// test/fixtures/osv/records and hand-made package sets at known versions, with the findings
// they must (and must not) produce.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { OsvRecord } from "../../src/scan/osv/record.js";
import type { Ecosystem, Package, PackageType } from "../../src/scan/package.js";

export const RECORDS_DIR = join(import.meta.dirname, "../fixtures/osv/records");

export function loadRecords(): OsvRecord[] {
  return readdirSync(RECORDS_DIR)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(readFileSync(join(RECORDS_DIR, f), "utf8")) as OsvRecord);
}

interface PkgInit {
  name: string;
  version: string;
  ecosystem: Ecosystem;
  release?: string;
  sourceName?: string;
  sourceVersion?: string;
  location?: string;
}

const PURL_TYPE: Partial<Record<Ecosystem, string>> = {
  Debian: "deb/debian",
  Alpine: "apk/alpine",
  AlmaLinux: "rpm/almalinux",
  npm: "npm",
  PyPI: "pypi",
  Go: "golang",
  Maven: "maven",
  "crates.io": "cargo",
  RubyGems: "gem",
  Packagist: "composer",
  NuGet: "nuget",
};

const OS_DB: Partial<Record<Ecosystem, string>> = {
  Debian: "var/lib/dpkg/status",
  Alpine: "lib/apk/db/installed",
  AlmaLinux: "var/lib/rpm/rpmdb.sqlite",
};

export function pkg(init: PkgInit): Package {
  const os = OS_DB[init.ecosystem] !== undefined;
  const type: PackageType = os ? "os" : "library";
  const name = init.ecosystem === "Maven" ? init.name.replace(":", "/") : init.name;
  return {
    name: init.name,
    version: init.version,
    ecosystem: init.ecosystem,
    type,
    release: init.release,
    sourceName: init.sourceName ?? (os ? init.name : undefined),
    sourceVersion: init.sourceVersion,
    purl: `pkg:${PURL_TYPE[init.ecosystem]}/${name}@${init.version}`,
    locations: [init.location ?? OS_DB[init.ecosystem] ?? `app/${init.ecosystem}.lock`],
    layer: {
      index: 1,
      digest: `sha256:${"ab".repeat(32)}`,
      createdBy: "RUN apt-get install -y openssl",
    },
  };
}

/** Each package, and the `id fixed` findings it must produce (empty: must NOT match). */
export const CASES: { pkg: Package; expect: string[]; why: string }[] = [
  {
    pkg: pkg({
      name: "libssl1.1",
      version: "1.1.0l-1~deb9u5",
      ecosystem: "Debian",
      release: "9",
      sourceName: "openssl",
    }),
    expect: ["DLA-3008-1 1.1.0l-1~deb9u6"],
    why: "binary libssl1.1 matched through source openssl",
  },
  {
    pkg: pkg({ name: "openssl", version: "1.1.0l-1~deb9u6", ecosystem: "Debian", release: "9" }),
    expect: [],
    why: "fixed version installed",
  },
  {
    pkg: pkg({
      name: "libssl1.1",
      version: "1.1.1n-0+deb10u3",
      ecosystem: "Debian",
      release: "10",
      sourceName: "openssl",
    }),
    expect: [],
    why: "other release: DLA-3008-1 covers Debian:9 only",
  },
  {
    pkg: pkg({ name: "dpkg", version: "1.18.25", ecosystem: "Debian", release: "9" }),
    expect: ["DLA-3022-1 1.18.26"],
    why: "binary named like its source",
  },
  {
    // Crafted: a binary whose name is the advisory's package (openssl) but which was built
    // from another source package (openssl1.0). By binary name it would be in range.
    pkg: pkg({
      name: "openssl",
      version: "1.0.2u-1~deb9u7",
      ecosystem: "Debian",
      release: "9",
      sourceName: "openssl1.0",
    }),
    expect: [],
    why: "binary name openssl but source openssl1.0: advisories are keyed by source",
  },
  {
    pkg: pkg({
      name: "libssl1.1",
      version: "1.1.0l-1~deb9u5",
      ecosystem: "Debian",
      release: "9",
      sourceName: "openssl",
      sourceVersion: "1.1.0l-1~deb9u6",
    }),
    expect: [],
    why: "source version (fixed) is what Debian ranges compare",
  },
  {
    pkg: pkg({
      name: "vlc",
      version: "0.8.6-svn20061012.debian-5etch1",
      ecosystem: "Debian",
      release: "4.0",
    }),
    expect: [
      "DSA-1543-1 0.8.6-svn20061012.debian-5.1+etch2",
      "DSA-1819-1 0.8.6-svn20061012.debian-5.1+etch3",
    ],
    why: "Debian:4.0 release key; two advisories for one source",
  },
  {
    pkg: pkg({
      name: "vlc",
      version: "0.8.6-svn20061012.debian-5.1+etch2",
      ecosystem: "Debian",
      release: "4.0",
    }),
    expect: ["DSA-1819-1 0.8.6-svn20061012.debian-5.1+etch3"],
    why: "fixed for DSA-1543-1, still affected by the later DSA-1819-1",
  },
  {
    pkg: pkg({
      name: "vlc",
      version: "0.8.6-svn20061012.debian-5.1+etch3",
      ecosystem: "Debian",
      release: "4.0",
    }),
    expect: [],
    why: "fixed for both",
  },
  {
    pkg: pkg({
      name: "musl-utils",
      version: "1.2.4-r2",
      ecosystem: "Alpine",
      release: "3.18.4",
      sourceName: "musl",
    }),
    expect: ["ALPINE-CVE-2025-26519 1.2.4-r3"],
    why: "apk origin musl, release 3.18.x → Alpine:v3.18",
  },
  {
    pkg: pkg({ name: "musl", version: "1.2.4-r3", ecosystem: "Alpine", release: "3.18.4" }),
    expect: [],
    why: "fixed version installed",
  },
  {
    pkg: pkg({
      name: "musl",
      version: "1.2.4_git20230717-r4",
      ecosystem: "Alpine",
      release: "3.19.1",
    }),
    expect: ["ALPINE-CVE-2025-26519 1.2.4_git20230717-r5"],
    why: "Alpine:v3.19 entry of a many-branch record; apk _git suffix ordering",
  },
  {
    pkg: pkg({ name: "musl", version: "1.2.2-r7", ecosystem: "Alpine", release: "3.15.11" }),
    expect: [],
    why: "other Alpine branch: the record has no Alpine:v3.15 entry",
  },
  {
    pkg: pkg({
      name: "openssl-libs",
      version: "1:3.0.1-38.el9_0",
      ecosystem: "AlmaLinux",
      release: "9.0",
    }),
    expect: ["ALSA-2022:6224 1:3.0.1-41.el9_0"],
    why: "AlmaLinux advisories name binary rpms; epoch-qualified rpm ordering",
  },
  {
    pkg: pkg({
      name: "openssl-libs",
      version: "1:3.0.1-41.el9_0",
      ecosystem: "AlmaLinux",
      release: "9.0",
    }),
    expect: [],
    why: "fixed version installed",
  },
  {
    pkg: pkg({
      name: "openssl-libs",
      version: "1:1.1.1k-6.el8_5",
      ecosystem: "AlmaLinux",
      release: "8.6",
    }),
    expect: [],
    why: "other release: the record has AlmaLinux:9 entries only",
  },
  {
    pkg: pkg({ name: "semver", version: "7.5.1", ecosystem: "npm" }),
    expect: ["GHSA-c2qf-rxjj-qqgw 7.5.2"],
    why: "7.x range",
  },
  {
    pkg: pkg({ name: "semver", version: "6.3.1", ecosystem: "npm" }),
    expect: [],
    why: "fixed on the 6.x branch",
  },
  {
    pkg: pkg({ name: "semver", version: "5.7.1", ecosystem: "npm" }),
    expect: ["GHSA-c2qf-rxjj-qqgw 5.7.2"],
    why: "introduced 0 range",
  },
  {
    pkg: pkg({ name: "lodash", version: "4.17.11", ecosystem: "npm" }),
    expect: ["GHSA-jf85-cpcp-j695 4.17.12"],
    why: "introduced 0 range",
  },
  {
    pkg: pkg({ name: "lodash", version: "4.17.21", ecosystem: "npm" }),
    expect: [],
    why: "fixed",
  },
  {
    pkg: pkg({ name: "Requests", version: "2.28.1", ecosystem: "PyPI" }),
    expect: ["GHSA-j8r2-6x86-q33q 2.31.0", "PYSEC-2023-74 2.31.0"],
    why: "PEP 503 name; PYSEC matches by its ECOSYSTEM range",
  },
  {
    pkg: pkg({ name: "requests", version: "2.31.0", ecosystem: "PyPI" }),
    expect: [],
    why: "fixed",
  },
  {
    pkg: pkg({ name: "requests", version: "2.2.1", ecosystem: "PyPI" }),
    expect: [],
    why: "before introduced 2.3.0; PYSEC's GIT range (introduced 0) is not evaluated",
  },
  {
    pkg: pkg({ name: "golang.org/x/text", version: "v0.3.7", ecosystem: "Go" }),
    expect: ["GO-2022-1059 0.3.8"],
    why: "SEMVER range with v prefix",
  },
  {
    pkg: pkg({
      name: "golang.org/x/text",
      version: "v0.0.0-20210226172049-e18ecbb05110",
      ecosystem: "Go",
    }),
    expect: ["GO-2022-1059 0.3.8"],
    why: "pseudo-version",
  },
  {
    pkg: pkg({ name: "golang.org/x/text", version: "v0.3.8", ecosystem: "Go" }),
    expect: [],
    why: "fixed",
  },
  {
    pkg: pkg({
      name: "org.apache.logging.log4j:log4j-core",
      version: "2.14.1",
      ecosystem: "Maven",
    }),
    expect: ["GHSA-jfh8-c2jp-5v3q 2.15.0"],
    why: "first of three affected entries",
  },
  {
    pkg: pkg({
      name: "org.apache.logging.log4j:log4j-core",
      version: "2.0-beta9",
      ecosystem: "Maven",
    }),
    expect: ["GHSA-jfh8-c2jp-5v3q 2.3.1"],
    why: "Maven qualifier ordering",
  },
  {
    pkg: pkg({
      name: "org.apache.logging.log4j:log4j-core",
      version: "2.0-beta8",
      ecosystem: "Maven",
    }),
    expect: [],
    why: "before introduced",
  },
  {
    pkg: pkg({
      name: "org.apache.logging.log4j:log4j-core",
      version: "2.12.2",
      ecosystem: "Maven",
    }),
    expect: [],
    why: "security release between ranges",
  },
  {
    pkg: pkg({ name: "org.xbib.elasticsearch:log4j", version: "6.3.2.1", ecosystem: "Maven" }),
    expect: ["GHSA-jfh8-c2jp-5v3q -"],
    why: "explicit versions list, no range, no fix",
  },
  {
    pkg: pkg({ name: "org.xbib.elasticsearch:log4j", version: "6.3.2.2", ecosystem: "Maven" }),
    expect: [],
    why: "not in the versions list",
  },
  {
    pkg: pkg({
      name: "com.guicedee.services:log4j-core",
      version: "1.2.1.2-jre17",
      ecosystem: "Maven",
    }),
    expect: ["GHSA-jfh8-c2jp-5v3q -"],
    why: "last_affected is inclusive",
  },
  {
    pkg: pkg({ name: "net.bramp.ffmpeg:ffmpeg", version: "0.7.0", ecosystem: "Maven" }),
    expect: [],
    why: "withdrawn record (GHSA-2jx3-fx5f-r2c6) never matches, though its range would",
  },
  {
    pkg: pkg({ name: "tokio", version: "1.9.0", ecosystem: "crates.io" }),
    expect: ["GHSA-fg7r-2g4j-5cgr 1.13.1"],
    why: "second affected entry",
  },
  {
    pkg: pkg({ name: "tokio", version: "1.8.4", ecosystem: "crates.io" }),
    expect: [],
    why: "gap between the two ranges",
  },
  {
    pkg: pkg({ name: "tokio", version: "0.1.13", ecosystem: "crates.io" }),
    expect: ["GHSA-fg7r-2g4j-5cgr 1.8.4"],
    why: "first range starts at 0 in the GHSA record",
  },
  {
    pkg: pkg({ name: "tokio", version: "1.13.1", ecosystem: "crates.io" }),
    expect: [],
    why: "fixed",
  },
  {
    pkg: pkg({ name: "rack", version: "2.2.3", ecosystem: "RubyGems" }),
    expect: ["GHSA-hxqx-xwvh-44m2 2.2.3.1"],
    why: "third affected entry; 2.2.3 sorts before the four-segment fix 2.2.3.1",
  },
  {
    pkg: pkg({ name: "rack", version: "2.2.3.1", ecosystem: "RubyGems" }),
    expect: [],
    why: "fixed",
  },
  {
    pkg: pkg({ name: "rack", version: "1.1.6", ecosystem: "RubyGems" }),
    expect: [],
    why: "before introduced 1.2",
  },
  {
    pkg: pkg({ name: "league/flysystem", version: "1.1.3", ecosystem: "Packagist" }),
    expect: ["GHSA-9f46-5r25-5wfm 1.1.4"],
    why: "1.x range",
  },
  {
    pkg: pkg({ name: "league/flysystem", version: "2.1.1", ecosystem: "Packagist" }),
    expect: [],
    why: "fixed on the 2.x branch",
  },
  {
    pkg: pkg({ name: "newtonsoft.json", version: "12.0.2", ecosystem: "NuGet" }),
    expect: ["GHSA-5crp-9r3c-p9vr 13.0.1"],
    why: "NuGet ids are case-insensitive (advisory names Newtonsoft.Json)",
  },
  {
    pkg: pkg({ name: "Newtonsoft.Json", version: "13.0.1", ecosystem: "NuGet" }),
    expect: [],
    why: "fixed",
  },
];
