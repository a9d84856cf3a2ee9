/**
 * HPET, after the IA-PC HPET specification 1.0a (§2.3 register interface, §2.3.9 timer modes, §2.4
 * interrupts) and the ICH7/ICH9 datasheets' HPET chapter, a 1 KiB MMIO block (0xFED00000 on a PC):
 *   0x000 GCAP_ID (RO): REV_ID 1, NUM_TIM_CAP = timers - 1, COUNT_SIZE_CAP (64-bit), LEG_RT_CAP,
 *         VENDOR_ID 0x8086, and in bits 63:32 the counter period in femtoseconds
 *   0x010 GEN_CONF: ENABLE_CNF (bit 0: the main counter runs, timers may interrupt), LEG_RT_CNF (bit 1)
 *   0x020 GINTR_STA: Tn_INT_STS of level-triggered timers, write 1 to clear
 *   0x0F0 MAIN_CNT: 64-bit up-counter
 *   0x100 + 0x20 n: Tn_CONF_CAP, 0x108 + 0x20 n: Tn_COMPARATOR, 0x110 + 0x20 n: Tn_FSB_INT_ROUTE
 *
 * The counter period defaults to 69841279 fs (14.31818 MHz, the ICH's HPET; QEMU uses 10 ns): the
 * counter value is computed from now() through ClockDomain(hz, 1e15 / period), exactly, and never
 * ticked. Each timer schedules one event at its next match. A match is equality, as on hardware: the
 * timer fires when the counter (its low 32 bits in 32-bit mode) becomes equal to the comparator, so a
 * comparator behind the counter fires only after the counter wraps (2^32 clocks in 32-bit mode, ~300 s;
 * never in practice in 64-bit mode). Linux's hpet_next_event checks for exactly that. Periodic timers
 * add the last period written to the comparator at each match (32-bit arithmetic in 32-bit mode).
 *
 * Comparator writes follow QEMU's reading of Tn_VAL_SET_CNF (Linux's hpet_set_periodic depends on it):
 * one-shot, or periodic with VAL_SET: the write sets the comparator; periodic: it also sets the period;
 * VAL_SET clears itself after any comparator write. 32-bit mode truncates comparator and period (the
 * upper halves read 0 and ignore writes).
 *
 * Interrupts: each timer has its own IrqLine (`irqs[n]`); the board connects it to the IOAPIC pin that
 * `routeOf(n)` names and is told of changes through `onRouteChange`: Tn_INT_ROUTE_CNF (only pins set in
 * Tn_INT_ROUTE_CAP are accepted), or with LEG_RT_CNF timer 0 -> pin 2 (ISA IRQ0) and timer 1 -> pin 8
 * (IRQ8), when the board also disconnects the PIT and RTC (`onLegacyReplacement`). Edge timers pulse their
 * line; level timers set Tn_INT_STS (even with Tn_INT_ENB_CNF clear, ICH7 datasheet) and hold the line
 * while the status bit, INT_ENB and ENABLE_CNF are all set. ENABLE_CNF = 0 halts the counter and
 * silences every timer.
 *
 * Leaves out: FSB (MSI-like) delivery (Tn_FSB_INT_DEL_CAP = 0; the route registers read 0), 32-bit-only
 * timers (every timer is 64-bit and periodic capable, as in QEMU; the ICH's timers 1 and 2 are not), writes
 * to MAIN_CNT while the counter runs (ignored; the spec says to halt it first), and accesses narrower
 * than 32 bits other than reads (they return the addressed bytes; such writes are ignored).
 */
import type { Clock } from "../sim/clock.ts";
import type { SimEvent } from "../sim/event-queue.ts";
import { ClockDomain } from "./clock-domain.ts";
import { pulse, UNCONNECTED, type IrqLine } from "./irq-line.ts";
import type { MmioAccessSize, MmioDevice } from "./mmio-bus.ts";

export const HPET_MMIO_BYTES = 1024;
/** 14.31818 MHz, the ICH's HPET clock. */
export const HPET_PERIOD_FS = 69841279;

export const HpetReg = { GCAP_ID: 0x000, GEN_CONF: 0x010, GINTR_STA: 0x020, MAIN_CNT: 0x0f0 } as const;
export const hpetTimerReg = (n: number) => ({ CONF: 0x100 + 0x20 * n, COMPARATOR: 0x108 + 0x20 * n, FSB_ROUTE: 0x110 + 0x20 * n });

