/**
 * The common part of an emulated card's register file (trap-and-emulate: every guest access exits and the
 * VMM calls mmioRead/mmioWrite, vdev.ts): the 32-bit register rules of our cards (reg32-device.ts: a 1- or
 * 2-byte read returns those bytes of the register, narrower or unaligned writes are ignored, undefined
 * offsets read 0), one declared cost per access (vdev.registerRead / vdev.registerWrite), the access to the
 * register file in the VMM's state block (touchState at the register's offset in [0, 128)), and the guest
 * interrupt as a level turned into edges: host.raise() is one interrupt, while the cards' INTx output is a
 * level (PCI 3.0 §2.2.6) that a level-triggered IOAPIC entry re-delivers after EOI as long as it stays
 * asserted. So the vector is raised when INT_STATUS & INT_ENABLE goes from 0 to non-0, and again when the
 * driver's W1C write leaves it non-0 (a cause that arrived between its read and its write).
 * The same layout answers on ports (the cards' port mapping), at the same cost.
 * No Intel SDM section applies. Leaves out: 64-bit accesses, string I/O to the registers.
 */
import type { VdevHost, VdevStats, VirtualDevice } from "./vdev.ts";
import type { OpStats } from "./op-stats.ts";
import type { VmmTurn } from "./vmm-turn.ts";

export abstract class EmulatedReg32 implements VirtualDevice {
  readonly mode = "emulated" as const;
  private irqLevel = false;

  constructor(
    protected readonly host: VdevHost,
    protected readonly turn: VmmTurn,
    protected readonly opStats: OpStats,
  ) {}

  /** The 32-bit register at `off` (a multiple of 4). */
  protected abstract readReg(off: number): number;
  /** A whole 32-bit write of `v` (unsigned) to the register at `off`. */
  protected abstract writeReg(off: number, v: number): void;

  mmioRead(offset: number, size: 1 | 2 | 4): number {
    return this.turn.run(() => {
      this.host.charge("vdev.registerRead");
      this.host.touchState(offset & 0x7c, 4, false);
      const v = this.readReg(offset & ~3) >>> 0;
      return size === 4 ? v : (v >>> ((offset & 3) * 8)) & (size === 1 ? 0xff : 0xffff);
    });
  }

  mmioWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    this.turn.run(() => {
      this.host.charge("vdev.registerWrite");
      this.host.touchState(offset & 0x7c, 4, true);
      if (size === 4 && (offset & 3) === 0) this.writeReg(offset, value >>> 0);
    });
  }

  portRead(offset: number, size: 1 | 2 | 4): number {
    return this.mmioRead(offset, size);
  }

  portWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    this.mmioWrite(offset, size, value);
  }

  stats(): VdevStats {
    return this.opStats.snapshot();
  }

  /** Re-evaluate the virtual interrupt (pending = INT_STATUS & INT_ENABLE != 0); `reassert` after a W1C. */
  protected updateIrq(pending: boolean, reassert = false): void {
    if (pending && (!this.irqLevel || reassert)) this.turn.raise(this.host);
    this.irqLevel = pending;
  }
}
