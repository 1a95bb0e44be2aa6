// One registry scan (the `scan` job's work): the manifest from the metadata database, its
// layers streamed from the registry's own BlobStore through the CLI scanner's catalogers
// (scan/catalogers: nothing unpacked, every layer checked against its digest), matched
// against the server's vulnerability database (scan/server-db.ts), then stored: counts,
// findings and the whole result (meta/scan-reports.ts), and the SBOM as a CycloneDX OCI
// referrer of the image (stored-referrer.ts). The SBOM's bytes count against the storage
// quotas of its repository, project and the registry like any push (policy/quotas.ts, the
// same QuotaGate push admission uses): when they would exceed a limit the SBOM is not
// attached and the report says why (the SPDX/CycloneDX downloads still work from the stored
// result); it is removed with its subject (referrers of a deleted manifest go with it in GC).
// Idempotent: a second run over the same image
// replaces the findings and reuses the SBOM referrer (same bytes → same digest).
// Never: buffer a layer, or leave a report "running" after a failure it saw.
import type { Kysely } from "kysely";
import {
  type Database,
  finishScan,
  getManifestByDigest,
  getScanReport,
  listReferrers,
  markScanFailed,
  markScanRunning,
  projectQuotaBytes,
  type ScanJobPayload,
  type StoredFinding,
} from "../meta/index.js";
import { digestOf, parseManifest, projectOf } from "../oci/index.js";
import { StoredImageSource } from "../policy/gate-admission.js";
import { MetaStorageAccounting, QuotaGate } from "../policy/quotas.js";
import { catalogImage } from "../scan/catalogers/index.js";
import { renderCycloneDx } from "../scan/report/cyclonedx.js";
import { allFindings, countBySeverity, type ScanResult } from "../scan/result.js";
import { evaluateInventory } from "../scan/scan.js";
import type { ServerVulnerabilityDb } from "../scan/server-db.js";
import { SEVERITIES, severityRank } from "../scan/severity/index.js";
import { type AttachmentBlob, blobOf, EMPTY_CONFIG, referrerManifest } from "../sign/attached.js";
import type { BlobStore } from "../storage/index.js";
import { storeReferrer } from "./stored-referrer.js";
import { JobCancelled, type JobContext } from "./worker.js";

export const CYCLONEDX_MEDIA_TYPE = "application/vnd.cyclonedx+json";

export interface ScanRunDeps {
  readonly db: Kysely<Database>;
  readonly store: BlobStore;
  readonly vulndb: ServerVulnerabilityDb;
}

export interface ScanRunResult {
  digest: string;
  status: "done" | "gone";
  counts?: Record<string, number>;
  packages?: number;
  durationMs?: number;
  cpuMs?: number;
  sbom?: string | null;
  /** Why the SBOM was not attached (a storage quota). */
  sbomSkipped?: string;
}

export async function runScanJob(
  deps: ScanRunDeps,
  ctx: JobContext<ScanJobPayload>,
): Promise<ScanRunResult> {
  const { repository, digest } = ctx.payload;
  const stored = await getManifestByDigest(deps.db, repository, digest);
  if (!stored) {
    await markScanFailed(deps.db, digest, `${repository}@${digest} no longer exists`, true);
    return { digest, status: "gone" };
  }
  await markScanRunning(deps.db, digest, ctx.job.id);
  try {
    return await scanStored(deps, ctx, stored);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // A stopping worker leaves the job to be taken over after its lease: still "running".
    if (!(err instanceof JobCancelled && message === "worker stopping")) {
      await markScanFailed(deps.db, digest, message, ctx.job.attempts >= ctx.job.maxAttempts);
    }
    throw err;
  }
}

async function scanStored(
  deps: ScanRunDeps,
  ctx: JobContext<ScanJobPayload>,
  stored: { digest: string; mediaType: string; size: number; content: Buffer },
): Promise<ScanRunResult> {
  const { repository, digest } = ctx.payload;
  const started = Date.now();
  const cpuBefore = process.cpuUsage();
  const { store: osv, info } = deps.vulndb.open();
  let result: ScanResult;
  try {
    const source = new StoredImageSource(
      deps.db,
      deps.store,
      repository,
      { bytes: stored.content, mediaType: stored.mediaType, digest },
      `${repository}@${digest}`,
    );
    const catalog = await catalogImage(source, {
      onProgress: (p) => {
        ctx.progress({ phase: "layer", layer: p.index + 1, layers: p.total });
        ctx.signal.throwIfAborted();
      },
    });
    ctx.signal.throwIfAborted();
    ctx.log(`cataloged ${catalog.packages.length} packages`);
    result = evaluateInventory(
      {
        artifact: { name: `${repository}@${digest}`, type: "image", digest },
        os: catalog.os && {
          family: catalog.os.id,
          version: catalog.os.versionId,
          name: catalog.os.prettyName,
        },
        packages: catalog.packages,
        warnings: catalog.warnings,
      },
      osv,
    );
  } finally {
    osv.close();
  }
  const findings = storedFindings(result);
  const counts = countBySeverity(allFindings(result));
  const fixable = countBySeverity(allFindings(result).filter((f) => f.fixedVersion !== undefined));
  const attached = await attachSbom(deps, repository, stored, result);
  const sbom = typeof attached === "string" ? attached : null;
  const sbomSkipped = typeof attached === "string" ? undefined : attached.skipped;
  if (sbomSkipped) ctx.log(`SBOM not attached: ${sbomSkipped}`);
  const cpu = process.cpuUsage(cpuBefore);
  const durationMs = Date.now() - started;
  const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
  await finishScan(deps.db, digest, {
    dbVersion: info.version,
    dbUpdatedAt: info.updatedAt,
    counts,
    fixable,
    packages: result.packages.length,
    result: JSON.stringify(
      sbomSkipped
        ? { ...result, warnings: [...result.warnings, `SBOM not attached: ${sbomSkipped}`] }
        : result,
    ),
    sbomDigest: sbom,
    ...(sbomSkipped ? { note: `SBOM not attached: ${sbomSkipped}` } : {}),
    startedAt: started,
    durationMs,
    cpuMs,
    findings,
  });
  ctx.log(
    `${findings.length} findings (${SEVERITIES.map((s) => `${s.toLowerCase()} ${counts[s]}`)
      .reverse()
      .join(", ")}) with database ${info.version}`,
  );
  return {
    digest,
    status: "done",
    counts,
    packages: result.packages.length,
    durationMs,
    cpuMs,
    sbom,
    ...(sbomSkipped ? { sbomSkipped } : {}),
  };
}

