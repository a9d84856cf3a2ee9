/**
 * A shared nic: the backend (nic-backend.ts: VMM-owned physical rings, the demultiplexing rule, a TX FIFO
 * across partitions) with each partition attached emulated (nic-emulated.ts) or paravirtual. Paravirtual
 * requests (abi.ts PvOp):
 * - TX: the packet at ADDR / LEN (1 .. 65535 bytes, else PvError.BAD_RANGE; outside partition RAM:
 *   PvError.DMA and VdevHost.fault "dma"), completed when it has left the wire (RESULT = LEN), or with
 *   PvError.DEVICE when the card or the backend could not send it.
 * - RX: a receive buffer (ADDR / LEN, LEN >= 1). The partition's first RX request makes it a receiver;
 *   each packet the rule gives it fills its oldest RX request: RESULT = packet length, ARG0 = the packet's
 *   sequence number (the physical card's). A packet longer than that buffer, or arriving when the partition
 *   has no RX request posted, is dropped and counted (report counters `rxDropped.<partition>`).
 * RX requests wait for packets, so a TX taken after them gets its STATUS when sent while USED waits for
 * the RX requests before it (pv-ring.ts): a driver waits for a TX by its slot's STATUS. RX requests are
 * parked: one that holds USED back over half the ring is returned unfilled (PvError.DEVICE), to be posted
 * again.
 * Latency (stats): TX from the request's take to the end of its wire time; RX from the packet's arrival at
 * the physical card to its delivery into the guest buffer.
 * Costs: vdev.command per TX or RX request accepted (besides the ring's costs); the packet copy into the
 * guest is charged per line by writeGuest. No Intel SDM section applies. Leaves out: cancelling posted RX
 * buffers (a restarted partition's ring is abandoned, pv-ring.ts).
 */
import type { DeviceInstance } from "../../devices/device-catalog.ts";
import { NicReg } from "../../devices/nic.ts";
import type { Tick } from "../../sim/event-queue.ts";
import { PvError, PvOp } from "../abi.ts";
import type { BackendHost, SharedDevice, SharedDeviceReport, SharedMode } from "./backend-host.ts";
import { inGuestRam } from "./guest-range.ts";
import { NicBackend, type NicReceiver } from "./nic-backend.ts";
import { NicEmulated } from "./nic-emulated.ts";
import type { PvRequest } from "./pv-ring.ts";
import { PvView } from "./pv-view.ts";
import type { VdevHost, VirtualDevice } from "./vdev.ts";
import { VmmTurn } from "./vmm-turn.ts";

const OP_TX = PvOp.TX, OP_RX = PvOp.RX;

export function createSharedNic(physical: DeviceInstance, host: BackendHost): SharedDevice {
  const turn = new VmmTurn();
  const backend = new NicBackend(physical, host, turn);
  const rxBufBytes = physical.mmio!.mmioRead(NicReg.RX_BUF_SIZE, 4);
  const receivers: { name: string; r: NicEmulated | NicPv }[] = [];
  return {
    type: "nic",
    onInterrupt: () => backend.onInterrupt(),
    attach(vhost: VdevHost, mode: SharedMode): VirtualDevice {
      const order = backend.addPartition();
      if (mode === "emulated") {
        const v = new NicEmulated(vhost, turn, backend, order, rxBufBytes);
        receivers.push({ name: vhost.partition, r: v });
        return v;
      }
      const pv = new NicPv(backend, order);
      const view = new PvView(vhost, turn, (req) => pv.request(req));
      pv.view = view;
      receivers.push({ name: vhost.partition, r: pv });
      return view;
    },
    report(): SharedDeviceReport {
      const counters: Record<string, number> = {
        rxDelivered: backend.rxDelivered, rxNoReceiver: backend.rxNoReceiver, txFailed: backend.txFailed,
      };
      for (const { name, r } of receivers) counters[`rxDropped.${name}`] = r.rxDropped;
      return {
        type: "nic", physicalOps: backend.physicalOps, interrupts: backend.interrupts, maxQueued: backend.maxQueued,
        bounced: backend.bounced, counters,
      };
    },
  };
}

/** The paravirtual protocol of one partition. */
class NicPv implements NicReceiver {
  view!: PvView;
  rxDropped = 0;
  private readonly rx: PvRequest[] = [];
  private receiving = false;

  constructor(private readonly backend: NicBackend, readonly order: number) {}

  request(req: PvRequest): void {
    const ring = this.view.ring;
    const h = this.view.host;
    if (req.op !== OP_TX && req.op !== OP_RX) return ring.fail(req, PvError.BAD_OP);
    if (req.len < 1 || (req.op === OP_TX && req.len > 0xffff)) return ring.fail(req, PvError.BAD_RANGE);
    if (!inGuestRam(h, req.addr, req.len)) {
      h.fault("dma", `nic: ${req.op === OP_TX ? "TX" : "RX"} buffer 0x${req.addr.toString(16)} + ${req.len} bytes is outside partition RAM`);
      return ring.fail(req, PvError.DMA);
    }
    h.charge("vdev.command");
    if (req.op === OP_TX) {
      this.backend.transmit({
        host: h, gpa: req.addr, len: req.len,
        done: (ok) => (ok ? ring.complete(req, req.len) : ring.fail(req, PvError.DEVICE)),
      });
      return;
    }
    this.rx.push(req);
    ring.park(req, () => this.rx.splice(this.rx.indexOf(req), 1));
    if (!this.receiving) {
      this.receiving = true;
      this.backend.setReceiving(this, true);
    }
  }

  deliver(seq: number, packet: Uint8Array, arrivalTick: Tick): void {
    const h = this.view.host;
    const req = this.rx[0];
    if (req === undefined || packet.length > req.len) {
      this.rxDropped++;
      return;
    }
    this.rx.shift();
    if (!h.writeGuest(req.addr, packet)) return this.view.ring.fail(req, PvError.DMA);
    this.view.ring.complete(req, packet.length, { arg0: seq }, arrivalTick);
  }
}
