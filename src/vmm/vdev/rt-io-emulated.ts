/**
 * A partition's emulated rt-io card (rt-io.ts register table): every access exits; the VMM forwards the
 * reads of the card's live registers (CTRL, STATUS, SEQ, TS_LO/HI, DATA, ACK, MISSED, ACTUATE, NOW_LO/HI,
 * INTERVAL_NS: each a physical MMIO read at the bus cost) and the writes of CTRL, STATUS (W1C OVERRUN), ACK
 * and ACTUATE to the physical card. INT_ENABLE is virtual: the VMM takes every event's interrupt itself
 * (rt-io-backend.ts) and raises the guest vector when the event arrives while the partition enabled
 * PENDING. So the driver's code and timing are those of the exclusive card plus one exit per access.
 * Operations (stats): one per event, from the tick the VMM took its interrupt to the partition's ACK; one
 * per ACTUATE write (latency 0).
 * Costs: vdev.registerRead/Write per access, vdev.completion per event acknowledged (the mask is lifted).
 * No Intel SDM section applies. Leaves out: an OVERRUN-only interrupt enable (the event interrupt is
 * PENDING's).
 */
import { RtIoReg, descriptor } from "../../devices/rt-io.ts";
import { EmulatedReg32 } from "./emulated-regs.ts";
import { OpStats } from "./op-stats.ts";
import type { RtIoBackend, RtIoSink } from "./rt-io-backend.ts";
import type { VdevHost } from "./vdev.ts";
import type { VmmTurn } from "./vmm-turn.ts";

const ID_VALUE = (descriptor.pci.deviceId << 16) | descriptor.pci.vendorId;
const PENDING = 1;

export class RtIoEmulated extends EmulatedReg32 implements RtIoSink {
  private intEnable = 0;
  private eventOutstanding = false;
  private eventTick = 0;

  constructor(host: VdevHost, turn: VmmTurn, private readonly backend: RtIoBackend) {
    super(host, turn, new OpStats());
  }

  reset(): void {
    this.intEnable = 0;
    this.eventOutstanding = false;
  }

  onEvent(): void {
    this.eventOutstanding = true;
    this.eventTick = this.host.clock.now();
    this.updateIrq(this.pending());
  }

  private pending(): boolean {
    return this.eventOutstanding && (this.intEnable & PENDING) !== 0;
  }

  protected readReg(off: number): number {
    switch (off) {
      case RtIoReg.ID: return ID_VALUE;
      case RtIoReg.INT_ENABLE: return this.intEnable;
      default: return off <= RtIoReg.INTERVAL_NS ? this.backend.regs.read(off) : 0;
    }
  }

  protected writeReg(off: number, v: number): void {
    const h = this.host;
    switch (off) {
      case RtIoReg.CTRL: this.backend.writeCtrl(v); return;
      case RtIoReg.STATUS: this.backend.regs.write(off, v); return;
      case RtIoReg.INT_ENABLE:
        this.intEnable = v & 3;
        this.updateIrq(this.pending());
        return;
      case RtIoReg.ACK:
        this.backend.ack(v, false);
        if (this.eventOutstanding) {
          h.charge("vdev.completion");
          this.eventOutstanding = false;
          this.opStats.record(this.eventTick, h.clock.now());
          this.updateIrq(false);
        }
        return;
      case RtIoReg.ACTUATE: {
        this.backend.actuate(v, false);
        const now = h.clock.now();
        this.opStats.record(now, now);
        return;
      }
      default:
    }
  }
}
