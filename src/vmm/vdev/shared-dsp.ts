/**
 * A shared dsp card: the backend (dsp-backend.ts: FIFO, descriptor and buffer translation) with each
 * partition attached emulated (dsp-emulated.ts) or paravirtual. Paravirtual request (abi.ts PvOp):
 * - JOB: ADDR = a job descriptor (dsp.ts layout, guest-physical addresses). Completed when the job
 *   finishes: RESULT = the job's RESULT; the descriptor's RESULT/STATUS/JOB_ID are written as the card would
 *   (JOB_ID: 1, 2, ... in the partition's request order). A job the card failed (bad op, bad length)
 *   completes with PvError.DEVICE, one whose descriptor or buffers are outside partition RAM with
 *   PvError.DMA (and VdevHost.fault "dma").
 * Costs: vdev.command per job handed to the backend (besides the ring's costs). No Intel SDM section
 * applies. Leaves out: batching several jobs into one card doorbell.
 */
import type { DeviceInstance } from "../../devices/device-catalog.ts";
import { DspError } from "../../devices/dsp-ops.ts";
import { PvError, PvOp } from "../abi.ts";
import type { BackendHost, SharedDevice, SharedDeviceReport, SharedMode } from "./backend-host.ts";
import { DspBackend } from "./dsp-backend.ts";
import { DspEmulated } from "./dsp-emulated.ts";
import { writeJobTail } from "./dsp-job-tail.ts";
import type { PvRequest } from "./pv-ring.ts";
import { PvView } from "./pv-view.ts";
import type { VdevHost, VirtualDevice } from "./vdev.ts";
import { VmmTurn } from "./vmm-turn.ts";

const OP_JOB = PvOp.JOB;
const JOB_DONE = 1;

export function createSharedDsp(physical: DeviceInstance, host: BackendHost): SharedDevice {
  const turn = new VmmTurn();
  const backend = new DspBackend(physical, host, turn);
  return {
    type: "dsp",
    onInterrupt: () => backend.onInterrupt(),
    attach(vhost: VdevHost, mode: SharedMode): VirtualDevice {
      if (mode === "emulated") return new DspEmulated(vhost, turn, backend);
      let nextId = 1;
      return new PvView(vhost, turn, (req, view) => {
        if (req.op !== OP_JOB) return view.ring.fail(req, PvError.BAD_OP);
        const id = nextId;
        nextId = (nextId + 1) >>> 0;
        pvJob(backend, req, view, id);
      });
    },
    report(): SharedDeviceReport {
      return {
        type: "dsp", physicalOps: backend.physicalOps, interrupts: backend.interrupts, maxQueued: backend.maxQueued,
        bounced: backend.bounced, counters: {},
      };
    },
  };
}

function pvJob(backend: DspBackend, req: PvRequest, view: PvView, id: number): void {
  const h = view.host;
  h.charge("vdev.command");
  const job = backend.prepare(h, req.addr);
  backend.submit({
    ...job,
    done: (status, result) => {
      writeJobTail(h, job, status, result, id);
      if (status === JOB_DONE) view.ring.complete(req, result);
      else view.ring.fail(req, ((status >>> 8) & 0xff) === DspError.DMA ? PvError.DMA : PvError.DEVICE);
    },
  });
}
