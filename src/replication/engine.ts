// The replication of one artifact, and the plan of a run: the I/O around the pure rule
// evaluation (rules.ts). An artifact is copied with the copy engine of `berth copy` and
// `berth mirror` (transport/copy.ts: blobs the destination has are skipped after a HEAD,
// the rest stream in parallel through a digest check; manifests byte for byte, so digests
// are preserved). A platform filter copies the chosen images of an index unchanged and
// writes an index listing only them (its digest then differs from the source's). Then the
// artifact's referrers travel with it, in both schemes: OCI 1.1 referrers (found through the
// referrers API or the `sha256-<hex>` referrers tag, stored so the destination's own listing
// finds them) and cosign's `sha256-<hex>.sig/.att/.sbom` tags, recursively (a signature of
// an SBOM), with their digests kept, so a signature made on one side verifies on the other.
// Never: write an index that lists a manifest the destination does not hold, or report
// success for an artifact whose referrers failed.
import type { TaskOperation } from "../meta/replication.js";
import {
  type Descriptor,
  digestOf,
  type ImageConfig,
  type ImageIndex,
  isDigest,
  type Platform,
  parseManifest,
} from "../oci/index.js";
import { type CopyEvent, copyImage } from "../transport/copy.js";
import type { ImageDestination, ImageSource, ManifestBytes } from "../transport/types.js";
import {
  destinationRepository,
  labelsPass,
  platformOf,
  type RuleSettings,
  selectsRepository,
  selectsTag,
} from "./rules.js";
import { isAttachmentTag, type ReplicationSide, referrersTag } from "./sides.js";
import type { Bandwidth } from "./throttle.js";
import { throttledSource } from "./throttle.js";

export interface PlannedCopy {
  readonly operation: TaskOperation;
  readonly sourceRepository: string;
  /** A tag, or a digest for untagged artifacts named by an event. */
  readonly reference: string;
  readonly destinationRepository: string;
}

/** Every tag the rule selects on the source side, as tasks. */
export async function planRun(
  source: ReplicationSide,
  rule: Pick<RuleSettings, "filters" | "destination">,
  signal: AbortSignal,
): Promise<PlannedCopy[]> {
  const planned: PlannedCopy[] = [];
  for (const repository of await source.listRepositories()) {
    signal.throwIfAborted();
    if (!selectsRepository(rule.filters, repository)) continue;
    const destination = destinationRepository(rule.destination, repository);
    for (const tag of await source.listTags(repository)) {
      if (isAttachmentTag(tag) || !selectsTag(rule.filters, tag)) continue;
      planned.push({
        operation: "copy",
        sourceRepository: repository,
        reference: tag,
        destinationRepository: destination,
      });
    }
  }
  return planned;
}

export interface ArtifactOutcome {
  readonly action: "copied" | "skipped";
  /** Why it was skipped (up to date, exists, filtered out). */
  readonly reason?: string;
  readonly digest: string;
  readonly bytes: number;
  readonly referrers: number;
}

export interface ReplicateOptions {
  readonly signal: AbortSignal;
  readonly bandwidth: Bandwidth;
  /** Called with bytes as they stream (for progress and metrics). */
  readonly onBytes?: (bytes: number) => void;
  /** Blobs in parallel per artifact. */
  readonly blobConcurrency?: number;
}

interface Run {
  readonly from: ReplicationSide;
  readonly to: ReplicationSide;
  readonly task: PlannedCopy;
  readonly options: ReplicateOptions;
  bytes: number;
  referrers: number;
  readonly done: Set<string>;
}

