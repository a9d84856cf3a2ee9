/**
 * A shared rt-io card: the backend (rt-io-backend.ts: mask/unmask over the edge-triggered pin, one
 * partition per card) with the partition attached emulated (rt-io-emulated.ts) or paravirtual.
 * Paravirtual requests (abi.ts PvOp):
 * - WAIT: completed at the next input event (the first WAIT also starts the card's event source): RESULT =
 *   SEQ, ARG0 / ARG1 = TS low / high (device ns), LEN = DATA. Events are handed to WAITs in order, one event
 *   per WAIT; an event that finds no WAIT posted is kept and completes the next WAIT at once. A WAIT is
 *   parked (pv-ring.ts): one that holds USED back over half the ring returns unfilled (PvError.DEVICE).
 * - ACK: ARG0 = SEQ: the VMM writes it to the card's ACK and unmasks the card (the next event can come).
 * - ACTUATE: ARG0 = the value written to ACTUATE.
 * ACK and ACTUATE complete at once (RESULT 0). The event's registers are read by the VMM (four MMIO reads)
 * when it takes the interrupt.
 * Costs: vdev.command per ACK / ACTUATE, vdev.completion per request (the ring's). No Intel SDM section
 * applies. Leaves out: several partitions per card.
 */
import type { DeviceInstance } from "../../devices/device-catalog.ts";
import { RtIoReg } from "../../devices/rt-io.ts";
import { PvError, PvOp } from "../abi.ts";
import type { BackendHost, SharedDevice, SharedDeviceReport, SharedMode } from "./backend-host.ts";
import type { PvRequest } from "./pv-ring.ts";
import { PvView } from "./pv-view.ts";
import { RtIoBackend, type RtIoSink } from "./rt-io-backend.ts";
import { RtIoEmulated } from "./rt-io-emulated.ts";
import type { VdevHost, VirtualDevice } from "./vdev.ts";
import { VmmTurn } from "./vmm-turn.ts";

const OP_WAIT = PvOp.WAIT, OP_ACK = PvOp.ACK, OP_ACTUATE = PvOp.ACTUATE;

export function createSharedRtIo(physical: DeviceInstance, host: BackendHost): SharedDevice {
  const turn = new VmmTurn();
  const backend = new RtIoBackend(physical, host, turn);
  return {
    type: "rt-io",
    onInterrupt: () => backend.onInterrupt(),
    attach(vhost: VdevHost, mode: SharedMode): VirtualDevice {
      if (mode === "emulated") {
        const v = new RtIoEmulated(vhost, turn, backend);
        backend.attach(vhost.partition, v);
        return v;
      }
      const pv = new RtIoPv(backend);
      const view = new PvView(vhost, turn, (req) => pv.request(req));
      pv.view = view;
      backend.attach(vhost.partition, pv);
      return view;
    },
    report(): SharedDeviceReport {
      return {
        type: "rt-io", physicalOps: backend.physicalOps, interrupts: backend.interrupts, maxQueued: 0, bounced: 0,
        counters: { events: backend.events },
      };
    },
  };
}

/** The paravirtual protocol of one partition. */
class RtIoPv implements RtIoSink {
  view!: PvView;
  private readonly waits: PvRequest[] = [];
  /** An event taken while no WAIT was posted: SEQ, TS_LO, TS_HI, DATA. */
  private kept: number[] | null = null;

  constructor(private readonly backend: RtIoBackend) {}

  request(req: PvRequest): void {
    const ring = this.view.ring;
    const h = this.view.host;
    switch (req.op) {
      case OP_WAIT:
        this.backend.enable();
        if (this.kept !== null) {
          const e = this.kept;
          this.kept = null;
          ring.complete(req, e[0], { arg0: e[1], arg1: e[2], len: e[3] });
        } else {
          this.waits.push(req);
          ring.park(req, () => this.waits.splice(this.waits.indexOf(req), 1));
        }
        return;
      case OP_ACK:
        h.charge("vdev.command");
        this.backend.ack(req.arg0, true);
        ring.complete(req, 0);
        return;
      case OP_ACTUATE:
        h.charge("vdev.command");
        this.backend.actuate(req.arg0, true);
        ring.complete(req, 0);
        return;
      default:
        ring.fail(req, PvError.BAD_OP);
    }
  }

  onEvent(): void {
    const r = this.backend.regs;
    const e = [r.read(RtIoReg.SEQ), r.read(RtIoReg.TS_LO), r.read(RtIoReg.TS_HI), r.read(RtIoReg.DATA)];
    const w = this.waits.shift();
    if (w === undefined) this.kept = e;
    else this.view.ring.complete(w, e[0], { arg0: e[1], arg1: e[2], len: e[3] });
  }
}
