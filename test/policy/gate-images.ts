// Hand-built images for the quality-gate tests, written as OCI layouts: a base image and
// application images on top of it, each able to break exactly one gate rule (a big layer, a
// missing or malformed label, a foreign base, another platform, wasted bytes, an npm package
// with a forbidden licence or a known CVE). Layers are real gzipped tars; everything is
// deterministic for a given spec.
import { gzipSync } from "node:zlib";
import { digestOf, MediaType, type Platform } from "../../src/oci/index.js";
import { type LayerEntrySpec, tarOf } from "../scan/catalogers/support/image-builder.js";
import { OciLayoutWriter } from "../support/oci-layout.js";
import { deterministicBytes } from "../support/synthetic-images.js";

export interface GateImageSpec {
  /** Each layer's files. */
  layers: LayerEntrySpec[][];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  platform?: Platform;
  created?: string;
}

export interface GateImage {
  reference: string;
  dir: string;
  digest: string;
  diffIds: string[];
}

/** A file of `size` incompressible bytes. */
export function randomFile(path: string, seed: string, size: number): LayerEntrySpec {
  return { path, content: deterministicBytes(seed, size) };
}

export function npmPackage(name: string, version: string, license?: string): LayerEntrySpec {
  return {
    path: `app/node_modules/${name}/package.json`,
    content: JSON.stringify({ name, version, ...(license ? { license } : {}) }),
  };
}

export async function writeGateImage(
  dir: string,
  tag: string,
  spec: GateImageSpec,
): Promise<GateImage> {
  const layout = await OciLayoutWriter.create(dir);
  const { descriptor, diffIds } = await writeImageInto(layout, spec);
  layout.addManifest(descriptor, tag);
  await layout.finish();
  return { reference: `oci:${dir}:${tag}`, dir, digest: descriptor.digest, diffIds };
}

/** A multi-platform index of images (one spec per platform) as an OCI layout. */
export async function writeGateIndex(
  dir: string,
  tag: string,
  specs: GateImageSpec[],
): Promise<GateImage> {
  const layout = await OciLayoutWriter.create(dir);
  const manifests = [];
  for (const spec of specs) {
    const { descriptor } = await writeImageInto(layout, spec);
    manifests.push({
      ...descriptor,
      platform: spec.platform ?? { os: "linux", architecture: "amd64" },
    });
  }
  const index = await layout.writeJson(
    { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests },
    MediaType.OciIndex,
  );
  layout.addManifest(index, tag);
  await layout.finish();
  return { reference: `oci:${dir}:${tag}`, dir, digest: index.digest, diffIds: [] };
}

async function writeImageInto(layout: OciLayoutWriter, spec: GateImageSpec) {
  const layers = [];
  const diffIds: string[] = [];
  for (const entries of spec.layers) {
    const tar = await tarOf(entries);
    diffIds.push(digestOf(tar));
    layers.push(await layout.writeBlob(gzipSync(tar), MediaType.OciLayerGzip));
  }
  const platform = spec.platform ?? { os: "linux", architecture: "amd64" };
  const created = spec.created ?? "2026-11-01T00:00:00Z";
  const config = await layout.writeJson(
    {
      created,
      ...platform,
      config: { Labels: spec.labels ?? {}, Cmd: ["/bin/true"] },
      rootfs: { type: "layers", diff_ids: diffIds },
      history: spec.layers.map((_, i) => ({ created, created_by: `layer ${i}` })),
    },
    MediaType.OciConfig,
  );
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config,
    layers,
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
  };
  const descriptor = await layout.writeJson(manifest, MediaType.OciManifest);
  return { descriptor, diffIds };
}

/** The base every approved image starts from: one 8 KB layer. */
export const BASE_LAYER: LayerEntrySpec[] = [
  randomFile("base/os.bin", "gate-base", 8 * 1024),
  { path: "etc/os-release", content: "ID=gatebase\nVERSION_ID=1\n" },
];

export const GOOD_LABELS = { maintainer: "team@example.com", version: "1.2.3" };

/** The application layer of a compliant image. */
export const APP_LAYER: LayerEntrySpec[] = [randomFile("app/app.bin", "gate-app", 4 * 1024)];
