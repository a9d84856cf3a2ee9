/**
 * dsp: an accelerator card (the "DSP PCI card" of a classic consolidation design; issue 4 "Devices",
 * shared/DESIGN.md §3). The driver puts a job descriptor in memory and writes its address to DOORBELL;
 * the card reads the descriptor and the input by DMA, computes for a modelled time, writes the output and
 * the job's status back by DMA and raises its completion interrupt. Our own device, so this header is its
 * datasheet. Interrupts follow the PCI level-triggered INTx convention (PCI Local Bus Spec 3.0 §2.2.6).
 * No Intel SDM section applies (not a CPU part). The operations are in dsp-ops.ts.
 *
 * Registers: 32 bits at 4-byte offsets, the same layout on the port bus and in MMIO (registerBytes = 64).
 * Reads of 1 or 2 bytes return those bytes of the register; writes narrower than 32 bits are ignored.
 * Unlisted offsets read 0 and ignore writes.
 *
 * | offset | name        | R/W   | meaning                                                                 |
 * |--------|-------------|-------|-------------------------------------------------------------------------|
 * | 0x00   | ID          | R     | 0x0004_5654: PCI device id << 16 | vendor id                             |
 * | 0x04   | DOORBELL    | R/W   | write: physical address of a job descriptor, queued (or rejected when   |
 * |        |             |       | QUEUE_DEPTH jobs are outstanding); read: the last address accepted      |
 * | 0x08   | STATUS      | R/W1C | bit 0 ACTIVE (a job is running), bit 1 FULL (a doorbell now would be    |
 * |        |             |       | rejected), bit 2 BUSY: a doorbell was rejected (sticky, W1C)            |
 * | 0x0C   | INT_ENABLE  | R/W   | bits as INT_STATUS                                                      |
 * | 0x10   | INT_STATUS  | R/W1C | bit 0 DONE (a job finished well), bit 1 ERROR (a job failed). The IRQ   |
 * |        |             |       | line is asserted while INT_STATUS & INT_ENABLE != 0                     |
 * | 0x14   | OUTSTANDING | R     | jobs accepted and not finished (the running one included)              |
 * | 0x18   | COMPLETED   | R     | jobs finished so far, well or not (mod 2^32)                            |
 * | 0x1C   | LAST_RESULT | R     | RESULT of the last job that finished                                    |
 * | 0x20   | QUEUE_DEPTH | R     | most outstanding jobs (option queueDepth)                               |
 *
 * Job descriptor, 32 bytes little-endian in guest memory:
 *
 * | offset | field       | by     | meaning                                                           |
 * |--------|-------------|--------|-------------------------------------------------------------------|
 * | +0     | INPUT_ADDR  | driver | physical address of the input                                     |
 * | +4     | INPUT_LEN   | driver | input bytes (at most maxJobBytes)                                 |
 * | +8     | OUTPUT_ADDR | driver | physical address of the output (size by op: dsp-ops.ts)           |
 * | +12    | OP          | driver | 0 CRC32, 1 SCALE (Q16.16 gain), 2 SUM (dsp-ops.ts)                |
 * | +16    | PARAM       | driver | the op's parameter (SCALE: the gain)                              |
 * | +20    | RESULT      | card   | the op's 32-bit result                                            |
 * | +24    | STATUS      | card   | 1 done; 2 | code << 8 failed: code 1 bad op, 2 bad length, 3 DMA    |
 * | +28    | JOB_ID      | card   | the job's number: 1, 2, ... in doorbell order                     |
 *
 * Jobs run one at a time in doorbell order. When a job starts (at its doorbell if the card is idle,
 * else when the previous one finishes) the card reads the descriptor and the input by DMA and computes;
 * the job finishes setupUs + perKiBUs * INPUT_LEN / 1024 + jitter later (jitter uniform in
 * [0, jitterUs), from the "jitter" stream; summed in ns, converted once with nsToTicks). At the finish
 * it writes the output, then RESULT/STATUS/JOB_ID (so STATUS = 1 in memory means the output is there),
 * sets DONE or ERROR and starts the next job. A job whose descriptor or input cannot be read, or whose
 * op or length is bad, finishes after setupUs with STATUS = 2 | code << 8 and no output; a refused
 * output write gives code 3. Every refused transfer counts in dmaErrors.
 * Turnaround = finish tick - doorbell tick.
 * Leaves out: scatter-gather, job cancellation, MSI, several jobs in parallel.
 */
