/**
 * The VMM's backend of a shared rt-io card (rt-io.ts datasheet): the VMM owns the sensor and forwards its
 * events to the ONE partition attached to it (emulated or paravirtual; a second attach is a configuration
 * error: events and acknowledgements are one partition's protocol, there is nothing to multiplex).
 *
 * Interrupt handling over an edge-triggered pin: the card holds its INTx line while an event is PENDING,
 * which only the ACK of that event clears. So the VMM masks the card (INT_ENABLE = 0, the line drops) when
 * it takes the interrupt of a pending event, hands the event to the partition, and unmasks it
 * (INT_ENABLE = PENDING) after forwarding the partition's ACK: if an event is still pending then (it
 * replaced the acknowledged one, or the ACK named a stale SEQ) the line rises again, a new edge, and the
 * event is delivered, as a level-triggered line would re-deliver it. This is the mask / unmask a VMM does
 * for level-triggered passthrough INTx (KVM's resampling irqfd does the same).
 * Costs: backend.interrupt per interrupt taken, backend.submit per ACK / ACTUATE / CTRL the VMM programs on
 * the partition's behalf, and the bus cost of every register access. No Intel SDM section applies.
 * Leaves out: the OVERRUN interrupt (only PENDING interrupts are taken; OVERRUN is readable in STATUS),
 * broadcasting events to several partitions.
 */
import type { DeviceInstance } from "../../devices/device-catalog.ts";
import { RT_IO_STATUS_PENDING, RtIoReg } from "../../devices/rt-io.ts";
import type { BackendHost } from "./backend-host.ts";
import { PhysicalRegs } from "./physical-regs.ts";
import type { VmmTurn } from "./vmm-turn.ts";

const PENDING = RT_IO_STATUS_PENDING;

/** What the attached partition's view does with an event. */
export interface RtIoSink {
  onEvent(): void;
}

export class RtIoBackend {
  readonly regs: PhysicalRegs;
  private sink: RtIoSink | null = null;
  private owner = "";
  private masked = false;
  private enabled = false;
  physicalOps = 0;
  interrupts = 0;
  events = 0;

  constructor(physical: DeviceInstance, private readonly host: BackendHost, private readonly turn: VmmTurn) {
    this.regs = new PhysicalRegs(physical, host);
    this.regs.setupWrite(RtIoReg.INT_ENABLE, PENDING);
  }

  attach(partition: string, sink: RtIoSink): void {
    if (this.sink !== null) {
      throw new RangeError(`rt-io: a shared rt-io card serves one partition ('${this.owner}'); '${partition}' cannot attach too`);
    }
    this.sink = sink;
    this.owner = partition;
  }

  onInterrupt(): void {
    this.turn.interrupt(() => {
      const h = this.host;
      this.interrupts++;
      h.charge("backend.interrupt");
      h.touchState(0, 16, false);
      if ((this.regs.read(RtIoReg.STATUS) & PENDING) === 0) return;
      this.regs.write(RtIoReg.INT_ENABLE, 0);
      this.masked = true;
      this.events++;
      h.touchState(0, 16, true);
      this.sink?.onEvent();
    });
  }

  /** Forward the partition's acknowledgement, then unmask (a still-pending event raises a new edge). */
  ack(seq: number, submitCost: boolean): void {
    if (submitCost) this.host.charge("backend.submit");
    this.physicalOps++;
    this.regs.write(RtIoReg.ACK, seq);
    if (this.masked) {
      this.masked = false;
      this.regs.write(RtIoReg.INT_ENABLE, PENDING);
    }
  }

  actuate(value: number, submitCost: boolean): void {
    if (submitCost) this.host.charge("backend.submit");
    this.physicalOps++;
    this.regs.write(RtIoReg.ACTUATE, value);
  }

  /** Start the event source (PV: at the partition's first WAIT). */
  enable(): void {
    if (this.enabled) return;
    this.enabled = true;
    this.host.charge("backend.submit");
    this.regs.write(RtIoReg.CTRL, 1);
  }

  /** A forwarded CTRL write (emulated): the partition starts or stops the source itself. */
  writeCtrl(v: number): void {
    this.enabled = (v & 1) !== 0;
    this.regs.write(RtIoReg.CTRL, v);
  }
}
