/**
 * The nearest-rank percentile by brute force (the nearest-rank method; HdrHistogram's
 * AbstractHistogram.getValueAtPercentile uses the same rank): the value at rank ceil(p/100 * n) of the sorted samples, the
 * rank taken in integer arithmetic because p has one decimal here and (99.9 / 100) * 1000 is
 * 999.0000000000001 in floating point (whose ceiling would be 1000).
 */
export function nearestRank(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const p10 = Math.round(p * 10);
  const rank = Math.max(1, Math.floor((p10 * sorted.length + 999) / 1000));
  return sorted[rank - 1];
}
