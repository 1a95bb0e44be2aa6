// `berth analyze`'s engine: streams every layer of one resolved image from any ImageSource
// (registry, OCI layout, archives), verifies each blob against its digest on the way, and
// builds the layered filesystem, dive's totals and the explained findings. Layers are read
// once, in order, never unpacked to disk and never buffered: only per-path metadata (size,
// mode, owner, content sha256) is kept, so memory grows with the number of paths, not with
// layer sizes.
import { createHash } from "node:crypto";
import { BlobVerificationError } from "../client/verifying-stream.js";
import { type LayerEntry, readImageLayer } from "../image/layer-reader.js";
import { alignHistory, type Descriptor, type HistoryEntry, type Platform } from "../oci/index.js";
import type { ImageSource, ResolvedImage } from "../transport/index.js";
import { type DockerfileLocation, mapHistoryToDockerfile } from "./dockerfile-map.js";
import {
  computeEfficiency,
  type EfficiencyTotals,
  type Inefficiency,
  userSizeBytes,
  userWastedPercent,
} from "./efficiency.js";
import {
  type AnalyzedEntry,
  countChanges,
  type LayerChangeCounts,
  LayeredFilesystem,
} from "./filesystem.js";
import { explainWaste, type Finding, type LayerContext, type LayerOrigin } from "./findings.js";
import {
  type LinkedLintFinding,
  linkLintToFindings,
  linkLintToLayers,
  lintForAnalysis,
} from "./lint-link.js";

export interface AnalyzeOptions {
  /** The Dockerfile the image was built from, to map layers to its lines. */
  dockerfile?: { text: string; target?: string };
  /** Called after each layer is read. */
  onLayer?: (layer: number, total: number) => void;
}

export interface LayerAnalysis {
  readonly index: number;
  readonly digest: string;
  readonly mediaType: string;
  readonly diffId?: string;
  /** Bytes of the blob as stored and transferred. */
  readonly compressedBytes: number;
  /** Bytes of the uncompressed tar stream. */
  readonly uncompressedBytes: number;
  /** Sum of the sizes of the layer's tar entries: dive's layer size. */
  readonly contentBytes: number;
  readonly entries: number;
  readonly historyIndex?: number;
  readonly createdBy?: string;
  readonly created?: string;
  readonly comment?: string;
  readonly dockerfile?: DockerfileLocation;
  /** Known to come from the base image (only with a matching --dockerfile). */
  readonly fromBase: boolean;
  readonly origin: LayerOrigin;
  readonly changes: LayerChangeCounts;
}

export interface HistoryStep {
  readonly index: number;
  readonly createdBy?: string;
  readonly emptyLayer: boolean;
  readonly layer?: number;
  readonly dockerfile?: DockerfileLocation;
}

export interface AnalysisTotals {
  readonly layers: number;
  readonly compressedBytes: number;
  readonly uncompressedBytes: number;
  /** dive's image size: Σ layer content bytes. */
  readonly sizeBytes: number;
  /** dive's user size: Σ layer content bytes except the first layer's. */
  readonly userSizeBytes: number;
  readonly wastedBytes: number;
  /** The part of wastedBytes stored by layers above the first. */
  readonly userWastedBytes: number;
  readonly efficiency: number;
  /** userWastedBytes ÷ userSizeBytes: a ratio between 0 and 1. */
  readonly userWastedPercent: number;
  /** Bytes the findings attribute to fixable causes (groups may overlap dive's waste). */
  readonly explainedBytes: number;
}

export interface ImageAnalysis {
  readonly image: string;
  readonly platform: Platform;
  readonly manifestDigest: string;
  readonly configDigest: string;
  readonly layers: readonly LayerAnalysis[];
  readonly history: readonly HistoryStep[];
  readonly totals: AnalysisTotals;
  readonly inefficiencies: readonly Inefficiency[];
  readonly findings: readonly Finding[];
  /** With --dockerfile: `berth lint`'s findings, each tied to the layer its line produced. */
  readonly lint?: readonly LinkedLintFinding[];
  readonly warnings: readonly string[];
  /** The merged filesystem with every layer's events, for tree views. Not serialised. */
  readonly filesystem: LayeredFilesystem;
}

export class AnalyzeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AnalyzeError";
  }
}

export async function analyzeImage(
  source: ImageSource,
  image: ResolvedImage,
  options: AnalyzeOptions = {},
): Promise<ImageAnalysis> {
  const history = image.config.history ?? [];
  const alignment = alignHistory(history, image.layers.length);
  const warnings = [...alignment.warnings];
  const dockerfileMap = options.dockerfile
    ? mapHistoryToDockerfile(history, options.dockerfile.text, options.dockerfile.target)
    : undefined;
  if (dockerfileMap && dockerfileMap.size === 0) {
    warnings.push("no history entry of the image matched an instruction of the Dockerfile");
  }
  const contexts = layerContexts(alignment.layerHistory, history, dockerfileMap);
  const { fs, measured } = await readLayers(source, image.layers, options.onLayer);
  const changes = countChanges(fs);
  const layers = image.layers.map((descriptor, index): LayerAnalysis => {
    const historyIndex = alignment.layerHistory[index];
    const entry = historyIndex === undefined ? undefined : history[historyIndex];
    const context = contexts[index] as LayerContext;
    return {
      index,
      digest: descriptor.digest,
      mediaType: descriptor.mediaType,
      diffId: image.config.rootfs?.diff_ids?.[index],
      ...(measured[index] as LayerMeasure),
      historyIndex,
      createdBy: entry?.created_by,
      created: entry?.created,
      comment: entry?.comment,
      dockerfile: context.dockerfile,
      fromBase: context.fromBase,
      origin: context.origin,
      changes: changes[index] as LayerChangeCounts,
    };
  });
  const efficiency = computeEfficiency(fs);
  const lint = options.dockerfile
    ? lintForAnalysis(options.dockerfile.text, options.dockerfile.target)
    : undefined;
  const findings = lint
    ? linkLintToFindings(explainWaste(fs, contexts), lint)
    : explainWaste(fs, contexts);
  return {
    image: source.description,
    platform: image.platform,
    manifestDigest: image.manifest.digest,
    configDigest: image.image.config.digest,
    layers,
    history: historySteps(history, alignment.layerHistory, dockerfileMap),
    totals: totalsOf(layers, efficiency, findings),
    inefficiencies: efficiency.inefficiencies,
    findings,
    ...(lint ? { lint: linkLintToLayers(lint, layers) } : {}),
    warnings,
    filesystem: fs,
  };
}