import { Reg32Device } from "./reg32-device.ts";
import { nsToTicks, type Clock } from "../sim/clock.ts";
import type { Tick } from "../sim/event-queue.ts";
import type { Rng } from "../sim/rng.ts";
import type { DmaPort } from "./dma.ts";
import { DspError, runDspOp } from "./dsp-ops.ts";
import { UNCONNECTED, type IrqLine } from "./irq-line.ts";

export const DspReg = {
  ID: 0x00,
  DOORBELL: 0x04,
  STATUS: 0x08,
  INT_ENABLE: 0x0c,
  INT_STATUS: 0x10,
  OUTSTANDING: 0x14,
  COMPLETED: 0x18,
  LAST_RESULT: 0x1c,
  QUEUE_DEPTH: 0x20,
} as const;

export const DSP_DESCRIPTOR_BYTES = 32;
export const DspStatus = { ACTIVE: 1, FULL: 2, BUSY: 4 } as const;
export const DspInt = { DONE: 1, ERROR: 2 } as const;
/** Values of the descriptor's STATUS word. */
export const DSP_JOB_DONE = 1;
export const DSP_JOB_FAILED = 2;

const ACTIVE = 1, FULL = 2, BUSY = 4;
const INT_DONE = 1, INT_ERROR = 2;

export const descriptor = {
  kind: "dsp",
  description: "accelerator: job descriptors by doorbell, DMA in/out, CRC32/scale/sum ops, modelled compute time",
  registerBytes: 64,
  /** Vendor 0x5654 ("VT"): this project's own id, not a PCI-SIG assignment. Class 12h/00h: processing accelerator. */
  pci: { vendorId: 0x5654, deviceId: 0x0004, classCode: 0x120000 },
} as const;

const ID_VALUE = (descriptor.pci.deviceId << 16) | descriptor.pci.vendorId;

export interface DspOptions {
  /** Most jobs outstanding (running + waiting); a doorbell beyond it is rejected. */
  queueDepth: number;
  /** Fixed time of every job, microseconds. */
  setupUs: number;
  /** Compute time per KiB of input, microseconds. */
  perKiBUs: number;
  /** Upper bound of the uniform random time added to each job, microseconds (0 = none). */
  jitterUs: number;
  /** Largest INPUT_LEN accepted (longer: bad length), bytes. */
  maxJobBytes: number;
}

export const DSP_DEFAULTS: Readonly<DspOptions> = {
  queueDepth: 4,
  setupUs: 5,
  perKiBUs: 1,
  jitterUs: 0,
  maxJobBytes: 1 << 20,
};

function bad(name: string, why: string, v: unknown): never {
  throw new RangeError(`dsp: option ${name} ${why} (got ${String(v)})`);
}

/** Defaults filled in and every option checked; a RangeError names the bad option. */
export function resolveDspOptions(o: Partial<DspOptions> = {}): DspOptions {
  const r = { ...DSP_DEFAULTS, ...o };
  if (!(Number.isInteger(r.queueDepth) && r.queueDepth >= 1 && r.queueDepth <= 1024)) {
    bad("queueDepth", "must be an integer in 1 .. 1024", r.queueDepth);
  }
  for (const name of ["setupUs", "perKiBUs", "jitterUs"] as const) {
    if (!(Number.isFinite(r[name]) && r[name] >= 0)) bad(name, "must be a non-negative number of microseconds", r[name]);
  }
  if (!(Number.isInteger(r.maxJobBytes) && r.maxJobBytes >= 0 && r.maxJobBytes <= 8 << 20)) {
    bad("maxJobBytes", "must be an integer in 0 .. 8 MiB", r.maxJobBytes);
  }
  return r;
}