/** Copies one tagged (or digest-named) artifact and its referrers. */
export async function replicateArtifact(
  from: ReplicationSide,
  to: ReplicationSide,
  rule: Pick<RuleSettings, "filters" | "overwrite">,
  task: PlannedCopy,
  options: ReplicateOptions,
): Promise<ArtifactOutcome> {
  const run: Run = { from, to, task, options, bytes: 0, referrers: 0, done: new Set() };
  const source = sourceOf(run, task.reference);
  const top = await source.getManifest();
  const parsed = parseManifest(top.bytes, top.mediaType);
  const tag = isDigest(task.reference) ? undefined : task.reference;
  const platforms = rule.filters.platforms.map(platformOf);

  if (rule.filters.labels.length > 0 && !labelsPass(rule.filters, await labelsOf(source, top))) {
    return {
      action: "skipped",
      reason: "labels do not match",
      digest: top.digest,
      bytes: 0,
      referrers: 0,
    };
  }
  let written: ManifestBytes = top;
  let children: Descriptor[] = [];
  if (parsed.kind === "index") {
    children = parsed.index.manifests;
    if (platforms.length > 0) {
      children = children.filter(
        (c) => c.platform && platforms.some((p) => samePlatform(p, c.platform!)),
      );
      if (children.length === 0) {
        return {
          action: "skipped",
          reason: "no image of a selected platform",
          digest: top.digest,
          bytes: 0,
          referrers: 0,
        };
      }
      if (children.length < parsed.index.manifests.length)
        written = filteredIndex(top, parsed.index, children);
    }
  } else if (platforms.length > 0) {
    const platform = await platformOfImage(source, top);
    if (!platform || !platforms.some((p) => samePlatform(p, platform))) {
      return {
        action: "skipped",
        reason: "not a selected platform",
        digest: top.digest,
        bytes: 0,
        referrers: 0,
      };
    }
  }

  const existing = await to.resolve(task.destinationRepository, tag ?? written.digest);
  let action: ArtifactOutcome["action"] = "copied";
  let reason: string | undefined;
  if (existing === written.digest) {
    action = "skipped";
    reason = "up to date";
  } else if (existing !== undefined && !rule.overwrite) {
    return {
      action: "skipped",
      reason: `the destination tag points at ${existing}`,
      digest: written.digest,
      bytes: 0,
      referrers: 0,
    };
  } else {
    await copyManifestTree(run, source, written, written === top ? undefined : children, tag);
  }
  // Referrers travel even when the image was there already (a signature added since). Those
  // of a source index that was filtered name a digest the destination does not have: left.
  for (const child of children) await copyReferrers(run, child.digest, 0);
  await copyReferrers(run, written.digest, 0);
  return {
    action,
    ...(reason ? { reason } : {}),
    digest: written.digest,
    bytes: run.bytes,
    referrers: run.referrers,
  };
}

/**
 * The referrers of a subject the destination holds already (an event rule seeing a
 * signature pushed after its image); skipped when the subject was not replicated.
 */
export async function syncReferrers(
  from: ReplicationSide,
  to: ReplicationSide,
  task: PlannedCopy,
  options: ReplicateOptions,
): Promise<ArtifactOutcome> {
  const run: Run = { from, to, task, options, bytes: 0, referrers: 0, done: new Set() };
  if (!(await to.resolve(task.destinationRepository, task.reference))) {
    return {
      action: "skipped",
      reason: "the subject is not on the destination",
      digest: task.reference,
      bytes: 0,
      referrers: 0,
    };
  }
  await copyReferrers(run, task.reference, 0);
  return { action: "copied", digest: task.reference, bytes: run.bytes, referrers: run.referrers };
}

function sourceOf(run: Run, reference: string): ImageSource {
  return throttledSource(
    run.from.source(run.task.sourceRepository, reference),
    run.options.bandwidth,
    run.options.signal,
    (n) => {
      run.bytes += n;
      run.options.onBytes?.(n);
    },
  );
}

/**
 * The manifest with everything it needs: the source's own (`chosen` undefined), or an index
 * of the `chosen` children, each copied unchanged first.
 */
async function copyManifestTree(
  run: Run,
  source: ImageSource,
  written: ManifestBytes,
  chosen: Descriptor[] | undefined,
  tag: string | undefined,
): Promise<void> {
  const dest = run.to.destination(run.task.destinationRepository, tag);
  const onEvent = (_e: CopyEvent) => run.options.signal.throwIfAborted();
  const concurrency = run.options.blobConcurrency ?? 4;
  if (!chosen) {
    await copyImage(source, dest, { all: true, tag, concurrency, onEvent });
    return;
  }
  for (const child of chosen) {
    const childSource = sourceOf(run, child.digest);
    await copyImage(childSource, run.to.destination(run.task.destinationRepository, undefined), {
      all: true,
      placement: "child",
      concurrency,
      onEvent,
    });
  }
  await dest.putManifest(written, tag, "top");
}

