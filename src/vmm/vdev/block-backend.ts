/**
 * The VMM's backend of a shared block device (block-device.ts datasheet): one command at a time on the
 * physical disk, the requests of all partitions in one FIFO (so partitions contend for the disk: a request
 * waits for every request queued before it), and each partition confined to its own slice of the disk.
 *
 * LBA windows: the n partitions attached to the disk (in attach order k = 0 .. n-1, all attached at build
 * time) see disjoint windows of floor(capacity / n) sectors; partition k's sector s is physical sector
 * k * floor(capacity / n) + s. A partition's CAPACITY (register, IDENTIFY) is its window size.
 *
 * Programming: LBA, COUNT, DMA_ADDR, COMMAND (four MMIO writes at the bus cost, plus backend.submit). The
 * DMA address is the guest buffer's host-physical address when it is contiguous in host memory (zero copy,
 * VdevHost.gpaToHpa), else a bounce buffer in the backend's VMM memory: WRITE data is copied in from the
 * guest when the command starts, READ data copied out to the guest when it completes (VdevHost
 * readGuest/writeGuest, charged per line). Completion: the disk's INTx edge reaches the service core, the
 * VMM reads INT_STATUS and clears it (W1C, re-arming the edge-triggered pin), reads STATUS (and ERROR),
 * completes the request and starts the next one (backend.interrupt).
 * Guest buffers are checked against partition RAM by the views before a request is queued.
 * No Intel SDM section applies. Leaves out: request merging or reordering (no elevator), several commands
 * in flight, splitting requests larger than MAX_SECTORS.
 */
import { BlockReg, BlockError, SECTOR_BYTES, type BlockDevice } from "../../devices/block-device.ts";
import type { DeviceInstance } from "../../devices/device-catalog.ts";
import { backendQueueEntry, type BackendHost } from "./backend-host.ts";
import { PhysicalRegs } from "./physical-regs.ts";
import type { VdevHost } from "./vdev.ts";
import type { VmmTurn } from "./vmm-turn.ts";

const READ = 1, WRITE = 2;
const BUSY = 1, ERROR = 4;
const INT_COMPLETE = 1;

export interface BlockJob {
  /** The partition the data belongs to (copies go through its host). */
  host: VdevHost;
  /** 1 READ, 2 WRITE, 3 FLUSH. */
  cmd: number;
  /** Physical first sector and sector count (0 for FLUSH). */
  lba: number;
  count: number;
  /** Guest-physical buffer (checked to lie in partition RAM). */
  gpa: number;
  /** Called at completion with a BlockError code (0 = success). */
  done(error: number): void;
}

/** Bytes of VMM memory the backend needs: one bounce buffer of MAX_SECTORS sectors. */
export function blockMemoryBytes(physical: DeviceInstance): number {
  return physical.mmio!.mmioRead(BlockReg.MAX_SECTORS, 4) * SECTOR_BYTES;
}

export class BlockBackend {
  readonly regs: PhysicalRegs;
  readonly capacity: number;
  readonly maxSectors: number;
  readonly sectorsPerTrack: number;
  private partitions = 0;
  private readonly queue: BlockJob[] = [];
  private current: BlockJob | null = null;
  private currentBounced = false;
  physicalOps = 0;
  interrupts = 0;
  maxQueued = 0;
  bounced = 0;

  constructor(physical: DeviceInstance, private readonly host: BackendHost, private readonly turn: VmmTurn) {
    this.regs = new PhysicalRegs(physical, host);
    this.capacity = this.regs.setupRead(BlockReg.CAPACITY);
    this.maxSectors = this.regs.setupRead(BlockReg.MAX_SECTORS);
    this.sectorsPerTrack = (physical.device as BlockDevice).options?.sectorsPerTrack ?? 1;
    this.regs.setupWrite(BlockReg.INT_STATUS, 0xffffffff);
    this.regs.setupWrite(BlockReg.INT_ENABLE, INT_COMPLETE);
  }

  /** A partition attaches: its window index. */
  addPartition(): number {
    return this.partitions++;
  }

  /** Partition k's window: first physical sector and size in sectors. */
  window(k: number): { base: number; sectors: number } {
    const sectors = Math.floor(this.capacity / Math.max(1, this.partitions));
    return { base: k * sectors, sectors };
  }

  submit(job: BlockJob): void {
    this.host.touchState(0, 64, true);
    this.host.touchState(backendQueueEntry(this.queue.length), 32, true);
    if (this.current === null) this.start(job);
    else {
      this.queue.push(job);
      if (this.queue.length > this.maxQueued) this.maxQueued = this.queue.length;
    }
  }

  private start(job: BlockJob): void {
    const h = this.host;
    const bytes = job.count * SECTOR_BYTES;
    this.current = job;
    this.currentBounced = false;
    h.charge("backend.submit");
    let hpa = 0;
    if (bytes > 0) {
      const direct = job.host.gpaToHpa(job.gpa, bytes);
      if (direct !== null) hpa = direct;
      else {
        this.currentBounced = true;
        this.bounced++;
        hpa = h.memory.hpa;
        if (job.cmd === WRITE) {
          const data = job.host.readGuest(job.gpa, bytes);
          if (data === null) return this.finish(BlockError.DMA);
          h.memory.write(0, data);
        }
      }
    }
    this.physicalOps++;
    const r = this.regs;
    r.write(BlockReg.LBA, job.lba);
    r.write(BlockReg.COUNT, job.count);
    r.write(BlockReg.DMA_ADDR, hpa);
    r.write(BlockReg.COMMAND, job.cmd);
  }

  onInterrupt(): void {
    this.turn.interrupt(() => {
      const h = this.host;
      const r = this.regs;
      this.interrupts++;
      h.charge("backend.interrupt");
      h.touchState(0, 64, false);
      const is = r.read(BlockReg.INT_STATUS);
      if (is === 0) return;
      r.write(BlockReg.INT_STATUS, is);
      if (this.current === null || (is & INT_COMPLETE) === 0) return;
      const st = r.read(BlockReg.STATUS);
      if (st & BUSY) return;
      let error = st & ERROR ? r.read(BlockReg.ERROR) : 0;
      const job = this.current;
      if (error === 0 && job.cmd === READ && this.currentBounced) {
        const data = h.memory.read(0, job.count * SECTOR_BYTES);
        if (!job.host.writeGuest(job.gpa, data)) error = BlockError.DMA;
      }
      this.finish(error);
    });
  }

  /** Complete the current job and start the next one. */
  private finish(error: number): void {
    const job = this.current!;
    this.current = null;
    this.host.touchState(0, 64, true);
    job.done(error);
    const next = this.queue.shift();
    if (next !== undefined) this.start(next);
  }
}
