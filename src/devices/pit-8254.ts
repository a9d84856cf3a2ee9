/**
 * Intel 8254 programmable interval timer (Intel 8254 datasheet, order 231164: "Mode definitions",
 * "Read operations", "Read-back command", tables 1-3), at ports 0x40-0x43 of a PC, clocked at
 * 1.193182 MHz (14.31818 MHz / 12). Offsets: 0-2 counter 0-2, 3 control word (write only; reads float,
 * 0xFF). Channel 0's OUT drives `irq` (ISA IRQ0; IOAPIC pin 2 through the MADT interrupt source
 * override); channel 2's OUT and gate are reached through port 0x61 (`PitPort61` below).
 *
 * Every counter is computed in closed form from the PIT edge count (ClockDomain), never ticked: the
 * counting element is described by a segment (idle/frozen, counting down to a terminal edge, or
 * periodic with an origin and a period), so reading the count, the latch and read-back commands,
 * and OUT all follow from now(). Channel 0 schedules one event per change of OUT (two per period in
 * modes 2 and 3: the one-clock low pulse of mode 2, both halves of the square wave of mode 3), and the
 * IRQ line carries OUT's level, so an edge-triggered input sees the rising edges as the 8259 does.
 *
 * Modes as the datasheet defines them, counting in PIT clock edges after the write at edge E:
 * - 0 interrupt on terminal count: OUT low at once; the count loads at edge E+1 and OUT goes high at
 *   E+1+N (N+1 clocks after the write); writing the first byte of a two-byte count stops counting.
 * - 1 hardware one-shot, 5 hardware strobe: started (and restarted) by a rising gate edge.
 * - 2 rate generator: OUT low for one clock when the count reaches 1, period N.
 * - 3 square wave: OUT high for ceil(N/2) and low for floor(N/2) clocks, odd counts counting down
 *   N, N-1, N-3 ... and N, N-3, N-5 ... as the datasheet describes.
 * - 4 software strobe: OUT low for one clock at terminal count, N+1 clocks after the write.
 * A new count written in mode 2 takes effect at the next reload, in mode 3 at the end of the current
 * half-cycle; in modes 0 and 4 on the next clock; in 1 and 5 at the next trigger. Gate low stops
 * modes 0, 2, 3 and 4 (2 and 3 force OUT high; a rising gate reloads them). BCD counting (0-9999)
 * is supported. A count of 0 is the maximum (65536, or 10000 in BCD).
 *
 * Leaves out: the sub-clock timing of gate sampling and count loading (everything happens on whole
 * edges), what the counting element reads between a write and the edge that loads it (we return the new
 * count), counts of 1 in modes 2 and 3 (illegal per the datasheet; treated as 2), and the speaker.
 */
import type { Clock } from "../sim/clock.ts";
import type { SimEvent } from "../sim/event-queue.ts";
import { ClockDomain } from "./clock-domain.ts";
import { UNCONNECTED, type IrqLine } from "./irq-line.ts";
import type { PortAccessSize, PortDevice } from "./port-bus.ts";

export const PIT_INPUT_HZ = 1193182;
/** An edge that never comes (kept finite so the state survives JSON). */
const NOT_YET = Number.MAX_SAFE_INTEGER;

/** How the counting element behaves from edge `from` on (before it: preValue / preOut). */
export interface PitSegment {
  kind: "idle" | "down" | "periodic";
  from: number;
  preValue: number;
  preOut: boolean;
  /** down: the edge at which the count reaches 0. */
  term: number;
  /** periodic: an edge at which the count (re)loaded with OUT going high, and the period. */
  origin: number;
  period: number;
  /** idle: the frozen count and OUT, and the edges left to terminal count (to resume modes 0 and 4). */
  value: number;
  out: boolean;
  remaining: number;
}

