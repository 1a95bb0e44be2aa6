// Reads a CycloneDX (1.4–1.6 JSON) or SPDX 2.x JSON SBOM into Packages, for `berth scan
// sbom:FILE`. Packages are recognised by their package URL (purl); components without one
// are skipped (they cannot be matched). Pure: takes the parsed document.
import type { Ecosystem, Package, PackageType } from "../package.js";

const PURL_TYPES: Record<string, { ecosystem: Ecosystem; type: PackageType }> = {
  deb: { ecosystem: "Debian", type: "os" },
  apk: { ecosystem: "Alpine", type: "os" },
  rpm: { ecosystem: "Red Hat", type: "os" },
  npm: { ecosystem: "npm", type: "library" },
  pypi: { ecosystem: "PyPI", type: "library" },
  golang: { ecosystem: "Go", type: "library" },
  maven: { ecosystem: "Maven", type: "library" },
  gem: { ecosystem: "RubyGems", type: "library" },
  cargo: { ecosystem: "crates.io", type: "library" },
  composer: { ecosystem: "Packagist", type: "library" },
  nuget: { ecosystem: "NuGet", type: "library" },
};

const DISTROS: Record<string, Ecosystem> = {
  debian: "Debian",
  ubuntu: "Ubuntu",
  alpine: "Alpine",
  wolfi: "Wolfi",
  rhel: "Red Hat",
  redhat: "Red Hat",
  almalinux: "AlmaLinux",
  rocky: "Rocky Linux",
  opensuse: "openSUSE",
  sles: "SUSE",
};

export interface ParsedPurl {
  readonly type: string;
  readonly namespace?: string;
  readonly name: string;
  readonly version?: string;
  readonly qualifiers: Record<string, string>;
}

export function parsePurl(purl: string): ParsedPurl | null {
  const m = /^pkg:([a-zA-Z0-9.+-]+)\/([^?#]+?)(?:@([^?#]+))?(?:\?([^#]*))?(?:#.*)?$/.exec(purl);
  if (!m) return null;
  const path = m[2].split("/").map(decodeURIComponent);
  const qualifiers: Record<string, string> = {};
  for (const pair of (m[4] ?? "").split("&").filter(Boolean)) {
    const [k, v = ""] = pair.split("=");
    qualifiers[k.toLowerCase()] = decodeURIComponent(v);
  }
  return {
    type: m[1].toLowerCase(),
    namespace: path.length > 1 ? path.slice(0, -1).join("/") : undefined,
    name: path[path.length - 1],
    version: m[3] ? decodeURIComponent(m[3]) : undefined,
    qualifiers,
  };
}

/** Turns a purl into a Package (or null for types Berth does not match). */
export function packageFromPurl(purl: string, location: string): Package | null {
  const p = parsePurl(purl);
  if (!p?.version) return null;
  const kind = PURL_TYPES[p.type];
  if (!kind) return null;
  let ecosystem = kind.ecosystem;
  let release: string | undefined;
  const distro = p.qualifiers.distro;
  if (kind.type === "os") {
    const d = /^([a-z]+)-?(.*)$/.exec(distro ?? "");
    ecosystem = DISTROS[d?.[1] ?? p.namespace ?? ""] ?? DISTROS[p.namespace ?? ""] ?? ecosystem;
    release = d?.[2] || undefined;
  }
  let name = p.name;
  if (p.type === "maven" && p.namespace) name = `${p.namespace}:${p.name}`;
  else if ((p.type === "golang" || p.type === "npm" || p.type === "composer") && p.namespace)
    name = `${p.namespace}/${p.name}`;
  const upstream = p.qualifiers.upstream;
  const source = upstream ? parseUpstream(upstream) : undefined;
  return {
    name,
    version: p.version,
    ecosystem,
    type: kind.type,
    release,
    sourceName: source?.name ?? (kind.type === "os" ? name : undefined),
    sourceVersion: source?.version,
    purl,
    locations: [location],
  };
}

/** purl `upstream` qualifier: `openssl` or `openssl@3.0.11-1`. */
function parseUpstream(value: string): { name: string; version?: string } {
  const at = value.indexOf("@");
  return at === -1 ? { name: value } : { name: value.slice(0, at), version: value.slice(at + 1) };
}

function record(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {};
}

function cyclonedxPackages(doc: Record<string, unknown>, file: string): Package[] {
  const out: Package[] = [];
  const visit = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const c of list) {
      const comp = record(c);
      if (typeof comp.purl === "string") {
        const pkg = packageFromPurl(comp.purl, file);
        if (pkg) {
          const props = Array.isArray(comp.properties) ? comp.properties.map(record) : [];
          const prop = (n: string) => props.find((p) => p.name === n)?.value as string | undefined;
          out.push({
            ...pkg,
            release: prop("berth:package:release") ?? pkg.release,
            // Berth's own properties, else Trivy's (aquasecurity:trivy:SrcName/SrcVersion).
            sourceName:
              prop("berth:package:sourceName") ??
              prop("aquasecurity:trivy:SrcName") ??
              pkg.sourceName,
            sourceVersion:
              prop("berth:package:sourceVersion") ??
              prop("aquasecurity:trivy:SrcVersion") ??
              pkg.sourceVersion,
            locations: prop("berth:package:location")
              ? [prop("berth:package:location")!]
              : pkg.locations,
          });
        }
      }
      visit(comp.components);
    }
  };
  visit(doc.components);
  return out;
}

function spdxPackages(doc: Record<string, unknown>, file: string): Package[] {
  const out: Package[] = [];
  for (const p of Array.isArray(doc.packages) ? doc.packages : []) {
    const refs = record(p).externalRefs;
    for (const ref of Array.isArray(refs) ? refs.map(record) : []) {
      if (ref.referenceType === "purl" && typeof ref.referenceLocator === "string") {
        const pkg = packageFromPurl(ref.referenceLocator, file);
        if (pkg) out.push(pkg);
      }
    }
  }
  return out;
}

export interface SbomInventory {
  readonly format: "cyclonedx" | "spdx";
  readonly name: string;
  readonly packages: Package[];
}

export function readSbom(doc: unknown, file: string): SbomInventory {
  const d = record(doc);
  if (d.bomFormat === "CycloneDX") {
    const meta = record(record(d.metadata).component);
    return {
      format: "cyclonedx",
      name: typeof meta.name === "string" ? meta.name : file,
      packages: cyclonedxPackages(d, file),
    };
  }
  if (typeof d.spdxVersion === "string") {
    return {
      format: "spdx",
      name: typeof d.name === "string" ? d.name : file,
      packages: spdxPackages(d, file),
    };
  }
  throw new Error(`${file} is neither a CycloneDX nor an SPDX JSON SBOM`);
}