export const HpetConf = { ENABLE: 1, LEG_RT: 2 } as const;
export const HpetTimerConf = {
  INT_TYPE_LEVEL: 0x02,
  INT_ENB: 0x04,
  PERIODIC: 0x08,
  PER_INT_CAP: 0x10,
  SIZE_CAP: 0x20,
  VAL_SET: 0x40,
  MODE32: 0x100,
  ROUTE_SHIFT: 9,
  ROUTE_MASK: 0x3e00,
} as const;

const WRITABLE = 0x02 | 0x04 | 0x08 | 0x40 | 0x100 | 0x3e00;
const M32 = 0xffffffffn;
const M64 = (1n << 64n) - 1n;
/** Matches further away than this (in counter clocks: decades) are never scheduled. */
const NEVER = 2n ** 52n;

export interface HpetOptions {
  clock: Clock;
  /** Timer n's interrupt output. */
  irqs?: IrqLine[];
  name?: string;
  /** Number of timers, 3 to 24 (default 3): the 1 KiB block holds 24 timer register blocks. */
  timers?: number;
  /** Counter period in femtoseconds (at most 100 ns, spec §2.3.4). Default 69841279 (14.31818 MHz). */
  periodFs?: number;
  /** Tn_INT_ROUTE_CAP per timer (bit k: IOAPIC pin k allowed). Default ICH: pins 20-23, timer 2 also 11. */
  routeCaps?: number[];
  vendorId?: number;
  /** Timer n now interrupts on IOAPIC pin `pin` (route field or legacy replacement changed). */
  onRouteChange?: (timer: number, pin: number) => void;
  /** LEG_RT_CNF changed: when on, the PIT (IRQ0) and RTC (IRQ8) interrupts are to be disconnected. */
  onLegacyReplacement?: (enabled: boolean) => void;
}

export interface HpetTimerState {
  /** Tn_CONF_CAP bits 31:0 as read. */
  config: number;
  cmpLo: number;
  cmpHi: number;
  /** The period of a periodic timer (the last value written to the comparator). */
  periodLo: number;
  periodHi: number;
}

/** Everything the HPET holds, as plain data (64-bit values as lo/hi halves). */
export interface HpetState {
  genConf: number;
  intStatus: number;
  /** The main counter's value at HPET clock `startClock` (running), or its frozen value (halted). */
  counterLo: number;
  counterHi: number;
  startClock: number;
  timers: HpetTimerState[];
  /** Comparator matches per timer (statistics). */
  matches: number[];
}

const join = (lo: number, hi: number) => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
const lo32 = (v: bigint) => Number(v & M32);
const hi32 = (v: bigint) => Number((v >> 32n) & M32);

export class Hpet implements MmioDevice {
  readonly name: string;
  readonly state: HpetState;
  readonly dom: ClockDomain;
  private readonly clock: Clock;
  private readonly irqs: IrqLine[];
  private readonly caps: number[];
  private readonly gcapLo: number;
  private readonly periodFs: number;
  private readonly onRouteChange: (timer: number, pin: number) => void;
  private readonly onLegacy: (enabled: boolean) => void;
  private readonly events: (SimEvent | null)[];
  private readonly levels: boolean[];

  constructor(o: HpetOptions) {
    this.name = o.name ?? "hpet";
    const n = o.timers ?? 3;
    if (!Number.isInteger(n) || n < 3 || n > 24) throw new RangeError(`${this.name}: timers ${n} is not 3 to 24`);
    this.periodFs = o.periodFs ?? HPET_PERIOD_FS;
    if (!Number.isInteger(this.periodFs) || this.periodFs < 1 || this.periodFs > 100_000_000) {
      throw new RangeError(`${this.name}: periodFs ${this.periodFs} is not 1 to 100000000 (spec §2.3.4: at most 100 ns)`);
    }
    this.clock = o.clock;
    this.dom = new ClockDomain(o.clock.hz, 1e15, this.periodFs);
    this.irqs = Array.from({ length: n }, (_, k) => o.irqs?.[k] ?? UNCONNECTED);
    this.caps = Array.from({ length: n }, (_, k) => (o.routeCaps?.[k] ?? (k === 2 ? 0x00f00800 : 0x00f00000)) >>> 0);
    this.gcapLo = 0x01 | ((n - 1) << 8) | 0x2000 | 0x8000 | ((o.vendorId ?? 0x8086) << 16);
    this.onRouteChange = o.onRouteChange ?? (() => {});
    this.onLegacy = o.onLegacyReplacement ?? (() => {});
    this.events = new Array(n).fill(null);
    this.levels = new Array(n).fill(false);
    this.state = {
      genConf: 0, intStatus: 0, counterLo: 0, counterHi: 0, startClock: 0, matches: new Array(n).fill(0),
      timers: Array.from({ length: n }, () => ({
        config: HpetTimerConf.PER_INT_CAP | HpetTimerConf.SIZE_CAP, cmpLo: 0xffffffff, cmpHi: 0xffffffff, periodLo: 0, periodHi: 0,
      })),
    };
  }

