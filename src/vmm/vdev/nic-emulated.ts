/**
 * A partition's emulated nic: the register file of nic.ts (its header is the datasheet this follows) kept
 * per partition by the VMM, every access a VM exit, with the partition's RX and TX descriptor rings in its
 * own memory at guest-physical addresses (RX_BASE, TX_BASE, descriptor ADDRs). The VMM plays the card:
 * - TX: a TX_TAIL write (or TX_ENABLE) makes the VMM read the new descriptors (VdevHost.readGuest) and
 *   hand each packet to the backend (nic-backend.ts: the physical TX ring, FIFO across partitions); when
 *   the packet has left the wire the VMM writes FLAGS = DD back, advances TX_HEAD and sets INT_STATUS.TX,
 *   in descriptor order. LEN = 0, a packet outside partition RAM (also VdevHost.fault "dma", DMA_ERROR) or
 *   one the backend cannot send finish with DD | ERR; a descriptor outside RAM is skipped without
 *   write-back (DMA_ERROR), as the card does.
 * - RX: CTRL.RX_ENABLE makes the partition a receiver (the demultiplexing rule of nic-backend.ts); each
 *   packet given to it is stored like the card stores it: dropped (RX_DROP, RX_DROPPED + 1) when longer
 *   than RX_BUF_SIZE or when RX_HEAD = RX_TAIL, else copied to the descriptor's ADDR and LEN / FLAGS =
 *   DD | EOP / SEQ written back (the packet's SEQ is the physical card's sequence number, so a partition
 *   sees the gaps left by packets given to others), RX_HEAD advanced, INT_STATUS.RX set.
 * - NOW_LO / NOW_HI are the physical card's (forwarded MMIO reads). ITR_NS is stored but not applied
 *   (the VMM raises at once; interrupt moderation of a virtual nic is left out).
 * Operations (stats): one per TX packet (taken -> sent) and one per RX packet delivered (its arrival at
 * the physical card -> stored in the guest's buffer).
 * Costs: vdev.registerRead/Write per access, vdev.command per TX packet handed to the backend,
 * vdev.completion per TX packet finished and per RX packet stored. No Intel SDM section applies.
 * Leaves out: MSI on the virtual nic (the VMM raises the partition's vector), ITR moderation.
 */
import { NIC_DESCRIPTOR_BYTES, NicReg, descriptor } from "../../devices/nic.ts";
import type { Tick } from "../../sim/event-queue.ts";
import { EmulatedReg32 } from "./emulated-regs.ts";
import { inGuestRam } from "./guest-range.ts";
import type { NicBackend, NicReceiver } from "./nic-backend.ts";
import { OpStats } from "./op-stats.ts";
import type { VdevHost } from "./vdev.ts";
import type { VmmTurn } from "./vmm-turn.ts";

const ID_VALUE = (descriptor.pci.deviceId << 16) | descriptor.pci.vendorId;
const RX_ENABLE = 1, TX_ENABLE = 2;
const INT_RX = 1, INT_TX = 2, INT_RX_DROP = 4, INT_DMA_ERROR = 8, INT_ALL = 15;
const DD = 1, EOP = 2, ERR = 4;
const MAX_RING = 65536;

interface TxEntry {
  descGpa: number;
  takenTick: Tick;
  done: boolean;
  ok: boolean;
  writeBack: boolean;
  generation: number;
}

export class NicEmulated extends EmulatedReg32 implements NicReceiver {
  private ctrl = 0;
  private intStatus = 0;
  private intEnable = 0;
  private itrNs = 0;
  private rxBase = 0;
  private rxSize = 0;
  private rxHead = 0;
  private rxTail = 0;
  private rxBufSize: number;
  private txBase = 0;
  private txSize = 0;
  private txHead = 0;
  private txTail = 0;
  private txTaken = 0;
  private txGeneration = 0;
  private readonly txOutstanding: TxEntry[] = [];
  rxDropped = 0;
  private rxPackets = 0;
  private txPackets = 0;

