// The artifact detail the web UI shows, shaped from a stored manifest and (for an image)
// its config: the config overview (entrypoint, cmd, env, labels, created, platform), each
// layer with the history step that made it (src/oci/history.ts `alignHistory`, the one
// rule `berth inspect` and the analyzer use; commands are attributed only when history and
// layers agree), the full build history, the platforms of an index, and annotations.
// Pure: no I/O; the route reads the bytes.
import { displayCommand } from "../analyze/history.js";
import { type ArtifactKind, artifactKind } from "../oci/artifact-kind.js";
import {
  alignHistory,
  annotationsOf,
  effectiveArtifactType,
  formatPlatform,
  type ImageConfig,
  type ParsedManifest,
} from "../oci/index.js";

export interface LayerView {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  /** The history step's `created_by`, when history and layers agree. */
  readonly createdBy: string | null;
  /** The instruction, as `berth inspect`/`analyze` print it. */
  readonly command: string | null;
}

export interface ConfigView {
  readonly created: string | null;
  readonly platform: string;
  readonly entrypoint: string[] | null;
  readonly cmd: string[] | null;
  readonly env: string[];
  readonly labels: Record<string, string>;
  readonly user: string;
  readonly workingDir: string;
  readonly exposedPorts: string[];
}

export interface ArtifactOverview {
  readonly digest: string;
  readonly mediaType: string;
  readonly artifactType: string | null;
  readonly kind: ArtifactKind;
  readonly annotations: Record<string, string>;
  readonly subject: string | null;
  readonly platforms: { digest: string; platform: string | null; size: number }[];
  readonly config: ConfigView | null;
  readonly layers: LayerView[];
  readonly history: { createdBy: string | null; created: string | null; emptyLayer: boolean }[];
  readonly warnings: string[];
}

export function configView(config: ImageConfig): ConfigView {
  const c = config.config ?? {};
  return {
    created: config.created ?? null,
    platform: formatPlatform(config),
    entrypoint: c.Entrypoint ?? null,
    cmd: c.Cmd ?? null,
    env: c.Env ?? [],
    labels: c.Labels ?? {},
    user: c.User ?? "",
    workingDir: c.WorkingDir ?? "",
    exposedPorts: Object.keys(c.ExposedPorts ?? {}),
  };
}

/** Layers with the command that made each (undefined config: an artifact without one). */
export function layerViews(
  parsed: ParsedManifest,
  config: ImageConfig | undefined,
): { layers: LayerView[]; warnings: string[] } {
  if (parsed.kind !== "image") return { layers: [], warnings: [] };
  const layers = parsed.image.layers;
  const history = config?.history ?? [];
  const alignment = alignHistory(history, layers.length);
  const agreed = alignment.warnings.length === 0;
  return {
    warnings: [...alignment.warnings],
    layers: layers.map((layer, i) => {
      const h = alignment.layerHistory[i];
      const createdBy = agreed && h !== undefined ? (history[h]?.created_by ?? null) : null;
      return {
        digest: layer.digest,
        mediaType: layer.mediaType,
        size: layer.size,
        createdBy,
        command: createdBy === null ? null : displayCommand(createdBy, 400),
      };
    }),
  };
}

export function artifactOverview(
  digest: string,
  parsed: ParsedManifest,
  config: ImageConfig | undefined,
  tags: readonly string[],
): ArtifactOverview {
  const artifactType = effectiveArtifactType(parsed) ?? null;
  const { layers, warnings } = layerViews(parsed, config);
  return {
    digest,
    mediaType: parsed.mediaType,
    artifactType,
    kind: artifactKind({ mediaType: parsed.mediaType, artifactType, tags }),
    annotations: annotationsOf(parsed) ?? {},
    subject: parsed.subject?.digest ?? null,
    platforms:
      parsed.kind === "index"
        ? parsed.index.manifests.map((m) => ({
            digest: m.digest,
            platform: m.platform ? formatPlatform(m.platform) : null,
            size: m.size,
          }))
        : [],
    config: config ? configView(config) : null,
    layers,
    history: (config?.history ?? []).map((h) => ({
      createdBy: h.created_by ?? null,
      created: h.created ?? null,
      emptyLayer: h.empty_layer === true,
    })),
    warnings,
  };
}
