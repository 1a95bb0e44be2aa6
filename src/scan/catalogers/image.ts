// Catalogs an image through an ImageSource: resolves one platform's manifest and config
// with transport's resolveImage (the history names each layer's command), then streams
// every layer in order through layer-reader, keeping only the files the catalogers want:
// small ones whole, executables only once their first bytes show ELF, and executables too
// large to hold streamed through a scanner. Nothing is unpacked to disk; each layer's bytes
// are checked against its digest as they stream (layer-reader's readImageLayer). Layer i's
// command comes from the history as analyze/ aligns it (empty_layer steps own no layer).
import { alignHistory } from "../../analyze/index.js";
import { BlobVerificationError } from "../../client/verifying-stream.js";
import { type LayerEntry, readImageLayer } from "../../image/layer-reader.js";
import type { Descriptor, ImageConfig, ImageManifest } from "../../oci/index.js";
import { resolveImage } from "../../transport/index.js";
import type { ImageSource } from "../../transport/types.js";
import type { LayerOrigin } from "../package.js";
import { assembleCatalog, type CatalogResult } from "./assemble.js";
import { hasElfMagic } from "./elf.js";
import { CatalogError } from "./errors.js";
import { EvidenceSet } from "./evidence.js";
import { interestIn, runCataloger, type StreamingParser, TEXT_FILE_MAX_BYTES } from "./registry.js";

export interface CatalogProgress {
  readonly phase: "layer";
  /** 0-based index of the layer being read, and how many there are. */
  readonly index: number;
  readonly total: number;
  readonly digest: string;
  readonly size: number;
}

export interface CatalogImageOptions {
  /** `os/arch[/variant]` to pick from a multi-platform index (default: linux/<host arch>). */
  readonly platform?: string;
  readonly onProgress?: (progress: CatalogProgress) => void;
}

export async function catalogImage(
  source: ImageSource,
  options: CatalogImageOptions = {},
): Promise<CatalogResult> {
  const { image: manifest, config } = await resolveImage(source, { platform: options.platform });
  const layers = layerOrigins(manifest, config);
  const evidence = new EvidenceSet();
  const warnings: string[] = [];
  for (const [index, descriptor] of manifest.layers.entries()) {
    options.onProgress?.({
      phase: "layer",
      index,
      total: manifest.layers.length,
      digest: descriptor.digest,
      size: descriptor.size,
    });
    await catalogLayer(source, descriptor, index, evidence, warnings);
  }
  return assembleCatalog(evidence, layers, warnings);
}

/** Each layer's digest and the command that created it (from the config's history). */
function layerOrigins(manifest: ImageManifest, config: ImageConfig): LayerOrigin[] {
  const history = config.history ?? [];
  const { layerHistory } = alignHistory(history, manifest.layers.length);
  return manifest.layers.map((layer, index) => {
    const step = layerHistory[index];
    const createdBy = step === undefined ? undefined : history[step]?.created_by;
    return createdBy ? { index, digest: layer.digest, createdBy } : { index, digest: layer.digest };
  });
}

async function catalogLayer(
  source: ImageSource,
  descriptor: Descriptor,
  index: number,
  evidence: EvidenceSet,
  warnings: string[],
): Promise<void> {
  try {
    await readImageLayer(source, descriptor, (entry, content) =>
      visit(entry, content, index, evidence, warnings),
    );
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const what =
      err instanceof BlobVerificationError ? "does not match its digest" : "is unreadable";
    throw new CatalogError(`layer ${index} (${descriptor.digest}) ${what}: ${reason}`);
  }
}

async function visit(
  entry: LayerEntry,
  content: AsyncIterable<Uint8Array>,
  layer: number,
  evidence: EvidenceSet,
  warnings: string[],
): Promise<void> {
  if (entry.whiteout === "file") return evidence.whiteout(entry.path);
  if (entry.whiteout === "opaque") return evidence.opaque(entry.path, layer);
  const interest = entry.type === "file" ? interestIn(entry.path, entry.mode, "image") : undefined;
  if (!interest) return evidence.replaced(entry.path);
  const location = `/${entry.path}`;
  if (interest.kind === "text") {
    if (entry.size > TEXT_FILE_MAX_BYTES) return evidence.replaced(entry.path);
    return evidence.putText(entry.path, layer, await collect(content, TEXT_FILE_MAX_BYTES));
  }
  const { cataloger } = interest;
  if (entry.size > cataloger.maxBytes) {
    if (cataloger.streaming) {
      const parser = cataloger.streaming(location);
      const elf = await streamIfElf(content, parser);
      return elf
        ? evidence.putPackages(entry.path, layer, parser.finish())
        : evidence.replaced(entry.path);
    }
    warnings.push(`${location}: skipped, ${entry.size} bytes is over the ${cataloger.id} limit`);
    return evidence.replaced(entry.path);
  }
  const bytes = cataloger.sniffElf
    ? await collectIfElf(content, entry.size)
    : await collect(content, cataloger.maxBytes);
  if (!bytes) return evidence.replaced(entry.path);
  const drafts = runCataloger(cataloger, bytes, location, (m) => warnings.push(m));
  evidence.putPackages(entry.path, layer, drafts);
}

/** Reads a whole entry (its size was already checked against `max`). */
async function collect(content: AsyncIterable<Uint8Array>, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of content) {
    total += chunk.byteLength;
    if (total > max) throw new CatalogError(`file is larger than ${max} bytes`);
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return Buffer.concat(chunks, total);
}

/** Reads an executable only if it starts with the ELF magic; scripts are left unread. */
async function collectIfElf(
  content: AsyncIterable<Uint8Array>,
  size: number,
): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  let elf: boolean | undefined;
  // Read to the end either way: leaving a tar entry's stream early would break the layer.
  for await (const chunk of content) {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    elf ??= hasElfMagic(buf);
    if (!elf) continue;
    chunks.push(buf);
    total += buf.byteLength;
  }
  return elf && total === size ? Buffer.concat(chunks, total) : undefined;
}

/** Feeds an executable to a streaming parser, if it starts with the ELF magic. */
async function streamIfElf(
  content: AsyncIterable<Uint8Array>,
  parser: StreamingParser,
): Promise<boolean> {
  let elf: boolean | undefined;
  for await (const chunk of content) {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    elf ??= hasElfMagic(buf);
    if (elf) parser.push(buf);
  }
  return elf === true;
}
