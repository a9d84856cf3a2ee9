/**
 * block: a disk with a command register set, DMA to guest memory, a service-time model and a completion
 * interrupt (issue 4 "Devices", shared/DESIGN.md §3). Our own device, so this header is its datasheet.
 * Interrupt semantics follow the PCI level-triggered INTx convention (PCI Local Bus Spec 3.0 §2.2.6);
 * the command set is modelled on, but not compatible with, ATA's (LBA, sector count, READ/WRITE DMA,
 * FLUSH CACHE, IDENTIFY DEVICE). No Intel SDM section applies (not a CPU part).
 *
 * Registers: 32 bits at 4-byte offsets, the same layout on the port bus and in MMIO (registerBytes = 64).
 * Reads of 1 or 2 bytes return those bytes of the register; writes narrower than 32 bits are ignored.
 * Unlisted offsets read 0 and ignore writes.
 *
 * | offset | name        | R/W   | meaning                                                                  |
 * |--------|-------------|-------|--------------------------------------------------------------------------|
 * | 0x00   | ID          | R     | 0x0002_5654: PCI device id << 16 | vendor id                              |
 * | 0x04   | LBA         | R/W   | first sector of the next command                                         |
 * | 0x08   | COUNT       | R/W   | sectors (512 bytes) of the next command, 1 .. MAX_SECTORS                 |
 * | 0x0C   | DMA_ADDR    | R/W   | physical address of the contiguous memory buffer                         |
 * | 0x10   | COMMAND     | R/W   | write starts a command: 1 READ, 2 WRITE, 3 FLUSH, 4 IDENTIFY; reads the   |
 * |        |             |       | last command written                                                     |
 * | 0x14   | STATUS      | R     | bit 0 BUSY, bit 1 DONE (the last command finished), bit 2 ERROR (it      |
 * |        |             |       | failed: see ERROR), bit 3 REJECTED (a command was written while BUSY and |
 * |        |             |       | ignored). An accepted command clears DONE, ERROR and REJECTED            |
 * | 0x18   | ERROR       | R     | why the last command failed: 0 none, 1 bad command, 2 LBA/COUNT out of   |
 * |        |             |       | range, 3 DMA refused                                                     |
 * | 0x1C   | INT_ENABLE  | R/W   | bit 0 COMPLETE                                                           |
 * | 0x20   | INT_STATUS  | R/W1C | bit 0 COMPLETE: a command finished (success or error). The IRQ line is   |
 * |        |             |       | asserted while INT_STATUS & INT_ENABLE != 0                              |
 * | 0x24   | CAPACITY    | R     | capacity in sectors                                                      |
 * | 0x28   | MAX_SECTORS | R     | most sectors one command may move                                        |
 *
 * One command at a time (no queue). Command flow:
 * - A command with a bad code or range finishes at once: DONE | ERROR, COMPLETE, no time spent.
 * - READ: BUSY for the service time, then the sectors go to DMA_ADDR by DMA (one transfer of COUNT * 512
 *   bytes), DONE (or ERROR 3 if the DMA was refused: memory is then untouched), COMPLETE.
 * - WRITE: the data is fetched from DMA_ADDR by DMA at submission (the controller buffers it, as a disk
 *   with a write buffer does); refused -> finishes at once with ERROR 3 and the disk unchanged. Otherwise
 *   BUSY for the service time, and the sectors reach the medium at completion.
 * - FLUSH: BUSY for fixedUs (the medium has no volatile cache to lose; the time is the command overhead).
 * - IDENTIFY: BUSY for fixedUs + perKiBUs / 2, then 512 bytes to DMA_ADDR, little-endian: +0 magic
 *   0x4B4C4256 ("VBLK"), +4 capacity in sectors, +8 sector bytes (512), +12 MAX_SECTORS,
 *   +16 sectors per track, +20 model name (ASCII, 40 bytes, zero-padded), the rest zero.
 *
 * Service time of READ/WRITE = fixedUs + perKiBUs * KiB + seekUsPerTrack * |track(LBA) - head track|,
 * KiB = COUNT / 2, track(s) = floor(s / sectorsPerTrack); the head starts on track 0 and ends each
 * READ/WRITE on the track of its last sector. A linear seek model: no rotational latency, no settle time.
 * The sum is taken in ns and converted to ticks once (nsToTicks). Backing store: a sparse map of 512-byte
 * sectors, all zero until written (writes of zero sectors are stored too).
 * Leaves out: request queues/NCQ, a write cache, partial-sector transfers, scatter-gather, MSI.
 */
