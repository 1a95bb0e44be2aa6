// Builds small OCI image layouts on disk with exactly known content, for the analyze tests:
// each layer is a tar written with tar-stream (files, directories, hard links, symlinks,
// `.wh.` whiteouts and `.wh..wh..opq` opaque markers), compressed with node:zlib gzip, the
// real `zstd` CLI, or left plain; the config carries rootfs.diff_ids and a history with
// empty_layer steps. Layers are tiny, so they are built in memory here (test code only).
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import * as tar from "tar-stream";
import { type Descriptor, digestOf, MediaType } from "../../src/oci/index.js";

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
  await mkdir(join(layoutDir, "blobs", "sha256"), { recursive: true });
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
    const blob = await compress(tarBytes, compression);
    const mediaType =
      compression === "gzip"
        ? MediaType.OciLayerGzip
        : compression === "zstd"
          ? MediaType.OciLayerZstd
          : MediaType.OciLayer;
    layers.push(await putBlob(layoutDir, blob, mediaType));
    diffIds.push(digestOf(tarBytes));
    tarSizes.push(tarBytes.length);
    history.push({ created: "2026-01-01T00:00:00Z", created_by: step.createdBy });
  }
  const config = {
    architecture: "amd64",
    os: "linux",
    config: { Env: ["PATH=/usr/bin:/bin"] },
    rootfs: { type: "layers", diff_ids: diffIds },
    history,
  };
  const configDescriptor = await putBlob(
    layoutDir,
    Buffer.from(JSON.stringify(config)),
    MediaType.OciConfig,
  );
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: configDescriptor,
    layers,
  };
  const manifestDescriptor = await putBlob(
    layoutDir,
    Buffer.from(JSON.stringify(manifest)),
    MediaType.OciManifest,
  );
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [
      { ...manifestDescriptor, annotations: { "org.opencontainers.image.ref.name": tag } },
    ],
  };
  await writeFile(join(layoutDir, "index.json"), JSON.stringify(index));
  await writeFile(join(layoutDir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  return { reference: `oci:${layoutDir}:${tag}`, layoutDir, layers, diffIds, tarSizes };
}

async function putBlob(layoutDir: string, bytes: Buffer, mediaType: string): Promise<Descriptor> {
  const digest = digestOf(bytes);
  await writeFile(join(layoutDir, "blobs", "sha256", digest.slice("sha256:".length)), bytes);
  return { mediaType, digest, size: bytes.length };
}

export async function packTar(entries: FixtureEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on("data", (c: unknown) => {
      chunks.push(c as Buffer);
    });
    pack.on("end", () => resolve(Buffer.concat(chunks)));
    pack.on("error", reject);
  });
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
  return done;
}

async function compress(tarBytes: Buffer, compression: Compression): Promise<Buffer> {
  if (compression === "gzip") return gzipSync(tarBytes);
  if (compression === "none") return tarBytes;
  return zstdCompress(tarBytes);
}

/** Compresses with the real `zstd` CLI (stdin → stdout). */
export function zstdCompress(bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn("zstd", ["-q", "-c", "-3"], { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`zstd exited with ${code}: ${err}`));
    });
    child.stdin.end(bytes);
  });
}
