// A real Debian image for interop tests: a root filesystem made by
// `debootstrap --variant=minbase bookworm` (a real dpkg database, real binaries), packed by
// this code into a single-layer OCI image layout: system `tar --sort=name --numeric-owner`,
// gzip, sha256 of both (digest and diff_id), an image config with rootfs.diff_ids and
// history, an image manifest, index.json and oci-layout.
//
// Built once and cached under test/.work/debian-bookworm/ (gitignored); a lock directory
// keeps parallel test files from building it twice. Tests must treat the cached layout and
// root filesystem as read-only (copy out of them, never into them).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createGzip } from "node:zlib";
import { type Descriptor, MediaType } from "../../src/oci/index.js";
import { withFileLock } from "./file-lock.js";
import { HashingPassThrough, OciLayoutWriter } from "./oci-layout.js";
import { OutputTail, runOk } from "./process-control.js";

export const WORK_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", ".work");
const CACHE_DIR = join(WORK_DIR, "debian-bookworm");
const DEBIAN_MIRROR = process.env.BERTH_TEST_DEBIAN_MIRROR ?? "http://deb.debian.org/debian";
export const DEBIAN_TAG = "bookworm";

export interface DebianImage {
  /** The debootstrapped root filesystem (read-only for tests). */
  rootfsDir: string;
  /** The OCI layout holding the image, tagged `bookworm`. */
  layoutDir: string;
  tag: string;
  /** `oci:<layoutDir>:bookworm`, for skopeo/podman. */
  reference: string;
  manifest: Descriptor;
  config: Descriptor;
  layer: Descriptor;
  diffId: string;
}

/** Bump when the way the layout is packed changes, so old caches are repacked (not re-debootstrapped). */
const PACK_FORMAT = 2;

/** The cached image, if its record is current and its blobs are all still on disk. */
async function cachedImage(readyFile: string): Promise<DebianImage | undefined> {
  if (!existsSync(readyFile)) return undefined;
  const record = JSON.parse(await readFile(readyFile, "utf8")) as DebianImage & {
    packFormat?: number;
  };
  if (record.packFormat !== PACK_FORMAT) return undefined;
  const blobs = [record.manifest, record.config, record.layer].map((d) =>
    join(record.layoutDir, "blobs", "sha256", d.digest.slice("sha256:".length)),
  );
  return blobs.every((path) => existsSync(path)) ? record : undefined;
}

/** Returns the cached Debian image, building it first if this machine has none yet. */
export async function debianImage(): Promise<DebianImage> {
  const readyFile = join(CACHE_DIR, "image.json");
  const cached = await cachedImage(readyFile);
  if (cached) return cached;
  await mkdir(WORK_DIR, { recursive: true });
  return withFileLock(`${CACHE_DIR}.lock`, async () => {
    const built = await cachedImage(readyFile);
    if (built) return built;
    const rootfsDir = join(CACHE_DIR, "rootfs");
    if (!existsSync(join(rootfsDir, "var", "lib", "dpkg", "status"))) await debootstrap(rootfsDir);
    const image = await packImage(rootfsDir, join(CACHE_DIR, "layout"));
    await writeFile(readyFile, JSON.stringify({ ...image, packFormat: PACK_FORMAT }, null, 2));
    return image;
  });
}

async function debootstrap(rootfsDir: string): Promise<void> {
  const staging = `${rootfsDir}.building`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(dirname(rootfsDir), { recursive: true });
  await runOk("debootstrap", ["--variant=minbase", "bookworm", staging, DEBIAN_MIRROR], {
    timeoutMs: 25 * 60_000,
  });
  await rm(rootfsDir, { recursive: true, force: true });
  await rename(staging, rootfsDir);
}

/**
 * Left out of the layer, as Debian's official images leave them out: the downloaded .debs and
 * the apt package lists (about 80 MB). The dpkg database (/var/lib/dpkg) stays.
 */
const LAYER_EXCLUDES = [
  "--exclude=./var/cache/apt/archives/*.deb",
  "--exclude=./var/lib/apt/lists/*",
];

/** Tars the root filesystem (sorted, numeric owners), gzips it, hashing both as it streams. */
async function writeLayer(
  layout: OciLayoutWriter,
  rootfsDir: string,
): Promise<{ layer: Descriptor; diffId: string }> {
  const tar = spawn(
    "tar",
    ["-C", rootfsDir, "--sort=name", "--numeric-owner", ...LAYER_EXCLUDES, "-cf", "-", "."],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const stderr = new OutputTail();
  tar.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
  const tarExit = new Promise<number>((resolveExit) =>
    tar.once("close", (code) => resolveExit(code ?? 1)),
  );
  const uncompressed = new HashingPassThrough();
  const layer = await layout.writeBlobStream(
    tar.stdout.pipe(uncompressed).pipe(createGzip()),
    MediaType.OciLayerGzip,
  );
  const code = await tarExit;
  if (code !== 0) throw new Error(`tar of ${rootfsDir} exited with ${code}: ${stderr}`);
  return { layer, diffId: uncompressed.digest() };
}

async function packImage(rootfsDir: string, layoutDir: string): Promise<DebianImage> {
  await rm(layoutDir, { recursive: true, force: true });
  const layout = await OciLayoutWriter.create(layoutDir);
  const { layer, diffId } = await writeLayer(layout, rootfsDir);
  const created = new Date().toISOString();
  const config = await layout.writeJson(
    {
      created,
      architecture: "amd64",
      os: "linux",
      config: {
        Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        Cmd: ["bash"],
      },
      rootfs: { type: "layers", diff_ids: [diffId] },
      history: [
        { created, created_by: "debootstrap --variant=minbase bookworm (berth test fixture)" },
      ],
    },
    MediaType.OciConfig,
  );
  const manifest = await layout.writeJson(
    { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer] },
    MediaType.OciManifest,
  );
  layout.addManifest(manifest, DEBIAN_TAG);
  await layout.finish();
  // A last sanity check with a real tool: the layer must be a gzip stream tar can list.
  await runOk("sh", ["-c", `gzip -dc '${layout.blobPath(layer.digest)}' | tar -t >/dev/null`]);
  return {
    rootfsDir,
    layoutDir,
    tag: DEBIAN_TAG,
    reference: `oci:${layoutDir}:${DEBIAN_TAG}`,
    manifest,
    config,
    layer,
    diffId,
  };
}
