/**
 * The VMM's backend of a shared dsp card (dsp.ts datasheet, dsp-ops.ts operations): one job at a time on
 * the physical card (its own queue is not used, so the VMM decides the order), the jobs of all partitions
 * in one FIFO. A guest's job descriptor holds guest-physical addresses; the VMM reads it (VdevHost
 * readGuest, charged), checks its buffers against partition RAM, and gives the card a descriptor of its own
 * (at offset 0 of the backend's VMM memory) with host-physical addresses: the guest's buffers themselves
 * when they are contiguous in host memory (zero copy), else the bounce buffers that follow the descriptor
 * (input copied in when the job starts, output copied out when it finishes). At the finish (the card's
 * INTx edge, taken on the service core: INT_STATUS read and cleared W1C) the VMM reads RESULT/STATUS from
 * its descriptor, copies a bounced output to the guest, and the partition's view writes RESULT, STATUS and
 * its own JOB_ID into the guest's descriptor (as the card would).
 * A job with a bad op or INPUT_LEN > maxJobBytes is still given to the card, without buffers: the card
 * fails it after setupUs (its own error code), as it would for an exclusive owner. A buffer outside
 * partition RAM fails the job without the card (code 3, DMA) when it reaches the head of the FIFO, so a
 * partition's jobs finish in doorbell order; a non-contiguous buffer larger than the bounce buffer fails
 * with code 2 (bad length).
 * No Intel SDM section applies. Leaves out: several jobs in flight on the card, scatter-gather.
 */
import type { DeviceInstance } from "../../devices/device-catalog.ts";
import { DSP_DESCRIPTOR_BYTES, DspReg, type Dsp } from "../../devices/dsp.ts";
import { DspError } from "../../devices/dsp-ops.ts";
import { backendQueueEntry, type BackendHost } from "./backend-host.ts";
import { inGuestRam } from "./guest-range.ts";
import { PhysicalRegs } from "./physical-regs.ts";
import type { VdevHost } from "./vdev.ts";
import type { VmmTurn } from "./vmm-turn.ts";

const INT_DONE = 1, INT_ERROR = 2;
const JOB_DONE = 1, JOB_FAILED = 2;
/** Largest bounce buffer (input, and output of the same size). */
export const DSP_BOUNCE_MAX = 64 * 1024;
const IN_OFF = 64;

export interface DspJob {
  /** The partition the job belongs to. */
  host: VdevHost;
  descGpa: number;
  /** The descriptor could be read (it lies in partition RAM): its tail is written at the finish. */
  descOk: boolean;
  inGpa: number;
  len: number;
  outGpa: number;
  /** Output bytes by op (dsp-ops.ts): 0 when the op or length is one the card will refuse. */
  outLen: number;
  op: number;
  param: number;
  /** DspError the VMM decided (descriptor or buffer outside RAM), or 0: the card runs the job. */
  vmmError: number;
  /** At the finish: the descriptor's STATUS word (1 done, 2 | code << 8 failed) and RESULT. */
  done(status: number, result: number): void;
}

function bounceBytes(physical: DeviceInstance): number {
  const max = (physical.device as Dsp).options?.maxJobBytes ?? DSP_BOUNCE_MAX;
  return Math.min(DSP_BOUNCE_MAX, Math.ceil(max / 64) * 64);
}

/** Bytes of VMM memory the backend needs: its job descriptor and the input and output bounce buffers. */
export function dspMemoryBytes(physical: DeviceInstance): number {
  return IN_OFF + 2 * bounceBytes(physical);
}

export class DspBackend {
  readonly regs: PhysicalRegs;
  readonly queueDepth: number;
  readonly maxJobBytes: number;
  private readonly bounce: number;
  private readonly queue: DspJob[] = [];
  private current: DspJob | null = null;
  private outBounced = false;
  physicalOps = 0;
  interrupts = 0;
  maxQueued = 0;
  bounced = 0;

  constructor(physical: DeviceInstance, private readonly host: BackendHost, private readonly turn: VmmTurn) {
    this.regs = new PhysicalRegs(physical, host);
    this.queueDepth = this.regs.setupRead(DspReg.QUEUE_DEPTH);
    this.maxJobBytes = (physical.device as Dsp).options?.maxJobBytes ?? 1 << 20;
    this.bounce = bounceBytes(physical);
    this.regs.setupWrite(DspReg.INT_STATUS, 0xffffffff);
    this.regs.setupWrite(DspReg.INT_ENABLE, INT_DONE | INT_ERROR);
  }

