// From an ImageSource to one platform's image: manifest, config and layer descriptors.
// analyze/, scan/, save and copy --platform all need exactly this; it lives here once.
// Reads only manifests and the config (small, verified against their digests); layers stay
// descriptors for the caller to stream with `source.getBlob`.
import { arch } from "node:os";
import {
  type Descriptor,
  digestOf,
  formatPlatform,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  type Platform,
  parseDigest,
  parseManifest,
  parsePlatform,
} from "../oci/index.js";
import type { ImageSource, ManifestBytes } from "./types.js";

export class ResolveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ResolveError";
  }
}

export interface ResolvedImage {
  /** The single-platform image manifest (a child of `index` when the reference named one). */
  readonly manifest: ManifestBytes;
  readonly image: ImageManifest;
  readonly config: ImageConfig;
  readonly configBytes: Buffer;
  readonly layers: Descriptor[];
  readonly platform: Platform;
  /** The index the reference named, when it named one. */
  readonly index?: { manifest: ManifestBytes; index: ImageIndex };
}

export interface ResolveOptions {
  /** `os/arch[/variant]` or a Platform; default: the host's (linux/<arch>). */
  platform?: string | Platform;
}

/** The platform a pull on this machine would pick. */
export function hostPlatform(): Platform {
  const map: Record<string, string> = { x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm" };
  return { os: "linux", architecture: map[arch()] ?? arch() };
}

export async function resolveImage(
  source: ImageSource,
  options: ResolveOptions = {},
): Promise<ResolvedImage> {
  const top = await source.getManifest();
  const parsed = parseManifest(top.bytes, top.mediaType);
  if (parsed.kind === "image") {
    return withConfig(source, top, parsed.image, undefined);
  }
  const wanted =
    typeof options.platform === "string" ? parsePlatform(options.platform) : options.platform;
  const chosen = choosePlatform(
    parsed.index.manifests,
    wanted ?? hostPlatform(),
    wanted !== undefined,
  );
  if (!chosen) {
    const offered = platformsOf(parsed.index).map(formatPlatform).join(", ");
    throw new ResolveError(
      `${source.description} has no image for ${formatPlatform(wanted ?? hostPlatform())} (it offers ${offered || "none"})`,
    );
  }
  const child = await source.getManifest(chosen.digest);
  const childParsed = parseManifest(child.bytes, child.mediaType);
  if (childParsed.kind !== "image") {
    throw new ResolveError(`${source.description}: nested indexes are not supported`);
  }
  return withConfig(source, child, childParsed.image, { manifest: top, index: parsed.index });
}

/** Platforms an index offers, without attestation manifests (`unknown/unknown`). */
export function platformsOf(index: ImageIndex): Platform[] {
  return index.manifests
    .map((m) => m.platform)
    .filter((p): p is Platform => p !== undefined && p.os !== "unknown");
}

/**
 * The index entry for `wanted`: exact os/arch, and variant when one is asked for. When the
 * platform was not asked for explicitly and the index offers one image only, that one.
 */
export function choosePlatform(
  manifests: Descriptor[],
  wanted: Platform,
  explicit: boolean,
): Descriptor | undefined {
  const images = manifests.filter((m) => m.platform?.os !== "unknown");
  const matches = images.filter(
    (m) =>
      m.platform?.os === wanted.os &&
      m.platform.architecture === wanted.architecture &&
      (wanted.variant === undefined || normVariant(m.platform) === normVariant(wanted)),
  );
  if (matches.length > 0) return matches[0];
  if (!explicit && images.length === 1) return images[0];
  return undefined;
}

function normVariant(p: Platform): string | undefined {
  if (p.architecture === "arm64" && (p.variant === undefined || p.variant === "v8")) return "v8";
  return p.variant;
}

async function withConfig(
  source: ImageSource,
  manifest: ManifestBytes,
  image: ImageManifest,
  index: ResolvedImage["index"],
): Promise<ResolvedImage> {
  const configBytes = await readSmallBlob(source, image.config);
  let config: ImageConfig;
  try {
    config = JSON.parse(configBytes.toString("utf8")) as ImageConfig;
  } catch {
    throw new ResolveError(`${source.description}: the image config is not valid JSON`);
  }
  const platform: Platform = {
    os: config.os ?? "unknown",
    architecture: config.architecture ?? "unknown",
  };
  if (config.variant) platform.variant = config.variant;
  return { manifest, image, config, configBytes, layers: image.layers, platform, index };
}

/** Reads a small blob (a config, a signature payload) whole and checks its digest. */
export async function readSmallBlob(
  source: ImageSource,
  descriptor: Descriptor,
  limit = 32 * 1024 * 1024,
): Promise<Buffer> {
  if (descriptor.size > limit) {
    throw new ResolveError(`blob ${descriptor.digest} is ${descriptor.size} bytes, over ${limit}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  const stream = await source.getBlob(descriptor);
  for await (const chunk of stream) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      stream.destroy();
      throw new ResolveError(`blob ${descriptor.digest} is larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  const bytes = Buffer.concat(chunks);
  if (digestOf(bytes, parseDigest(descriptor.digest).algorithm) !== descriptor.digest) {
    throw new ResolveError(
      `${source.description}: blob ${descriptor.digest} does not match its digest`,
    );
  }
  return bytes;
}
