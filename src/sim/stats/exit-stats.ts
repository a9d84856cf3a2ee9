/**
 * Per-reason VM-exit statistics (results.ts ExitStats) from the exits of one partition: count, total,
 * exact min / mean / max cycles, p99 and p99.9 through HdrHistogram (hdr-percentiles.ts, clamped to
 * [min, max]), the transition / handler / cache-miss split summed over the exits and for the worst exit
 * (the first exit with the largest total), and the sample standard deviation that `perf kvm stat report`
 * needs for its `( +- X% )` column: perf's update_stats() (Welford's running mean and M2) and
 * stddev_stats() (variance = M2 / (n - 1), 0 below two samples), tools/perf/util/stat.c.
 *
 * stddevCycles is not (yet) a field of results.ts ExitStats: ExitStatsWithSpread carries it, and the
 * exit table prints `( +-    n/a )` for an ExitStats without it.
 *
 * Leaves out: which exit was worst beyond its components (its time or guest RIP are not in ExitStats).
 */
import { HdrPercentiles } from "./hdr-percentiles.ts";

/** results.ts ExitComponents and ExitStats, restated so this file imports nothing of src/ and can move to
 * src/sim/stats (test/report/stats-types.test.ts checks they are the same types). */
export interface ExitComponents {
  transitionCycles: number;
  handlerCycles: number;
  cacheMissCycles: number;
}

export interface ExitStats {
  reason: string;
  reasonNumber: number;
  count: number;
  totalCycles: number;
  minCycles: number;
  meanCycles: number;
  p99Cycles: number;
  p999Cycles: number;
  maxCycles: number;
  components: ExitComponents;
  worst: ExitComponents;
}

export interface ExitSample {
  /** Exit -> next entry. */
  totalCycles: number;
  transitionCycles: number;
  handlerCycles: number;
  cacheMissCycles: number;
}

export interface ExitStatsWithSpread extends ExitStats {
  /** Sample standard deviation of the exit -> entry cycles (n - 1 in the denominator; 0 when count < 2). */
  stddevCycles: number;
}

export class ExitAccumulator {
  private readonly pct = new HdrPercentiles();
  private n = 0;
  private total = 0;
  private min = Infinity;
  private max = -Infinity;
  private welfordMean = 0;
  private m2 = 0;
  private sumTransition = 0;
  private sumHandler = 0;
  private sumCacheMiss = 0;
  private worst: ExitComponents = { transitionCycles: 0, handlerCycles: 0, cacheMissCycles: 0 };

  constructor(
    readonly reason: string,
    readonly reasonNumber: number,
  ) {}

  /** One exit: its exit -> entry cycles and their split (positional, so the VMM's hot path allocates nothing). */
  add(totalCycles: number, transitionCycles: number, handlerCycles: number, cacheMissCycles: number): void {
    this.pct.record(totalCycles); // validates: finite, >= 0
    this.n++;
    this.total += totalCycles;
    if (totalCycles < this.min) this.min = totalCycles;
    if (totalCycles > this.max) {
      this.max = totalCycles;
      this.worst = { transitionCycles, handlerCycles, cacheMissCycles };
    }
    const delta = totalCycles - this.welfordMean;
    this.welfordMean += delta / this.n;
    this.m2 += delta * (totalCycles - this.welfordMean);
    this.sumTransition += transitionCycles;
    this.sumHandler += handlerCycles;
    this.sumCacheMiss += cacheMissCycles;
  }

  get count(): number {
    return this.n;
  }

  stats(): ExitStatsWithSpread {
    const n = this.n;
    const clamp = (v: number) => (n === 0 ? 0 : Math.min(this.max, Math.max(this.min, v)));
    return {
      reason: this.reason,
      reasonNumber: this.reasonNumber,
      count: n,
      totalCycles: this.total,
      minCycles: n === 0 ? 0 : this.min,
      meanCycles: n === 0 ? 0 : this.total / n,
      stddevCycles: n < 2 ? 0 : Math.sqrt(this.m2 / (n - 1)),
      p99Cycles: clamp(this.pct.at(99)),
      p999Cycles: clamp(this.pct.at(99.9)),
      maxCycles: n === 0 ? 0 : this.max,
      components: { transitionCycles: this.sumTransition, handlerCycles: this.sumHandler, cacheMissCycles: this.sumCacheMiss },
      worst: { ...this.worst },
    };
  }
}

/** ExitStats of one exit reason from its exits, in the order they happened. */
export function exitStatsFrom(reason: string, reasonNumber: number, samples: ArrayLike<ExitSample>): ExitStatsWithSpread {
  const acc = new ExitAccumulator(reason, reasonNumber);
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    acc.add(s.totalCycles, s.transitionCycles, s.handlerCycles, s.cacheMissCycles);
  }
  return acc.stats();
}

/** The exits of one reason as parallel columns (src/vmm/exit-recorder.ts ReasonSamples has this shape). */
export interface ExitColumns {
  total: ArrayLike<number>;
  transition: ArrayLike<number>;
  handler: ArrayLike<number>;
  cacheMiss: ArrayLike<number>;
}

/** exitStatsFrom over columns (same result as over the equivalent ExitSample array). */
export function exitStatsFromColumns(reason: string, reasonNumber: number, c: ExitColumns): ExitStatsWithSpread {
  const n = c.total.length;
  if (c.transition.length !== n || c.handler.length !== n || c.cacheMiss.length !== n) {
    throw new RangeError(`exit stats ${reason}: columns of different lengths`);
  }
  const acc = new ExitAccumulator(reason, reasonNumber);
  for (let i = 0; i < n; i++) acc.add(c.total[i], c.transition[i], c.handler[i], c.cacheMiss[i]);
  return acc.stats();
}

/**
 * perf's `( +- X% )`: the standard error of the mean as a percentage of the mean, 100 * (s / sqrt(n)) /
 * mean (stat.c stddev_stats() and rel_stddev_stats(); 0 when the mean is 0). null when `e` has no
 * stddevCycles.
 */
export function relStdErrPercent(e: ExitStats): number | null {
  const s = (e as Partial<ExitStatsWithSpread>).stddevCycles;
  if (typeof s !== "number") return null;
  if (e.count < 2 || e.meanCycles === 0) return 0;
  return (100 * (s / Math.sqrt(e.count))) / e.meanCycles;
}
