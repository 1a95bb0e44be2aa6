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
  npm: "npm",
  PyPI: "pypi",
  Go: "golang",
  Maven: "maven",
  "crates.io": "cargo",
};

export function pkg(init: PkgInit): Package {
  const os = init.ecosystem === "Debian" || init.ecosystem === "Alpine";
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
    locations: [
      init.location ??
        (init.ecosystem === "Debian"
          ? "var/lib/dpkg/status"
          : init.ecosystem === "Alpine"
            ? "lib/apk/db/installed"
            : `app/${init.ecosystem}.lock`),
    ],
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
      name: "libssl3",
      version: "3.0.11-1~deb12u1",
      ecosystem: "Debian",
      release: "12",
      sourceName: "openssl",
    }),
    expect: ["DSA-5532-1 3.0.11-1~deb12u2"],
    why: "binary libssl3 matched through source openssl",
  },
  {
    pkg: pkg({ name: "openssl", version: "3.0.11-1~deb12u2", ecosystem: "Debian", release: "12" }),
    expect: [],
    why: "fixed version installed",
  },
  {
    pkg: pkg({
      name: "libc6",
      version: "2.36-9+deb12u1",
      ecosystem: "Debian",
      release: "12",
      sourceName: "glibc",
    }),
    expect: ["DSA-5514-1 2.36-9+deb12u3"],
    why: "Debian:12 entry of a two-release record",
  },
  {
    pkg: pkg({
      name: "libssl1.1",
      version: "1.1.1n-0+deb11u5",
      ecosystem: "Debian",
      release: "11",
      sourceName: "openssl",
    }),
    expect: [],
    why: "other release: DSA-5532-1 covers Debian:12 only",
  },
  {
    pkg: pkg({
      name: "libc6",
      version: "2.31-13+deb11u6",
      ecosystem: "Debian",
      release: "11",
      sourceName: "glibc",
    }),
    expect: ["DSA-5514-1 2.31-13+deb11u7"],
    why: "Debian:11 entry",
  },
  {
    pkg: pkg({
      name: "gnupg",
      version: "1.4.18-7+deb8u1",
      ecosystem: "Debian",
      release: "8",
      sourceName: "gnupg",
    }),
    expect: ["DSA-3649-1 1.4.18-7+deb8u2"],
    why: "source gnupg",
  },
  {
    pkg: pkg({
      name: "gnupg",
      version: "2.0.26-6+deb8u1",
      ecosystem: "Debian",
      release: "8",
      sourceName: "gnupg2",
    }),
    expect: [],
    why: "binary name gnupg but source gnupg2: advisories are keyed by source",
  },
  {
    pkg: pkg({
      name: "libc6",
      version: "2.36-9+deb12u1",
      ecosystem: "Debian",
      release: "12",
      sourceName: "glibc",
      sourceVersion: "2.36-9+deb12u3",
    }),
    expect: [],
    why: "source version (fixed) is what Debian ranges compare",
  },
  {
    pkg: pkg({
      name: "libssl3",
      version: "3.1.2-r0",
      ecosystem: "Alpine",
      release: "3.18.4",
      sourceName: "openssl",
    }),
    expect: ["ALPINE-CVE-2023-5363 3.1.4-r0"],
    why: "apk origin openssl, release 3.18.x → Alpine:v3.18",
  },
  {
    pkg: pkg({
      name: "libcrypto3",
      version: "3.1.4-r0",
      ecosystem: "Alpine",
      release: "3.18.4",
      sourceName: "openssl",
    }),
    expect: [],
    why: "fixed version installed",
  },
  {
    pkg: pkg({
      name: "libssl3",
      version: "3.1.2-r0",
      ecosystem: "Alpine",
      release: "3.19.0",
      sourceName: "openssl",
    }),
    expect: [],
    why: "other Alpine branch",
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
    why: "withdrawn record ignored, real one matches",
  },
  {
    pkg: pkg({ name: "lodash", version: "4.17.21", ecosystem: "npm" }),
    expect: [],
    why: "only the withdrawn record would match",
  },
  {
    pkg: pkg({ name: "Requests", version: "2.28.1", ecosystem: "PyPI" }),
    expect: ["GHSA-j8r2-6x86-q33q 2.31.0", "PYSEC-2023-74 -"],
    why: "PEP 503 name; PYSEC matches by versions list (GIT range ignored)",
  },
  {
    pkg: pkg({ name: "requests", version: "2.31.0", ecosystem: "PyPI" }),
    expect: [],
    why: "fixed",
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
    why: "first of three ranges",
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
    pkg: pkg({ name: "tokio", version: "1.9.0", ecosystem: "crates.io" }),
    expect: ["RUSTSEC-2021-0124 1.13.1"],
    why: "second interval of one range",
  },
  {
    pkg: pkg({ name: "tokio", version: "1.8.4", ecosystem: "crates.io" }),
    expect: [],
    why: "gap between intervals",
  },
  {
    pkg: pkg({ name: "tokio", version: "0.1.13", ecosystem: "crates.io" }),
    expect: [],
    why: "before introduced",
  },
];
