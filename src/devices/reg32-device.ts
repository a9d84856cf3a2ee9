/**
 * The access rules shared by our own devices (rt-io, block, nic, dsp), whose registers are 32 bits wide
 * at 4-byte offsets and reachable both as MMIO and as ports with the same layout: a 1- or 2-byte read
 * returns those bytes of the register; narrower or unaligned writes are ignored (a driver writes whole
 * registers); offsets a device does not define read 0 (its readReg says so).
 */
import type { MmioAccessSize, MmioDevice } from "./mmio-bus.ts";
import type { PortAccessSize, PortDevice } from "./port-bus.ts";

export abstract class Reg32Device implements MmioDevice, PortDevice {
  abstract readonly name: string;
  /** The 32-bit register at `off` (a multiple of 4). */
  protected abstract readReg(off: number): number;
  /** A whole 32-bit write of `v` (unsigned) to the register at `off` (a multiple of 4). */
  protected abstract writeReg(off: number, v: number): void;

  mmioRead(offset: number, size: MmioAccessSize): number {
    const v = this.readReg(offset & ~3);
    return size === 4 ? v : (v >>> ((offset & 3) * 8)) & (size === 1 ? 0xff : 0xffff);
  }

  mmioWrite(offset: number, size: MmioAccessSize, value: number): void {
    if (size === 4 && (offset & 3) === 0) this.writeReg(offset, value >>> 0);
  }

  portRead(offset: number, size: PortAccessSize): number {
    return this.mmioRead(offset, size);
  }

  portWrite(offset: number, size: PortAccessSize, value: number): void {
    this.mmioWrite(offset, size, value);
  }
}
