/**
 * The system bus as interrupt messages see it: it connects the local APICs of one machine with each
 * other (IPIs), with the I/O APICs and with MSI-capable devices (SDM Vol. 3A 10.6 "Issuing
 * interprocessor interrupts", 10.6.2 "Determining IPI destination", 10.8.4 (EOI messages to I/O APICs),
 * 10.11 (MSI), 10.12.10 (x2APIC logical destinations)).
 *
 * A message is delivered `latencyCycles` after it is sent (the CPU profile's ipiLatencyCycles), through
 * the Clock at EventPriority.INTERRUPT; device messages (IOAPIC, MSI) take `ioLatencyCycles` (default the
 * same). Destinations are resolved when the message arrives:
 * - shorthands self / all including self / all excluding self (10.6.1);
 * - physical: the APIC whose ID equals `dest` (8-bit xAPIC ID, or 32-bit x2APIC ID); BROADCAST_DEST
 *   (FFFFFFFFH) selects all, and so does FFH at an APIC in xAPIC mode (10.6.2.1);
 * - logical: each APIC matches with its own LDR/DFR (flat, cluster, x2APIC cluster; see matchesLogical
 *   in lapic-destination.ts);
 * - lowest priority (10.6.2.4): among the matched APICs that accept fixed interrupts, the one with the
 *   lowest PPR, ties broken by the lowest APIC ID. The SDM leaves the choice to the chipset ("model
 *   specific"); this rule is documented here and tested. Focus-processor checking is not modelled.
 *
 * The message type mirrors src/devices/interrupt-message.ts field by field (plus shorthand and source),
 * so an ApicBus is an InterruptMessageSink without this file importing it: the import rules of
 * shared/DESIGN.md §2 (checked by test/architecture.test.ts) let cpu/ import only devices' bus and types
 * files.
 *
 * EOI messages (10.8.5): a local APIC that ends a level-triggered interrupt calls broadcastEoi(vector);
 * every listener registered with onEoi (the IOAPICs) hears it at once (no latency: the re-sent message of a
 * still-asserted line carries the latency).
 *
 * Leaves out: bus arbitration and accept/retry errors (ESR bits 0-3 exist only on P6 and Pentium), SMI.
 */
import { EventPriority } from "../sim/event-queue.ts";
import type { Clock } from "../sim/clock.ts";
import type { Tick } from "../sim/event-queue.ts";

export type DestinationMode = "physical" | "logical";
export type TriggerMode = "edge" | "level";
/** ICR destination shorthand (10.6.1): none (use dest), self, all including self, all excluding self. */
export type Shorthand = "none" | "self" | "all" | "others";

/** Fields of an interrupt message (the same as devices/interrupt-message.ts InterruptMessage). */
export interface InterruptMessageFields {
  dest: number;
  destMode: DestinationMode;
  /** Delivery mode field (0 fixed, 1 lowest priority, 2 SMI, 4 NMI, 5 INIT, 6 start-up, 7 ExtINT). */
  deliveryMode: number;
  vector: number;
  level: boolean;
  trigger: TriggerMode;
}

export interface ApicMessage extends InterruptMessageFields {
  shorthand: Shorthand;
  /** Initial APIC ID of the sending local APIC, -1 for an I/O APIC or MSI. */
  source: number;
}

/** What the bus needs of a local APIC (LocalApic implements it). */
export interface ApicBusMember {
  /** The ID the APIC was built with (stable; identifies the sender for shorthands). */
  readonly initialId: number;
  /** Globally enabled (IA32_APIC_BASE[11]): a disabled APIC takes part in nothing. */
  readonly hardwareEnabled: boolean;
  /** Accepts fixed / lowest-priority interrupts now (software-enabled in SVR). */
  readonly acceptsFixed: boolean;
  /** Current APIC ID (xAPIC ID register or x2APIC ID). */
  readonly apicId: number;
  /** Processor priority register (10.8.3.1). */
  readonly ppr: number;
  matchesPhysical(dest: number): boolean;
  matchesLogical(dest: number): boolean;
  receive(msg: ApicMessage): void;
}

const LOWEST_PRIORITY = 1;

