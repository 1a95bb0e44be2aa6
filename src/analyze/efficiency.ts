// dive's image totals, computed from the layered filesystem's per-path events: the
// efficiency score, wasted bytes and user wasted percent, with dive's definitions (see
// docs/analyze.md for them and for the two places Berth deliberately differs: opaque
// directories and removed directories count as removals of every path beneath them).
// Pure: no I/O.
import type { LayeredFilesystem, PathNode } from "./filesystem.js";

/** A path dive calls inefficient: stored (written or removed) by more than one layer. */
export interface Inefficiency {
  /** Absolute path, `/etc/app.conf`. */
  readonly path: string;
  /** How many counted events the path has (dive's "Count"). */
  readonly count: number;
  /** Sum of the sizes of all its counted events (dive's "Wasted Space"). */
  readonly wastedBytes: number;
  /** Layers that wrote or removed it, in order. */
  readonly layers: readonly number[];
}

export interface EfficiencyTotals {
  /** Σ smallest event size per path ÷ Σ all event sizes per path; 1 when nothing is stored. */
  readonly efficiency: number;
  /** Σ over inefficient paths of all their event sizes. */
  readonly wastedBytes: number;
  readonly minimumBytes: number;
  readonly discoveredBytes: number;
  /** Largest first. */
  readonly inefficiencies: readonly Inefficiency[];
}

export function computeEfficiency(fs: LayeredFilesystem): EfficiencyTotals {
  let minimumBytes = 0;
  let discoveredBytes = 0;
  let wastedBytes = 0;
  const inefficiencies: Inefficiency[] = [];
  for (const node of fs.walk()) {
    const tally = tallyPath(node);
    if (!tally) continue;
    minimumBytes += tally.minimum;
    discoveredBytes += tally.cumulative;
    if (tally.layers.length < 2) continue;
    wastedBytes += tally.cumulative;
    inefficiencies.push({
      path: `/${node.path}`,
      count: tally.layers.length,
      wastedBytes: tally.cumulative,
      layers: tally.layers,
    });
  }
  inefficiencies.sort((a, b) => b.wastedBytes - a.wastedBytes || cmp(a.path, b.path));
  const efficiency = discoveredBytes === 0 ? 1 : minimumBytes / discoveredBytes;
  return { efficiency, wastedBytes, minimumBytes, discoveredBytes, inefficiencies };
}

function tallyPath(
  node: PathNode,
): { cumulative: number; minimum: number; layers: number[] } | undefined {
  let cumulative = 0;
  let minimum = -1;
  const layers: number[] = [];
  for (const event of node.events) {
    if (!event.counted) continue;
    cumulative += event.size;
    if (minimum < 0 || event.size < minimum) minimum = event.size;
    layers.push(event.layer);
  }
  return layers.length === 0 ? undefined : { cumulative, minimum, layers };
}

/**
 * dive's "user" bytes: every layer's content size except the first (the base layer).
 * Layer content size is the sum of the layer's tar entry sizes, as dive measures it.
 */
export function userSizeBytes(layerContentSizes: readonly number[]): number {
  return layerContentSizes.slice(1).reduce((sum, size) => sum + size, 0);
}

/**
 * wasted ÷ user bytes. dive divides by zero for a single-layer image; Berth answers 0 when
 * nothing is wasted and Infinity (reported as `null` in JSON) when waste has no user bytes.
 */
export function userWastedPercent(wastedBytes: number, userBytes: number): number {
  if (userBytes > 0) return wastedBytes / userBytes;
  return wastedBytes === 0 ? 0 : Number.POSITIVE_INFINITY;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