export interface PitChannelState {
  /** Control word fields: mode 0-5, RW (1 LSB, 2 MSB, 3 LSB then MSB), BCD; programmed once a
   * control word was written. */
  mode: number;
  rw: number;
  bcd: boolean;
  programmed: boolean;
  /** The count register (binary value of the count written; 0 = maximum) and whether one was written
   * since the control word. */
  count: number;
  countWritten: boolean;
  /** LSB written, waiting for the MSB (RW 3), or -1. */
  pendingLsb: number;
  /** Next unlatched read of an RW 3 counter returns the MSB. */
  readMsb: boolean;
  /** Latched status byte (first) and count bytes, to be read in order. */
  latch: number[];
  statusLatched: boolean;
  countLatched: boolean;
  gate: boolean;
  /** NULL COUNT: the last count written is loaded into the counting element at this edge
   * (NOT_YET: not before a gate trigger or rise; -1: loaded). */
  nullUntil: number;
  seg: PitSegment;
  /** Modes 2 and 3: the segment a new count starts at its reload, or null. */
  next: PitSegment | null;
}

export interface Pit8254Options {
  clock: Clock;
  /** Channel 0's OUT (IRQ0). */
  irq?: IrqLine;
  name?: string;
  /** Input clock, Hz (default 1193182). */
  inputHz?: number;
  /** Start with channel 0 in mode 3, count 65536 (18.2 Hz), as a PC BIOS leaves it (SeaBIOS pit_setup).
   * Default false: no channel is programmed, OUT is low. */
  biosInit?: boolean;
}

export interface Pit8254State {
  channels: PitChannelState[];
}

function idle(value: number, out: boolean, remaining = 0): PitSegment {
  return { kind: "idle", from: 0, preValue: value, preOut: out, term: 0, origin: 0, period: 0, value, out, remaining };
}

const mod = (a: number, m: number) => ((a % m) + m) % m;

function toBcd(v: number): number {
  return (v % 10) | (Math.floor(v / 10) % 10) << 4 | (Math.floor(v / 100) % 10) << 8 | (Math.floor(v / 1000) % 10) << 12;
}

function fromBcd(v: number): number {
  return (v & 15) + ((v >> 4) & 15) * 10 + ((v >> 8) & 15) * 100 + ((v >> 12) & 15) * 1000;
}

export class Pit8254 implements PortDevice {
  readonly name: string;
  readonly maxAccessSize = 1;
  readonly state: Pit8254State;
  readonly dom: ClockDomain;
  private readonly clock: Clock;
  private readonly irq: IrqLine;
  private readonly irqWired: boolean;
  private irqLevel = false;
  private irqEvent: SimEvent | null = null;

  constructor(o: Pit8254Options) {
    this.name = o.name ?? "pit8254";
    this.clock = o.clock;
    this.dom = new ClockDomain(o.clock.hz, o.inputHz ?? PIT_INPUT_HZ);
    this.irq = o.irq ?? UNCONNECTED;
    this.irqWired = o.irq !== undefined && o.irq !== UNCONNECTED;
    const channel = (): PitChannelState => ({
      mode: 0, rw: 0, bcd: false, programmed: false, count: 0, countWritten: false, pendingLsb: -1, readMsb: false,
      latch: [], statusLatched: false, countLatched: false, gate: true, nullUntil: -1, seg: idle(0, false), next: null,
    });
    this.state = { channels: [channel(), channel(), channel()] };
    if (o.biosInit) {
      this.portWrite(3, 1, 0x36);
      this.portWrite(0, 1, 0);
      this.portWrite(0, 1, 0);
    }
  }

  /** The PIT edge count now. */
  edge(): number {
    return this.dom.countAt(this.clock.now());
  }

  // ---- PortDevice ----

  portRead(offset: number, _size: PortAccessSize): number {
    if (offset > 2) return 0xff;
    const ch = this.state.channels[offset];
    if (ch.latch.length > 0) {
      // A latched status is read before a latched count, whichever was latched first.
      const b = ch.latch.shift()!;
      if (ch.statusLatched) ch.statusLatched = false;
      else if (ch.latch.length === 0) ch.countLatched = false;
      return b;
    }
    const v = this.displayed(ch, this.valueAt(ch, this.edge()));
    if (ch.rw === 1) return v & 0xff;
    if (ch.rw === 2) return v >> 8;
    ch.readMsb = !ch.readMsb;
    return ch.readMsb ? v & 0xff : v >> 8;
  }

  portWrite(offset: number, _size: PortAccessSize, value: number): void {
    const v = value & 0xff;
    const e = this.edge();
    if (offset === 3) this.writeControl(v, e);
    else if (offset <= 2) this.writeCount(offset, v, e);
  }

  // ---- the gate inputs and OUT (port 0x61, boards) ----

