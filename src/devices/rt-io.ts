/**
 * rt-io: a real-time sensor/actuator card (issue 4 "Devices", shared/DESIGN.md §3). Our own device, so
 * this header is its datasheet. It emits input events from a periodic, jittered-periodic or sporadic
 * source, raises its interrupt, and measures from outside the guest how long the driver takes to
 * acknowledge each event, how many events were missed, and when the actuator output was written.
 * Interrupt semantics follow the PCI level-triggered INTx convention (PCI Local Bus Spec 3.0 §2.2.6):
 * the line is asserted while an enabled status bit is set. No Intel SDM section applies (not a CPU part).
 *
 * Registers: 32 bits at 4-byte offsets, the same layout on the port bus and in MMIO (registerBytes = 64).
 * Reads of 1 or 2 bytes return those bytes of the register; writes narrower than 32 bits are ignored.
 * Unlisted offsets read 0 and ignore writes.
 *
 * | offset | name        | R/W   | meaning                                                                 |
 * |--------|-------------|-------|-------------------------------------------------------------------------|
 * | 0x00   | ID          | R     | 0x0001_5654: PCI device id << 16 | vendor id                             |
 * | 0x04   | CTRL        | R/W   | bit 0 ENABLE: 0->1 starts the event source (first event firstEventUs     |
 * |        |             |       | later), 1->0 stops it (the pending arrival is cancelled)                 |
 * | 0x08   | STATUS      | R/W1C | bit 0 PENDING: the current event is not acknowledged (read-only, cleared |
 * |        |             |       | by ACK); bit 1 OVERRUN: an event arrived while one was pending (W1C)     |
 * | 0x0C   | INT_ENABLE  | R/W   | bits as STATUS; the IRQ line is asserted while STATUS & INT_ENABLE != 0  |
 * | 0x10   | SEQ         | R     | sequence number of the current event (1, 2, ...; 0 before the first)   |
 * | 0x14   | TS_LO       | R     | arrival time of the current event, device ns time, low 32 bits          |
 * | 0x18   | TS_HI       | R     | ... high 32 bits                                                        |
 * | 0x1C   | DATA        | R     | the sensor value of the current event (32 bits from the "data" stream)  |
 * | 0x20   | ACK         | W     | write SEQ to acknowledge the current event (clears PENDING, records the  |
 * |        |             |       | latency); any other value is ignored and counted. Reads: last acked SEQ |
 * | 0x24   | MISSED      | R     | events missed so far (overruns)                                         |
 * | 0x28   | ACTUATE     | R/W   | actuator output; each write is time-stamped (report().actuations)       |
 * | 0x2C   | NOW_LO      | R     | the device's ns time now, low 32 bits; reading it latches NOW_HI        |
 * | 0x30   | NOW_HI      | R     | high 32 bits latched by the last NOW_LO read                            |
 * | 0x34   | INTERVAL_NS | R     | nominal period (periodic, jittered) or minimum inter-arrival (sporadic) |
 *
 * Event times, counted from the tick ENABLE was set (t = 0), event k = 0, 1, 2 ...:
 * - periodic: t_k = firstEventUs + k * periodUs.
 * - jittered: t_k = firstEventUs + k * periodUs + j_k, with j_k uniform in [-jitterUs, +jitterUs]
 *   (jitterUs <= periodUs / 2) or normal with mean 0 and standard deviation jitterUs, truncated to
 *   +-periodUs / 2 so events keep their order. Jitter never accumulates (no drift).
 * - sporadic: t_0 = firstEventUs, t_{k+1} = t_k + minInterArrivalUs + Exp(meanExtraUs) (a Poisson
 *   process with a dead time, the sporadic task model's minimum inter-arrival).
 * Times are summed in ns and converted to ticks once (nsToTicks), so rounding never accumulates.
 *
 * Overrun: an event that arrives while PENDING is set is missed (MISSED + 1, OVERRUN set). With
 * overrun = "replace" the new event becomes current (SEQ/TS/DATA change, the old one is lost); with
 * "keep" the current event stays and the new one is lost (its SEQ number is consumed, so the driver sees
 * the gap). Either way events = acked + missed + (1 if an event is still pending).
 *
 * Device ns time = floor(tick * 1e9 / hz). Latency = ack tick - event tick, in core cycles; the ack tick
 * is the clock's now() during the write (the writing core's exact time).
 * Leaves out: analogue behaviour, MSI (INTx only), a DMA path (the card is register-only).
 */