/** What reading one layer measured, in LayerAnalysis's terms. */
type LayerMeasure = Pick<
  LayerAnalysis,
  "compressedBytes" | "uncompressedBytes" | "contentBytes" | "entries"
>;

/** Reads every layer in order into the layered filesystem, measuring each. */
async function readLayers(
  source: ImageSource,
  descriptors: readonly Descriptor[],
  onLayer: AnalyzeOptions["onLayer"],
): Promise<{ fs: LayeredFilesystem; measured: LayerMeasure[] }> {
  const fs = new LayeredFilesystem();
  const measured: LayerMeasure[] = [];
  for (const [index, descriptor] of descriptors.entries()) {
    const read = await readLayerEntries(source, descriptor);
    fs.applyLayer(index, read.entries);
    measured.push({
      compressedBytes: read.compressedBytes,
      uncompressedBytes: read.tarBytes,
      contentBytes: read.contentBytes,
      entries: read.entries.length,
    });
    onLayer?.(index, descriptors.length);
  }
  return { fs, measured };
}

function totalsOf(
  layers: readonly LayerAnalysis[],
  efficiency: EfficiencyTotals,
  findings: readonly Finding[],
): AnalysisTotals {
  const sizes = layers.map((l) => l.contentBytes);
  const userBytes = userSizeBytes(sizes);
  return {
    layers: layers.length,
    compressedBytes: sum(layers.map((l) => l.compressedBytes)),
    uncompressedBytes: sum(layers.map((l) => l.uncompressedBytes)),
    sizeBytes: sum(sizes),
    userSizeBytes: userBytes,
    wastedBytes: efficiency.wastedBytes,
    userWastedBytes: efficiency.userWastedBytes,
    efficiency: efficiency.efficiency,
    userWastedPercent: userWastedPercent(efficiency.userWastedBytes, userBytes),
    explainedBytes: sum(findings.map((f) => f.bytes)),
  };
}

function layerContexts(
  layerHistory: readonly (number | undefined)[],
  history: readonly HistoryEntry[],
  dockerfileMap: Map<number, DockerfileLocation> | undefined,
): LayerContext[] {
  const firstMapped = dockerfileMap?.size ? Math.min(...dockerfileMap.keys()) : undefined;
  return layerHistory.map((historyIndex, index) => {
    const dockerfile = historyIndex === undefined ? undefined : dockerfileMap?.get(historyIndex);
    // Only a Dockerfile that matched the history says where the base image ends; without one,
    // no layer (not even the first) is blamed on the base image.
    let origin: LayerOrigin = "unknown";
    if (firstMapped !== undefined && historyIndex !== undefined) {
      origin = historyIndex < firstMapped ? "base" : "dockerfile";
    }
    return {
      index,
      createdBy: historyIndex === undefined ? undefined : history[historyIndex]?.created_by,
      dockerfile,
      origin,
      fromBase: origin === "base",
    };
  });
}

function historySteps(
  history: readonly HistoryEntry[],
  layerHistory: readonly (number | undefined)[],
  dockerfileMap: Map<number, DockerfileLocation> | undefined,
): HistoryStep[] {
  const layerOf = new Map<number, number>();
  layerHistory.forEach((h, layer) => {
    if (h !== undefined) layerOf.set(h, layer);
  });
  return history.map((entry, index) => ({
    index,
    createdBy: entry.created_by,
    emptyLayer: entry.empty_layer === true,
    layer: layerOf.get(index),
    dockerfile: dockerfileMap?.get(index),
  }));
}

interface LayerRead {
  entries: AnalyzedEntry[];
  compressedBytes: number;
  tarBytes: number;
  contentBytes: number;
}

/** Streams one layer blob, verified against its descriptor, into entry metadata. */
async function readLayerEntries(source: ImageSource, descriptor: Descriptor): Promise<LayerRead> {
  const entries: AnalyzedEntry[] = [];
  let contentBytes = 0;
  try {
    const { tarBytes, blobBytes } = await readImageLayer(
      source,
      descriptor,
      async (entry, content) => {
        contentBytes += entry.size;
        entries.push(entry.type === "file" ? await withDigest(entry, content) : entry);
      },
    );
    return { entries, compressedBytes: blobBytes, tarBytes, contentBytes };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof BlobVerificationError) {
      throw new AnalyzeError(`layer ${descriptor.digest} does not match its digest: ${message}`);
    }
    throw new AnalyzeError(`cannot read layer ${descriptor.digest}: ${message}`);
  }
}

async function withDigest(
  entry: LayerEntry,
  content: AsyncIterable<Uint8Array>,
): Promise<AnalyzedEntry> {
  const hash = createHash("sha256");
  for await (const chunk of content) hash.update(chunk);
  return { ...entry, digest: hash.digest("base64") };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
