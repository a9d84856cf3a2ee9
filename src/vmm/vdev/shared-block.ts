/**
 * A shared block device: the backend (block-backend.ts: FIFO, LBA windows) with each partition attached
 * emulated (block-emulated.ts) or paravirtual. Paravirtual requests (abi.ts PvOp):
 * - READ / WRITE: ARG0 = LBA in the partition's window, LEN = bytes, a non-zero multiple of 512 and at most
 *   MAX_SECTORS sectors (else PvError.BAD_RANGE, as is a range past the window); ADDR/LEN must lie in
 *   partition RAM (else PvError.DMA and VdevHost.fault "dma"). RESULT = bytes moved.
 * - FLUSH: the disk's FLUSH (its command time, queued like the others). RESULT = 0.
 * A device error completes with PvError.DMA (a transfer the machine refused) or PvError.DEVICE.
 * Costs: vdev.command per request handed to the backend (besides the ring's costs). No Intel SDM section
 * applies. Leaves out: IDENTIFY over the ring (the capacity is the window, given by the scenario).
 */
import { BlockError, SECTOR_BYTES } from "../../devices/block-device.ts";
import type { DeviceInstance } from "../../devices/device-catalog.ts";
import { PvError, PvOp } from "../abi.ts";
import type { BackendHost, SharedDevice, SharedDeviceReport, SharedMode } from "./backend-host.ts";
import { BlockBackend } from "./block-backend.ts";
import { BlockEmulated } from "./block-emulated.ts";
import { inGuestRam } from "./guest-range.ts";
import type { PvRequest } from "./pv-ring.ts";
import { PvView } from "./pv-view.ts";
import type { VdevHost, VirtualDevice } from "./vdev.ts";
import { VmmTurn } from "./vmm-turn.ts";

const READ = 1, WRITE = 2, FLUSH = 3;
const OP_READ = PvOp.READ, OP_WRITE = PvOp.WRITE, OP_FLUSH = PvOp.FLUSH;
const ERR_DMA = 3;

export function createSharedBlock(physical: DeviceInstance, host: BackendHost): SharedDevice {
  const turn = new VmmTurn();
  const backend = new BlockBackend(physical, host, turn);
  return {
    type: "block",
    onInterrupt: () => backend.onInterrupt(),
    attach(vhost: VdevHost, mode: SharedMode): VirtualDevice {
      const k = backend.addPartition();
      if (mode === "emulated") return new BlockEmulated(vhost, turn, backend, k);
      return new PvView(vhost, turn, (req, view) => pvRequest(backend, k, req, view));
    },
    report(): SharedDeviceReport {
      return {
        type: "block", physicalOps: backend.physicalOps, interrupts: backend.interrupts, maxQueued: backend.maxQueued,
        bounced: backend.bounced, counters: {},
      };
    },
  };
}

function pvRequest(backend: BlockBackend, k: number, req: PvRequest, view: PvView): void {
  const h = view.host;
  const ring = view.ring;
  if (req.op !== OP_READ && req.op !== OP_WRITE && req.op !== OP_FLUSH) return ring.fail(req, PvError.BAD_OP);
  const win = backend.window(k);
  let count = 0;
  if (req.op !== OP_FLUSH) {
    count = req.len / SECTOR_BYTES;
    if (!Number.isInteger(count) || count < 1 || count > backend.maxSectors || req.arg0 + count > win.sectors) {
      return ring.fail(req, PvError.BAD_RANGE);
    }
    if (!inGuestRam(h, req.addr, req.len)) {
      h.fault("dma", `block: PV buffer 0x${req.addr.toString(16)} + ${req.len} bytes is outside partition RAM`);
      return ring.fail(req, PvError.DMA);
    }
  }
  h.charge("vdev.command");
  backend.submit({
    host: h,
    cmd: req.op === OP_READ ? READ : req.op === OP_WRITE ? WRITE : FLUSH,
    lba: req.op === OP_FLUSH ? win.base : win.base + req.arg0,
    count,
    gpa: req.addr,
    done: (error) => {
      if (error === BlockError.NONE) ring.complete(req, count * SECTOR_BYTES);
      else ring.fail(req, error === ERR_DMA ? PvError.DMA : PvError.DEVICE);
    },
  });
}