export interface DspDeps {
  clock: Clock;
  dma: DmaPort;
  irq?: IrqLine;
  /** The card's stream; it forks "jitter" from it. Needed only when jitterUs > 0. */
  rng?: Rng;
  name?: string;
}

/** Counters and turnaround times, as plain data. */
export interface DspStats {
  jobs: number;
  errors: number;
  rejected: number;
  dmaErrors: number;
  bytesIn: number;
  bytesOut: number;
  turnaroundTicks: number[];
}

export interface DspState {
  doorbell: number;
  status: number;
  intEnable: number;
  intStatus: number;
  completed: number;
  lastResult: number;
  /** Outstanding jobs in order (the running one first): descriptor address, doorbell tick, job id. */
  queueAddrs: number[];
  queueTicks: number[];
  queueIds: number[];
  nextId: number;
  /** The running job's outcome, decided when it started: result, error code. */
  runResult: number;
  runError: number;
  stats: DspStats;
}

export type DspReport = DspStats;

export class Dsp extends Reg32Device {
  readonly name: string;
  readonly options: DspOptions;
  readonly state: DspState;
  private readonly clock: Clock;
  private readonly dma: DmaPort;
  private readonly irq: IrqLine;
  private readonly jitterRng: Rng | null;
  /** The running job's output (written at its finish) and its descriptor's output address. */
  private runOutput: Uint8Array | null = null;
  private runOutputAddr = 0;
  private readonly finish = (tick: Tick): void => this.onFinish(tick);

  constructor(deps: DspDeps, options: Partial<DspOptions> = {}) {
    super();
    this.options = resolveDspOptions(options);
    if (this.options.jitterUs > 0 && deps.rng === undefined) bad("jitterUs", "needs an rng stream", this.options.jitterUs);
    this.name = deps.name ?? "dsp";
    this.clock = deps.clock;
    this.dma = deps.dma;
    this.irq = deps.irq ?? UNCONNECTED;
    this.jitterRng = deps.rng?.fork("jitter") ?? null;
    this.state = {
      doorbell: 0, status: 0, intEnable: 0, intStatus: 0, completed: 0, lastResult: 0,
      queueAddrs: [], queueTicks: [], queueIds: [], nextId: 1, runResult: 0, runError: 0,
      stats: { jobs: 0, errors: 0, rejected: 0, dmaErrors: 0, bytesIn: 0, bytesOut: 0, turnaroundTicks: [] },
    };
  }

  report(): DspReport {
    const t = this.state.stats;
    return { ...t, turnaroundTicks: [...t.turnaroundTicks] };
  }

  private statusValue(): number {
    const s = this.state;
    return (s.status & BUSY) | (s.queueAddrs.length > 0 ? ACTIVE : 0) |
      (s.queueAddrs.length >= this.options.queueDepth ? FULL : 0);
  }

  protected readReg(off: number): number {
    const s = this.state;
    switch (off) {
      case DspReg.ID: return ID_VALUE;
      case DspReg.DOORBELL: return s.doorbell;
      case DspReg.STATUS: return this.statusValue();
      case DspReg.INT_ENABLE: return s.intEnable;
      case DspReg.INT_STATUS: return s.intStatus;
      case DspReg.OUTSTANDING: return s.queueAddrs.length;
      case DspReg.COMPLETED: return s.completed >>> 0;
      case DspReg.LAST_RESULT: return s.lastResult;
      case DspReg.QUEUE_DEPTH: return this.options.queueDepth;
      default: return 0;
    }
  }

  protected writeReg(off: number, v: number): void {
    const s = this.state;
    switch (off) {
      case DspReg.DOORBELL: this.ring(v); break;
      case DspReg.STATUS: s.status &= ~(v & BUSY); break;
      case DspReg.INT_ENABLE: s.intEnable = v & (INT_DONE | INT_ERROR); break;
      case DspReg.INT_STATUS: s.intStatus &= ~v; break;
      default: return;
    }
    this.updateIrq();
  }