import { Reg32Device } from "./reg32-device.ts";
import { nsToTicks, ticksToNs, type Clock } from "../sim/clock.ts";
import type { SimEvent, Tick } from "../sim/event-queue.ts";
import type { Rng } from "../sim/rng.ts";
import { ClockDomain } from "./clock-domain.ts";
import { UNCONNECTED, type IrqLine } from "./irq-line.ts";

export const RtIoReg = {
  ID: 0x00,
  CTRL: 0x04,
  STATUS: 0x08,
  INT_ENABLE: 0x0c,
  SEQ: 0x10,
  TS_LO: 0x14,
  TS_HI: 0x18,
  DATA: 0x1c,
  ACK: 0x20,
  MISSED: 0x24,
  ACTUATE: 0x28,
  NOW_LO: 0x2c,
  NOW_HI: 0x30,
  INTERVAL_NS: 0x34,
} as const;

export const RT_IO_CTRL_ENABLE = 1;
export const RT_IO_STATUS_PENDING = 1;
export const RT_IO_STATUS_OVERRUN = 2;

export const descriptor = {
  kind: "rt-io",
  description: "real-time sensor/actuator card: periodic, jittered or sporadic events, ack latency and missed-event counts",
  registerBytes: 64,
  /** Vendor 0x5654 ("VT"): this project's own id, not a PCI-SIG assignment. Class 11h/00h: DPIO module. */
  pci: { vendorId: 0x5654, deviceId: 0x0001, classCode: 0x110000 },
} as const;

const ID_VALUE = (descriptor.pci.deviceId << 16) | descriptor.pci.vendorId;

export interface RtIoOptions {
  /** Event source. */
  source: "periodic" | "jittered" | "sporadic";
  /** Nominal period (periodic, jittered), microseconds. */
  periodUs: number;
  /** Jitter (jittered): half-width of the uniform distribution, or the normal's standard deviation, us. */
  jitterUs: number;
  jitter: "uniform" | "normal";
  /** Sporadic: minimum inter-arrival time, microseconds. */
  minInterArrivalUs: number;
  /** Sporadic: mean of the exponential part added to the minimum, microseconds. */
  meanExtraUs: number;
  /** Time from ENABLE to the first (nominal) event, microseconds. Default: periodUs, or minInterArrivalUs
   * for a sporadic source. */
  firstEventUs: number;
  /** What an event arriving while one is pending does (see the header). */
  overrun: "replace" | "keep";
}

export const RT_IO_DEFAULTS: Readonly<Omit<RtIoOptions, "firstEventUs">> = {
  source: "periodic",
  periodUs: 1000,
  jitterUs: 0,
  jitter: "uniform",
  minInterArrivalUs: 1000,
  meanExtraUs: 1000,
  overrun: "replace",
};

function bad(name: string, why: string, v: unknown): never {
  throw new RangeError(`rt-io: option ${name} ${why} (got ${String(v)})`);
}

/** Defaults filled in and every option checked; a RangeError names the bad option. */
export function resolveRtIoOptions(o: Partial<RtIoOptions> = {}): RtIoOptions {
  const r = { ...RT_IO_DEFAULTS, ...o };
  if (!["periodic", "jittered", "sporadic"].includes(r.source)) bad("source", "must be periodic, jittered or sporadic", r.source);
  if (!["uniform", "normal"].includes(r.jitter)) bad("jitter", "must be uniform or normal", r.jitter);
  if (!["replace", "keep"].includes(r.overrun)) bad("overrun", "must be replace or keep", r.overrun);
  if (!(Number.isFinite(r.periodUs) && r.periodUs > 0)) bad("periodUs", "must be a positive number of microseconds", r.periodUs);
  if (!(Number.isFinite(r.jitterUs) && r.jitterUs >= 0)) bad("jitterUs", "must be a non-negative number of microseconds", r.jitterUs);
  if (r.source === "jittered" && r.jitter === "uniform" && r.jitterUs > r.periodUs / 2) {
    bad("jitterUs", `must be at most periodUs / 2 = ${r.periodUs / 2} so events keep their order`, r.jitterUs);
  }
  if (!(Number.isFinite(r.minInterArrivalUs) && r.minInterArrivalUs >= 0)) {
    bad("minInterArrivalUs", "must be a non-negative number of microseconds", r.minInterArrivalUs);
  }
  if (!(Number.isFinite(r.meanExtraUs) && r.meanExtraUs >= 0)) bad("meanExtraUs", "must be a non-negative number of microseconds", r.meanExtraUs);
  if (r.source === "sporadic" && r.minInterArrivalUs + r.meanExtraUs <= 0) {
    bad("minInterArrivalUs", "plus meanExtraUs must be positive for a sporadic source", r.minInterArrivalUs);
  }
  const firstEventUs = o.firstEventUs ?? (r.source === "sporadic" ? r.minInterArrivalUs : r.periodUs);
  if (!(Number.isFinite(firstEventUs) && firstEventUs >= 0)) bad("firstEventUs", "must be a non-negative number of microseconds", firstEventUs);
  return { ...r, firstEventUs };
}