  /** Drive a channel's GATE input (channels 0 and 1 are tied high on a PC; channel 2 is port 0x61 bit 0). */
  setGate(channel: number, level: boolean): void {
    const ch = this.state.channels[channel];
    if (ch.gate === level) return;
    const e = this.edge();
    this.settle(ch, e);
    ch.gate = level;
    if (!ch.programmed) return;
    const m = ch.mode;
    if (m === 1 || m === 5) {
      if (level && ch.countWritten) {
        const n = this.full(ch, ch.count);
        ch.seg = this.segment("down", ch, e, e + 1, { term: e + 1 + n });
        ch.nullUntil = ch.nullUntil === -1 ? -1 : e + 1;
      }
    } else if (m === 2 || m === 3) {
      if (!level) ch.seg = idle(this.valueAt(ch, e), true);
      else if (ch.countWritten) this.startPeriodic(ch, e);
      ch.next = null;
    } else if (ch.countWritten) {
      // Modes 0 and 4: gate low suspends counting, gate high resumes it.
      if (!level) ch.seg = idle(this.valueAt(ch, e), this.outAt(ch, e), ch.seg.kind === "down" ? ch.seg.term - e : ch.seg.remaining);
      else if (ch.seg.kind === "idle") ch.seg = this.segment("down", ch, e, e, { term: e + ch.seg.remaining });
    }
    if (channel === 0) this.refreshIrq(e);
  }

  /** A channel's OUT now. */
  out(channel: number): boolean {
    return this.outAt(this.state.channels[channel], this.edge());
  }

  // ---- control word and count writes ----

  private writeControl(v: number, e: number): void {
    const sc = v >> 6;
    if (sc === 3) {
      this.readBack(v, e);
      return;
    }
    const ch = this.state.channels[sc];
    this.settle(ch, e);
    const rw = (v >> 4) & 3;
    if (rw === 0) {
      // Counter latch command: ignored while an earlier latched count is unread.
      if (ch.programmed && !ch.countLatched) this.latchCount(ch, e);
      return;
    }
    ch.seg = idle(this.valueAt(ch, e), ((v >> 1) & 7) !== 0);
    ch.next = null;
    ch.mode = (v >> 1) & 7;
    if (ch.mode > 5) ch.mode -= 4;
    ch.rw = rw;
    ch.bcd = (v & 1) !== 0;
    ch.programmed = true;
    ch.countWritten = false;
    ch.pendingLsb = -1;
    ch.readMsb = false;
    ch.latch = [];
    ch.statusLatched = ch.countLatched = false;
    ch.nullUntil = NOT_YET;
    if (sc === 0) this.refreshIrq(e);
  }

  private readBack(v: number, e: number): void {
    for (let i = 0; i < 3; i++) {
      if (!(v & (2 << i))) continue;
      const ch = this.state.channels[i];
      this.settle(ch, e);
      if (!ch.programmed) continue;
      if (!(v & 0x10) && !ch.statusLatched) {
        const status = (this.outAt(ch, e) ? 0x80 : 0) | (e < ch.nullUntil ? 0x40 : 0) | (ch.rw << 4) | (ch.mode << 1) | (ch.bcd ? 1 : 0);
        ch.latch.unshift(status);
        ch.statusLatched = true;
      }
      if (!(v & 0x20) && !ch.countLatched) this.latchCount(ch, e);
    }
  }

  private latchCount(ch: PitChannelState, e: number): void {
    const v = this.displayed(ch, this.valueAt(ch, e));
    if (ch.rw & 1) ch.latch.push(v & 0xff);
    if (ch.rw & 2) ch.latch.push(v >> 8);
    ch.countLatched = true;
    ch.readMsb = false;
  }

  private writeCount(i: number, v: number, e: number): void {
    const ch = this.state.channels[i];
    if (!ch.programmed) return;
    this.settle(ch, e);
    let raw: number;
    if (ch.rw === 1) raw = v;
    else if (ch.rw === 2) raw = v << 8;
    else if (ch.pendingLsb < 0) {
      ch.pendingLsb = v;
      if (ch.mode === 0) {
        // Mode 0: the first byte stops counting and sets OUT low at once.
        ch.seg = idle(this.valueAt(ch, e), false);
        ch.next = null;
        if (i === 0) this.refreshIrq(e);
      }
      return;
    } else {
      raw = ch.pendingLsb | (v << 8);
      ch.pendingLsb = -1;
    }
    ch.count = ch.bcd ? fromBcd(raw) : raw;
    const first = !ch.countWritten;
    ch.countWritten = true;
    this.loadCount(ch, e, first);
    if (i === 0) this.refreshIrq(e);
  }

