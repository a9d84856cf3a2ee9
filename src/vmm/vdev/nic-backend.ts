/**
 * The VMM's backend of a shared nic (nic.ts datasheet: e1000-style RX/TX descriptor rings). The VMM owns
 * the card's rings, in its own memory (BackendHost.memory):
 *
 *   offset 0       RX ring, NIC_RX_DESCS descriptors of 16 bytes, each pointing at an RX buffer below
 *   offset 1024    TX ring, NIC_TX_DESCS descriptors
 *   offset 2048    RX buffers, RX_BUF_SIZE (the card's, rounded up to 64) bytes each
 *   then           TX bounce buffers, NIC_TX_BOUNCE bytes each (one per TX descriptor)
 *
 * Receive: the card fills the VMM's RX buffers; at its interrupt (RX, RX_DROP or DMA_ERROR; INT_STATUS read
 * and cleared W1C, re-arming the edge-triggered pin) the VMM reads RX_HEAD, and for every descriptor the
 * card filled reads LEN/SEQ and the packet (VMM memory, charged per line) and demultiplexes it:
 *
 *   DEMULTIPLEXING RULE: the receiving partitions (those that enabled RX: emulated CTRL.RX_ENABLE, or
 *   paravirtual: posted an RX request), ordered by the order they attached to the device, get packet
 *   sequence number s delivered to receiver number (s mod their count). A receiver with no free buffer
 *   (or a buffer too small) drops the packet and counts it; the packet is not offered to another partition.
 *
 * The receiver copies it into its guest buffer (VdevHost.writeGuest, charged per line). Then the VMM gives
 * the descriptors back (one RX_TAIL write). The card's receive process starts when the first partition
 * starts receiving; packets that arrive while no partition receives are counted (rxNoReceiver).
 * Transmit: every partition's packets go, in the order the VMM took them, into the card's TX ring: the
 * guest's buffer itself when it is contiguous in host memory (zero copy), else a bounce buffer (packets up
 * to NIC_TX_BOUNCE bytes); one TX_TAIL write per batch, backend.submit per packet. When the ring is full
 * packets wait in a FIFO in the VMM. At the TX interrupt the VMM reads TX_HEAD and completes the sent
 * descriptors (ERR in FLAGS: failed).
 * No Intel SDM section applies. Leaves out: MSI for the physical card (INTx), interrupt moderation of the
 * physical card (left at its option), per-partition TX rate limits, multicast/broadcast replication.
 */
import type { DeviceInstance } from "../../devices/device-catalog.ts";
import { NIC_DESCRIPTOR_BYTES, NicReg } from "../../devices/nic.ts";
import { nsToTicks } from "../../sim/clock.ts";
import type { Tick } from "../../sim/event-queue.ts";
import { backendQueueEntry, type BackendHost } from "./backend-host.ts";
import { PhysicalRegs } from "./physical-regs.ts";
import type { VdevHost } from "./vdev.ts";
import type { VmmTurn } from "./vmm-turn.ts";

export const NIC_RX_DESCS = 64;
export const NIC_TX_DESCS = 32;
export const NIC_TX_BOUNCE = 2048;
const RX_RING = 0, TX_RING = 1024, BUFFERS = 2048;
const RX_ENABLE = 1, TX_ENABLE = 2;
const INT_RX = 1, INT_TX = 2, INT_RX_DROP = 4, INT_DMA_ERROR = 8, INT_ALL = 15;
const ERR = 4;

/** A partition that receives: gets the packets the rule gives it. */
export interface NicReceiver {
  /** Its attach order (the rule's ordering). */
  readonly order: number;
  deliver(seq: number, packet: Uint8Array, arrivalTick: Tick): void;
}

export interface TxJob {
  /** The partition the packet belongs to; gpa/len checked to lie in its RAM, 1 <= len <= 65535. */
  host: VdevHost;
  gpa: number;
  len: number;
  /** At the end of its wire time (ok) or when it cannot be sent (not ok). */
  done(ok: boolean): void;
}

function rxBufBytes(physical: DeviceInstance): number {
  return Math.ceil(physical.mmio!.mmioRead(NicReg.RX_BUF_SIZE, 4) / 64) * 64;
}

export function nicMemoryBytes(physical: DeviceInstance): number {
  return BUFFERS + NIC_RX_DESCS * rxBufBytes(physical) + NIC_TX_DESCS * NIC_TX_BOUNCE;
}

export class NicBackend {
  readonly regs: PhysicalRegs;
  private readonly rxBuf: number;
  private readonly txBounceBase: number;
  private partitions = 0;
  private receivers: NicReceiver[] = [];
  private rxStarted = false;
  private rxNext = 0;
  private txTail = 0;
  private txDone = 0;
  private readonly txJobs: (TxJob | null)[] = new Array(NIC_TX_DESCS).fill(null);
  private readonly txQueue: TxJob[] = [];
  physicalOps = 0;
  interrupts = 0;
  maxQueued = 0;
  bounced = 0;
  rxDelivered = 0;
  rxNoReceiver = 0;
  txFailed = 0;