  constructor(host: VdevHost, turn: VmmTurn, private readonly backend: NicBackend, readonly order: number, rxBufBytes: number) {
    super(host, turn, new OpStats());
    this.rxBufSize = rxBufBytes;
  }

  reset(): void {
    this.backend.setReceiving(this, false);
    this.ctrl = this.intStatus = this.intEnable = this.itrNs = 0;
    this.resetRx();
    this.resetTx();
  }

  protected readReg(off: number): number {
    switch (off) {
      case NicReg.ID: return ID_VALUE;
      case NicReg.CTRL: return this.ctrl;
      case NicReg.INT_STATUS: return this.intStatus;
      case NicReg.INT_ENABLE: return this.intEnable;
      case NicReg.ITR_NS: return this.itrNs;
      case NicReg.RX_BASE: return this.rxBase;
      case NicReg.RX_SIZE: return this.rxSize;
      case NicReg.RX_HEAD: return this.rxHead;
      case NicReg.RX_TAIL: return this.rxTail;
      case NicReg.RX_BUF_SIZE: return this.rxBufSize;
      case NicReg.TX_BASE: return this.txBase;
      case NicReg.TX_SIZE: return this.txSize;
      case NicReg.TX_HEAD: return this.txHead;
      case NicReg.TX_TAIL: return this.txTail;
      case NicReg.RX_DROPPED: return this.rxDropped >>> 0;
      case NicReg.RX_PACKETS: return this.rxPackets >>> 0;
      case NicReg.TX_PACKETS: return this.txPackets >>> 0;
      case NicReg.NOW_LO:
      case NicReg.NOW_HI: return this.backend.regs.read(off);
      default: return 0;
    }
  }

  protected writeReg(off: number, v: number): void {
    switch (off) {
      case NicReg.CTRL: {
        const was = this.ctrl;
        this.ctrl = v & (RX_ENABLE | TX_ENABLE);
        if ((was ^ this.ctrl) & RX_ENABLE) this.backend.setReceiving(this, (this.ctrl & RX_ENABLE) !== 0);
        if (this.ctrl & TX_ENABLE) this.takeTx();
        return;
      }
      case NicReg.INT_STATUS:
        this.intStatus &= ~v;
        this.updateIrq(this.pending(), true);
        return;
      case NicReg.INT_ENABLE:
        this.intEnable = v & INT_ALL;
        this.updateIrq(this.pending());
        return;
      case NicReg.ITR_NS: this.itrNs = v; return;
      case NicReg.RX_BASE: this.rxBase = (v & ~15) >>> 0; this.rxHead = this.rxTail = 0; return;
      case NicReg.RX_SIZE: if (v <= MAX_RING) { this.rxSize = v; this.rxHead = this.rxTail = 0; } return;
      case NicReg.RX_TAIL: if (v < this.rxSize) this.rxTail = v; return;
      case NicReg.RX_BUF_SIZE: this.rxBufSize = v & 0xffff; return;
      case NicReg.TX_BASE: this.txBase = (v & ~15) >>> 0; this.resetTx(); return;
      case NicReg.TX_SIZE: if (v <= MAX_RING) { this.txSize = v; this.resetTx(); } return;
      case NicReg.TX_TAIL: if (v < this.txSize) { this.txTail = v; this.takeTx(); } return;
      default:
    }
  }

  private pending(): boolean {
    return (this.intStatus & this.intEnable) !== 0;
  }

  private resetRx(): void {
    this.rxHead = this.rxTail = 0;
  }

  /** TX ring moved: descriptors in flight finish without write-back into the new ring. */
  private resetTx(): void {
    this.txHead = this.txTail = this.txTaken = 0;
    this.txGeneration++;
    this.txOutstanding.length = 0;
  }

  // ---- transmit ----