  private loadCount(ch: PitChannelState, e: number, first: boolean): void {
    const n = this.full(ch, ch.count);
    switch (ch.mode) {
      case 0:
      case 4:
        ch.nullUntil = e + 1;
        if (ch.gate) ch.seg = this.segment("down", ch, e, e + 1, { term: e + 1 + n }, ch.mode === 4);
        else ch.seg = idle(n % this.modulus(ch), ch.mode === 4, n);
        return;
      case 1:
      case 5:
        ch.nullUntil = NOT_YET; // loaded by the next trigger
        return;
      default: {
        const periodic = ch.seg.kind === "periodic" && !first;
        if (!ch.gate) {
          ch.nullUntil = NOT_YET;
          return;
        }
        if (!periodic || e < ch.seg.from) {
          this.startPeriodic(ch, e);
          return;
        }
        // A new count while counting: taken at the next reload (mode 2) or half-cycle end (mode 3).
        const s = ch.seg;
        const p = Math.max(2, n);
        let at: number;
        let origin: number;
        if (ch.mode === 2) {
          at = origin = s.origin + (Math.floor((e - s.origin) / s.period) + 1) * s.period;
        } else {
          at = this.segNextChange(ch, s, e, Infinity);
          origin = this.segOut(ch, s, at) ? at : at - ((p + 1) >> 1);
        }
        ch.next = this.segment("periodic", ch, e, at, { origin, period: p });
        ch.nullUntil = at;
      }
    }
  }

  private startPeriodic(ch: PitChannelState, e: number): void {
    const p = Math.max(2, this.full(ch, ch.count));
    ch.seg = this.segment("periodic", ch, e, e + 1, { origin: e + 1, period: p }, true);
    ch.next = null;
    ch.nullUntil = e + 1;
  }

  /** A new segment starting at `from`; before it, the channel keeps what it shows at edge `e`. */
  private segment(kind: "down" | "periodic", ch: PitChannelState, e: number, from: number,
    f: { term?: number; origin?: number; period?: number }, preOut?: boolean): PitSegment {
    return {
      kind, from, preValue: this.valueAt(ch, e), preOut: preOut ?? this.outAt(ch, e),
      term: f.term ?? 0, origin: f.origin ?? 0, period: f.period ?? 0, value: 0, out: false, remaining: 0,
    };
  }

  // ---- closed-form counting ----

  private modulus(ch: PitChannelState): number {
    return ch.bcd ? 10000 : 0x10000;
  }

  /** The count as a number of clocks: 0 means the maximum. */
  private full(ch: PitChannelState, count: number): number {
    return count === 0 ? this.modulus(ch) : count;
  }

  private displayed(ch: PitChannelState, v: number): number {
    return ch.bcd ? toBcd(v) : v & 0xffff;
  }

  /** Folds a pending segment in once its edge has come. */
  private settle(ch: PitChannelState, e: number): void {
    if (ch.next !== null && e >= ch.next.from) {
      ch.seg = ch.next;
      ch.next = null;
    }
    if (ch.nullUntil !== -1 && e >= ch.nullUntil) ch.nullUntil = -1;
  }

  private segOf(ch: PitChannelState, e: number): PitSegment {
    return ch.next !== null && e >= ch.next.from ? ch.next : ch.seg;
  }

  /** The counting element at edge e (binary). */
  valueAt(ch: PitChannelState, e: number): number {
    const s = this.segOf(ch, e);
    if (s.kind === "idle") return s.value;
    if (e < s.from) return s.preValue;
    if (s.kind === "down") return mod(s.term - e, this.modulus(ch));
    const n = s.period;
    const p = mod(e - s.origin, n);
    if (ch.mode === 2) return n - p;
    const h = (n + 1) >> 1;
    if (n % 2 === 0) return p < h ? n - 2 * p : n - 2 * (p - h);
    if (p < h) return p === 0 ? n : n + 1 - 2 * p;
    const q = p - h;
    return q === 0 ? n : n - 1 - 2 * q;
  }

