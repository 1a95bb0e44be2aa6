// Thin wrappers over the real container tools the interop tests drive — skopeo, podman,
// buildah — with the options a root-in-a-sandbox run needs (no TLS to 127.0.0.1 registries,
// vfs storage in temp dirs, cgroupfs, file events) and helpers that read digests back with
// `skopeo inspect --raw`. Every failure carries the tool's exact stderr.
// It must never use the machine's default container storage (/var/lib/containers).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { digestOf } from "../../src/oci/index.js";
import { type CommandResult, runOk } from "./process-control.js";

const TOOL_TIMEOUT_MS = 180_000;

/** Runs skopeo with `args`; throws with its stderr on failure. */
export function skopeo(args: string[], timeoutMs = TOOL_TIMEOUT_MS): Promise<CommandResult> {
  return runOk("skopeo", args, { timeoutMs });
}

/** `skopeo copy` from `source` to `destination` with TLS verification off on both ends. */
export function skopeoCopy(
  source: string,
  destination: string,
  extra: string[] = [],
): Promise<CommandResult> {
  return skopeo([
    "copy",
    "--quiet",
    "--src-tls-verify=false",
    "--dest-tls-verify=false",
    ...extra,
    source,
    destination,
  ]);
}

export interface RawManifest {
  bytes: Buffer;
  digest: string;
  json: {
    mediaType?: string;
    config?: { digest: string };
    layers?: { digest: string; size: number }[];
    manifests?: { digest: string; platform?: { architecture: string; os: string } }[];
    subject?: { digest: string };
  };
}

/** `skopeo inspect --raw` of a reference: the manifest bytes exactly as stored, and their digest. */
export async function inspectRaw(reference: string): Promise<RawManifest> {
  const tlsFlag = reference.startsWith("docker://") ? ["--tls-verify=false"] : [];
  const result = await skopeo(["inspect", "--raw", ...tlsFlag, reference]);
  const bytes = Buffer.from(result.stdout);
  return { bytes, digest: digestOf(bytes), json: JSON.parse(result.stdout) as RawManifest["json"] };
}

/** `skopeo list-tags` of a docker:// repository. */
export async function listTags(repository: string): Promise<string[]> {
  const result = await skopeo(["list-tags", "--tls-verify=false", `docker://${repository}`]);
  return (JSON.parse(result.stdout) as { Tags: string[] }).Tags;
}

/** A private container storage for podman/buildah: vfs driver, temp root and runroot. */
export interface ContainerStorage {
  root: string;
  runroot: string;
  /** Global flags for podman and buildah (`--root … --runroot … --storage-driver vfs`). */
  globalFlags: string[];
  env: NodeJS.ProcessEnv;
  remove(): Promise<void>;
}

export async function privateContainerStorage(): Promise<ContainerStorage> {
  const base = await mkdtemp(join(tmpdir(), "berth-containers-"));
  const root = join(base, "root");
  const runroot = join(base, "runroot");
  return {
    root,
    runroot,
    globalFlags: ["--root", root, "--runroot", runroot, "--storage-driver", "vfs"],
    env: {
      ...process.env,
      STORAGE_DRIVER: "vfs",
      BUILDAH_ISOLATION: "chroot",
      // Keep podman's own temp files and config lookups inside the sandbox.
      TMPDIR: base,
      XDG_RUNTIME_DIR: runroot,
    },
    remove: () => rm(base, { recursive: true, force: true }),
  };
}

/** podman with the private storage and sandbox-friendly settings. */
export function podman(storage: ContainerStorage, args: string[]): Promise<CommandResult> {
  return runOk(
    "podman",
    [...storage.globalFlags, "--cgroup-manager", "cgroupfs", "--events-backend", "file", ...args],
    { env: storage.env, timeoutMs: TOOL_TIMEOUT_MS },
  );
}

/** buildah with the private storage (chroot isolation via BUILDAH_ISOLATION). */
export function buildah(storage: ContainerStorage, args: string[]): Promise<CommandResult> {
  return runOk("buildah", [...storage.globalFlags, ...args], {
    env: storage.env,
    timeoutMs: TOOL_TIMEOUT_MS,
  });
}
