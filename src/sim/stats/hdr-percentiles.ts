/**
 * Percentiles of a stream of non-negative values through HdrHistogram (hdr-histogram-js 3.0.1, pure
 * JavaScript, 3 significant digits): the p-th percentile is the value at nearest rank ceil(p/100 * n)
 * (HdrHistogram's getValueAtPercentile), reported as the highest value equivalent to it at 3 significant
 * digits, i.e. never below the exact nearest-rank value and at most 1/1024 of it above (values below
 * 2048 are exact). Values are rounded to integers (ns or cycles), as HdrHistogram records integers.
 *
 * Leaves out: coordinated-omission correction (recordValueWithExpectedInterval), which our sources do not
 * need: every wake-up and exit is recorded, none is lost to a stalled measuring thread.
 */
import * as hdr from "hdr-histogram-js";

export class HdrPercentiles {
  private readonly h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 2048,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 64,
    autoResize: true,
    useWebAssembly: false,
  });
  private n = 0;

  /** Records one value (finite, >= 0; rounded to the nearest integer). */
  record(value: number): void {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`percentiles: sample ${value} is not a finite value >= 0`);
    this.h.recordValue(Math.round(value));
    this.n++;
  }

  get count(): number {
    return this.n;
  }

  /** The value at `percentile` (0 < percentile <= 100); 0 when nothing was recorded. */
  at(percentile: number): number {
    if (this.n === 0) return 0;
    return this.h.getValueAtPercentile(percentile);
  }
}