/** An index listing only `children`, everything else of the original kept as it was. */
export function filteredIndex(
  top: ManifestBytes,
  index: ImageIndex,
  children: Descriptor[],
): ManifestBytes {
  const doc = JSON.parse(top.bytes.toString("utf8")) as ImageIndex & Record<string, unknown>;
  const kept = new Set(children.map((c) => c.digest));
  doc.manifests = index.manifests.filter((m) => kept.has(m.digest));
  const bytes = Buffer.from(JSON.stringify(doc));
  return { bytes, mediaType: top.mediaType, digest: digestOf(bytes) };
}

function samePlatform(want: Platform, have: Platform): boolean {
  if (want.os !== have.os || want.architecture !== have.architecture) return false;
  return want.variant === undefined || want.variant === have.variant;
}

async function configOf(
  source: ImageSource,
  manifest: ManifestBytes,
): Promise<ImageConfig | undefined> {
  const parsed = parseManifest(manifest.bytes, manifest.mediaType);
  if (parsed.kind !== "image") return undefined;
  const config = parsed.image.config;
  if (config.size > 4 * 1024 * 1024 || !config.mediaType.includes("json")) return undefined;
  const stream = await source.getBlob(config);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as ImageConfig;
  } catch {
    return undefined;
  }
}

async function platformOfImage(
  source: ImageSource,
  manifest: ManifestBytes,
): Promise<Platform | undefined> {
  const config = await configOf(source, manifest);
  if (!config?.os || !config.architecture) return undefined;
  return {
    os: config.os,
    architecture: config.architecture,
    ...(config.variant ? { variant: config.variant } : {}),
  };
}

/** The image's labels (an index: its first image's). */
async function labelsOf(
  source: ImageSource,
  top: ManifestBytes,
): Promise<Record<string, string> | undefined> {
  const parsed = parseManifest(top.bytes, top.mediaType);
  const image = parsed.kind === "index" ? parsed.index.manifests[0] : undefined;
  const manifest = image ? await source.getManifest(image.digest) : top;
  return (await configOf(source, manifest))?.config?.Labels ?? undefined;
}

const MAX_REFERRER_DEPTH = 4;
const COSIGN_SUFFIXES = ["sig", "att", "sbom"] as const;

/** Referrers of `subject` (both schemes), then theirs, up to a bounded depth. */
async function copyReferrers(run: Run, subject: string, depth: number): Promise<void> {
  if (depth >= MAX_REFERRER_DEPTH || run.done.has(subject)) return;
  run.done.add(subject);
  const repo = run.task.sourceRepository;
  const destRepo = run.task.destinationRepository;
  for (const referrer of await run.from.referrers(repo, subject)) {
    run.options.signal.throwIfAborted();
    const source = sourceOf(run, referrer.digest);
    const manifest = await source.getManifest();
    if (!(await run.to.resolve(destRepo, referrer.digest))) {
      // Blobs (and an index's children) by the copy engine; the manifest by putReferrer.
      const dest = storingReferrer(run.to.destination(destRepo, undefined), referrer, (m) =>
        run.to.putReferrer(destRepo, m, referrer),
      );
      await copyImage(source, dest, {
        all: true,
        placement: "child",
        concurrency: 2,
        onEvent: () => run.options.signal.throwIfAborted(),
      });
      run.referrers++;
    } else {
      // Present already: make sure the destination's fallback listing has it too.
      await run.to.putReferrer(destRepo, manifest, referrer);
    }
    await copyReferrers(run, referrer.digest, depth + 1);
  }
  for (const suffix of COSIGN_SUFFIXES) {
    const tag = `${referrersTag(subject)}.${suffix}`;
    const digest = await run.from.resolve(repo, tag);
    if (!digest) continue;
    if ((await run.to.resolve(destRepo, tag)) !== digest) {
      await copyImage(sourceOf(run, tag), run.to.destination(destRepo, tag), {
        all: true,
        tag,
        concurrency: 2,
        onEvent: () => run.options.signal.throwIfAborted(),
      });
      run.referrers++;
    }
    await copyReferrers(run, digest, depth + 1);
  }
}

/** The destination, with the manifest `referrer` stored through `put` instead. */
function storingReferrer(
  dest: ImageDestination,
  referrer: Descriptor,
  put: (m: ManifestBytes) => Promise<void>,
): ImageDestination {
  return {
    description: dest.description,
    hasBlob: (d) => dest.hasBlob(d),
    putBlob: (d, content) => dest.putBlob(d, content),
    putManifest: (m, tag, placement) =>
      m.digest === referrer.digest ? put(m) : dest.putManifest(m, tag, placement),
    close: () => dest.close(),
  };
}
