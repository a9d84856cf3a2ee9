/**
 * Test harness for the local APIC: an EventQueue with a QueueClock, an ApicBus and N LocalApics, each
 * attached to a fake core that records what the APIC drives (INTR level, NMI, INIT, start-up) and
 * keeps a TSC of floor(tick * tscHz / hz) + offset.
 */
import { EventQueue } from "../../../src/sim/event-queue.ts";
import { QueueClock } from "../../../src/sim/clock.ts";
import { ApicBus } from "../../../src/cpu/apic-bus.ts";
import { LocalApic, type ApicCoreLink, type LocalApicOptions } from "../../../src/cpu/lapic.ts";

export class FakeCore implements ApicCoreLink {
  intr = false;
  nmis = 0;
  inits = 0;
  startups: number[] = [];
  tscOffset = 0;
  /** Ticks at which INTR went from low to high. */
  readonly rises: number[] = [];
  constructor(private readonly clock: QueueClock, private readonly tscHz: number) {}
  setIntr(level: boolean): void {
    if (level && !this.intr) this.rises.push(this.clock.now());
    this.intr = level;
  }
  nmi(): void {
    this.nmis++;
  }
  init(): void {
    this.inits++;
  }
  startup(vector: number): void {
    this.startups.push(vector);
  }
  tsc(): number {
    return Math.floor((this.clock.now() * this.tscHz) / this.clock.hz) + this.tscOffset;
  }
}

export interface RigOptions {
  cores?: number;
  hz?: number;
  timerHz?: number;
  tscHz?: number;
  latency?: number;
  apic?: Partial<LocalApicOptions>;
}

export interface Rig {
  queue: EventQueue;
  clock: QueueClock;
  bus: ApicBus;
  apics: LocalApic[];
  cores: FakeCore[];
  /** Run the event queue to absolute tick `t`. */
  runTo(t: number): void;
  /** Run everything pending (up to `limit` ticks ahead). */
  settle(limit?: number): void;
}

export function makeRig(opts: RigOptions = {}): Rig {
  const hz = opts.hz ?? 3_000_000_000;
  const tscHz = opts.tscHz ?? hz;
  const queue = new EventQueue();
  const clock = new QueueClock(queue, hz);
  const bus = new ApicBus({ clock, latencyCycles: opts.latency ?? 100 });
  const apics: LocalApic[] = [];
  const cores: FakeCore[] = [];
  for (let id = 0; id < (opts.cores ?? 1); id++) {
    const core = new FakeCore(clock, tscHz);
    cores.push(core);
    apics.push(new LocalApic({
      id, clock, apicBus: bus, core, timerHz: opts.timerHz ?? 24_000_000, tscHz, bsp: id === 0, ...opts.apic,
    }));
  }
  return {
    queue, clock, bus, apics, cores,
    runTo: (t) => queue.runUntil(t),
    settle: (limit = 1_000_000) => queue.runUntil(queue.now + limit),
  };
}

/** 32-bit register write / read through the xAPIC MMIO page. */
export function w(a: LocalApic, reg: number, value: number): void {
  a.mmioWrite(reg, 4, value);
}
export function r(a: LocalApic, reg: number): number {
  return a.mmioRead(reg, 4) >>> 0;
}

/** Software-enable an APIC (SVR bit 8) with spurious vector 0xFF. */
export function enable(a: LocalApic, spurious = 0xff): void {
  w(a, 0x0f0, 0x100 | spurious);
}

/** Put a fixed edge-triggered interrupt into an APIC's IRR, as a message from the bus would. */
export function inject(a: LocalApic, vector: number, trigger: "edge" | "level" = "edge"): void {
  a.receive({ dest: a.apicId, destMode: "physical", deliveryMode: 0, vector, level: true, trigger, shorthand: "none", source: -1 });
}

/** Write the ICR (high then low) of an xAPIC. */
export function sendIcr(a: LocalApic, lo: number, destId = 0): void {
  w(a, 0x310, destId << 24);
  w(a, 0x300, lo);
}

/** The ESR as software reads it: write, then read (10.5.3). */
export function readEsr(a: LocalApic): number {
  w(a, 0x280, 0);
  return r(a, 0x280);
}
