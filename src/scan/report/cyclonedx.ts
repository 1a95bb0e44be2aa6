// The CycloneDX 1.5 JSON writer: the SBOM (artifact as metadata.component, the OS, every
// package with its purl, licenses and Berth properties: source package, location, layer) and,
// for scans, the vulnerabilities with ratings (CVSS method/vector/score), aliases as
// references, and `affects` pointing at the package components. Validated against the
// official 1.5 JSON schema in test/scan/report. Pure apart from the serial number UUID.
import { randomUUID } from "node:crypto";
import type { Finding } from "../match/index.js";
import type { Package } from "../package.js";
import { allFindings, type ScanResult } from "../result.js";

type Json = Record<string, unknown>;

const METHOD: Record<string, string> = {
  "2.0": "CVSSv2",
  "3.0": "CVSSv3",
  "3.1": "CVSSv31",
  "4.0": "CVSSv4",
};

function properties(p: Package): { name: string; value: string }[] {
  const props: { name: string; value: string }[] = [
    { name: "berth:package:ecosystem", value: p.ecosystem },
    { name: "berth:package:type", value: p.type },
  ];
  if (p.release) props.push({ name: "berth:package:release", value: p.release });
  if (p.sourceName) props.push({ name: "berth:package:sourceName", value: p.sourceName });
  if (p.sourceVersion) props.push({ name: "berth:package:sourceVersion", value: p.sourceVersion });
  for (const l of p.locations) props.push({ name: "berth:package:location", value: l });
  if (p.layer) {
    props.push({ name: "berth:layer:digest", value: p.layer.digest });
    if (p.layer.createdBy) props.push({ name: "berth:layer:createdBy", value: p.layer.createdBy });
  }
  return props;
}

/** Unique bom-refs: the purl, suffixed when the same purl appears in several places. */
function assignRefs(packages: readonly Package[]): Map<Package, string> {
  const refs = new Map<Package, string>();
  const used = new Map<string, number>();
  for (const p of packages) {
    const n = used.get(p.purl) ?? 0;
    used.set(p.purl, n + 1);
    refs.set(p, n === 0 ? p.purl : `${p.purl}#${n}`);
  }
  return refs;
}

function component(p: Package, ref: string): Json {
  const c: Json = {
    "bom-ref": ref,
    type: "library",
    name: p.name,
    version: p.version,
    purl: p.purl,
  };
  if (p.licenses?.length) c.licenses = p.licenses.map((name) => ({ license: { name } }));
  c.properties = properties(p);
  return c;
}

function aliasSource(id: string): Json {
  if (id.startsWith("CVE-")) return { name: "NVD", url: `https://nvd.nist.gov/vuln/detail/${id}` };
  if (id.startsWith("GHSA-"))
    return { name: "GitHub Advisory Database", url: `https://github.com/advisories/${id}` };
  return { name: "OSV", url: `https://osv.dev/vulnerability/${id}` };
}

function vulnerabilities(findings: readonly Finding[], refs: Map<Package, string>): Json[] {
  const byId = new Map<string, { first: Finding; affects: Json[] }>();
  for (const f of findings) {
    const entry = byId.get(f.vulnerabilityId) ?? { first: f, affects: [] };
    entry.affects.push({
      ref: refs.get(f.package)!,
      versions: [{ version: f.package.version, status: "affected" }],
    });
    byId.set(f.vulnerabilityId, entry);
  }
  return [...byId.entries()].map(([id, { first: f, affects }]) => {
    const rating: Json = {
      source: { name: "OSV" },
      severity: f.severity === "UNKNOWN" ? "unknown" : f.severity.toLowerCase(),
    };
    if (f.cvss)
      Object.assign(rating, {
        score: f.cvss.baseScore,
        method: METHOD[f.cvss.version],
        vector: f.cvss.vector,
      });
    const v: Json = {
      "bom-ref": `vuln:${id}`,
      id,
      source: { name: "OSV", url: `https://osv.dev/vulnerability/${id}` },
      ratings: [rating],
      affects,
    };
    if (f.aliases.length) v.references = f.aliases.map((a) => ({ id: a, source: aliasSource(a) }));
    if (f.summary) v.description = f.summary;
    if (f.fixedVersion)
      v.recommendation = `Upgrade ${f.package.name} to ${f.fixedVersion} or later`;
    if (f.references.length) v.advisories = f.references.slice(0, 20).map((url) => ({ url }));
    if (f.published && !Number.isNaN(Date.parse(f.published)))
      v.published = new Date(f.published).toISOString();
    if (!Number.isNaN(Date.parse(f.modified))) v.updated = new Date(f.modified).toISOString();
    return v;
  });
}

export function toCycloneDx(result: ScanResult, options: { withVulnerabilities: boolean }): Json {
  const refs = assignRefs(result.packages);
  const artifactRef = "berth:artifact";
  const components: Json[] = result.packages.map((p) => component(p, refs.get(p)!));
  if (result.os) {
    components.unshift({
      "bom-ref": "berth:os",
      type: "operating-system",
      name: result.os.family,
      ...(result.os.version ? { version: result.os.version } : {}),
      ...(result.os.name ? { description: result.os.name } : {}),
    });
  }
  const bom: Json = {
    $schema: "http://cyclonedx.org/schema/bom-1.5.schema.json",
    bomFormat: "CycloneDX",
    specVersion: "1.5",
    serialNumber: `urn:uuid:${randomUUID()}`,
    version: 1,
    metadata: {
      timestamp: result.createdAt,
      tools: { components: [{ type: "application", name: "berth", version: "0.1.0" }] },
      component: {
        "bom-ref": artifactRef,
        type: result.artifact.type === "image" ? "container" : "file",
        name: result.artifact.name,
        ...(result.artifact.digest ? { version: result.artifact.digest } : {}),
      },
    },
    components,
    dependencies: [{ ref: artifactRef, dependsOn: components.map((c) => c["bom-ref"] as string) }],
  };
  if (options.withVulnerabilities) bom.vulnerabilities = vulnerabilities(allFindings(result), refs);
  return bom;
}

export function renderCycloneDx(
  result: ScanResult,
  options: { withVulnerabilities: boolean },
): string {
  return `${JSON.stringify(toCycloneDx(result, options), null, 2)}\n`;
}
