// Completes OS package drafts once the distribution is known: the OSV ecosystem, the
// release key the matcher uses (`12` for Debian bookworm, `3.19` for Alpine, `9` for RHEL
// and its rebuilds) and the purl with its `distro` qualifier. Pure.
import type { Ecosystem, Package } from "../package.js";
import type { OsPackageDraft, OsPackageManager } from "./draft.js";
import type { OsInfo } from "./os-release.js";
import { purl } from "./purl.js";

const ECOSYSTEM_BY_OS_ID: Record<string, Ecosystem> = {
  debian: "Debian",
  ubuntu: "Ubuntu",
  alpine: "Alpine",
  wolfi: "Wolfi",
  chainguard: "Wolfi",
  rhel: "Red Hat",
  centos: "Red Hat",
  fedora: "Red Hat",
  ol: "Red Hat",
  amzn: "Red Hat",
  almalinux: "AlmaLinux",
  rocky: "Rocky Linux",
  opensuse: "openSUSE",
  "opensuse-leap": "openSUSE",
  "opensuse-tumbleweed": "openSUSE",
  sles: "SUSE",
  sle_bci: "SUSE",
};

const DEFAULT_ECOSYSTEM: Record<OsPackageManager, Ecosystem> = {
  dpkg: "Debian",
  apk: "Alpine",
  rpm: "Red Hat",
};

const PURL_TYPE: Record<OsPackageManager, string> = { dpkg: "deb", apk: "apk", rpm: "rpm" };

export function osEcosystem(manager: OsPackageManager, os: OsInfo | undefined): Ecosystem {
  const byId = os ? ECOSYSTEM_BY_OS_ID[os.id] : undefined;
  // A package manager foreign to the detected OS (say, an rpm DB in a Debian image) is
  // judged by its own family.
  if (byId && familyOf(byId) === manager) return byId;
  return DEFAULT_ECOSYSTEM[manager];
}

/** The release key OSV uses for the distribution's advisories. */
export function releaseKey(os: OsInfo | undefined): string | undefined {
  const v = os?.versionId;
  if (!os || !v) return undefined;
  if (os.id === "alpine") return /^\d+\.\d+/.exec(v)?.[0] ?? v;
  if (["rhel", "centos", "almalinux", "rocky", "ol"].includes(os.id)) {
    return /^\d+/.exec(v)?.[0] ?? v;
  }
  return v;
}

export function completeOsPackage(
  draft: OsPackageDraft,
  os: OsInfo | undefined,
): Omit<Package, "locations" | "layer"> {
  const ecosystem = osEcosystem(draft.manager, os);
  const release = releaseKey(os);
  const namespace = purlNamespace(draft.manager, os);
  const distro = os && release ? `${os.id}-${os.versionId ?? release}` : undefined;
  const rpmVersion = draft.manager === "rpm" ? stripEpoch(draft.version) : draft.version;
  return {
    name: draft.name,
    version: draft.version,
    ecosystem,
    type: "os",
    release,
    sourceName: draft.sourceName,
    sourceVersion: draft.sourceVersion,
    licenses: draft.licenses,
    purl: purl({
      type: PURL_TYPE[draft.manager],
      namespace,
      name: draft.name,
      version: rpmVersion,
      qualifiers: {
        arch: draft.arch,
        epoch: draft.epoch !== undefined && draft.epoch !== 0 ? String(draft.epoch) : undefined,
        distro,
        upstream:
          draft.sourceName && draft.sourceName !== draft.name ? draft.sourceName : undefined,
      },
    }),
  };
}

function familyOf(ecosystem: Ecosystem): OsPackageManager | undefined {
  if (ecosystem === "Debian" || ecosystem === "Ubuntu") return "dpkg";
  if (ecosystem === "Alpine" || ecosystem === "Wolfi") return "apk";
  if (["Red Hat", "AlmaLinux", "Rocky Linux", "openSUSE", "SUSE"].includes(ecosystem)) return "rpm";
  return undefined;
}

function purlNamespace(manager: OsPackageManager, os: OsInfo | undefined): string {
  const id = os?.id;
  if (id && osEcosystem(manager, os) === ECOSYSTEM_BY_OS_ID[id])
    return id === "rhel" ? "redhat" : id;
  return { dpkg: "debian", apk: "alpine", rpm: "redhat" }[manager];
}

function stripEpoch(version: string): string {
  const colon = version.indexOf(":");
  return colon === -1 ? version : version.slice(colon + 1);
}
