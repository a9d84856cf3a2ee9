/**
 * The local APIC timer (SDM Vol. 3A 10.5.4): one-shot and periodic modes counting down the initial count
 * at the timer clock divided by the DCR, and TSC-deadline mode (10.5.4.1) firing when the TSC reaches
 * IA32_TSC_DEADLINE.
 *
 * Time is never stepped: the count is a function of the current tick, and one event is scheduled per
 * expiry. With ticks per count = divisor * coreHz / timerHz = p/q (reduced), count c has elapsed
 * floor((now - base) * q / p) counts and count k expires at tick base + ceil(k * p / q), so periods
 * never drift (timerHz 24 MHz, core 3 GHz, divide 16: 2000 ticks per count exactly).
 *
 * Modes and registers:
 * - Writing the initial count starts counting from it; 0 stops the timer. One-shot stops at 0 (the
 *   current count reads 0); periodic reloads: at the expiry the count reads the initial count again.
 * - A DCR write while counting keeps the current count and counts on from it at the new rate (the SDM
 *   leaves this open; the fraction of the count in progress is dropped).
 * - Switching between one-shot and periodic does not start or stop the timer (10.5.4: "Changing the
 *   mode ... does not start the timer"); the new mode applies from the next expiry. Switching to or
 *   from TSC-deadline mode disarms it (10.5.4.1), as Bochs does.
 * - Masked (LVT bit 16): the timer counts on and nothing is delivered; a masked periodic timer
 *   schedules no events (the next expiry is computed when it is unmasked).
 * - TSC-deadline: initial-count writes are ignored and the current count reads 0; writing the deadline
 *   arms it (0 disarms); a deadline at or below the current TSC fires at once; at expiry the timer
 *   disarms itself and IA32_TSC_DEADLINE reads 0. In other modes the MSR reads 0 and ignores writes.
 *   The TSC is taken as floor(tick * tscHz / coreHz) + offset (offset from the core's tsc() now); after
 *   the guest writes the TSC, call tscChanged(). A deadline more than 2^53 ticks away never fires.
 *
 * Leaves out: the phase of the free-running divider (counting starts at the initial-count write).
 */
import type { Clock } from "../sim/clock.ts";
import { EventPriority, type SimEvent, type Tick } from "../sim/event-queue.ts";
import { timerDivisor } from "./lapic-registers.ts";

export const enum TimerMode {
  ONE_SHOT = 0,
  PERIODIC = 1,
  TSC_DEADLINE = 2,
}

const ONE_SHOT = 0;
const PERIODIC = 1;
const TSC_DEADLINE = 2;
const SAFE = Number.MAX_SAFE_INTEGER;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** floor(a * b / c) for non-negative integers, exact (BigInt when a * b exceeds 2^53). */
export function mulDivFloor(a: number, b: number, c: number): number {
  const prod = a * b;
  if (prod <= SAFE) return (prod - (prod % c)) / c;
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}

/** ceil(a * b / c) for non-negative integers, exact. */
export function mulDivCeil(a: number, b: number, c: number): number {
  const prod = a * b;
  if (prod <= SAFE) {
    const r = prod % c;
    return (prod - r) / c + (r !== 0 ? 1 : 0);
  }
  const bp = BigInt(a) * BigInt(b);
  const bc = BigInt(c);
  return Number((bp + bc - 1n) / bc);
}

export interface ApicTimerOptions {
  clock: Clock;
  /** Timer input clock before the divider, Hz (rounded to an integer). */
  timerHz: number;
  /** TSC rate, Hz (rounded to an integer). */
  tscHz: number;
  /** The core's TSC now. */
  tsc: () => number;
  /** Called at each expiry while the LVT timer entry is unmasked. */
  expire: () => void;
  /** Event label ("lapic0.timer"). */
  label: string;
}

export class ApicTimer {
  private readonly clock: Clock;
  private readonly hz: number;
  private readonly timerHz: number;
  private readonly tscHz: number;
  private readonly tsc: () => number;
  private readonly expire: () => void;
  private readonly label: string;

  private mode = ONE_SHOT;
  private masked = true;
  private initial = 0;
  private dcr = 0;
  /** Ticks per count = p / q for the current divisor. */
  private p = 1;
  private q = 1;
  /** One-shot / periodic: counting; the count started (or was rebased) at baseTick. */
  private running = false;
  private baseTick = 0;
  /** Count index (from baseTick) of the next expiry. */
  private target = 0;
  /** TSC-deadline: the armed deadline, 0 when disarmed. */
  private deadline = 0;
  private event: SimEvent | null = null;
  /** Expiries so far (delivered or masked). */
  expiries = 0;

  constructor(opts: ApicTimerOptions) {
    this.clock = opts.clock;
    this.hz = Math.round(opts.clock.hz);
    this.timerHz = Math.round(opts.timerHz);
    this.tscHz = Math.round(opts.tscHz);
    for (const [k, v] of [["clock hz", this.hz], ["timerHz", this.timerHz], ["tscHz", this.tscHz]] as const) {
      if (!(v > 0) || !Number.isSafeInteger(v)) throw new RangeError(`apic timer: ${k} ${v} must be a positive integer`);
    }
    this.tsc = opts.tsc;
    this.expire = opts.expire;
    this.label = opts.label;
    this.setDivide(0);
  }

