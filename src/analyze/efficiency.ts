// dive's image totals, computed from the layered filesystem's per-path events: the
// efficiency score, wasted bytes and user wasted percent, with dive's definitions (see
// docs/analyze.md for them and for the places Berth deliberately differs: opaque and removed
// directories count as removals of every path beneath them, and user wasted percent counts
// only the wasted bytes the user layers store, so it is a ratio between 0 and 1).
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
  /**
   * The part of wastedBytes stored by the user layers (every layer above the first): Σ over
   * inefficient paths of their event sizes in layers 1…n. Never more than the user size.
   */
  readonly userWastedBytes: number;
  readonly minimumBytes: number;
  readonly discoveredBytes: number;
  /** Largest first. */
  readonly inefficiencies: readonly Inefficiency[];
}

export function computeEfficiency(fs: LayeredFilesystem): EfficiencyTotals {
  let minimumBytes = 0;
  let discoveredBytes = 0;
  let wastedBytes = 0;
  let userWastedBytes = 0;
  const inefficiencies: Inefficiency[] = [];
  for (const node of fs.walk()) {
    const tally = tallyPath(node);
    if (!tally) continue;
    minimumBytes += tally.minimum;
    discoveredBytes += tally.cumulative;
    if (tally.layers.length < 2) continue;
    wastedBytes += tally.cumulative;
    userWastedBytes += tally.cumulative - tally.firstLayerBytes;
    inefficiencies.push({
      path: `/${node.path}`,
      count: tally.layers.length,
      wastedBytes: tally.cumulative,
      layers: tally.layers,
    });
  }
  inefficiencies.sort((a, b) => b.wastedBytes - a.wastedBytes || cmp(a.path, b.path));
  const efficiency = discoveredBytes === 0 ? 1 : minimumBytes / discoveredBytes;
  return {
    efficiency,
    wastedBytes,
    userWastedBytes,
    minimumBytes,
    discoveredBytes,
    inefficiencies,
  };
}

function tallyPath(
  node: PathNode,
): { cumulative: number; minimum: number; firstLayerBytes: number; layers: number[] } | undefined {
  let cumulative = 0;
  let firstLayerBytes = 0;
  let minimum = -1;
  const layers: number[] = [];
  for (const event of node.events) {
    if (!event.counted) continue;
    cumulative += event.size;
    if (event.layer === 0) firstLayerBytes += event.size;
    if (minimum < 0 || event.size < minimum) minimum = event.size;
    layers.push(event.layer);
  }
  return layers.length === 0 ? undefined : { cumulative, minimum, firstLayerBytes, layers };
}

/**
 * dive's "user" bytes: every layer's content size except the first (the base layer).
 * Layer content size is the sum of the layer's tar entry sizes, as dive measures it.
 */
export function userSizeBytes(layerContentSizes: readonly number[]): number {
  return layerContentSizes.slice(1).reduce((sum, size) => sum + size, 0);
}

/**
 * User wasted percent, as a ratio: the wasted bytes the user layers store ÷ the user size.
 * Both count the same layers' bytes, so the result is between 0 and 1 (dive divides all wasted
 * bytes, the base layer's included, by the user size: a layer that only deletes a big base
 * file then scores millions of percent). 0 for an image without user bytes.
 */
export function userWastedPercent(userWastedBytes: number, userBytes: number): number {
  return userBytes > 0 ? userWastedBytes / userBytes : 0;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