export interface RtIoDeps {
  clock: Clock;
  irq?: IrqLine;
  /** The card's stream; it forks "jitter", "arrivals" and "data" from it. */
  rng: Rng;
  name?: string;
}

/** Everything the card holds, as plain data. */
export interface RtIoState {
  ctrl: number;
  status: number;
  intEnable: number;
  /** Current event: sequence number, tick, device ns time, data. */
  seq: number;
  eventTick: number;
  eventNs: number;
  data: number;
  lastAck: number;
  actuate: number;
  nowHiLatch: number;
  /** Schedule: tick ENABLE was set, index of the next event, ns offset of the next sporadic event. */
  startTick: number;
  nextIndex: number;
  nextNs: number;
  events: number;
  acked: number;
  missed: number;
  badAcks: number;
  latencyTicks: number[];
  actuationTicks: number[];
  actuationValues: number[];
  /** SEQ current when each actuation was written, and ticks since that event arrived. */
  actuationSeqs: number[];
  actuationSinceEventTicks: number[];
}

export interface RtIoActuation {
  tick: number;
  value: number;
  seq: number;
  sinceEventTicks: number;
}

export interface RtIoReport {
  events: number;
  acked: number;
  missed: number;
  pending: boolean;
  badAcks: number;
  latencyTicks: number[];
  actuations: RtIoActuation[];
}

export class RtIo extends Reg32Device {
  readonly name: string;
  readonly options: RtIoOptions;
  readonly state: RtIoState;
  private readonly clock: Clock;
  private readonly nsClock: ClockDomain | null;
  private readonly irq: IrqLine;
  private readonly jitterRng: Rng;
  private readonly arrivalRng: Rng;
  private readonly dataRng: Rng;
  private next: SimEvent | null = null;
  private readonly fire = (tick: Tick): void => this.onEvent(tick);

  constructor(deps: RtIoDeps, options: Partial<RtIoOptions> = {}) {
    super();
    this.options = resolveRtIoOptions(options);
    this.name = deps.name ?? "rt-io";
    this.clock = deps.clock;
    this.nsClock = Number.isSafeInteger(deps.clock.hz) && deps.clock.hz > 0 ? new ClockDomain(deps.clock.hz, 1e9) : null;
    this.irq = deps.irq ?? UNCONNECTED;
    this.jitterRng = deps.rng.fork("jitter");
    this.arrivalRng = deps.rng.fork("arrivals");
    this.dataRng = deps.rng.fork("data");
    this.state = {
      ctrl: 0, status: 0, intEnable: 0, seq: 0, eventTick: 0, eventNs: 0, data: 0, lastAck: 0, actuate: 0,
      nowHiLatch: 0, startTick: 0, nextIndex: 0, nextNs: 0, events: 0, acked: 0, missed: 0, badAcks: 0,
      latencyTicks: [], actuationTicks: [], actuationValues: [], actuationSeqs: [], actuationSinceEventTicks: [],
    };
  }

  report(): RtIoReport {
    const s = this.state;
    return {
      events: s.events,
      acked: s.acked,
      missed: s.missed,
      pending: (s.status & RT_IO_STATUS_PENDING) !== 0,
      badAcks: s.badAcks,
      latencyTicks: [...s.latencyTicks],
      actuations: s.actuationTicks.map((tick, k) => ({
        tick, value: s.actuationValues[k], seq: s.actuationSeqs[k], sinceEventTicks: s.actuationSinceEventTicks[k],
      })),
    };
  }

  /** The device's ns time at `tick`: floor(tick * 1e9 / hz), exact (ClockDomain) for an integer hz. */
  private nsAt(tick: Tick): number {
    return this.nsClock !== null ? this.nsClock.countAt(tick) : Math.floor(ticksToNs(tick, this.clock.hz));
  }

  private intervalNs(): number {
    const o = this.options;
    return Math.round((o.source === "sporadic" ? o.minInterArrivalUs : o.periodUs) * 1000);
  }

