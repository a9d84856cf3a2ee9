/**
 * Latency statistics of a run (results.ts LatencyStats): count, exact min / mean / max of the samples,
 * p99 and p99.9 through HdrHistogram (hdr-percentiles.ts: nearest rank, 3 significant digits, clamped to
 * [min, max]), and the sparse 1 µs histogram of cyclictest's --json output (bin = floor(ns / 1000), the
 * µs truncation of cyclictest's calcdiff(); key "<bin>" -> count, bins in ascending order, empty bins
 * left out). Deterministic: the same samples in the same order give the same object, key order included.
 *
 * LatencyAccumulator takes samples one at a time (no sample array kept); latencyStats(samples) is the
 * same over an array. No samples -> count 0, every value 0 and an empty histogram.
 *
 * Self-contained (hdr-histogram-js and the files next to it only), so the model's side may use it too.
 *
 * Leaves out: histogram overflow (the sparse histogram has no upper limit; latency-table.ts applies
 * cyclictest's -h limit when it prints).
 */
import { HdrPercentiles } from "./hdr-percentiles.ts";

export { exitStatsFrom, exitStatsFromColumns, ExitAccumulator } from "./exit-stats.ts";
export type { ExitColumns, ExitSample, ExitStatsWithSpread } from "./exit-stats.ts";

export const NS_PER_BIN = 1000;

/** results.ts LatencyStats, restated so this file imports nothing of src/ and can move to src/sim/stats
 * (test/report/stats-types.test.ts checks the two are the same type). */
export interface LatencyStats {
  count: number;
  minNs: number;
  meanNs: number;
  p99Ns: number;
  p999Ns: number;
  maxNs: number;
  histogram: Record<string, number>;
}

export class LatencyAccumulator {
  private readonly pct = new HdrPercentiles();
  private readonly bins = new Map<number, number>();
  private n = 0;
  private sum = 0;
  private min = Infinity;
  private max = -Infinity;

  /** One latency sample, ns (finite, >= 0). */
  add(ns: number): void {
    this.pct.record(ns); // validates
    this.n++;
    this.sum += ns;
    if (ns < this.min) this.min = ns;
    if (ns > this.max) this.max = ns;
    const bin = Math.floor(ns / NS_PER_BIN);
    this.bins.set(bin, (this.bins.get(bin) ?? 0) + 1);
  }

  get count(): number {
    return this.n;
  }

  stats(): LatencyStats {
    const histogram: Record<string, number> = {};
    for (const bin of [...this.bins.keys()].sort((a, b) => a - b)) histogram[String(bin)] = this.bins.get(bin)!;
    if (this.n === 0) return { count: 0, minNs: 0, meanNs: 0, p99Ns: 0, p999Ns: 0, maxNs: 0, histogram };
    const clamp = (v: number) => Math.min(this.max, Math.max(this.min, v));
    return {
      count: this.n,
      minNs: this.min,
      meanNs: this.sum / this.n,
      p99Ns: clamp(this.pct.at(99)),
      p999Ns: clamp(this.pct.at(99.9)),
      maxNs: this.max,
      histogram,
    };
  }
}

/** LatencyStats of `samplesNs` (each finite and >= 0, ns). */
export function latencyStats(samplesNs: ArrayLike<number>): LatencyStats {
  const acc = new LatencyAccumulator();
  for (let i = 0; i < samplesNs.length; i++) acc.add(samplesNs[i]);
  return acc.stats();
}
