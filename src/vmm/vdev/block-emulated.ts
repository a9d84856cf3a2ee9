/**
 * A partition's emulated block device: the register file of block-device.ts (its header is the datasheet
 * this follows) kept per partition by the VMM, every access a VM exit. Differences from the card, all
 * because the disk is shared:
 * - DMA_ADDR is a guest-physical address; a buffer outside partition RAM fails at once with ERROR 3 and
 *   is reported (VdevHost.fault "dma"), nothing is transferred (the card would fail a refused WRITE at
 *   once and a READ at completion);
 * - LBA/COUNT are relative to the partition's window and CAPACITY is the window size (block-backend.ts);
 * - an accepted READ/WRITE/FLUSH is queued in the backend's FIFO behind other partitions' requests, so
 *   BUSY lasts for the queueing plus the service time;
 * - IDENTIFY is answered by the VMM at once (no disk time): the card's 512-byte block with the window size.
 * Costs: vdev.registerRead/Write per access, vdev.command per command started, vdev.completion per command
 * finished. No Intel SDM section applies. Leaves out: the card's REJECTED counting in statistics.
 */
import {
  BLOCK_IDENTIFY_MAGIC, BLOCK_MODEL_NAME, BlockError, BlockReg, SECTOR_BYTES, descriptor,
} from "../../devices/block-device.ts";
import type { BlockBackend } from "./block-backend.ts";
import { EmulatedReg32 } from "./emulated-regs.ts";
import { inGuestRam } from "./guest-range.ts";
import { OpStats } from "./op-stats.ts";
import type { VdevHost } from "./vdev.ts";
import type { VmmTurn } from "./vmm-turn.ts";

const ID_VALUE = (descriptor.pci.deviceId << 16) | descriptor.pci.vendorId;
const READ = 1, WRITE = 2, FLUSH = 3, IDENTIFY = 4;
const BUSY = 1, DONE = 2, ERROR = 4, REJECTED = 8;
const INT_COMPLETE = 1;

export class BlockEmulated extends EmulatedReg32 {
  private lba = 0;
  private count = 0;
  private dmaAddr = 0;
  private command = 0;
  private status = 0;
  private error = 0;
  private intEnable = 0;
  private intStatus = 0;
  private submitTick = 0;
  private generation = 0;

  constructor(host: VdevHost, turn: VmmTurn, private readonly backend: BlockBackend, private readonly windowIndex: number) {
    super(host, turn, new OpStats());
  }

  /** The partition restarts: the register file goes back to its reset state; a command in flight completes
   * without touching it. */
  reset(): void {
    this.generation++;
    this.lba = this.count = this.dmaAddr = this.command = this.status = this.error = this.intEnable = this.intStatus = 0;
  }

  protected readReg(off: number): number {
    switch (off) {
      case BlockReg.ID: return ID_VALUE;
      case BlockReg.LBA: return this.lba;
      case BlockReg.COUNT: return this.count;
      case BlockReg.DMA_ADDR: return this.dmaAddr;
      case BlockReg.COMMAND: return this.command;
      case BlockReg.STATUS: return this.status;
      case BlockReg.ERROR: return this.error;
      case BlockReg.INT_ENABLE: return this.intEnable;
      case BlockReg.INT_STATUS: return this.intStatus;
      case BlockReg.CAPACITY: return this.backend.window(this.windowIndex).sectors >>> 0;
      case BlockReg.MAX_SECTORS: return this.backend.maxSectors;
      default: return 0;
    }
  }

  protected writeReg(off: number, v: number): void {
    switch (off) {
      case BlockReg.LBA: this.lba = v; return;
      case BlockReg.COUNT: this.count = v; return;
      case BlockReg.DMA_ADDR: this.dmaAddr = v; return;
      case BlockReg.COMMAND: this.submit(v); return;
      case BlockReg.INT_ENABLE:
        this.intEnable = v & INT_COMPLETE;
        this.updateIrq(this.pending());
        return;
      case BlockReg.INT_STATUS:
        this.intStatus &= ~v;
        this.updateIrq(this.pending(), true);
        return;
      default:
    }
  }

  private pending(): boolean {
    return (this.intStatus & this.intEnable) !== 0;
  }

  private submit(cmd: number): void {
    const h = this.host;
    this.command = cmd;
    if (this.status & BUSY) {
      this.status |= REJECTED;
      return;
    }
    this.status = 0;
    this.error = 0;
    this.submitTick = h.clock.now();
    if (cmd < READ || cmd > IDENTIFY) return this.complete(BlockError.BAD_COMMAND);
    const win = this.backend.window(this.windowIndex);
    if (cmd === READ || cmd === WRITE) {
      if (this.count < 1 || this.count > this.backend.maxSectors || this.lba + this.count > win.sectors) {
        return this.complete(BlockError.OUT_OF_RANGE);
      }
    }
    const bytes = cmd === IDENTIFY ? SECTOR_BYTES : cmd === FLUSH ? 0 : this.count * SECTOR_BYTES;
    if (bytes > 0 && !inGuestRam(h, this.dmaAddr, bytes)) {
      h.fault("dma", `block: DMA_ADDR 0x${this.dmaAddr.toString(16)} + ${bytes} bytes is outside partition RAM`);
      return this.complete(BlockError.DMA);
    }
    h.charge("vdev.command");
    if (cmd === IDENTIFY) {
      return this.complete(h.writeGuest(this.dmaAddr, this.identifyBlock(win.sectors)) ? 0 : BlockError.DMA);
    }
    this.status = BUSY;
    const generation = this.generation;
    this.backend.submit({
      host: h, cmd, lba: win.base + (cmd === FLUSH ? 0 : this.lba), count: cmd === FLUSH ? 0 : this.count, gpa: this.dmaAddr,
      done: (error) => {
        if (generation === this.generation) this.complete(error);
      },
    });
  }

  /** The command finished (at once, or when the backend completed it). */
  private complete(error: number): void {
    const h = this.host;
    h.charge("vdev.completion");
    h.touchState(BlockReg.STATUS, 16, true);
    this.status = DONE | (error ? ERROR : 0);
    this.error = error;
    this.intStatus |= INT_COMPLETE;
    this.opStats.record(this.submitTick, h.clock.now());
    this.updateIrq(this.pending());
  }

  private identifyBlock(sectors: number): Uint8Array {
    const b = new Uint8Array(SECTOR_BYTES);
    const v = new DataView(b.buffer);
    v.setUint32(0, BLOCK_IDENTIFY_MAGIC, true);
    v.setUint32(4, sectors, true);
    v.setUint32(8, SECTOR_BYTES, true);
    v.setUint32(12, this.backend.maxSectors, true);
    v.setUint32(16, this.backend.sectorsPerTrack, true);
    for (let k = 0; k < BLOCK_MODEL_NAME.length; k++) b[20 + k] = BLOCK_MODEL_NAME.charCodeAt(k);
    return b;
  }
}
