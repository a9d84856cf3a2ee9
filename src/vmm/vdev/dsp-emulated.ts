/**
 * A partition's emulated dsp card: the register file of dsp.ts (its header is the datasheet this follows)
 * kept per partition by the VMM, every access a VM exit. DOORBELL takes the guest-physical address of a job
 * descriptor; the VMM reads and translates it (dsp-backend.ts) and queues the job in the backend's FIFO
 * behind other partitions' jobs. The partition sees a card of its own: OUTSTANDING, COMPLETED, LAST_RESULT,
 * QUEUE_DEPTH (the physical card's) and the job numbers written into its descriptors (1, 2, ... in its own
 * doorbell order) count its jobs only; a doorbell with QUEUE_DEPTH of its jobs outstanding is rejected
 * (STATUS.BUSY, sticky, W1C), as on the card.
 * Costs: vdev.registerRead/Write per access, vdev.command per job accepted, vdev.completion per job
 * finished. No Intel SDM section applies. Leaves out: nothing of the register table.
 */
import { DspReg, descriptor } from "../../devices/dsp.ts";
import type { DspBackend } from "./dsp-backend.ts";
import { EmulatedReg32 } from "./emulated-regs.ts";
import { OpStats } from "./op-stats.ts";
import type { VdevHost } from "./vdev.ts";
import type { VmmTurn } from "./vmm-turn.ts";
import { writeJobTail } from "./dsp-job-tail.ts";

const ID_VALUE = (descriptor.pci.deviceId << 16) | descriptor.pci.vendorId;
const ACTIVE = 1, FULL = 2, BUSY = 4;
const INT_DONE = 1, INT_ERROR = 2;
const JOB_DONE = 1;

export class DspEmulated extends EmulatedReg32 {
  private doorbell = 0;
  private busy = 0;
  private intEnable = 0;
  private intStatus = 0;
  private outstanding = 0;
  private completed = 0;
  private lastResult = 0;
  private nextId = 1;
  private generation = 0;

  constructor(host: VdevHost, turn: VmmTurn, private readonly backend: DspBackend) {
    super(host, turn, new OpStats());
  }

  reset(): void {
    this.generation++;
    this.doorbell = this.busy = this.intEnable = this.intStatus = this.outstanding = this.completed = this.lastResult = 0;
    this.nextId = 1;
  }

  protected readReg(off: number): number {
    switch (off) {
      case DspReg.ID: return ID_VALUE;
      case DspReg.DOORBELL: return this.doorbell;
      case DspReg.STATUS:
        return this.busy | (this.outstanding > 0 ? ACTIVE : 0) | (this.outstanding >= this.backend.queueDepth ? FULL : 0);
      case DspReg.INT_ENABLE: return this.intEnable;
      case DspReg.INT_STATUS: return this.intStatus;
      case DspReg.OUTSTANDING: return this.outstanding;
      case DspReg.COMPLETED: return this.completed >>> 0;
      case DspReg.LAST_RESULT: return this.lastResult;
      case DspReg.QUEUE_DEPTH: return this.backend.queueDepth;
      default: return 0;
    }
  }

  protected writeReg(off: number, v: number): void {
    switch (off) {
      case DspReg.DOORBELL: this.ring(v); return;
      case DspReg.STATUS: this.busy &= ~(v & BUSY); return;
      case DspReg.INT_ENABLE:
        this.intEnable = v & (INT_DONE | INT_ERROR);
        this.updateIrq(this.pending());
        return;
      case DspReg.INT_STATUS:
        this.intStatus &= ~v;
        this.updateIrq(this.pending(), true);
        return;
      default:
    }
  }

  private pending(): boolean {
    return (this.intStatus & this.intEnable) !== 0;
  }

  private ring(descGpa: number): void {
    const h = this.host;
    if (this.outstanding >= this.backend.queueDepth) {
      this.busy = BUSY;
      return;
    }
    h.charge("vdev.command");
    this.doorbell = descGpa;
    this.outstanding++;
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0;
    const submitTick = h.clock.now();
    const generation = this.generation;
    const job = this.backend.prepare(h, descGpa);
    this.backend.submit({
      ...job,
      done: (status, result) => {
        if (generation !== this.generation) return;
        writeJobTail(h, job, status, result, id);
        h.charge("vdev.completion");
        h.touchState(DspReg.OUTSTANDING, 12, true);
        this.outstanding--;
        this.completed = (this.completed + 1) >>> 0;
        this.lastResult = result;
        this.intStatus |= status === JOB_DONE ? INT_DONE : INT_ERROR;
        this.opStats.record(submitTick, h.clock.now());
        this.updateIrq(this.pending());
      },
    });
  }
}
