/** Summary statistics of a sample, in the sample's unit. */
export interface Summary {
  /** Number of values. */
  n: number;
  mean: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * The `p`-th percentile (0-100) of `values`, interpolated linearly between the two closest ranks
 * (the "R-7" definition used by spreadsheets and NumPy's default). NaN for an empty sample.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  if (p < 0 || p > 100) throw new RangeError(`Percentile must be in [0, 100], got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

/** The median (50th percentile) of `values`. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Count, mean, min, max and the 50th/95th/99th percentiles of `values`. */
export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  return {
    n,
    mean: n === 0 ? Number.NaN : values.reduce((sum, v) => sum + v, 0) / n,
    min: n === 0 ? Number.NaN : Math.min(...values),
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: n === 0 ? Number.NaN : Math.max(...values),
  };
}

/** `a / b`, or NaN when either is not a finite number or `b` is 0. */
export function ratio(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return Number.NaN;
  return a / b;
}
