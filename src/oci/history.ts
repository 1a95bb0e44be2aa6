// Ties an image config's `history` to its layers. History has one entry per build step;
// steps that changed no files carry `empty_layer: true` and own no layer, so the n-th layer
// belongs to the n-th entry *without* `empty_layer` (the rule dive, docker history and
// buildkit share). The one implementation of that rule: `berth inspect`, the analyzer and
// the scanner all use it. Pure: no I/O.
import type { HistoryEntry } from "./manifest.js";

/** The history entry (index into config.history) that produced each layer. */
export interface HistoryAlignment {
  /** `layerHistory[i]` is the history index of layer i, or undefined when history is short. */
  readonly layerHistory: readonly (number | undefined)[];
  /** Non-fatal mismatches worth telling the user about. */
  readonly warnings: readonly string[];
}

export function alignHistory(
  history: readonly HistoryEntry[] | undefined,
  layerCount: number,
): HistoryAlignment {
  const entries = history ?? [];
  const layerHistory: (number | undefined)[] = [];
  entries.forEach((entry, index) => {
    if (entry.empty_layer !== true) layerHistory.push(index);
  });
  const warnings: string[] = [];
  if (entries.length > 0 && layerHistory.length !== layerCount) {
    warnings.push(
      `the image config's history lists ${layerHistory.length} layer-creating steps for ${layerCount} layers; commands may be attributed to the wrong layers`,
    );
  }
  layerHistory.length = layerCount;
  return { layerHistory: Array.from(layerHistory), warnings };
}
