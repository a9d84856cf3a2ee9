/**
 * A device's bus-master access to memory (DMA), as the board gives it to the device: physical
 * addresses, whole buffers. Whoever assembles the machine decides what the device may reach; the VMM
 * wraps it with an IOMMU-like check (a refused transfer returns false, and the device reports the
 * error in its status, never corrupting memory silently).
 *
 * DMA writes into RAM that holds decoded code must invalidate it; the machine's implementation does that.
 */

export interface DmaPort {
  /** Copy `dst.length` bytes from physical `pa` into `dst`. False if the transfer was refused. */
  read(pa: number, dst: Uint8Array): boolean;
  /** Copy `src` to physical `pa`. False if the transfer was refused (nothing written). */
  write(pa: number, src: Uint8Array): boolean;
}

/** DMA straight into a RAM array (tests, and the machine before any IOMMU check). */
export class RamDma implements DmaPort {
  constructor(private readonly ram: Uint8Array) {}

  read(pa: number, dst: Uint8Array): boolean {
    if (pa < 0 || pa + dst.length > this.ram.length) return false;
    dst.set(this.ram.subarray(pa, pa + dst.length));
    return true;
  }

  write(pa: number, src: Uint8Array): boolean {
    if (pa < 0 || pa + src.length > this.ram.length) return false;
    this.ram.set(src, pa);
    return true;
  }
}