import { Reg32Device } from "./reg32-device.ts";
import { nsToTicks, type Clock } from "../sim/clock.ts";
import type { Tick } from "../sim/event-queue.ts";
import type { DmaPort } from "./dma.ts";
import { UNCONNECTED, type IrqLine } from "./irq-line.ts";

export const SECTOR_BYTES = 512;

export const BlockReg = {
  ID: 0x00,
  LBA: 0x04,
  COUNT: 0x08,
  DMA_ADDR: 0x0c,
  COMMAND: 0x10,
  STATUS: 0x14,
  ERROR: 0x18,
  INT_ENABLE: 0x1c,
  INT_STATUS: 0x20,
  CAPACITY: 0x24,
  MAX_SECTORS: 0x28,
} as const;

export const BlockCommand = { READ: 1, WRITE: 2, FLUSH: 3, IDENTIFY: 4 } as const;
export const BlockStatus = { BUSY: 1, DONE: 2, ERROR: 4, REJECTED: 8 } as const;
export const BlockError = { NONE: 0, BAD_COMMAND: 1, OUT_OF_RANGE: 2, DMA: 3 } as const;
export const BLOCK_INT_COMPLETE = 1;
export const BLOCK_IDENTIFY_MAGIC = 0x4b4c4256;
export const BLOCK_MODEL_NAME = "vmxsim block device";

const BUSY = 1, DONE = 2, ERROR = 4, REJECTED = 8;
const READ = 1, WRITE = 2, FLUSH = 3, IDENTIFY = 4;

export const descriptor = {
  kind: "block",
  description: "disk: LBA/count/DMA command registers, fixed + per-KiB + seek service time, completion interrupt",
  registerBytes: 64,
  /** Vendor 0x5654 ("VT"): this project's own id, not a PCI-SIG assignment. Class 01h/80h: other mass storage. */
  pci: { vendorId: 0x5654, deviceId: 0x0002, classCode: 0x018000 },
} as const;

const ID_VALUE = (descriptor.pci.deviceId << 16) | descriptor.pci.vendorId;

export interface BlockOptions {
  /** Disk size in 512-byte sectors. */
  capacitySectors: number;
  /** Fixed part of every command's service time, microseconds. */
  fixedUs: number;
  /** Transfer time per KiB moved, microseconds. */
  perKiBUs: number;
  /** Seek time per track crossed, microseconds. */
  seekUsPerTrack: number;
  sectorsPerTrack: number;
  /** Most sectors one command may move. */
  maxSectors: number;
}

export const BLOCK_DEFAULTS: Readonly<BlockOptions> = {
  capacitySectors: 131072,
  fixedUs: 100,
  perKiBUs: 10,
  seekUsPerTrack: 20,
  sectorsPerTrack: 256,
  maxSectors: 256,
};

function bad(name: string, why: string, v: unknown): never {
  throw new RangeError(`block: option ${name} ${why} (got ${String(v)})`);
}

/** Defaults filled in and every option checked; a RangeError names the bad option. */
export function resolveBlockOptions(o: Partial<BlockOptions> = {}): BlockOptions {
  const r = { ...BLOCK_DEFAULTS, ...o };
  const count = (name: keyof BlockOptions, max: number) => {
    const v = r[name];
    if (!(Number.isInteger(v) && v >= 1 && v <= max)) bad(name, `must be an integer in 1 .. ${max}`, v);
  };
  const us = (name: keyof BlockOptions) => {
    const v = r[name];
    if (!(Number.isFinite(v) && v >= 0)) bad(name, "must be a non-negative number of microseconds", v);
  };
  count("capacitySectors", 0xffffffff);
  count("sectorsPerTrack", 0xffffffff);
  count("maxSectors", 0xffff);
  us("fixedUs");
  us("perKiBUs");
  us("seekUsPerTrack");
  return r;
}

export interface BlockDeps {
  clock: Clock;
  dma: DmaPort;
  irq?: IrqLine;
  name?: string;
}

/** Registers and counters as plain data (the sectors live in BlockDevice.sectors). */
/** Counters and service times, as plain data. */
export interface BlockStats {
  reads: number;
  writes: number;
  flushes: number;
  identifies: number;
  errors: number;
  rejected: number;
  dmaErrors: number;
  bytesRead: number;
  bytesWritten: number;
  /** Completion tick - submission tick of every command that was BUSY (successful or not). */
  serviceTicks: number[];
}

