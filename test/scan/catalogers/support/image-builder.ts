// Builds small OCI image layouts for cataloger tests: each layer a gzipped tar made with
// tar-stream from in-memory entries (files, directories, symlinks, `.wh.` whiteouts and
// opaque markers), a config whose history includes `empty_layer` entries, a manifest,
// and index.json tagged `test`. Read back through Berth's real `oci:` transport.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import * as tar from "tar-stream";
import { digestOf, MediaType } from "../../../../src/oci/index.js";
import { openImageSource } from "../../../../src/transport/index.js";
import type { ImageSource } from "../../../../src/transport/types.js";
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

export async function tarOf(entries: LayerEntrySpec[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on("data", (c: unknown) => {
      chunks.push(c as Buffer);
    });
    pack.on("end", () => resolve(Buffer.concat(chunks)));
    pack.on("error", reject);
  });
  const common = { mtime: new Date(0), uid: 0, gid: 0 };
  for (const e of entries) {
    const slash = e.path.lastIndexOf("/");
    const dir = slash === -1 ? "" : e.path.slice(0, slash + 1);
    const base = e.path.slice(slash + 1);
    if ("content" in e) {
      const data = typeof e.content === "string" ? Buffer.from(e.content) : e.content;
      pack.entry({ ...common, name: e.path, mode: e.mode ?? 0o644, size: data.length }, data);
    } else if ("dir" in e) {
      pack.entry({ ...common, name: `${e.path}/`, type: "directory", mode: 0o755 });
    } else if ("symlink" in e) {
      pack.entry({ ...common, name: e.path, type: "symlink", linkname: e.symlink, mode: 0o777 });
    } else if ("whiteout" in e) {
      pack.entry({ ...common, name: `${dir}.wh.${base}`, mode: 0o644, size: 0 }, Buffer.alloc(0));
    } else {
      pack.entry(
        { ...common, name: `${e.path}/.wh..wh..opq`, mode: 0o644, size: 0 },
        Buffer.alloc(0),
      );
    }
  }
  pack.finalize();
  return done;
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