  get enabled(): boolean {
    return (this.state.genConf & HpetConf.ENABLE) !== 0;
  }

  /** The main counter now. */
  counter(): bigint {
    return this.counterAt(this.dom.countAt(this.clock.now()));
  }

  /** The IOAPIC pin timer n interrupts on. */
  routeOf(n: number): number {
    if (n <= 1 && this.state.genConf & HpetConf.LEG_RT) return n === 0 ? 2 : 8;
    return (this.state.timers[n].config & HpetTimerConf.ROUTE_MASK) >> HpetTimerConf.ROUTE_SHIFT;
  }

  // ---- MmioDevice ----

  mmioRead(offset: number, size: MmioAccessSize): number {
    const dword = this.readDword(offset & ~3);
    if (size === 4) return dword;
    const shifted = dword >>> ((offset & 3) * 8);
    return size === 2 ? shifted & 0xffff : shifted & 0xff;
  }

  mmioWrite(offset: number, size: MmioAccessSize, value: number): void {
    if (size !== 4) return;
    this.writeDword(offset, value >>> 0);
  }

  private readDword(off: number): number {
    const s = this.state;
    switch (off) {
      case 0x000: return this.gcapLo;
      case 0x004: return this.periodFs;
      case 0x010: return s.genConf;
      case 0x020: return s.intStatus;
      case 0x0f0: return lo32(this.counter());
      case 0x0f4: return hi32(this.counter());
    }
    const t = this.timerAt(off);
    if (t < 0) return 0;
    const ts = s.timers[t];
    switch ((off - 0x100) & 0x1f) {
      case 0x00: return ts.config;
      case 0x04: return this.caps[t];
      case 0x08: return ts.cmpLo;
      case 0x0c: return ts.cmpHi;
      default: return 0; // FSB route: FSB delivery not supported
    }
  }

  private writeDword(off: number, v: number): void {
    const s = this.state;
    switch (off) {
      case 0x010: this.writeGenConf(v); return;
      case 0x020: this.clearStatus(v); return;
      case 0x0f0:
      case 0x0f4:
        if (this.enabled) return;
        if (off === 0x0f0) s.counterLo = v;
        else s.counterHi = v;
        return;
    }
    const t = this.timerAt(off);
    if (t < 0) return;
    switch ((off - 0x100) & 0x1f) {
      case 0x00: this.writeTimerConf(t, v); return;
      case 0x08: this.writeComparator(t, v, false); return;
      case 0x0c: this.writeComparator(t, v, true); return;
    }
  }

  private timerAt(off: number): number {
    if (off < 0x100) return -1;
    const t = (off - 0x100) >> 5;
    return t < this.state.timers.length ? t : -1;
  }

  // ---- general registers ----

  private writeGenConf(v: number): void {
    const s = this.state;
    const old = s.genConf;
    const now = this.dom.countAt(this.clock.now());
    const next = v & (HpetConf.ENABLE | HpetConf.LEG_RT);
    if ((old ^ next) & HpetConf.ENABLE) {
      if (next & HpetConf.ENABLE) {
        s.startClock = now;
      } else {
        const c = this.counterAt(now);
        s.counterLo = lo32(c);
        s.counterHi = hi32(c);
      }
    }
    const legacyChanged = ((old ^ next) & HpetConf.LEG_RT) !== 0;
    const before = legacyChanged ? [this.routeOf(0), this.routeOf(1)] : [];
    if (legacyChanged) this.quiet([0, 1]);
    s.genConf = next;
    if (legacyChanged) {
      this.onLegacy((next & HpetConf.LEG_RT) !== 0);
      for (const t of [0, 1]) if (this.routeOf(t) !== before[t]) this.onRouteChange(t, this.routeOf(t));
    }
    for (let t = 0; t < s.timers.length; t++) {
      this.schedule(t, now);
      this.updateLine(t);
    }
  }

  private clearStatus(v: number): void {
    this.state.intStatus &= ~v;
    for (let t = 0; t < this.state.timers.length; t++) if (v & (1 << t)) this.updateLine(t);
  }

  // ---- timer registers ----

