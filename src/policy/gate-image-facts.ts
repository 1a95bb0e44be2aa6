// The gate facts that come from an image's manifest and config alone — sizes, labels, layer
// diff_ids, base annotations, platforms, approved bases — read through any ImageSource. The
// CLI (an image from any transport) and the registry's push admission (the pushed manifest
// over the registry's own storage) both gather these facts with this one function, so the
// push-decidable rules see identical facts in both places. Reads manifests and configs only,
// never layer contents; never decides anything (src/policy/gate.ts does).
import { formatPlatform, type ImageConfig, parseManifest } from "../oci/index.js";
import type { ImageSource, ResolvedImage } from "../transport/index.js";
import { resolveImage } from "../transport/index.js";
import { platformsOf } from "../transport/resolve.js";
import type { ApprovedBase, GateFacts, GatePolicy } from "./gate.js";

export const BASE_NAME_ANNOTATION = "org.opencontainers.image.base.name";
export const BASE_DIGEST_ANNOTATION = "org.opencontainers.image.base.digest";

export interface ImageFactsOptions {
  /** Platform to pick from an index (default: the host's, as every command does). */
  readonly platform?: string;
  /** Opens an approved base image named in the policy. */
  readonly openBase: (reference: string) => Promise<ImageSource>;
  /** Gather the per-image facts (sizes, labels, layers, bases). Default true. */
  readonly imageRules?: boolean;
  /** Gather the platforms the top manifest offers. Default true. */
  readonly platformRule?: boolean;
}

export interface ImageFacts {
  readonly facts: GateFacts;
  /** The resolved single-platform image, when image facts were gathered. */
  readonly resolved?: ResolvedImage;
}

/** The manifest/config facts the policy's rules need. */
export async function gatherImageFacts(
  source: ImageSource,
  policy: GatePolicy,
  options: ImageFactsOptions,
): Promise<ImageFacts> {
  const top = await source.getManifest();
  const parsed = parseManifest(top.bytes, top.mediaType);
  const facts: Record<string, unknown> = { image: source.description, digest: top.digest };
  let resolved: ResolvedImage | undefined;
  if (policy.platforms && options.platformRule !== false) {
    facts.platforms =
      parsed.kind === "index"
        ? platformsOf(parsed.index).map(formatPlatform)
        : [formatPlatform((await resolveImage(source)).platform)];
  }
  if (options.imageRules !== false && needsImage(policy)) {
    resolved = await resolveImage(source, { platform: options.platform });
    Object.assign(
      facts,
      configFacts(resolved, parsed.kind === "index" ? parsed.index.annotations : undefined),
    );
    if (policy.baseImages || policy.maxBaseAge !== undefined) {
      const bases = await Promise.all(
        (policy.baseImages ?? []).map((ref) => readBase(ref, options, resolved!.platform)),
      );
      if (policy.baseImages) facts.approvedBases = bases;
      if (policy.maxBaseAge !== undefined) {
        facts.base = await identifyBase(facts as unknown as GateFacts, bases, options, resolved);
      }
    }
  }
  return { facts: facts as unknown as GateFacts, resolved };
}

function needsImage(policy: GatePolicy): boolean {
  return (
    policy.maxSize !== undefined ||
    policy.requiredLabels !== undefined ||
    policy.baseImages !== undefined ||
    policy.maxBaseAge !== undefined
  );
}

function configFacts(
  resolved: ResolvedImage,
  indexAnnotations: Record<string, string> | undefined,
): Partial<GateFacts> {
  const config: ImageConfig = resolved.config;
  const labels = config.config?.Labels ?? {};
  const annotations = { ...labels, ...indexAnnotations, ...resolved.image.annotations };
  return {
    compressedBytes: resolved.image.config.size + resolved.layers.reduce((t, l) => t + l.size, 0),
    labels,
    diffIds: config.rootfs?.diff_ids ?? [],
    baseAnnotations: {
      ...(annotations[BASE_NAME_ANNOTATION] ? { name: annotations[BASE_NAME_ANNOTATION] } : {}),
      ...(annotations[BASE_DIGEST_ANNOTATION]
        ? { digest: annotations[BASE_DIGEST_ANNOTATION] }
        : {}),
    },
  };
}

async function readBase(
  reference: string,
  options: ImageFactsOptions,
  platform: ResolvedImage["platform"],
): Promise<ApprovedBase> {
  let source: ImageSource;
  try {
    source = await options.openBase(reference);
  } catch (err) {
    return { reference, error: (err as Error).message };
  }
  try {
    const top = await source.getManifest();
    const base = await resolveImage(source, { platform });
    return {
      reference,
      digest: top.digest,
      diffIds: base.config.rootfs?.diff_ids ?? [],
      ...(base.config.created ? { created: base.config.created } : {}),
    };
  } catch (err) {
    return { reference, error: (err as Error).message };
  } finally {
    await source.close();
  }
}

/** The base image: the approved base the bottom layers match, else the one the annotation names. */
async function identifyBase(
  facts: GateFacts,
  bases: readonly ApprovedBase[],
  options: ImageFactsOptions,
  resolved: ResolvedImage,
): Promise<GateFacts["base"]> {
  const diffIds = facts.diffIds ?? [];
  const matched = bases
    .filter((b) => b.diffIds && b.diffIds.length > 0 && b.diffIds.every((d, i) => diffIds[i] === d))
    .sort((a, b) => (b.diffIds?.length ?? 0) - (a.diffIds?.length ?? 0))[0];
  if (matched) return { reference: matched.reference, created: matched.created };
  const name = facts.baseAnnotations?.name;
  if (!name) return null;
  const named = await readBase(name, options, resolved.platform);
  return { reference: name, created: named.created };
}
