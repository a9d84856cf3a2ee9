/**
 * DMA remapping for passthrough devices (Intel VT-d spec 3.x ch. 3, second-level translation): a device
 * given to a partition addresses guest-physical memory; every transfer is translated page by page through
 * the partition's map, and one that leaves the partition's RAM is refused (the device sees the failure, as
 * with a VT-d translation fault) and reported to the health monitor. Writes go through the machine's DMA port,
 * which keeps decoded code coherent. Leaves out: IOTLB timing, fault recording registers, interrupt
 * remapping (interrupts are in vmm.ts passthroughIrq).
 */
import type { Machine } from "../cpu/machine.ts";
import type { DmaPort } from "../devices/dma.ts";
import type { Partition } from "./partition.ts";
import { PAGE } from "./host-memory.ts";

export class IommuDma implements DmaPort {
  private readonly raw: DmaPort;

  constructor(machine: Machine, private readonly p: Partition, private readonly violation: (detail: string) => void) {
    this.raw = machine.dma();
  }

  read(gpa: number, dst: Uint8Array): boolean {
    return this.each(gpa, dst.length, "read", (hpa, off, n) => this.raw.read(hpa, dst.subarray(off, off + n)));
  }

  write(gpa: number, src: Uint8Array): boolean {
    return this.each(gpa, src.length, "write", (hpa, off, n) => this.raw.write(hpa, src.subarray(off, off + n)));
  }

  private each(gpa: number, bytes: number, what: string, f: (hpa: number, off: number, n: number) => boolean): boolean {
    if (this.p.state !== "running") return false;
    if (this.p.hpa(gpa) === null || (bytes > 0 && this.p.hpa(gpa + bytes - 1) === null)) {
      this.violation(`DMA ${what} of ${bytes} bytes at guest-physical 0x${(gpa >>> 0).toString(16)} is outside the partition's ${this.p.memoryBytes} bytes`);
      return false;
    }
    for (let k = 0; k < bytes; ) {
      const hpa = this.p.hpa(gpa + k)!;
      const n = Math.min(bytes - k, PAGE - (hpa % PAGE));
      if (!f(hpa, k, n)) return false;
      k += n;
    }
    return true;
  }
}
