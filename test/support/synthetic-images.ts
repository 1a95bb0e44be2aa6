// Small synthetic images for interop, crash and concurrency tests, written as OCI layouts:
// layers are real gzipped tars holding one file of deterministic pseudo-random (incompressible)
// bytes, so two images built with the same layer seed share that layer byte for byte.
// Also: a two-platform index (linux/amd64 + linux/arm64 with distinct configs) and an
// artifact manifest with a `subject` (empty config, artifactType set).
// Everything is deterministic for a given seed; nothing here talks to a registry.
import { createCipheriv, createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { gzipSync } from "node:zlib";
import * as tar from "tar-stream";
import { type Descriptor, digestOf, MediaType, type Platform } from "../../src/oci/index.js";
import { OciLayoutWriter } from "./oci-layout.js";

/** `size` pseudo-random bytes determined by `seed` (AES-256-CTR keystream). */
export function deterministicBytes(seed: string, size: number): Buffer {
  const key = createHash("sha256").update(`key:${seed}`).digest();
  const iv = createHash("sha256").update(`iv:${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv("aes-256-ctr", key, iv);
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

/**
 * Writes `size` deterministic pseudo-random bytes to `path` in 1 MiB pieces (never all in
 * memory) and returns their sha256 digest. For big blobs in crash tests and benchmarks.
 */
export async function writeDeterministicFile(
  path: string,
  seed: string,
  size: number,
): Promise<string> {
  const key = createHash("sha256").update(`key:${seed}`).digest();
  const iv = createHash("sha256").update(`iv:${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv("aes-256-ctr", key, iv);
  const hash = createHash("sha256");
  const zeros = Buffer.alloc(1024 * 1024);
  async function* pieces(): AsyncGenerator<Buffer> {
    for (let written = 0; written < size; written += zeros.length) {
      const piece = cipher.update(zeros.subarray(0, Math.min(zeros.length, size - written)));
      hash.update(piece);
      yield piece;
    }
  }
  await pipeline(Readable.from(pieces()), createWriteStream(path));
  return `sha256:${hash.digest("hex")}`;
}

async function tarOf(files: { path: string; content: Buffer }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = new Promise<Buffer>((resolve, reject) => {
    pack.on("data", (chunk: unknown) => chunks.push(Buffer.from(chunk as Uint8Array)));
    pack.on("end", () => resolve(Buffer.concat(chunks)));
    pack.on("error", reject);
  });
  for (const file of files) {
    pack.entry(
      {
        name: file.path,
        size: file.content.length,
        mode: 0o644,
        mtime: new Date(0),
        uid: 0,
        gid: 0,
      },
      file.content,
    );
  }
  pack.finalize();
  return collected;
}

export interface LayerSpec {
  /** Same seed and size → the same layer bytes (and digest). */
  seed: string;
  size: number;
}

export interface SyntheticLayer {
  tar: Buffer;
  gzip: Buffer;
  diffId: string;
  descriptor: Descriptor;
}

/** A gzipped tar with one file `/data/<seed>.bin` of `size` deterministic random bytes. */
export async function syntheticLayer(spec: LayerSpec): Promise<SyntheticLayer> {
  const safeName = spec.seed.replace(/[^a-zA-Z0-9._-]/g, "_");
  const tarBytes = await tarOf([
    { path: `data/${safeName}.bin`, content: deterministicBytes(spec.seed, spec.size) },
  ]);
  const gzip = gzipSync(tarBytes);
  return {
    tar: tarBytes,
    gzip,
    diffId: digestOf(tarBytes),
    descriptor: { mediaType: MediaType.OciLayerGzip, digest: digestOf(gzip), size: gzip.length },
  };
}

export interface ImageSpec {
  layers: LayerSpec[];
  platform?: Platform;
  /** Goes into the config (labels + history) so distinct images get distinct configs. */
  label?: string;
}

export interface WrittenImage {
  manifest: Descriptor;
  manifestBytes: Buffer;
  config: Descriptor;
  layers: Descriptor[];
  diffIds: string[];
}

/** Writes config, layers and manifest of one image into `layout` (does not tag it). */
export async function writeSyntheticImage(
  layout: OciLayoutWriter,
  spec: ImageSpec,
): Promise<WrittenImage> {
  const platform = spec.platform ?? { architecture: "amd64", os: "linux" };
  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  for (const layerSpec of spec.layers) {
    const layer = await syntheticLayer(layerSpec);
    layers.push(await layout.writeBlob(layer.gzip, MediaType.OciLayerGzip));
    diffIds.push(layer.diffId);
  }
  const created = "2024-01-01T00:00:00Z";
  const config = await layout.writeJson(
    {
      created,
      ...platform,
      config: { Labels: { "berth.test.label": spec.label ?? "synthetic" }, Cmd: ["/bin/true"] },
      rootfs: { type: "layers", diff_ids: diffIds },
      history: spec.layers.map((l) => ({
        created,
        created_by: `synthetic layer ${l.seed} (${spec.label ?? ""})`,
      })),
    },
    MediaType.OciConfig,
  );
  const manifestValue = { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers };
  const manifestBytes = Buffer.from(JSON.stringify(manifestValue));
  const manifest = await layout.writeBlob(manifestBytes, MediaType.OciManifest);
  return { manifest, manifestBytes, config, layers, diffIds };
}

/** A whole layout holding one synthetic image tagged `tag`; returns it with `oci:<dir>:<tag>`. */
export async function syntheticImageLayout(
  dir: string,
  tag: string,
  spec: ImageSpec,
): Promise<WrittenImage & { reference: string }> {
  const layout = await OciLayoutWriter.create(dir);
  const image = await writeSyntheticImage(layout, spec);
  layout.addManifest(image.manifest, tag);
  await layout.finish();
  return { ...image, reference: `oci:${dir}:${tag}` };
}

export interface TwoPlatformIndex {
  index: Descriptor;
  indexBytes: Buffer;
  images: { platform: Platform; image: WrittenImage }[];
  reference: string;
}

/** A layout with an OCI index of two images, linux/amd64 and linux/arm64, tagged `tag`. */
export async function twoPlatformIndexLayout(
  dir: string,
  tag: string,
  seed: string,
): Promise<TwoPlatformIndex> {
  const layout = await OciLayoutWriter.create(dir);
  const platforms: Platform[] = [
    { architecture: "amd64", os: "linux" },
    { architecture: "arm64", os: "linux", variant: "v8" },
  ];
  const images: TwoPlatformIndex["images"] = [];
  for (const platform of platforms) {
    const image = await writeSyntheticImage(layout, {
      platform,
      label: `${seed}-${platform.architecture}`,
      layers: [
        { seed: `${seed}-shared`, size: 48 * 1024 },
        { seed: `${seed}-${platform.architecture}`, size: 96 * 1024 },
      ],
    });
    images.push({ platform, image });
  }
  const indexValue = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: images.map(({ platform, image }) => ({ ...image.manifest, platform })),
  };
  const indexBytes = Buffer.from(JSON.stringify(indexValue));
  const index = await layout.writeBlob(indexBytes, MediaType.OciIndex);
  layout.addManifest(index, tag);
  await layout.finish();
  return { index, indexBytes, images, reference: `oci:${dir}:${tag}` };
}

export interface Artifact {
  manifest: Descriptor;
  manifestBytes: Buffer;
  artifactType: string;
  /** The blobs the artifact manifest references: the empty config and its one payload layer. */
  blobs: { descriptor: Descriptor; bytes: Buffer }[];
}

/**
 * An OCI 1.1 artifact manifest pointing at `subject`: config is the empty descriptor
 * (`application/vnd.oci.empty.v1+json`, `{}`), `artifactType` is set, one payload layer.
 */
export function artifactFor(subject: Descriptor, artifactType: string, payload: string): Artifact {
  const emptyBytes = Buffer.from("{}");
  const payloadBytes = Buffer.from(payload);
  const config: Descriptor = {
    mediaType: MediaType.OciEmpty,
    digest: digestOf(emptyBytes),
    size: 2,
  };
  const layer: Descriptor = {
    mediaType: "application/json",
    digest: digestOf(payloadBytes),
    size: payloadBytes.length,
  };
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType,
      config,
      layers: [layer],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations: {
        "org.opencontainers.image.created": "2024-01-01T00:00:00Z",
        "berth.test": artifactType,
      },
    }),
  );
  return {
    manifest: {
      mediaType: MediaType.OciManifest,
      digest: digestOf(manifestBytes),
      size: manifestBytes.length,
      artifactType,
    },
    manifestBytes,
    artifactType,
    blobs: [
      { descriptor: config, bytes: emptyBytes },
      { descriptor: layer, bytes: payloadBytes },
    ],
  };
}

/** A layout holding just `artifact` (its blobs and manifest) tagged `tag`, for skopeo to push. */
export async function artifactLayout(
  dir: string,
  tag: string,
  artifact: Artifact,
): Promise<string> {
  const layout = await OciLayoutWriter.create(dir);
  for (const blob of artifact.blobs) await layout.writeBlob(blob.bytes, blob.descriptor.mediaType);
  await layout.writeBlob(artifact.manifestBytes, artifact.manifest.mediaType);
  layout.addManifest(artifact.manifest, tag);
  await layout.finish();
  return `oci:${dir}:${tag}`;
}
