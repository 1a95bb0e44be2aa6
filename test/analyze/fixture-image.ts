// Builds small OCI image layouts on disk with exactly known content, for the analyze tests:
// each layer is a tar written with tar-stream (files, directories, hard links, symlinks,
// `.wh.` whiteouts and `.wh..wh..opq` opaque markers), compressed with node:zlib gzip, the
// real `zstd` CLI, or left plain; the config carries rootfs.diff_ids and a history with
// empty_layer steps. Layers are tiny, so they are built in memory here (test code only).
// The layout itself is written by test/support's OciLayoutWriter; packTar is also the tar
// writer of the cataloger tests (test/scan/catalogers/support/image-builder.ts).
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import { gzipSync } from "node:zlib";
import * as tar from "tar-stream";
import { type Descriptor, digestOf, MediaType } from "../../src/oci/index.js";
import { OciLayoutWriter } from "../support/oci-layout.js";
import { runOk } from "../support/process-control.js";

export type FixtureEntry =
  | { kind: "file"; path: string; content: Buffer; mode?: number; uid?: number; gid?: number }
  | { kind: "dir"; path: string; mode?: number }
  | { kind: "hardlink"; path: string; target: string }
  | { kind: "symlink"; path: string; target: string }
  /** Raw tar entry name, used for whiteouts (`a/.wh.b`) and opaque markers. */
  | { kind: "marker"; name: string };

/** A file of `size` bytes of `fill` (pick distinct fills so contents differ). */
export function file(
  path: string,
  size: number,
  fill: string,
  meta: { mode?: number; uid?: number; gid?: number } = {},
): FixtureEntry {
  return { kind: "file", path, content: Buffer.alloc(size, fill), ...meta };
}

export const dir = (path: string, mode = 0o755): FixtureEntry => ({ kind: "dir", path, mode });
export const hardlink = (path: string, target: string): FixtureEntry => ({
  kind: "hardlink",
  path,
  target,
});
export const symlink = (path: string, target: string): FixtureEntry => ({
  kind: "symlink",
  path,
  target,
});

/** Deletes `path` from lower layers: the entry `<dir>/.wh.<name>`. */
export function whiteout(path: string): FixtureEntry {
  const slash = path.lastIndexOf("/");
  const name = `${path.slice(0, slash + 1)}.wh.${path.slice(slash + 1)}`;
  return { kind: "marker", name };
}

/** Hides everything lower layers put in `dirPath`: the entry `<dir>/.wh..wh..opq`. */
export const opaque = (dirPath: string): FixtureEntry => ({
  kind: "marker",
  name: `${dirPath}/.wh..wh..opq`,
});

export type Compression = "gzip" | "zstd" | "none";

export type FixtureStep =
  | { createdBy: string; emptyLayer: true }
  | { createdBy: string; entries: FixtureEntry[]; compression?: Compression };

export interface FixtureImage {
  /** `oci:<dir>:<tag>` for openImageSource. */
  reference: string;
  layoutDir: string;
  layers: Descriptor[];
  diffIds: string[];
  /** Uncompressed tar sizes, per layer. */
  tarSizes: number[];
}

export async function writeFixtureImage(
  layoutDir: string,
  steps: FixtureStep[],
  tag = "test",
): Promise<FixtureImage> {
  const layout = await OciLayoutWriter.create(layoutDir);
  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  const tarSizes: number[] = [];
  const history: object[] = [];
  for (const step of steps) {
    if ("emptyLayer" in step) {
      history.push({
        created: "2026-01-01T00:00:00Z",
        created_by: step.createdBy,
        empty_layer: true,
      });
      continue;
    }
    const tarBytes = await packTar(step.entries);
    const compression = step.compression ?? "gzip";
    layers.push(
      await layout.writeBlob(await compress(tarBytes, compression), MEDIA_TYPES[compression]),
    );
    diffIds.push(digestOf(tarBytes));
    tarSizes.push(tarBytes.length);
    history.push({ created: "2026-01-01T00:00:00Z", created_by: step.createdBy });
  }
  const config = await layout.writeJson(
    {
      architecture: "amd64",
      os: "linux",
      config: { Env: ["PATH=/usr/bin:/bin"] },
      rootfs: { type: "layers", diff_ids: diffIds },
      history,
    },
    MediaType.OciConfig,
  );
  const manifest = await layout.writeJson(
    { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers },
    MediaType.OciManifest,
  );
  layout.addManifest(manifest, tag);
  await layout.finish();
  return { reference: `oci:${layoutDir}:${tag}`, layoutDir, layers, diffIds, tarSizes };
}

const MEDIA_TYPES: Record<Compression, string> = {
  gzip: MediaType.OciLayerGzip,
  zstd: MediaType.OciLayerZstd,
  none: MediaType.OciLayer,
};

export async function packTar(entries: FixtureEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const packed = buffer(pack);
  const mtime = new Date("2026-01-01T00:00:00Z");
  for (const entry of entries) {
    switch (entry.kind) {
      case "file":
        pack.entry(
          {
            name: entry.path,
            type: "file",
            size: entry.content.length,
            mode: entry.mode ?? 0o644,
            uid: entry.uid ?? 0,
            gid: entry.gid ?? 0,
            mtime,
          },
          entry.content,
        );
        break;
      case "dir":
        pack.entry({ name: `${entry.path}/`, type: "directory", mode: entry.mode ?? 0o755, mtime });
        break;
      case "hardlink":
        pack.entry({ name: entry.path, type: "link", linkname: entry.target, mtime });
        break;
      case "symlink":
        pack.entry({ name: entry.path, type: "symlink", linkname: entry.target, mtime });
        break;
      case "marker":
        pack.entry(
          { name: entry.name, type: "file", size: 0, mode: 0o644, mtime },
          Buffer.alloc(0),
        );
        break;
    }
  }
  pack.finalize();
  return packed;
}

async function compress(tarBytes: Buffer, compression: Compression): Promise<Buffer> {
  if (compression === "gzip") return gzipSync(tarBytes);
  if (compression === "none") return tarBytes;
  return zstdCompress(tarBytes);
}

/** Compresses with the real `zstd` CLI (run, and stopped on timeout, by test/support). */
export async function zstdCompress(bytes: Buffer): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), "berth-zstd-"));
  try {
    const input = join(dir, "layer.tar");
    await writeFile(input, bytes);
    await runOk("zstd", ["-q", "-3", "-f", "-o", `${input}.zst`, input], { timeoutMs: 60_000 });
    return await readFile(`${input}.zst`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
