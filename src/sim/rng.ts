/**
 * The seeded random-number generator of the model (shared/DESIGN.md §4): one root seed, and a stream
 * per consumer forked by a stable label ("nic0.arrivals", "rtio0.jitter"), so adding a consumer shifts
 * no other consumer's numbers. Never Math.random.
 *
 * Each stream is SFC32 (Chris Doty-Humphrey's Small Fast Chaotic generator, PractRand-clean), seeded from
 * the root seed and the label through the 32-bit FNV-1a hash and the MurmurHash3 finalizer, with 12
 * discarded outputs as its author recommends.
 */

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < s.length; k++) {
    h ^= s.charCodeAt(k);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** A stream for `seed` (an integer; only its low 53 bits matter) and `label`. */
  constructor(readonly seed: number, readonly label = "") {
    if (!Number.isInteger(seed)) throw new RangeError(`rng: seed ${seed} is not an integer`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 4294967296) >>> 0;
    const l = fnv1a(label);
    this.a = fmix(lo ^ 0x9e3779b9);
    this.b = fmix(hi ^ 0x7f4a7c15);
    this.c = fmix(l ^ 0x6a09e667);
    this.d = 1;
    for (let k = 0; k < 12; k++) this.nextU32();
  }

  /** An independent stream named `label` under the same root seed (labels nest with "."). */
  fork(label: string): Rng {
    return new Rng(this.seed, this.label === "" ? label : `${this.label}.${label}`);
  }

  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 bits. */
  nextFloat(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [lo, hi] (inclusive), without modulo bias. */
  int(lo: number, hi: number): number {
    const span = hi - lo + 1;
    if (!(span >= 1)) throw new RangeError(`rng: empty range [${lo}, ${hi}]`);
    return lo + Math.floor(this.nextFloat() * span);
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.nextFloat();
  }

  /** Exponentially distributed with the given mean (inter-arrival times of a Poisson process). */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.nextFloat());
  }

  /** Normally distributed (Box-Muller; one of the pair is discarded so the stream stays simple). */
  normal(mean: number, stddev: number): number {
    const u = 1 - this.nextFloat();
    const v = this.nextFloat();
    return mean + stddev * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}
