// Summary statistics for benchmark samples: median and spread (min..max), ratios.
// Pure functions; no I/O.

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly samples: readonly number[];
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error("no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, samples };
}

/** Spread as a percentage of the median: (max - min) / median. */
export function spreadPercent(s: Summary): number {
  return s.median === 0 ? 0 : ((s.max - s.min) / s.median) * 100;
}

/**
 * How much better Berth is than the reference, where > 1 always means "Berth better":
 * for times (lower is better) reference/berth, for rates (higher is better) berth/reference.
 */
export function advantage(berth: number, reference: number, higherIsBetter: boolean): number {
  if (higherIsBetter) return reference === 0 ? Number.POSITIVE_INFINITY : berth / reference;
  return berth === 0 ? Number.POSITIVE_INFINITY : reference / berth;
}