function storedFindings(result: ScanResult): StoredFinding[] {
  return result.targets.flatMap((t) =>
    t.findings.map((f) => ({
      vulnerabilityId: f.vulnerabilityId,
      aliases: f.aliases,
      severity: f.severity,
      severityRank: severityRank(f.severity),
      package: f.package.name,
      version: f.package.version,
      ecosystem: f.package.ecosystem,
      purl: f.package.purl,
      installedVersion: f.installedVersion,
      ...(f.fixedVersion ? { fixedVersion: f.fixedVersion } : {}),
      ...(f.summary ? { summary: f.summary } : {}),
      target: t.target,
    })),
  );
}

/**
 * The SBOM as a CycloneDX referrer of the image, written once per image: a rescan (same
 * packages) keeps the referrer the first scan attached, if it is still in the repository.
 */
async function attachSbom(
  deps: ScanRunDeps,
  repository: string,
  stored: { digest: string; mediaType: string; size: number },
  result: ScanResult,
): Promise<string | { skipped: string }> {
  const previous = (await getScanReport(deps.db, stored.digest))?.sbomDigest;
  if (previous) {
    const referrers = await listReferrers(deps.db, repository, stored.digest, CYCLONEDX_MEDIA_TYPE);
    if (referrers.some((r) => r.digest === previous)) return previous;
  }
  const document = renderCycloneDx(result, { withVulnerabilities: false });
  const layer = blobOf(Buffer.from(document, "utf8"), CYCLONEDX_MEDIA_TYPE, {
    "org.opencontainers.image.title": "sbom.cdx.json",
  });
  const skipped = await sbomOverQuota(deps, repository, [EMPTY_CONFIG, layer], stored);
  if (skipped) return { skipped };
  return storeReferrer(
    deps.db,
    deps.store,
    repository,
    { mediaType: stored.mediaType, digest: stored.digest, size: stored.size },
    CYCLONEDX_MEDIA_TYPE,
    [layer],
    {
      "org.opencontainers.image.created": result.createdAt,
      "dev.berth.scan": "registry",
    },
  );
}

/**
 * Why storing the SBOM's blobs and manifest in `repository` would exceed a storage quota, or
 * undefined. Each blob is checked as a push would be (a blob the scope holds costs nothing);
 * the manifest's size is estimated by building it.
 */
async function sbomOverQuota(
  deps: ScanRunDeps,
  repository: string,
  blobs: AttachmentBlob[],
  subject: { digest: string; mediaType: string; size: number },
): Promise<string | undefined> {
  const project = projectOf(repository);
  const quotaBytes = await projectQuotaBytes(deps.db, project);
  const gate = new QuotaGate(new MetaStorageAccounting(deps.db));
  const manifest = Buffer.from(
    JSON.stringify(
      referrerManifest(
        CYCLONEDX_MEDIA_TYPE,
        blobs.slice(1).map((b) => b.descriptor),
        subject,
      ),
    ),
  );
  const items = [
    ...blobs.map((b) => ({ digest: b.descriptor.digest, size: b.descriptor.size })),
    { digest: digestOf(manifest), size: manifest.length + 256 },
  ];
  try {
    for (const item of items) {
      await gate.admit(
        { name: project, quotaBytes: quotaBytes ?? null },
        repository,
        item.digest,
        item.size,
        (message) => new SbomQuotaExceeded(message),
      );
    }
  } catch (err) {
    if (err instanceof SbomQuotaExceeded) return err.message;
    throw err;
  }
  return undefined;
}

class SbomQuotaExceeded extends Error {}

/** Whether a parsed manifest is something the scanner reads (used by the consumer too). */
export function scanTargetOf(
  bytes: Buffer,
  mediaType: string,
):
  | { kind: "image" }
  | { kind: "index"; children: string[] }
  | { kind: "unsupported"; why: string } {
  const parsed = parseManifest(bytes, mediaType);
  if (parsed.subject) return { kind: "unsupported", why: "an attachment (it has a subject)" };
  if (parsed.kind === "index") {
    if (parsed.index.artifactType) return { kind: "unsupported", why: "an artifact index" };
    return {
      kind: "index",
      children: parsed.index.manifests
        .filter((m) => m.platform?.os !== "unknown")
        .map((m) => m.digest),
    };
  }
  const image = parsed.image;
  if (image.artifactType)
    return { kind: "unsupported", why: `an artifact (${image.artifactType})` };
  const config = image.config.mediaType;
  if (
    config !== "application/vnd.oci.image.config.v1+json" &&
    config !== "application/vnd.docker.container.image.v1+json"
  )
    return { kind: "unsupported", why: `not a container image (config ${config})` };
  if (image.layers.some((l) => l.mediaType.startsWith("application/vnd.dev.cosign")))
    return { kind: "unsupported", why: "a signature" };
  return { kind: "image" };
}
