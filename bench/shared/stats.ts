/**
 * Summary statistics for benchmark samples: median, p95 (linear interpolation between
 * closest ranks), mean, min and max. Pure functions; no I/O.
 */

/** A summary of one series of samples. */
export interface Summary {
  n: number;
  median: number;
  p95: number;
  mean: number;
  min: number;
  max: number;
}

/** The q-quantile (0..1) of samples, interpolating linearly between closest ranks. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Median, p95, mean, min and max of samples (NaN fields for an empty series). */
export function summarize(samples: readonly number[]): Summary {
  const n = samples.length;
  if (n === 0) return { n, median: NaN, p95: NaN, mean: NaN, min: NaN, max: NaN };
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const s of samples) {
    sum += s;
    if (s < min) min = s;
    if (s > max) max = s;
  }
  return { n, median: quantile(samples, 0.5), p95: quantile(samples, 0.95), mean: sum / n, min, max };
}

/** a / b, or NaN when either is missing or b is zero. */
export function ratio(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return Number.NaN;
  return a / b;
}