  private writeTimerConf(t: number, v: number): void {
    const ts = this.state.timers[t];
    const old = ts.config;
    let next = (old & ~WRITABLE) | (v & WRITABLE);
    const route = (v & HpetTimerConf.ROUTE_MASK) >> HpetTimerConf.ROUTE_SHIFT;
    if (!((this.caps[t] >>> route) & 1)) next = (next & ~HpetTimerConf.ROUTE_MASK) | (old & HpetTimerConf.ROUTE_MASK);
    const routeBefore = this.routeOf(t);
    const routeChanges = ((old ^ next) & HpetTimerConf.ROUTE_MASK) !== 0 && routeBefore !== this.routeAfter(t, next);
    if (routeChanges) this.quiet([t]);
    ts.config = next;
    if (next & HpetTimerConf.MODE32) {
      ts.cmpHi = 0;
      ts.periodHi = 0;
    }
    if (!(next & HpetTimerConf.INT_TYPE_LEVEL)) this.state.intStatus &= ~(1 << t);
    if (routeChanges) this.onRouteChange(t, this.routeOf(t));
    this.schedule(t, this.dom.countAt(this.clock.now()));
    this.updateLine(t);
  }

  private routeAfter(t: number, config: number): number {
    if (t <= 1 && this.state.genConf & HpetConf.LEG_RT) return t === 0 ? 2 : 8;
    return (config & HpetTimerConf.ROUTE_MASK) >> HpetTimerConf.ROUTE_SHIFT;
  }

  private writeComparator(t: number, v: number, high: boolean): void {
    const ts = this.state.timers[t];
    const c = ts.config;
    if (!(high && c & HpetTimerConf.MODE32)) {
      const periodic = (c & HpetTimerConf.PERIODIC) !== 0;
      if (!periodic || c & HpetTimerConf.VAL_SET) {
        if (high) ts.cmpHi = v;
        else ts.cmpLo = v;
      }
      if (periodic) {
        if (high) ts.periodHi = v;
        else ts.periodLo = v;
      }
    }
    ts.config = c & ~HpetTimerConf.VAL_SET;
    this.schedule(t, this.dom.countAt(this.clock.now()));
  }

  // ---- matching ----

  private counterAt(clock: number): bigint {
    const s = this.state;
    const base = join(s.counterLo, s.counterHi);
    if (!this.enabled) return base;
    return (base + BigInt(clock - s.startClock)) & M64;
  }

  /** (Re)schedules timer t's next match after HPET clock `now`. */
  private schedule(t: number, now: number): void {
    this.clock.cancel(this.events[t]);
    this.events[t] = null;
    if (!this.enabled) return;
    const ts = this.state.timers[t];
    const wide = !(ts.config & HpetTimerConf.MODE32);
    const mask = wide ? M64 : M32;
    const cmp = join(ts.cmpLo, wide ? ts.cmpHi : 0);
    let delta = (cmp - this.counterAt(now)) & mask;
    if (delta === 0n) delta = mask + 1n; // the counter already holds it: the next equality is a full wrap away
    if (delta >= NEVER) return;
    const at = now + Number(delta);
    this.events[t] = this.clock.at(this.dom.tickOf(at), () => this.match(t, at), `${this.name}.timer${t}`);
  }

  private match(t: number, at: number): void {
    this.events[t] = null;
    const ts = this.state.timers[t];
    const c = ts.config;
    this.state.matches[t]++;
    if (c & HpetTimerConf.INT_TYPE_LEVEL) {
      this.state.intStatus |= 1 << t;
      this.updateLine(t);
    } else if (c & HpetTimerConf.INT_ENB) {
      pulse(this.irqs[t]);
    }
    if (c & HpetTimerConf.PERIODIC) {
      const wide = !(c & HpetTimerConf.MODE32);
      const next = (join(ts.cmpLo, wide ? ts.cmpHi : 0) + join(ts.periodLo, wide ? ts.periodHi : 0)) & (wide ? M64 : M32);
      ts.cmpLo = lo32(next);
      ts.cmpHi = hi32(next);
    }
    this.schedule(t, at);
  }

  /** A level timer holds its line while its status bit, INT_ENB and ENABLE_CNF are set. */
  private updateLine(t: number): void {
    const c = this.state.timers[t].config;
    const level = this.enabled && (c & HpetTimerConf.INT_TYPE_LEVEL) !== 0 && (c & HpetTimerConf.INT_ENB) !== 0 &&
      (this.state.intStatus & (1 << t)) !== 0;
    if (level === this.levels[t]) return;
    this.levels[t] = level;
    this.irqs[t].set(level);
  }

  /** Drops asserted lines before a route change, so the board moves an idle line (updateLine re-raises). */
  private quiet(timers: number[]): void {
    for (const t of timers) {
      if (this.levels[t]) {
        this.levels[t] = false;
        this.irqs[t].set(false);
      }
    }
  }
}