  private updateIrq(): void {
    this.irq.set((this.state.intStatus & this.state.intEnable) !== 0);
  }

  private ring(addr: number): void {
    const s = this.state;
    if (s.queueAddrs.length >= this.options.queueDepth) {
      s.status |= BUSY;
      s.stats.rejected++;
      return;
    }
    s.doorbell = addr;
    s.queueAddrs.push(addr);
    s.queueTicks.push(this.clock.now());
    s.queueIds.push(s.nextId);
    s.nextId = (s.nextId + 1) >>> 0;
    if (s.queueAddrs.length === 1) this.startHead();
  }

  /** Start the job at the head of the queue: fetch, compute, schedule the finish. */
  private startHead(): void {
    const s = this.state;
    const o = this.options;
    const addr = s.queueAddrs[0];
    const desc = new Uint8Array(DSP_DESCRIPTOR_BYTES);
    let error: number = DspError.NONE;
    let len = 0;
    this.runOutput = null;
    s.runResult = 0;
    if (!this.dma.read(addr, desc)) {
      error = DspError.DMA;
      s.stats.dmaErrors++;
    } else {
      const v = new DataView(desc.buffer);
      const inAddr = v.getUint32(0, true);
      len = v.getUint32(4, true);
      this.runOutputAddr = v.getUint32(8, true);
      const op = v.getUint32(12, true);
      const param = v.getInt32(16, true);
      if (op > 2) error = DspError.BAD_OP;
      else if (len > o.maxJobBytes) error = DspError.BAD_LENGTH;
      else {
        const input = new Uint8Array(len);
        if (!this.dma.read(inAddr, input)) {
          error = DspError.DMA;
          s.stats.dmaErrors++;
        } else {
          s.stats.bytesIn += len;
          const r = runDspOp(op, param, input);
          if (r.error === 0) {
            s.runResult = r.result;
            this.runOutput = r.output;
          } else {
            error = r.error;
          }
        }
      }
    }
    s.runError = error;
    let ns = o.setupUs * 1000;
    if (error === DspError.NONE) {
      ns += (o.perKiBUs * 1000 * len) / 1024;
      if (o.jitterUs > 0) ns += this.jitterRng!.uniform(0, o.jitterUs * 1000);
    }
    this.clock.at(this.clock.now() + nsToTicks(ns, this.clock.hz), this.finish, `${this.name}.job`);
  }

  private onFinish(tick: Tick): void {
    const s = this.state;
    const addr = s.queueAddrs.shift()!;
    const doorbellTick = s.queueTicks.shift()!;
    const id = s.queueIds.shift()!;
    if (s.runError === DspError.NONE && this.runOutput !== null) {
      if (this.dma.write(this.runOutputAddr, this.runOutput)) s.stats.bytesOut += this.runOutput.length;
      else {
        s.runError = DspError.DMA;
        s.stats.dmaErrors++;
      }
    }
    const tail = new Uint8Array(12);
    const v = new DataView(tail.buffer);
    v.setUint32(0, s.runResult, true);
    v.setUint32(4, s.runError === DspError.NONE ? DSP_JOB_DONE : DSP_JOB_FAILED | (s.runError << 8), true);
    v.setUint32(8, id, true);
    if (!this.dma.write(addr + 20, tail)) s.stats.dmaErrors++;
    s.stats.jobs++;
    s.completed = (s.completed + 1) >>> 0;
    s.lastResult = s.runResult;
    s.stats.turnaroundTicks.push(tick - doorbellTick);
    if (s.runError === DspError.NONE) s.intStatus |= INT_DONE;
    else {
      s.stats.errors++;
      s.intStatus |= INT_ERROR;
    }
    this.runOutput = null;
    if (s.queueAddrs.length > 0) this.startHead();
    this.updateIrq();
  }

}