export interface BlockState {
  lba: number;
  count: number;
  dmaAddr: number;
  command: number;
  status: number;
  error: number;
  intEnable: number;
  intStatus: number;
  /** Track under the head. */
  headTrack: number;
  /** Running command: its code, LBA, count, DMA address and submission tick. */
  runCommand: number;
  runLba: number;
  runCount: number;
  runDmaAddr: number;
  runSubmitTick: number;
  stats: BlockStats;
}

export type BlockReport = BlockStats & { requests: number };

export class BlockDevice extends Reg32Device {
  readonly name: string;
  readonly options: BlockOptions;
  readonly state: BlockState;
  /** The medium: sector number -> 512 bytes; absent sectors read as zero. */
  readonly sectors = new Map<number, Uint8Array>();
  private readonly clock: Clock;
  private readonly dma: DmaPort;
  private readonly irq: IrqLine;
  /** WRITE data fetched at submission, stored at completion. */
  private writeBuffer: Uint8Array | null = null;
  private readonly complete = (tick: Tick): void => this.onComplete(tick);

  constructor(deps: BlockDeps, options: Partial<BlockOptions> = {}) {
    super();
    this.options = resolveBlockOptions(options);
    this.name = deps.name ?? "block";
    this.clock = deps.clock;
    this.dma = deps.dma;
    this.irq = deps.irq ?? UNCONNECTED;
    this.state = {
      lba: 0, count: 0, dmaAddr: 0, command: 0, status: 0, error: 0, intEnable: 0, intStatus: 0, headTrack: 0,
      runCommand: 0, runLba: 0, runCount: 0, runDmaAddr: 0, runSubmitTick: 0,
      stats: {
        reads: 0, writes: 0, flushes: 0, identifies: 0, errors: 0, rejected: 0, dmaErrors: 0, bytesRead: 0,
        bytesWritten: 0, serviceTicks: [],
      },
    };
  }

  /** A copy of sector `lba` (zero if never written): for scenarios and tests, from outside the guest. */
  readSector(lba: number): Uint8Array {
    this.checkLba(lba);
    const sec = this.sectors.get(lba);
    return sec === undefined ? new Uint8Array(SECTOR_BYTES) : sec.slice();
  }

  /** Put `data` (at most 512 bytes; the rest of the sector is zero) into sector `lba`: a disk image. */
  writeSector(lba: number, data: Uint8Array): void {
    this.checkLba(lba);
    if (data.length > SECTOR_BYTES) throw new RangeError(`block: sector data of ${data.length} bytes exceeds 512`);
    const s = new Uint8Array(SECTOR_BYTES);
    s.set(data);
    this.sectors.set(lba, s);
  }

  report(): BlockReport {
    const t = this.state.stats;
    return { requests: t.reads + t.writes + t.flushes + t.identifies, ...t, serviceTicks: [...t.serviceTicks] };
  }

  /** Service time of a command in ticks, by the model of the header (head at `headTrack`). */
  serviceTicksFor(command: number, lba: number, count: number, headTrack: number): Tick {
    const o = this.options;
    let us = o.fixedUs;
    if (command === READ || command === WRITE) {
      const delta = Math.abs(Math.floor(lba / o.sectorsPerTrack) - headTrack);
      us += o.perKiBUs * (count / 2) + o.seekUsPerTrack * delta;
    } else if (command === IDENTIFY) {
      us += o.perKiBUs / 2;
    }
    return nsToTicks(us * 1000, this.clock.hz);
  }

  private checkLba(lba: number): void {
    if (!(Number.isInteger(lba) && lba >= 0 && lba < this.options.capacitySectors)) {
      throw new RangeError(`block: sector ${lba} is outside the disk (0 .. ${this.options.capacitySectors - 1})`);
    }
  }

  protected readReg(off: number): number {
    const s = this.state;
    switch (off) {
      case BlockReg.ID: return ID_VALUE;
      case BlockReg.LBA: return s.lba;
      case BlockReg.COUNT: return s.count;
      case BlockReg.DMA_ADDR: return s.dmaAddr;
      case BlockReg.COMMAND: return s.command;
      case BlockReg.STATUS: return s.status;
      case BlockReg.ERROR: return s.error;
      case BlockReg.INT_ENABLE: return s.intEnable;
      case BlockReg.INT_STATUS: return s.intStatus;
      case BlockReg.CAPACITY: return this.options.capacitySectors >>> 0;
      case BlockReg.MAX_SECTORS: return this.options.maxSectors;
      default: return 0;
    }
  }

