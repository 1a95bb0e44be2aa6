// Synthetic images for the benchmarks, written as OCI image layouts that skopeo reads:
// layers are real tar+gzip streams holding one file of incompressible random bytes, configs
// carry correct diff_ids. Deterministic per seed so shared layers are byte-identical.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as tar from "tar-stream";
import { type Descriptor, digestOf, MediaType } from "../src/oci/index.js";
import { OciLayoutWriter } from "../test/support/oci-layout.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const MiB = 1 << 20;

export interface LayerBlob {
  readonly descriptor: Descriptor;
  readonly diffId: string;
  readonly gz: Buffer;
}

/** A gzip'd tar with one random file of `size` bytes; `seed` makes it reproducible. */
export async function makeLayer(seed: string, size: number): Promise<LayerBlob> {
  const content = seededBytes(seed, size);
  const tarBytes = await tarOf(`data/${seed}.bin`, content);
  const gz = gzipSync(tarBytes, { level: 1 });
  return {
    descriptor: { mediaType: MediaType.OciLayerGzip, digest: digestOf(gz), size: gz.length },
    diffId: digestOf(tarBytes),
    gz,
  };
}

/** Writes an image made of `layers` into a new OCI layout at `dir`, tagged `tag`. */
export async function writeImageLayout(dir: string, layers: LayerBlob[], tag = "latest") {
  const layout = await OciLayoutWriter.create(dir);
  for (const layer of layers) await layout.writeBlob(layer.gz, layer.descriptor.mediaType);
  const config = await layout.writeJson(
    {
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
      history: layers.map((_, i) => ({ created_by: `bench layer ${i}` })),
    },
    MediaType.OciConfig,
  );
  const manifest = await layout.writeJson(
    {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config,
      layers: layers.map((l) => l.descriptor),
    },
    MediaType.OciManifest,
  );
  layout.addManifest(manifest, tag);
  await layout.finish();
}

/** A tiny image (config + one small layer) held in memory, for manifest-heavy scenarios. */
export async function smallImage(): Promise<{
  layer: LayerBlob;
  config: { bytes: Buffer; digest: string };
  manifest: { bytes: Buffer; digest: string };
}> {
  const layer = await makeLayer("small", 1024);
  const configBytes = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [layer.diffId] },
    }),
  );
  const config = { bytes: configBytes, digest: digestOf(configBytes) };
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: config.digest, size: configBytes.length },
      layers: [layer.descriptor],
    }),
  );
  return { layer, config, manifest: { bytes: manifestBytes, digest: digestOf(manifestBytes) } };
}

/** Pseudo-random bytes from a seed (sha256 in counter mode): incompressible, reproducible. */
export function seededBytes(seed: string, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  const key = createHash("sha256").update(seed).digest();
  for (let offset = 0, counter = 0; offset < size; counter++) {
    const block = createHash("sha256").update(key).update(String(counter)).digest();
    offset += block.copy(out, offset);
  }
  return out;
}

function tarOf(name: string, content: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const pack = tar.pack();
    const chunks: Buffer[] = [];
    pack.on("data", (c: unknown) => {
      chunks.push(c as Buffer);
    });
    pack.on("end", () => resolve(Buffer.concat(chunks)));
    pack.on("error", reject);
    pack.entry({ name, size: content.length, mode: 0o644, mtime: new Date(0) }, content, (err) => {
      if (err) reject(err);
      else pack.finalize();
    });
  });
}

/** Builds (once, cached under test/.work/) a layout of `layers` × `layerMiB` MiB. */
export async function benchLayout(totalMiB: number): Promise<string> {
  const layers = 8;
  const layerMiB = Math.max(1, Math.round(totalMiB / layers));
  const dir = join(ROOT, "test", ".work", `bench-copy-${layers}x${layerMiB}MiB`);
  if (existsSync(join(dir, "index.json"))) return dir;
  process.stderr.write(`building a ${layers}×${layerMiB} MiB image in ${dir} (once)…\n`);
  const layout = await OciLayoutWriter.create(dir);
  const descriptors = [];
  const diffIds = [];
  for (let i = 0; i < layers; i++) {
    const layer = await makeLayer(`copy-bench-${i}`, layerMiB * MiB);
    descriptors.push(await layout.writeBlob(layer.gz, layer.descriptor.mediaType));
    diffIds.push(layer.diffId);
  }
  const config = await layout.writeJson(
    { architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: diffIds } },
    MediaType.OciConfig,
  );
  const manifest = await layout.writeJson(
    { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: descriptors },
    MediaType.OciManifest,
  );
  layout.addManifest(manifest, "1");
  await layout.finish();
  return dir;
}