  protected readReg(off: number): number {
    const s = this.state;
    switch (off) {
      case RtIoReg.ID: return ID_VALUE;
      case RtIoReg.CTRL: return s.ctrl;
      case RtIoReg.STATUS: return s.status;
      case RtIoReg.INT_ENABLE: return s.intEnable;
      case RtIoReg.SEQ: return s.seq;
      case RtIoReg.TS_LO: return s.eventNs >>> 0;
      case RtIoReg.TS_HI: return Math.floor(s.eventNs / 4294967296) >>> 0;
      case RtIoReg.DATA: return s.data;
      case RtIoReg.ACK: return s.lastAck;
      case RtIoReg.MISSED: return s.missed >>> 0;
      case RtIoReg.ACTUATE: return s.actuate;
      case RtIoReg.NOW_LO: {
        const ns = this.nsAt(this.clock.now());
        s.nowHiLatch = Math.floor(ns / 4294967296) >>> 0;
        return ns >>> 0;
      }
      case RtIoReg.NOW_HI: return s.nowHiLatch;
      case RtIoReg.INTERVAL_NS: return this.intervalNs() >>> 0;
      default: return 0;
    }
  }

  protected writeReg(off: number, v: number): void {
    const s = this.state;
    switch (off) {
      case RtIoReg.CTRL: {
        const was = s.ctrl & RT_IO_CTRL_ENABLE;
        s.ctrl = v & RT_IO_CTRL_ENABLE;
        if (!was && s.ctrl) this.start();
        else if (was && !s.ctrl) this.stop();
        break;
      }
      case RtIoReg.STATUS:
        s.status &= ~(v & RT_IO_STATUS_OVERRUN);
        break;
      case RtIoReg.INT_ENABLE:
        s.intEnable = v & (RT_IO_STATUS_PENDING | RT_IO_STATUS_OVERRUN);
        break;
      case RtIoReg.ACK:
        if ((s.status & RT_IO_STATUS_PENDING) !== 0 && v === s.seq) {
          s.status &= ~RT_IO_STATUS_PENDING;
          s.acked++;
          s.lastAck = v;
          s.latencyTicks.push(this.clock.now() - s.eventTick);
        } else {
          s.badAcks++;
        }
        break;
      case RtIoReg.ACTUATE: {
        const now = this.clock.now();
        s.actuate = v;
        s.actuationTicks.push(now);
        s.actuationValues.push(v);
        s.actuationSeqs.push(s.seq);
        s.actuationSinceEventTicks.push(s.seq === 0 ? -1 : now - s.eventTick);
        break;
      }
      default:
        return;
    }
    this.updateIrq();
  }

  private updateIrq(): void {
    this.irq.set((this.state.status & this.state.intEnable) !== 0);
  }

  private start(): void {
    const s = this.state;
    s.startTick = this.clock.now();
    s.nextIndex = 0;
    s.nextNs = this.options.firstEventUs * 1000;
    this.scheduleNext();
  }

  private stop(): void {
    this.clock.cancel(this.next);
    this.next = null;
  }

  /** ns offset (from ENABLE) of the next event, consuming the random numbers it needs. */
  private nextOffsetNs(): number {
    const o = this.options;
    const s = this.state;
    const k = s.nextIndex++;
    const nominal = o.firstEventUs * 1000 + k * o.periodUs * 1000;
    if (o.source === "periodic") return nominal;
    if (o.source === "jittered") {
      const half = (o.periodUs * 1000) / 2;
      const j = o.jitter === "uniform"
        ? this.jitterRng.uniform(-o.jitterUs * 1000, o.jitterUs * 1000)
        : Math.min(half, Math.max(-half, this.jitterRng.normal(0, o.jitterUs * 1000)));
      return nominal + j;
    }
    const at = s.nextNs;
    s.nextNs = at + o.minInterArrivalUs * 1000 + this.arrivalRng.exponential(o.meanExtraUs * 1000);
    return at;
  }

  private scheduleNext(): void {
    const tick = this.state.startTick + nsToTicks(this.nextOffsetNs(), this.clock.hz);
    this.next = this.clock.at(tick, this.fire, `${this.name}.event`);
  }

  private onEvent(tick: Tick): void {
    const s = this.state;
    this.next = null;
    s.events++;
    const seq = s.events >>> 0;
    const data = this.dataRng.nextU32();
    const pending = (s.status & RT_IO_STATUS_PENDING) !== 0;
    if (pending) {
      s.missed++;
      s.status |= RT_IO_STATUS_OVERRUN;
    }
    if (!pending || this.options.overrun === "replace") {
      s.seq = seq;
      s.eventTick = tick;
      s.eventNs = this.nsAt(tick);
      s.data = data;
      s.status |= RT_IO_STATUS_PENDING;
    }
    this.scheduleNext();
    this.updateIrq();
  }

}