  private takeTx(): void {
    const h = this.host;
    if (!(this.ctrl & TX_ENABLE) || this.txSize === 0) return;
    while (this.txTaken !== this.txTail) {
      const descGpa = this.txBase + this.txTaken * NIC_DESCRIPTOR_BYTES;
      this.txTaken = (this.txTaken + 1) % this.txSize;
      const e: TxEntry = { descGpa, takenTick: h.clock.now(), done: false, ok: false, writeBack: true, generation: this.txGeneration };
      this.txOutstanding.push(e);
      const d = h.readGuest(descGpa, NIC_DESCRIPTOR_BYTES);
      if (d === null) {
        h.fault("dma", `nic: TX descriptor 0x${descGpa.toString(16)} is outside partition RAM`);
        this.intStatus |= INT_DMA_ERROR;
        e.writeBack = false;
        this.finishTx(e, false);
        continue;
      }
      const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
      const addr = dv.getUint32(0, true);
      const len = dv.getUint16(8, true);
      if (len === 0) {
        this.finishTx(e, false);
        continue;
      }
      if (!inGuestRam(h, addr, len)) {
        h.fault("dma", `nic: TX packet 0x${addr.toString(16)} + ${len} bytes is outside partition RAM`);
        this.intStatus |= INT_DMA_ERROR;
        this.finishTx(e, false);
        continue;
      }
      h.charge("vdev.command");
      this.backend.transmit({ host: h, gpa: addr, len, done: (ok) => this.finishTx(e, ok) });
    }
  }

  /** Mark `e` finished; write back and advance TX_HEAD over the finished prefix (descriptor order). */
  private finishTx(e: TxEntry, ok: boolean): void {
    if (e.generation !== this.txGeneration) return;
    const h = this.host;
    e.done = true;
    e.ok = ok;
    while (this.txOutstanding.length > 0 && this.txOutstanding[0].done) {
      const x = this.txOutstanding.shift()!;
      h.charge("vdev.completion");
      h.touchState(NicReg.TX_HEAD, 4, true);
      if (x.writeBack) h.writeGuest(x.descGpa + 10, Uint8Array.of(DD | (x.ok ? 0 : ERR), 0));
      this.txHead = (this.txHead + 1) % this.txSize;
      if (x.ok) this.txPackets++;
      this.intStatus |= INT_TX;
      this.opStats.record(x.takenTick, h.clock.now());
    }
    this.updateIrq(this.pending());
  }

  // ---- receive ----

  deliver(seq: number, packet: Uint8Array, arrivalTick: Tick): void {
    const h = this.host;
    h.touchState(NicReg.RX_HEAD, 8, false);
    if (packet.length > this.rxBufSize || this.rxSize === 0 || this.rxHead === this.rxTail) {
      this.rxDropped++;
      this.intStatus |= INT_RX_DROP;
      return this.updateIrq(this.pending());
    }
    const descGpa = this.rxBase + this.rxHead * NIC_DESCRIPTOR_BYTES;
    const addr = h.read32(descGpa);
    const back = new Uint8Array(8);
    const bv = new DataView(back.buffer);
    bv.setUint16(0, packet.length, true);
    bv.setUint16(2, DD | EOP, true);
    bv.setUint32(4, seq, true);
    if (addr === null || !h.writeGuest(addr, packet) || !h.writeGuest(descGpa + 8, back)) {
      h.fault("dma", `nic: RX descriptor 0x${descGpa.toString(16)} or its buffer is outside partition RAM`);
      this.rxDropped++;
      this.intStatus |= INT_DMA_ERROR;
      return this.updateIrq(this.pending());
    }
    h.charge("vdev.completion");
    h.touchState(NicReg.RX_HEAD, 4, true);
    this.rxHead = (this.rxHead + 1) % this.rxSize;
    this.rxPackets++;
    this.intStatus |= INT_RX;
    this.opStats.record(arrivalTick, h.clock.now());
    this.updateIrq(this.pending());
  }
}