  /** Read and check a guest's job descriptor: the job to queue (its done() still to be set by the caller). */
  prepare(h: VdevHost, descGpa: number): Omit<DspJob, "done"> {
    const job = { host: h, descGpa, descOk: true, inGpa: 0, len: 0, outGpa: 0, outLen: 0, op: 0, param: 0, vmmError: 0 };
    const raw = h.readGuest(descGpa, DSP_DESCRIPTOR_BYTES);
    if (raw === null) {
      h.fault("dma", `dsp: job descriptor 0x${(descGpa >>> 0).toString(16)} is outside partition RAM`);
      return { ...job, descOk: false, vmmError: DspError.DMA };
    }
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    job.inGpa = v.getUint32(0, true);
    job.len = v.getUint32(4, true);
    job.outGpa = v.getUint32(8, true);
    job.op = v.getUint32(12, true);
    job.param = v.getUint32(16, true);
    if (job.op > 2 || job.len > this.maxJobBytes) return job; // the card refuses it itself
    job.outLen = job.op === 0 ? 4 : job.op === 1 ? job.len : 8;
    const inOk = job.len === 0 || inGuestRam(h, job.inGpa, job.len);
    const outOk = job.outLen === 0 || inGuestRam(h, job.outGpa, job.outLen);
    if (!inOk || !outOk) {
      const what = inOk ? `output 0x${job.outGpa.toString(16)} + ${job.outLen}` : `input 0x${job.inGpa.toString(16)} + ${job.len}`;
      h.fault("dma", `dsp: job ${what} bytes is outside partition RAM`);
      job.vmmError = DspError.DMA;
    }
    return job;
  }

  submit(job: DspJob): void {
    this.host.touchState(0, 64, true);
    this.host.touchState(backendQueueEntry(this.queue.length), 32, true);
    if (this.current === null) this.start(job);
    else {
      this.queue.push(job);
      if (this.queue.length > this.maxQueued) this.maxQueued = this.queue.length;
    }
  }

  private start(job: DspJob): void {
    const h = this.host;
    this.current = job;
    this.outBounced = false;
    if (job.vmmError !== 0) return this.finish(JOB_FAILED | (job.vmmError << 8), 0);
    h.charge("backend.submit");
    let inHpa = 0, outHpa = 0;
    if (job.outLen > 0) {
      const directIn = job.len === 0 ? 0 : job.host.gpaToHpa(job.inGpa, job.len);
      const directOut = job.host.gpaToHpa(job.outGpa, job.outLen);
      if ((directIn === null && job.len > this.bounce) || (directOut === null && job.outLen > this.bounce)) {
        return this.finish(JOB_FAILED | (DspError.BAD_LENGTH << 8), 0);
      }
      if (directIn !== null) inHpa = directIn;
      else {
        const data = job.host.readGuest(job.inGpa, job.len);
        if (data === null) return this.finish(JOB_FAILED | (DspError.DMA << 8), 0);
        h.memory.write(IN_OFF, data);
        inHpa = h.memory.hpa + IN_OFF;
      }
      if (directOut !== null) outHpa = directOut;
      else {
        this.outBounced = true;
        outHpa = h.memory.hpa + IN_OFF + this.bounce;
      }
      if (directIn === null || directOut === null) this.bounced++;
    }
    const d = new Uint8Array(DSP_DESCRIPTOR_BYTES);
    const v = new DataView(d.buffer);
    v.setUint32(0, inHpa, true);
    v.setUint32(4, job.len, true);
    v.setUint32(8, outHpa, true);
    v.setUint32(12, job.op, true);
    v.setUint32(16, job.param, true);
    h.memory.write(0, d);
    this.physicalOps++;
    this.regs.write(DspReg.DOORBELL, h.memory.hpa);
  }

  onInterrupt(): void {
    this.turn.interrupt(() => {
      const h = this.host;
      const r = this.regs;
      this.interrupts++;
      h.charge("backend.interrupt");
      h.touchState(0, 64, false);
      const is = r.read(DspReg.INT_STATUS);
      if (is === 0) return;
      r.write(DspReg.INT_STATUS, is);
      if (this.current === null || (is & (INT_DONE | INT_ERROR)) === 0) return;
      const tail = h.memory.read(20, 8);
      const tv = new DataView(tail.buffer, tail.byteOffset, 8);
      const result = tv.getUint32(0, true);
      let status = tv.getUint32(4, true);
      const job = this.current;
      if (status === JOB_DONE && this.outBounced) {
        const out = h.memory.read(IN_OFF + this.bounce, job.outLen);
        if (!job.host.writeGuest(job.outGpa, out)) status = JOB_FAILED | (DspError.DMA << 8);
      }
      this.finish(status, result);
    });
  }

  private finish(status: number, result: number): void {
    const job = this.current!;
    this.current = null;
    this.host.touchState(0, 64, true);
    job.done(status, result);
    const next = this.queue.shift();
    if (next !== undefined) this.start(next);
  }
}
