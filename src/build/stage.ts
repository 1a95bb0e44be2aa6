// The state of one build stage while its instructions run: the image config being edited
// (runtime config, rootfs diff ids, history), the layer descriptors, the SHELL, the ARGs in
// effect, and — only once something needs real files — its root filesystem on disk, kept in
// step with the layers lazily. Also the final image documents (config, manifest) a stage
// becomes. Pure apart from materialising the root filesystem.
import { mkdir } from "node:fs/promises";
import {
  type Descriptor,
  type HistoryEntry,
  type ImageConfig,
  MediaType,
  type Platform,
} from "../oci/index.js";
import type { RuntimeConfig } from "./instructions.js";
import { applyLayer } from "./rootfs.js";
import type { BuildStore } from "./store.js";

export const DEFAULT_SHELL: readonly string[] = ["/bin/sh", "-c"];
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface BaseImage {
  /** As written in FROM (expanded). */
  readonly name: string;
  /** Digest of the platform manifest used. */
  readonly digest: string;
}

export class StageState {
  runtime: RuntimeConfig;
  diffIds: string[];
  history: HistoryEntry[];
  layers: Descriptor[];
  shell: string[];
  /** ARGs declared in this stage and their values (undefined: declared, no value). */
  args = new Map<string, string | undefined>();
  /** Label keys this stage's own LABEL instructions set (they win over source labels). */
  ownLabels = new Set<string>();
  /** Whether CMD was set in this stage (ENTRYPOINT resets an inherited CMD only). */
  cmdSet = false;
  /**
   * Directories this stage knows exist (WORKDIR made them): a COPY into one leaves its owner
   * and mode alone, as docker and buildah do; a COPY --chown into a new one owns it.
   */
  knownDirs = new Set<string>();
  rootfs: string | undefined;
  private applied = 0;

  constructor(
    readonly index: number,
    readonly name: string | null,
    readonly platform: Platform,
    base: ImageConfig | undefined,
    layers: readonly Descriptor[],
    readonly baseImage: BaseImage | undefined,
  ) {
    const cloned = structuredClone(base?.config ?? {}) as RuntimeConfig;
    this.runtime = cloned;
    this.shell = [...(cloned.Shell ?? DEFAULT_SHELL)];
    this.diffIds = [...(base?.rootfs?.diff_ids ?? [])];
    this.history = structuredClone(base?.history ?? []);
    this.layers = layers.map(ociLayer);
  }

  /** A new stage `FROM` this one (`FROM builder`): same image, fresh ARGs and filesystem. */
  derive(index: number, name: string | null): StageState {
    const next = new StageState(
      index,
      name,
      this.platform,
      this.imageConfig("1970-01-01T00:00:00Z"),
      this.layers,
      this.baseImage,
    );
    next.shell = [...this.shell];
    return next;
  }

  addLayer(layer: Descriptor, diffId: string, entry: HistoryEntry): void {
    this.layers.push(layer);
    this.diffIds.push(diffId);
    this.history.push(entry);
  }

  addHistory(entry: HistoryEntry): void {
    this.history.push({ ...entry, empty_layer: true });
  }

  /** The root filesystem with every layer applied (created on first use). */
  async materialise(store: BuildStore): Promise<string> {
    if (!this.rootfs) {
      this.rootfs = store.tempPath(`rootfs-${this.index}`);
      await mkdir(this.rootfs, { recursive: true, mode: 0o755 });
    }
    for (; this.applied < this.layers.length; this.applied++) {
      await applyLayer(store, (this.layers[this.applied] as Descriptor).digest, this.rootfs);
    }
    return this.rootfs;
  }

  /** Marks layers as already present in the root filesystem (RUN wrote them there). */
  markApplied(): void {
    this.applied = this.layers.length;
  }

  imageConfig(created: string): ImageConfig {
    const runtime: RuntimeConfig = { ...this.runtime };
    const config: ImageConfig = {
      created,
      architecture: this.platform.architecture,
      os: this.platform.os,
      config: runtime,
      rootfs: { type: "layers", diff_ids: [...this.diffIds] },
      history: this.history,
    };
    if (this.platform.variant) config.variant = this.platform.variant;
    return config;
  }
}

/** Docker layer media types as their OCI equivalents (same bytes) for an OCI manifest. */
export function ociLayer(layer: Descriptor): Descriptor {
  const map: Record<string, string> = {
    [MediaType.DockerLayerGzip]: MediaType.OciLayerGzip,
    [MediaType.DockerForeignLayerGzip]: MediaType.OciLayerNondistributableGzip,
  };
  const mediaType = map[layer.mediaType] ?? layer.mediaType;
  const out: Descriptor = { mediaType, digest: layer.digest, size: layer.size };
  if (layer.urls) out.urls = layer.urls;
  return out;
}

/** The OCI manifest of an image with `config` and `layers`. */
export function imageManifest(config: Descriptor, layers: readonly Descriptor[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config,
      layers,
    }),
  );
}
