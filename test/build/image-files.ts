// Reads an image's whole filesystem as a container runtime would see it (layers applied in
// order, whiteouts honoured, missing parent directories implied as 0755 root:root, as
// extractors create them): path → type, mode, owner, content digest or link target. Lets a
// test compare two images file by file (berth build vs buildah bud) and search every layer
// for a string. Reads through Berth's transports and layer reader.
import { createHash } from "node:crypto";
import { readImageLayer } from "../../src/image/layer-reader.js";
import type { ImageConfig } from "../../src/oci/index.js";
import { openImageSource, resolveImage } from "../../src/transport/index.js";

export interface FileFacts {
  type: string;
  mode: string;
  owner: string;
  content?: string;
}

export interface ImageFiles {
  files: Map<string, FileFacts>;
  config: ImageConfig;
  configText: string;
  layerDigests: string[];
  /** Every layer's uncompressed file contents and paths, concatenated (for leak searches). */
  everything: string;
}

export async function imageFiles(spec: string): Promise<ImageFiles> {
  const source = await openImageSource(spec, { registry: { plainHttp: true } });
  try {
    const image = await resolveImage(source);
    const files = new Map<string, FileFacts>();
    let everything = "";
    for (const layer of image.layers) {
      await readImageLayer(source, layer, async (entry, content) => {
        everything += `${entry.path}\n`;
        if (entry.whiteout === "file") {
          for (const key of [...files.keys()])
            if (key === entry.path || key.startsWith(`${entry.path}/`)) files.delete(key);
          return;
        }
        if (entry.whiteout === "opaque") {
          for (const key of [...files.keys()])
            if (key.startsWith(`${entry.path}/`)) files.delete(key);
          return;
        }
        const parts = entry.path.split("/");
        for (let i = 1; i < parts.length; i++) {
          const parent = parts.slice(0, i).join("/");
          if (!files.has(parent))
            files.set(parent, { type: "directory", mode: "755", owner: "0:0" });
        }
        const facts: FileFacts = {
          type: entry.type,
          mode: (entry.mode & 0o7777).toString(8),
          owner: `${entry.uid}:${entry.gid}`,
        };
        if (entry.type === "file") {
          const hash = createHash("sha256");
          for await (const chunk of content) {
            hash.update(chunk);
            everything += Buffer.from(chunk).toString("latin1");
          }
          facts.content = hash.digest("hex");
        } else if (entry.linkname !== undefined) facts.content = entry.linkname;
        if (entry.type === "symlink") facts.mode = "777";
        files.set(entry.path, facts);
      });
    }
    return {
      files,
      config: image.config,
      configText: image.configBytes.toString("utf8"),
      layerDigests: image.layers.map((l) => l.digest),
      everything,
    };
  } finally {
    await source.close();
  }
}
