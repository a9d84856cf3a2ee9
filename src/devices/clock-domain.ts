/**
 * A device clock seen from simulated time (shared/DESIGN.md §4: Tick = one core cycle): the PIT's
 * 1.193182 MHz input, the UART's 1.8432 MHz crystal, the HPET's counter clock. Edge k of a device
 * clock of frequency f happens at k / f seconds; at `hz` ticks per second that is tick k * hz / f.
 *
 * Both directions are exact integer arithmetic, so a device never drifts against the core clock
 * however long it runs: the ratio f / hz is reduced to N / D once, and counts are split as
 * t = q * D + r, so every product stays below 2^53. Ratios too large for that fall back to BigInt.
 * (No spec section: this is the model's own time base; the frequencies come from the device datasheets.)
 * Leaves out: clock jitter and drift between oscillators (every device clock is ideal).
 */
import type { Tick } from "../sim/event-queue.ts";

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** floor(x / d) for non-negative safe integers, corrected for the rounding of the float division. */
function floorDiv(x: number, d: number): number {
  let q = Math.floor(x / d);
  if (q * d > x) q--;
  else if ((q + 1) * d <= x) q++;
  return q;
}

export class ClockDomain {
  /** Device edges per core tick, reduced: N / D. */
  private readonly n: number;
  private readonly d: number;
  private readonly bn: bigint;
  private readonly bd: bigint;
  private readonly exact: boolean;

  /**
   * @param hz core ticks per second (the Clock's hz)
   * @param freqNum the device frequency is freqNum / freqDen Hz (both integers; the HPET gives its
   *   period in femtoseconds, so its frequency is 1e15 / period)
   */
  constructor(readonly hz: number, freqNum: number, freqDen = 1) {
    for (const [name, v] of [["hz", hz], ["frequency numerator", freqNum], ["frequency denominator", freqDen]] as const) {
      if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`clock domain: ${name} ${v} is not a positive integer`);
    }
    const num = BigInt(freqNum);
    const den = BigInt(hz) * BigInt(freqDen);
    const g = gcd(num, den);
    this.bn = num / g;
    this.bd = den / g;
    this.n = Number(this.bn);
    this.d = Number(this.bd);
    this.exact = this.bn * this.bd < 2n ** 53n;
  }

  /** Device clock edges at or before `tick` (tick 0 has none): floor(tick * f / hz). */
  countAt(tick: Tick): number {
    const t = Math.max(0, Math.floor(tick));
    if (!this.exact) return Number((BigInt(t) * this.bn) / this.bd);
    const q = floorDiv(t, this.d);
    return q * this.n + floorDiv((t - q * this.d) * this.n, this.d);
  }

  /** The first tick at which `count` edges have happened: ceil(count * hz / f). */
  tickOf(count: number): Tick {
    const c = Math.max(0, Math.floor(count));
    if (!this.exact) {
      const p = BigInt(c) * this.bd;
      return Number((p + this.bn - 1n) / this.bn);
    }
    const q = floorDiv(c, this.n);
    const r = (c - q * this.n) * this.d;
    const f = floorDiv(r, this.n);
    return q * this.d + (f * this.n === r ? f : f + 1);
  }
}