  outAt(ch: PitChannelState, e: number): boolean {
    return this.segOut(ch, this.segOf(ch, e), e);
  }

  private segOut(ch: PitChannelState, s: PitSegment, e: number): boolean {
    if (s.kind === "idle") return s.out;
    if (e < s.from) return s.preOut;
    if (s.kind === "down") return ch.mode <= 1 ? e >= s.term : e !== s.term;
    const p = mod(e - s.origin, s.period);
    return ch.mode === 2 ? p !== s.period - 1 : p < (s.period + 1) >> 1;
  }

  /** The first edge after e, before `limit`, at which segment s changes OUT (Infinity if none). */
  private segNextChange(ch: PitChannelState, s: PitSegment, e: number, limit: number): number {
    if (s.kind === "idle") return Infinity;
    const cands: number[] = [s.from];
    if (s.kind === "down") cands.push(s.term, s.term + 1);
    else {
      const n = s.period;
      const fall = ch.mode === 2 ? n - 1 : (n + 1) >> 1;
      const k = Math.floor((Math.max(e + 1, s.from) - s.origin) / n);
      for (let j = k; j <= k + 1; j++) cands.push(s.origin + j * n, s.origin + j * n + fall);
    }
    let best = Infinity;
    for (const c of cands) {
      if (c <= e || c >= limit || c >= best || c < s.from) continue;
      const before = c - 1 < s.from ? s.preOut : this.segOut(ch, s, c - 1);
      if (this.segOut(ch, s, c) !== before) best = c;
    }
    return best;
  }

  /** The first edge after e at which OUT changes. */
  nextChange(ch: PitChannelState, e: number): number {
    const nx = ch.next;
    const limit = nx === null ? Infinity : nx.from;
    const c = this.segNextChange(ch, ch.seg, e, limit);
    if (c < limit || nx === null) return c;
    if (nx.from > e && this.segOut(ch, nx, nx.from) !== this.segOut(ch, ch.seg, nx.from - 1)) return nx.from;
    return this.segNextChange(ch, nx, Math.max(e, nx.from), Infinity);
  }

  // ---- channel 0 -> IRQ ----

  private refreshIrq(e: number): void {
    if (!this.irqWired) return;
    const ch = this.state.channels[0];
    this.setIrq(this.outAt(ch, e));
    this.clock.cancel(this.irqEvent);
    this.irqEvent = null;
    const next = this.nextChange(ch, e);
    if (next !== Infinity) {
      this.irqEvent = this.clock.at(this.dom.tickOf(next), () => {
        this.irqEvent = null;
        this.settle(ch, next);
        this.refreshIrq(next);
      }, `${this.name}.out0`);
    }
  }

  private setIrq(level: boolean): void {
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    this.irq.set(level);
  }
}

/**
 * Port 0x61, the PC/AT "system control port B" (IBM PC/AT technical reference; Intel PIIX/ICH datasheets
 * NMI_SC): bit 0 drives PIT channel 2's gate, bit 1 enables the speaker data (stored only), bits 2-3
 * enable parity/IOCHK NMIs (stored only); reads add bit 4, the refresh-request toggle (flips every
 * 15.085 us, i.e. every 18 PIT clocks, as channel 1 programmed by the BIOS makes it), and bit 5,
 * channel 2's OUT. Bits 6-7 (NMI sources) read 0. Linux's PIT calibration of the TSC uses bits 0 and 5.
 * At reset the gate of channel 2 is low.
 */
export class PitPort61 implements PortDevice {
  readonly name = "port61";
  readonly maxAccessSize = 1;
  readonly state = { control: 0 };

  constructor(private readonly pit: Pit8254) {
    pit.setGate(2, false);
  }

  portRead(_offset: number, _size: PortAccessSize): number {
    const refresh = Math.floor(this.pit.edge() / 18) & 1;
    return (this.state.control & 0x0f) | (refresh << 4) | (this.pit.out(2) ? 0x20 : 0);
  }

  portWrite(_offset: number, _size: PortAccessSize, value: number): void {
    this.state.control = value & 0x0f;
    this.pit.setGate(2, (value & 1) !== 0);
  }
}
