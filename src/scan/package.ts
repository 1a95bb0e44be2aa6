// What catalogers find and matchers match: one installed package, with where it came from.
// Shared by scan/catalogers (producers), scan/match, scan/report and SBOM output (consumers).

/**
 * OSV ecosystem names (https://ossf.github.io/osv-schema/#affectedpackage-field), used
 * verbatim so packages can be matched against OSV records without translation.
 */
export type Ecosystem =
  | "Debian"
  | "Ubuntu"
  | "Alpine"
  | "Red Hat"
  | "AlmaLinux"
  | "Rocky Linux"
  | "openSUSE"
  | "SUSE"
  | "Wolfi"
  | "npm"
  | "PyPI"
  | "Go"
  | "Maven"
  | "RubyGems"
  | "crates.io"
  | "Packagist"
  | "NuGet";

export type PackageType = "os" | "library";

/** The layer that introduced a package (the last layer that wrote its evidence). */
export interface LayerOrigin {
  readonly index: number;
  readonly digest: string;
  /** The command that created the layer, from the config history (`created_by`). */
  readonly createdBy?: string;
}

export interface Package {
  readonly name: string;
  readonly version: string;
  readonly ecosystem: Ecosystem;
  readonly type: PackageType;
  /** The distribution release for OS packages (`12` for Debian bookworm, `3.19` for Alpine). */
  readonly release?: string;
  /** Source package (dpkg `Source:`, apk origin, rpm source rpm name) when it differs. */
  readonly sourceName?: string;
  readonly sourceVersion?: string;
  /** Package URL (purl), e.g. `pkg:deb/debian/openssl@3.0.11-1?arch=amd64&distro=debian-12`. */
  readonly purl: string;
  readonly licenses?: readonly string[];
  /** Files that showed the package is installed (package DB, manifest, binary). */
  readonly locations: readonly string[];
  readonly layer?: LayerOrigin;
}