export interface ApicBusOptions {
  clock: Clock;
  /** Cycles from an ICR write to the IPI arriving (CpuProfile.ipiLatencyCycles). */
  latencyCycles: number;
  /** Cycles from an IOAPIC / MSI message to its arrival (default latencyCycles). */
  ioLatencyCycles?: number;
}

export class ApicBus {
  readonly clock: Clock;
  readonly latencyCycles: number;
  readonly ioLatencyCycles: number;
  private readonly members: ApicBusMember[] = [];
  private readonly eoiListeners: ((vector: number) => void)[] = [];
  /** Messages delivered so far (statistics). */
  delivered = 0;

  constructor(opts: ApicBusOptions) {
    for (const [k, v] of [["latencyCycles", opts.latencyCycles], ["ioLatencyCycles", opts.ioLatencyCycles ?? 0]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`apic bus: ${k} ${v} must be a non-negative integer`);
    }
    this.clock = opts.clock;
    this.latencyCycles = opts.latencyCycles;
    this.ioLatencyCycles = opts.ioLatencyCycles ?? opts.latencyCycles;
  }

  /** Connect a local APIC (the LocalApic constructor does this). Initial IDs must be unique. */
  attach(member: ApicBusMember): void {
    if (this.members.some((m) => m.initialId === member.initialId)) {
      throw new RangeError(`apic bus: two local APICs with initial ID ${member.initialId}`);
    }
    this.members.push(member);
  }

  get apics(): readonly ApicBusMember[] {
    return this.members;
  }

  /** Send an IPI from a local APIC; returns the tick at which it arrives. */
  deliver(msg: ApicMessage): Tick {
    return this.schedule(msg, this.latencyCycles);
  }

  /** InterruptMessageSink (devices/interrupt-message.ts): a message from an IOAPIC or an MSI. */
  deliverInterrupt(msg: InterruptMessageFields): void {
    this.schedule({ ...msg, shorthand: "none", source: -1 }, this.ioLatencyCycles);
  }

  /** Register a receiver of EOI messages (an IOAPIC's eoi()). */
  onEoi(listener: (vector: number) => void): void {
    this.eoiListeners.push(listener);
  }

  /** An EOI message for a level-triggered vector (10.8.5), heard by every registered listener. */
  broadcastEoi(vector: number): void {
    for (const l of this.eoiListeners) l(vector);
  }

  /**
   * The APICs a message selects now, before lowest-priority arbitration: in attach order, hardware-
   * enabled ones only.
   */
  targets(msg: ApicMessage): ApicBusMember[] {
    const out: ApicBusMember[] = [];
    for (const m of this.members) {
      if (!m.hardwareEnabled) continue;
      let hit: boolean;
      switch (msg.shorthand) {
        case "self": hit = m.initialId === msg.source; break;
        case "all": hit = true; break;
        case "others": hit = m.initialId !== msg.source; break;
        default:
          hit = msg.destMode === "physical" ? m.matchesPhysical(msg.dest) : m.matchesLogical(msg.dest);
      }
      if (hit) out.push(m);
    }
    return out;
  }

  /** Lowest-priority arbitration: the lowest PPR among those accepting fixed interrupts, then the lowest
   * APIC ID; null if none accepts. */
  static lowestPriority(candidates: readonly ApicBusMember[]): ApicBusMember | null {
    let best: ApicBusMember | null = null;
    for (const m of candidates) {
      if (!m.acceptsFixed) continue;
      if (best === null || m.ppr < best.ppr || (m.ppr === best.ppr && m.apicId < best.apicId)) best = m;
    }
    return best;
  }

  /** Deliver a message now (what the scheduled event does). */
  deliverNow(msg: ApicMessage): void {
    this.delivered++;
    const targets = this.targets(msg);
    if (msg.deliveryMode === LOWEST_PRIORITY) {
      const m = ApicBus.lowestPriority(targets);
      if (m !== null) m.receive(msg);
      return;
    }
    for (const m of targets) m.receive(msg);
  }

  private schedule(msg: ApicMessage, latency: number): Tick {
    const at = this.clock.now() + latency;
    const ev = this.clock.at(at, () => this.deliverNow(msg), "apicbus.msg", EventPriority.INTERRUPT);
    return ev.tick;
  }
}