  constructor(physical: DeviceInstance, private readonly host: BackendHost, private readonly turn: VmmTurn) {
    this.regs = new PhysicalRegs(physical, host);
    this.rxBuf = rxBufBytes(physical);
    this.txBounceBase = BUFFERS + NIC_RX_DESCS * this.rxBuf;
    const mem = host.memory;
    const ring = new Uint8Array(NIC_RX_DESCS * NIC_DESCRIPTOR_BYTES);
    const v = new DataView(ring.buffer);
    for (let k = 0; k < NIC_RX_DESCS; k++) v.setUint32(k * NIC_DESCRIPTOR_BYTES, mem.hpa + BUFFERS + k * this.rxBuf, true);
    mem.write(RX_RING, ring);
    const r = this.regs;
    r.setupWrite(NicReg.RX_BASE, mem.hpa + RX_RING);
    r.setupWrite(NicReg.RX_SIZE, NIC_RX_DESCS);
    r.setupWrite(NicReg.RX_TAIL, NIC_RX_DESCS - 1);
    r.setupWrite(NicReg.TX_BASE, mem.hpa + TX_RING);
    r.setupWrite(NicReg.TX_SIZE, NIC_TX_DESCS);
    r.setupWrite(NicReg.INT_STATUS, INT_ALL);
    r.setupWrite(NicReg.INT_ENABLE, INT_ALL);
    r.setupWrite(NicReg.CTRL, TX_ENABLE);
  }

  /** A partition attaches: its order for the demultiplexing rule. */
  addPartition(): number {
    return this.partitions++;
  }

  /** A partition starts (or stops) receiving. The first receiver starts the card's receive process. */
  setReceiving(r: NicReceiver, on: boolean): void {
    const has = this.receivers.includes(r);
    if (on && !has) {
      this.receivers = [...this.receivers, r].sort((a, b) => a.order - b.order);
      if (!this.rxStarted) {
        this.rxStarted = true;
        this.host.charge("backend.submit");
        this.regs.write(NicReg.CTRL, TX_ENABLE | RX_ENABLE);
      }
    } else if (!on && has) {
      this.receivers = this.receivers.filter((x) => x !== r);
    }
    this.host.touchState(0, 64, true);
  }

  transmit(job: TxJob): void {
    this.txQueue.push(job);
    if (this.txQueue.length > this.maxQueued) this.maxQueued = this.txQueue.length;
    this.host.touchState(backendQueueEntry(this.txQueue.length), 32, true);
    this.pumpTx();
  }

  onInterrupt(): void {
    this.turn.interrupt(() => {
      const h = this.host;
      const r = this.regs;
      this.interrupts++;
      h.charge("backend.interrupt");
      h.touchState(0, 64, false);
      const is = r.read(NicReg.INT_STATUS);
      if (is === 0) return;
      r.write(NicReg.INT_STATUS, is);
      if (is & (INT_RX | INT_RX_DROP | INT_DMA_ERROR)) this.drainRx();
      if (is & INT_TX) this.drainTx();
    });
  }

  private drainRx(): void {
    const mem = this.host.memory;
    const head = this.regs.read(NicReg.RX_HEAD);
    if (head === this.rxNext) return;
    while (this.rxNext !== head) {
      const k = this.rxNext;
      const d = mem.read(RX_RING + k * NIC_DESCRIPTOR_BYTES + 8, 8);
      const dv = new DataView(d.buffer, d.byteOffset, 8);
      const len = dv.getUint16(0, true);
      const seq = dv.getUint32(4, true);
      this.rxNext = (k + 1) % NIC_RX_DESCS;
      const n = this.receivers.length;
      if (n === 0) {
        this.rxNoReceiver++;
        continue;
      }
      const packet = mem.read(BUFFERS + k * this.rxBuf, len);
      const pv = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
      const arrivalNs = len >= 8 ? pv.getUint32(0, true) + pv.getUint32(4, true) * 4294967296 : 0;
      this.rxDelivered++;
      this.receivers[seq % n].deliver(seq, packet, nsToTicks(arrivalNs, this.host.clock.hz));
    }
    this.regs.write(NicReg.RX_TAIL, (head + NIC_RX_DESCS - 1) % NIC_RX_DESCS);
  }

  private drainTx(): void {
    const mem = this.host.memory;
    const head = this.regs.read(NicReg.TX_HEAD);
    while (this.txDone !== head) {
      const k = this.txDone;
      const flags = mem.read(TX_RING + k * NIC_DESCRIPTOR_BYTES + 10, 2)[0];
      const job = this.txJobs[k];
      this.txJobs[k] = null;
      this.txDone = (k + 1) % NIC_TX_DESCS;
      if (job === null) continue;
      if (flags & ERR) this.txFailed++;
      job.done((flags & ERR) === 0);
    }
    this.pumpTx();
  }

  /** Put waiting packets into free TX descriptors; one TX_TAIL write for the batch. */
  private pumpTx(): void {
    const h = this.host;
    let placed = 0;
    while (this.txQueue.length > 0 && (this.txTail + 1) % NIC_TX_DESCS !== this.txDone) {
      const job = this.txQueue.shift()!;
      const slot = this.txTail;
      let hpa = job.host.gpaToHpa(job.gpa, job.len);
      if (hpa === null) {
        const data = job.len <= NIC_TX_BOUNCE ? job.host.readGuest(job.gpa, job.len) : null;
        if (data === null) {
          this.txFailed++;
          job.done(false);
          continue;
        }
        this.bounced++;
        const off = this.txBounceBase + slot * NIC_TX_BOUNCE;
        h.memory.write(off, data);
        hpa = h.memory.hpa + off;
      }
      h.charge("backend.submit");
      const d = new Uint8Array(NIC_DESCRIPTOR_BYTES);
      const v = new DataView(d.buffer);
      v.setUint32(0, hpa, true);
      v.setUint16(8, job.len, true);
      h.memory.write(TX_RING + slot * NIC_DESCRIPTOR_BYTES, d);
      this.txJobs[slot] = job;
      this.txTail = (slot + 1) % NIC_TX_DESCS;
      this.physicalOps++;
      placed++;
    }
    if (placed > 0) this.regs.write(NicReg.TX_TAIL, this.txTail);
  }
}
