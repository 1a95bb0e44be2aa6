// Copies an image (one platform, or a whole index with `all`) from any ImageSource to any
// ImageDestination: blobs first (bounded parallelism, skipped when the destination has them,
// mounted across repositories of one registry), then child manifests, then the top manifest,
// byte-for-byte so digests are preserved. Each blob streams through a digest check; a failed
// blob transfer is retried a bounded number of times by re-opening the source. Used by
// `berth copy`, save, load, mirror and replication. Never buffers a blob.
import { PassThrough, type Readable, Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { RegistryError } from "../client/errors.js";
import { isRetryableNetworkError } from "../client/http.js";
import { BlobVerificationError, VerifyingStream } from "../client/verifying-stream.js";
import {
  type Descriptor,
  formatPlatform,
  type ImageIndex,
  type ParsedManifest,
  type Platform,
  parseManifest,
  parsePlatform,
} from "../oci/index.js";
import { RegistryDestination, RegistrySource } from "./registry.js";
import { choosePlatform, hostPlatform, platformsOf, ResolveError } from "./resolve.js";
import type { ImageDestination, ImageSource, ManifestBytes } from "./types.js";

export type CopyEvent =
  | { kind: "blob-skipped"; descriptor: Descriptor }
  | { kind: "blob-started"; descriptor: Descriptor }
  | { kind: "blob-progress"; descriptor: Descriptor; bytes: number }
  | { kind: "blob-done"; descriptor: Descriptor }
  | { kind: "blob-retry"; descriptor: Descriptor; attempt: number; reason: string }
  | { kind: "manifest"; digest: string; mediaType: string };

export interface CopyOptions {
  /** Copy every platform of an index (digest of the index preserved). */
  all?: boolean;
  /** Platform to pick from an index when not `all` (default: the host's). */
  platform?: string | Platform;
  /** Tag for the top manifest at the destination (default: the destination's own). */
  tag?: string;
  /** `child`: the copied image will be referenced by an index made later (no tag). */
  placement?: "top" | "child";
  /** Blobs transferred at once (default 4). */
  concurrency?: number;
  /** Attempts per blob (default 3). */
  blobAttempts?: number;
  onEvent?: (event: CopyEvent) => void;
}

export interface CopyResult {
  /** Digest of the top manifest written (the index with `all`, else the image). */
  readonly digest: string;
  readonly mediaType: string;
  readonly platforms: string[];
  readonly blobsCopied: number;
  readonly blobsSkipped: number;
  readonly bytesCopied: number;
}

class Stats {
  copied = 0;
  skipped = 0;
  bytes = 0;
}

export async function copyImage(
  source: ImageSource,
  dest: ImageDestination,
  options: CopyOptions = {},
): Promise<CopyResult> {
  if (source instanceof RegistrySource && dest instanceof RegistryDestination) {
    if (source.client.registry === dest.client.registry && source.repository !== dest.repository) {
      dest.mountFrom = [source.repository];
    }
  }
  const run: CopyRun = {
    source,
    dest,
    options,
    placement: options.placement ?? "top",
    tag: options.placement === "child" ? undefined : options.tag,
    blobs: new BlobCopier(source, dest, options),
  };
  const top = await source.getManifest();
  const parsed = parseManifest(top.bytes, top.mediaType);
  if (parsed.kind === "image") {
    await copyImageContent(run.blobs, parsed);
    await putManifest(dest, top, run.tag, run.placement, options);
    return result(top, [], run.blobs.stats);
  }
  if (options.all && dest.acceptsIndex === false) {
    throw new ResolveError(
      `${dest.description} holds single-platform images only; drop --all and choose --platform`,
    );
  }
  return options.all ? copyWholeIndex(run, top, parsed.index) : copyOnePlatform(run, parsed.index);
}

interface CopyRun {
  readonly source: ImageSource;
  readonly dest: ImageDestination;
  readonly options: CopyOptions;
  readonly placement: "top" | "child";
  readonly tag: string | undefined;
  readonly blobs: BlobCopier;
}

/** Every child (content, then manifest), then the index itself: its digest is kept. */
async function copyWholeIndex(
  run: CopyRun,
  top: ManifestBytes,
  index: ImageIndex,
): Promise<CopyResult> {
  const platforms: string[] = [];
  for (const child of index.manifests) {
    const manifest = await run.source.getManifest(child.digest);
    const childParsed = parseManifest(manifest.bytes, manifest.mediaType);
    if (childParsed.kind === "image") await copyImageContent(run.blobs, childParsed);
    await putManifest(run.dest, manifest, undefined, "child", run.options);
    if (child.platform) platforms.push(formatPlatform(child.platform));
  }
  await putManifest(run.dest, top, run.tag, run.placement, run.options);
  return result(top, platforms, run.blobs.stats);
}

/** The chosen platform's image, written as the top manifest. */
async function copyOnePlatform(run: CopyRun, index: ImageIndex): Promise<CopyResult> {
  const { platform } = run.options;
  const wanted = typeof platform === "string" ? parsePlatform(platform) : platform;
  const chosen = choosePlatform(index.manifests, wanted ?? hostPlatform(), wanted !== undefined);
  if (!chosen) {
    const offered = platformsOf(index).map(formatPlatform).join(", ");
    throw new ResolveError(
      `${run.source.description} has no image for ${formatPlatform(wanted ?? hostPlatform())} (it offers ${offered}); use --platform or --all`,
    );
  }
  const manifest = await run.source.getManifest(chosen.digest);
  const parsed = parseManifest(manifest.bytes, manifest.mediaType);
  if (parsed.kind !== "image") {
    throw new ResolveError(`${run.source.description}: nested indexes are not supported`);
  }
  await copyImageContent(run.blobs, parsed);
  await putManifest(run.dest, manifest, run.tag, run.placement, run.options);
  return result(
    manifest,
    chosen.platform ? [formatPlatform(chosen.platform)] : [],
    run.blobs.stats,
  );
}

/** The digest `copyImage` would write as the top manifest (for idempotent mirroring). */
export async function plannedTopDigest(
  source: ImageSource,
  options: CopyOptions = {},
): Promise<string> {
  const top = await source.getManifest();
  const parsed = parseManifest(top.bytes, top.mediaType);
  if (parsed.kind === "image" || options.all) return top.digest;
  const wanted =
    typeof options.platform === "string" ? parsePlatform(options.platform) : options.platform;
  const chosen = choosePlatform(
    parsed.index.manifests,
    wanted ?? hostPlatform(),
    wanted !== undefined,
  );
  return chosen?.digest ?? top.digest;
}

function result(top: ManifestBytes, platforms: string[], stats: Stats): CopyResult {
  return {
    digest: top.digest,
    mediaType: top.mediaType,
    platforms,
    blobsCopied: stats.copied,
    blobsSkipped: stats.skipped,
    bytesCopied: stats.bytes,
  };
}

async function putManifest(
  dest: ImageDestination,
  manifest: ManifestBytes,
  tag: string | undefined,
  placement: "top" | "child",
  options: CopyOptions,
): Promise<void> {
  await dest.putManifest(manifest, tag, placement);
  options.onEvent?.({ kind: "manifest", digest: manifest.digest, mediaType: manifest.mediaType });
}

async function copyImageContent(blobs: BlobCopier, parsed: ParsedManifest): Promise<void> {
  if (parsed.kind !== "image") return;
  // Foreign (non-distributable) layers with URLs stay where they are, as docker does.
  const layers = parsed.image.layers.filter((l) => !(l.urls && l.urls.length > 0));
  await blobs.copyAll([...layers, parsed.image.config]);
}

/** Copies blobs with bounded parallelism, each digest once per copy. */
class BlobCopier {
  readonly stats = new Stats();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly limit: number;

  constructor(
    private readonly source: ImageSource,
    private readonly dest: ImageDestination,
    private readonly options: CopyOptions,
  ) {
    this.limit = Math.max(
      1,
      Math.min(options.concurrency ?? 4, dest.maxParallelBlobs ?? Number.POSITIVE_INFINITY),
    );
  }

  async copyAll(descriptors: Descriptor[]): Promise<void> {
    const queue = [...descriptors];
    const errors: unknown[] = [];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        if (errors.length > 0) return;
        try {
          await this.copyOnce(next);
        } catch (err) {
          errors.push(err);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.limit, queue.length) }, worker));
    if (errors.length > 0) throw errors[0];
  }

  private copyOnce(descriptor: Descriptor): Promise<void> {
    let running = this.inFlight.get(descriptor.digest);
    if (!running) {
      running = this.copy(descriptor);
      this.inFlight.set(descriptor.digest, running);
    }
    return running;
  }

  private async copy(descriptor: Descriptor): Promise<void> {
    const emit = this.options.onEvent;
    if (await this.dest.hasBlob(descriptor)) {
      this.stats.skipped++;
      emit?.({ kind: "blob-skipped", descriptor });
      return;
    }
    if (this.dest instanceof RegistryDestination && (await this.dest.tryMount(descriptor))) {
      this.stats.skipped++;
      emit?.({ kind: "blob-skipped", descriptor });
      return;
    }
    emit?.({ kind: "blob-started", descriptor });
    const attempts = this.options.blobAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.transfer(descriptor);
        break;
      } catch (err) {
        if (attempt >= attempts || !isTransient(err)) throw err;
        emit?.({ kind: "blob-retry", descriptor, attempt, reason: (err as Error).message });
        await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
      }
    }
    this.stats.copied++;
    this.stats.bytes += descriptor.size;
    emit?.({ kind: "blob-done", descriptor });
  }

  private async transfer(descriptor: Descriptor): Promise<void> {
    const raw = await this.source.getBlob(descriptor);
    let verified: Readable = raw;
    if (!(this.source instanceof RegistrySource)) {
      const check = new VerifyingStream({ digest: descriptor.digest, size: descriptor.size });
      // pipe() does not pass errors on: a source that fails must fail the check too.
      raw.once("error", (err) => check.destroy(err));
      verified = raw.pipe(check);
    }
    const counted = new ProgressStream((bytes) =>
      this.options.onEvent?.({ kind: "blob-progress", descriptor, bytes }),
    );
    const body = new PassThrough();
    const feeding = pipeline(verified, counted, body);
    const putting = this.dest.putBlob(descriptor, body).catch((err: unknown) => {
      body.destroy(err as Error);
      raw.destroy();
      throw err;
    });
    const [fed, put] = await Promise.allSettled([feeding, putting]);
    // The destination verified what it stored; a feed error after that is the destination
    // having stopped reading early (e.g. it already had the blob).
    if (put.status === "fulfilled") return;
    if (fed.status === "rejected") {
      raw.destroy();
      throw fed.reason;
    }
    if (put.status === "rejected") throw put.reason;
  }
}

function isTransient(err: unknown): boolean {
  if (err instanceof BlobVerificationError) return false;
  if (err instanceof RegistryError) {
    return err.kind === "unreachable" || err.kind === "server" || err.kind === "too-many-requests";
  }
  return isRetryableNetworkError(err);
}

/** Counts bytes passing through, reporting the running total at most every 64 KiB. */
class ProgressStream extends Transform {
  private total = 0;
  private reported = 0;

  constructor(private readonly report: (bytes: number) => void) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.total += chunk.length;
    if (this.total - this.reported >= 65536) {
      this.reported = this.total;
      this.report(this.total);
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.report(this.total);
    done();
  }
}