  /** Power-up state (10.4.7.1): one-shot, masked, counts 0, DCR 0, disarmed. */
  reset(): void {
    this.cancel();
    this.mode = ONE_SHOT;
    this.masked = true;
    this.initial = 0;
    this.running = false;
    this.deadline = 0;
    this.setDivide(0);
  }

  get timerMode(): TimerMode {
    return this.mode as TimerMode;
  }

  /** Apply the LVT timer entry's mode and mask fields. */
  setLvt(mode: TimerMode, masked: boolean): void {
    const now = this.clock.now();
    if (mode !== this.mode) {
      if (mode === TSC_DEADLINE || this.mode === TSC_DEADLINE) {
        this.running = false;
        this.deadline = 0;
      } else {
        this.settle(now);
      }
      this.mode = mode;
    }
    this.masked = masked;
    this.reschedule(now);
  }

  get initialCount(): number {
    return this.initial;
  }

  writeInitialCount(count: number): void {
    if (this.mode === TSC_DEADLINE) return;
    const now = this.clock.now();
    this.initial = count >>> 0;
    this.running = this.initial !== 0;
    this.baseTick = now;
    this.target = this.initial;
    this.reschedule(now);
  }

  get divideConfig(): number {
    return this.dcr;
  }

  writeDivideConfig(value: number): void {
    const now = this.clock.now();
    if (this.running && this.mode !== TSC_DEADLINE) {
      this.settle(now);
      if (this.running) {
        const remaining = this.target - this.counts(now);
        this.setDivide(value);
        this.baseTick = now;
        this.target = remaining;
        this.reschedule(now);
        return;
      }
    }
    this.setDivide(value);
  }

  currentCount(): number {
    if (this.mode === TSC_DEADLINE || !this.running) return 0;
    const now = this.clock.now();
    this.settle(now);
    if (!this.running) return 0;
    return this.target - this.counts(now);
  }

  /** IA32_TSC_DEADLINE as RDMSR reads it. */
  readDeadline(): number {
    return this.mode === TSC_DEADLINE ? this.deadline : 0;
  }

  /** IA32_TSC_DEADLINE write (`value` = the 64-bit MSR value as a number). */
  writeDeadline(value: number): void {
    if (this.mode !== TSC_DEADLINE) return;
    this.deadline = value;
    this.reschedule(this.clock.now());
  }

  /** The TSC was written (its offset moved): re-place a TSC-deadline expiry. */
  tscChanged(): void {
    if (this.mode === TSC_DEADLINE && this.deadline !== 0) this.reschedule(this.clock.now());
  }

  /** Tick of the pending expiry event, or null (for tests and traces). */
  get nextExpiry(): Tick | null {
    return this.event === null || this.event.cancelled ? null : this.event.tick;
  }

  private setDivide(value: number): void {
    this.dcr = value & 0xb;
    const num = timerDivisor(this.dcr) * this.hz;
    const g = gcd(num, this.timerHz);
    this.p = num / g;
    this.q = this.timerHz / g;
  }

  /** Counts elapsed since baseTick at `now`. */
  private counts(now: Tick): number {
    return mulDivFloor(now - this.baseTick, this.q, this.p);
  }

  /** Tick at which count index k (from baseTick) is reached. */
  private tickOf(k: number): Tick {
    return this.baseTick + mulDivCeil(k, this.p, this.q);
  }

  /** Bring the counting state up to `now`: a one-shot that reached 0 stops, a periodic target moves past now. */
  private settle(now: Tick): void {
    if (!this.running) return;
    const c = this.counts(now);
    if (c < this.target) return;
    if (this.mode === PERIODIC) {
      const n = this.initial;
      this.target += n * (Math.floor((c - this.target) / n) + 1);
    } else {
      this.running = false;
    }
  }

  private cancel(): void {
    if (this.event !== null) this.clock.cancel(this.event);
    this.event = null;
  }

  private reschedule(now: Tick): void {
    this.cancel();
    let at: number;
    if (this.mode === TSC_DEADLINE) {
      if (this.deadline === 0) return;
      at = this.deadlineTick(now);
      if (!Number.isFinite(at) || at > SAFE) return;
    } else {
      if (!this.running) return;
      if (this.mode === PERIODIC) {
        if (this.masked) return;
        this.settle(now);
      }
      at = this.tickOf(this.target);
    }
    this.event = this.clock.at(Math.max(at, now), (t) => this.fire(t), this.label, EventPriority.DEVICE);
  }

  /** First tick at which the TSC is >= the deadline. */
  private deadlineTick(now: Tick): number {
    const tscNow = this.tsc();
    const d = this.deadline;
    if (d <= tscNow) return now;
    if (this.tscHz === this.hz) return now + (d - tscNow);
    // TSC(t) = floor(t * tscHz / hz) + off, so t >= (d - off) * hz / tscHz.
    const base = d - tscNow + mulDivFloor(now, this.tscHz, this.hz);
    return mulDivCeil(base, this.hz, this.tscHz);
  }

  private fire(t: Tick): void {
    this.event = null;
    this.expiries++;
    if (this.mode === TSC_DEADLINE) {
      this.deadline = 0;
    } else if (this.mode === PERIODIC) {
      this.settle(t);
      this.reschedule(t);
    } else {
      this.running = false;
    }
    if (!this.masked) this.expire();
  }
}
