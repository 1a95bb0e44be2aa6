// The SPDX 2.3 JSON writer: a document that DESCRIBES the scanned artifact, which CONTAINS one
// SPDX package per installed package (purl as a PACKAGE-MANAGER external reference, source
// package in sourceInfo, layer in the comment). Licenses are given only when they are valid
// SPDX expressions; anything else is NOASSERTION with the text kept in licenseComments.
// Validated against the SPDX 2.3 JSON schema in test/scan/report. Pure apart from the UUID.
import { randomUUID } from "node:crypto";
import type { Package } from "../package.js";
import type { ScanResult } from "../result.js";

type Json = Record<string, unknown>;

const SIMPLE_EXPRESSION = /^\(?[A-Za-z0-9.+-]+\)?( (AND|OR|WITH) \(?[A-Za-z0-9.+-]+\)?)*$/;

function spdxId(prefix: string, n: number): string {
  return `SPDXRef-${prefix}-${n}`;
}

function license(p: Package): { declared: string; comment?: string } {
  const text = p.licenses?.join(" AND ");
  if (!text) return { declared: "NOASSERTION" };
  if (SIMPLE_EXPRESSION.test(text) && !/\b(and|or)\b/.test(text)) return { declared: text };
  return { declared: "NOASSERTION", comment: `Declared: ${text}` };
}

function spdxPackage(p: Package, id: string): Json {
  const lic = license(p);
  const pkg: Json = {
    name: p.name,
    SPDXID: id,
    versionInfo: p.version,
    downloadLocation: "NOASSERTION",
    filesAnalyzed: false,
    licenseConcluded: "NOASSERTION",
    licenseDeclared: lic.declared,
    copyrightText: "NOASSERTION",
    primaryPackagePurpose: p.type === "os" ? "INSTALL" : "LIBRARY",
    externalRefs: [
      { referenceCategory: "PACKAGE-MANAGER", referenceType: "purl", referenceLocator: p.purl },
    ],
  };
  if (lic.comment) pkg.licenseComments = lic.comment;
  if (p.sourceName)
    pkg.sourceInfo = `built from source package ${p.sourceName}${p.sourceVersion ? ` ${p.sourceVersion}` : ""}`;
  const where = [...p.locations];
  if (p.layer)
    where.push(
      `layer ${p.layer.index} ${p.layer.digest}${p.layer.createdBy ? `: ${p.layer.createdBy}` : ""}`,
    );
  if (where.length) pkg.comment = where.join("; ");
  return pkg;
}

export function toSpdx(result: ScanResult): Json {
  const artifactId = "SPDXRef-Artifact";
  const created = `${result.createdAt.slice(0, 19)}Z`;
  const packages: Json[] = [
    {
      name: result.artifact.name,
      SPDXID: artifactId,
      ...(result.artifact.digest ? { versionInfo: result.artifact.digest } : {}),
      downloadLocation: "NOASSERTION",
      filesAnalyzed: false,
      licenseConcluded: "NOASSERTION",
      licenseDeclared: "NOASSERTION",
      copyrightText: "NOASSERTION",
      primaryPackagePurpose: result.artifact.type === "image" ? "CONTAINER" : "SOURCE",
    },
  ];
  const relationships: Json[] = [
    {
      spdxElementId: "SPDXRef-DOCUMENT",
      relationshipType: "DESCRIBES",
      relatedSpdxElement: artifactId,
    },
  ];
  if (result.os) {
    packages.push({
      name: result.os.family,
      SPDXID: "SPDXRef-OperatingSystem",
      ...(result.os.version ? { versionInfo: result.os.version } : {}),
      downloadLocation: "NOASSERTION",
      filesAnalyzed: false,
      licenseConcluded: "NOASSERTION",
      licenseDeclared: "NOASSERTION",
      copyrightText: "NOASSERTION",
      primaryPackagePurpose: "OPERATING-SYSTEM",
    });
    relationships.push({
      spdxElementId: artifactId,
      relationshipType: "CONTAINS",
      relatedSpdxElement: "SPDXRef-OperatingSystem",
    });
  }
  result.packages.forEach((p, i) => {
    const id = spdxId("Package", i + 1);
    packages.push(spdxPackage(p, id));
    relationships.push({
      spdxElementId: artifactId,
      relationshipType: "CONTAINS",
      relatedSpdxElement: id,
    });
  });
  const slug = result.artifact.name.replace(/[^A-Za-z0-9.-]+/g, "-").slice(0, 80);
  return {
    spdxVersion: "SPDX-2.3",
    dataLicense: "CC0-1.0",
    SPDXID: "SPDXRef-DOCUMENT",
    name: result.artifact.name,
    documentNamespace: `https://berth.invalid/spdx/${slug}-${randomUUID()}`,
    creationInfo: { created, creators: ["Tool: berth-0.1.0"] },
    packages,
    relationships,
  };
}

export function renderSpdx(result: ScanResult): string {
  return `${JSON.stringify(toSpdx(result), null, 2)}\n`;
}