  protected writeReg(off: number, v: number): void {
    const s = this.state;
    switch (off) {
      case BlockReg.LBA: s.lba = v; break;
      case BlockReg.COUNT: s.count = v; break;
      case BlockReg.DMA_ADDR: s.dmaAddr = v; break;
      case BlockReg.COMMAND: this.submit(v); break;
      case BlockReg.INT_ENABLE: s.intEnable = v & BLOCK_INT_COMPLETE; break;
      case BlockReg.INT_STATUS: s.intStatus &= ~v; break;
      default: return;
    }
    this.updateIrq();
  }

  private updateIrq(): void {
    this.irq.set((this.state.intStatus & this.state.intEnable) !== 0);
  }

  /** Finish a command at once with an error (nothing was started). */
  private failNow(code: number): void {
    const s = this.state;
    s.status = DONE | ERROR;
    s.error = code;
    s.stats.errors++;
    if (code === BlockError.DMA) s.stats.dmaErrors++;
    s.intStatus |= BLOCK_INT_COMPLETE;
  }

  private submit(cmd: number): void {
    const s = this.state;
    const o = this.options;
    s.command = cmd;
    if (s.status & BUSY) {
      s.status |= REJECTED;
      s.stats.rejected++;
      return;
    }
    s.status = 0;
    s.error = 0;
    if (cmd < READ || cmd > IDENTIFY) return this.failNow(BlockError.BAD_COMMAND);
    const data = cmd === READ || cmd === WRITE;
    if (data && (s.count < 1 || s.count > o.maxSectors || s.lba + s.count > o.capacitySectors)) {
      return this.failNow(BlockError.OUT_OF_RANGE);
    }
    if (cmd === WRITE) {
      const buf = new Uint8Array(s.count * SECTOR_BYTES);
      if (!this.dma.read(s.dmaAddr, buf)) return this.failNow(BlockError.DMA);
      this.writeBuffer = buf;
    }
    const now = this.clock.now();
    s.runCommand = cmd;
    s.runLba = s.lba;
    s.runCount = data ? s.count : 0;
    s.runDmaAddr = s.dmaAddr;
    s.runSubmitTick = now;
    s.status = BUSY;
    const ticks = this.serviceTicksFor(cmd, s.lba, s.count, s.headTrack);
    this.clock.at(now + ticks, this.complete, `${this.name}.complete`);
  }

  private onComplete(tick: Tick): void {
    const s = this.state;
    const cmd = s.runCommand;
    let error = 0;
    if (cmd === READ) {
      const buf = new Uint8Array(s.runCount * SECTOR_BYTES);
      for (let k = 0; k < s.runCount; k++) {
        const sec = this.sectors.get(s.runLba + k);
        if (sec !== undefined) buf.set(sec, k * SECTOR_BYTES);
      }
      if (this.dma.write(s.runDmaAddr, buf)) s.stats.bytesRead += buf.length;
      else error = BlockError.DMA;
      s.stats.reads++;
    } else if (cmd === WRITE) {
      const buf = this.writeBuffer!;
      for (let k = 0; k < s.runCount; k++) this.sectors.set(s.runLba + k, buf.slice(k * SECTOR_BYTES, (k + 1) * SECTOR_BYTES));
      this.writeBuffer = null;
      s.stats.bytesWritten += buf.length;
      s.stats.writes++;
    } else if (cmd === FLUSH) {
      s.stats.flushes++;
    } else {
      if (!this.dma.write(s.runDmaAddr, this.identifyBlock())) error = BlockError.DMA;
      s.stats.identifies++;
    }
    if (cmd === READ || cmd === WRITE) {
      s.headTrack = Math.floor((s.runLba + s.runCount - 1) / this.options.sectorsPerTrack);
    }
    s.stats.serviceTicks.push(tick - s.runSubmitTick);
    s.status = DONE | (error ? ERROR : 0);
    s.error = error;
    if (error) {
      s.stats.errors++;
      s.stats.dmaErrors++;
    }
    s.intStatus |= BLOCK_INT_COMPLETE;
    this.updateIrq();
  }

  private identifyBlock(): Uint8Array {
    const b = new Uint8Array(SECTOR_BYTES);
    const v = new DataView(b.buffer);
    const o = this.options;
    v.setUint32(0, BLOCK_IDENTIFY_MAGIC, true);
    v.setUint32(4, o.capacitySectors, true);
    v.setUint32(8, SECTOR_BYTES, true);
    v.setUint32(12, o.maxSectors, true);
    v.setUint32(16, o.sectorsPerTrack, true);
    for (let k = 0; k < BLOCK_MODEL_NAME.length; k++) b[20 + k] = BLOCK_MODEL_NAME.charCodeAt(k);
    return b;
  }

}
