// Builds small OCI image layouts for cataloger tests: each layer a gzipped tar made with
// the analyze tests' packTar (tar-stream) from in-memory entries (files, directories, symlinks, `.wh.` whiteouts and
// opaque markers), a config whose history includes `empty_layer` entries, a manifest,
// and index.json tagged `test`. Read back through Berth's real `oci:` transport.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { digestOf, MediaType } from "../../../../src/oci/index.js";
import { openImageSource } from "../../../../src/transport/index.js";
import type { ImageSource } from "../../../../src/transport/types.js";
import {
  dir,
  type FixtureEntry,
  opaque,
  packTar,
  symlink,
  whiteout,
} from "../../../analyze/fixture-image.js";
import { OciLayoutWriter } from "../../../support/oci-layout.js";

export type LayerEntrySpec =
  | { path: string; content: string | Buffer; mode?: number }
  | { path: string; dir: true }
  | { path: string; symlink: string }
  | { path: string; whiteout: true }
  | { path: string; opaque: true };

export interface LayerSpec {
  entries: LayerEntrySpec[];
  /** The history `created_by` of this layer. */
  createdBy: string;
}

export interface BuiltImage {
  dir: string;
  reference: string;
  layerDigests: string[];
  open(): Promise<ImageSource>;
  remove(): Promise<void>;
}

/** The layer tar of `entries`, written by the analyze tests' tar writer (one for both). */
export function tarOf(entries: LayerEntrySpec[]): Promise<Buffer> {
  return packTar(entries.map(toFixtureEntry));
}

function toFixtureEntry(e: LayerEntrySpec): FixtureEntry {
  if ("content" in e) {
    const content = typeof e.content === "string" ? Buffer.from(e.content) : e.content;
    return { kind: "file", path: e.path, content, mode: e.mode };
  }
  if ("dir" in e) return dir(e.path);
  if ("symlink" in e) return symlink(e.path, e.symlink);
  if ("whiteout" in e) return whiteout(e.path);
  return opaque(e.path);
}

/** Writes an image whose config history puts an `empty_layer` entry before every layer. */
export async function buildImage(layers: LayerSpec[]): Promise<BuiltImage> {
  const dir = await mkdtemp(join(tmpdir(), "berth-catalog-"));
  const layout = await OciLayoutWriter.create(dir);
  const descriptors = [];
  const diffIds: string[] = [];
  const history: { created_by: string; empty_layer?: boolean }[] = [];
  for (const [i, layer] of layers.entries()) {
    const tarBytes = await tarOf(layer.entries);
    diffIds.push(digestOf(tarBytes));
    descriptors.push(await layout.writeBlob(gzipSync(tarBytes), MediaType.OciLayerGzip));
    history.push({ created_by: `ENV STEP=${i}`, empty_layer: true });
    history.push({ created_by: layer.createdBy });
  }
  const config = await layout.writeJson(
    {
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: diffIds },
      history,
    },
    MediaType.OciConfig,
  );
  const manifest = await layout.writeJson(
    { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: descriptors },
    MediaType.OciManifest,
  );
  layout.addManifest(manifest, "test");
  await layout.finish();
  const reference = `oci:${dir}:test`;
  return {
    dir,
    reference,
    layerDigests: descriptors.map((d) => d.digest),
    open: () => openImageSource(reference),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
