/**
 * Whether a guest I/O instruction (IN, INS, OUT, OUTS) exits in VMX non-root operation: the
 * "unconditional I/O exiting" and "use I/O bitmaps" VM-execution controls and the I/O bitmaps A and B
 * (SDM Vol. 3C 24.6.4 "I/O-Bitmap Addresses", 25.1.3 "Instructions That Cause VM Exits Conditionally",
 * Appendix C reason 30).
 *
 * The rules of 25.1.3:
 * - both controls 0: the instruction executes normally (no exit);
 * - "use I/O bitmaps" 0 and "unconditional I/O exiting" 1: every I/O instruction exits;
 * - "use I/O bitmaps" 1 ("unconditional I/O exiting" is then ignored): the instruction exits if the bit of
 *   any port it accesses is 1. Bitmap A (4 KiB) holds one bit per port 0000H-7FFFH, bitmap B one bit per
 *   port 8000H-FFFFH; bit n of the bitmap is bit (n & 7) of byte n >> 3. An access of size 1, 2 or 4
 *   touches ports port .. port+size-1 and may straddle the two bitmaps (port 7FFFH, size 2). An access that
 *   wraps around the 16-bit port space (touches FFFFH and 0000H) exits whatever the bitmaps say.
 * The bitmaps are read from physical memory at the time of the instruction (the processor does not cache
 * them, so a VMM may change them while the VMCS is active; kvm-unit-tests iobmp_main does).
 *
 * The check is on the hot path of every guest IN/OUT in non-root operation: at most two 32-bit reads, no
 * allocation. `PhysicalMemory32.read32` is called on 4-byte-aligned addresses only; the bitmaps are 4 KiB
 * aligned (a VM-entry check, 26.2.1.1), so the dword holding a port's bit is (port & 7FFFH) >> 5.
 *
 * INS/OUTS are decided by the port (DX) and the element size like IN/OUT (25.1.3 lists them together).
 * Port and size are the same in every iteration of a REP string instruction, so the exit, being
 * fault-like, happens before its first iteration or not at all. The priority of this exit relative to the
 * faults INS and OUTS can raise (25.1.1) is the caller's business, as are the exit qualification
 * (exit-qualification.ts) and the guest-linear address for INS/OUTS.
 *
 * Leaves out: the I/O permission bitmap and IOPL checks of the guest's own TSS (they come first and are the
 * core's, SDM 25.1.1), and SMIs after I/O instructions.
 */
import type { PhysicalMemory32 } from "./vmcs.ts";
import { PROC_UNCONDITIONAL_IO_EXITING, PROC_USE_IO_BITMAPS } from "./vmx-controls.ts";

/** Ports per bitmap: A covers 0000H-7FFFH, B covers 8000H-FFFFH. */
export const IO_BITMAP_PORTS = 0x8000;

/**
 * Whether an I/O access of `size` bytes (1, 2 or 4) at `port` exits, given the primary processor-based
 * controls and the physical addresses of I/O bitmaps A and B (read only when "use I/O bitmaps" is 1).
 */
export function ioAccessExits(
  mem: PhysicalMemory32,
  procControls: number,
  bitmapA: number,
  bitmapB: number,
  port: number,
  size: number,
): boolean {
  if ((procControls & PROC_USE_IO_BITMAPS) === 0) return (procControls & PROC_UNCONDITIONAL_IO_EXITING) !== 0;
  port &= 0xffff;
  if (port + size > 0x10000) return true; // wraps past FFFFH
  return anyPortBitSet(mem, bitmapA, bitmapB, port, size);
}

/** Whether any of the `count` bits for ports port .. port+count-1 (no wrap) is 1 in bitmaps A/B. */
export function anyPortBitSet(
  mem: PhysicalMemory32,
  bitmapA: number,
  bitmapB: number,
  port: number,
  count: number,
): boolean {
  for (;;) {
    const offset = port & 0x7fff;
    const shift = offset & 31;
    const word = mem.read32((port < IO_BITMAP_PORTS ? bitmapA : bitmapB) + ((offset >>> 5) << 2)) >>> shift;
    const n = count < 32 - shift ? count : 32 - shift;
    if ((word & ((1 << n) - 1)) !== 0) return true;
    if (n === count) return false;
    // The access continues in the next dword, possibly in bitmap B (port 7FFFH + 1 = 8000H).
    port += n;
    count -= n;
  }
}

/** The physical address of the byte holding `port`'s bit, and the bit within it (for VMMs and tests). */
export function ioBitmapBitAddress(bitmapA: number, bitmapB: number, port: number): { pa: number; bit: number } {
  port &= 0xffff;
  return { pa: (port < IO_BITMAP_PORTS ? bitmapA : bitmapB) + ((port & 0x7fff) >>> 3), bit: port & 7 };
}

/**
 * Sets (intercept) or clears (pass through) the bitmap bit of each port in port .. port+count-1: how a
 * VMM grants a device's ports to a guest (clear) or traps them (set). Read-modify-write of aligned dwords.
 */
export function setIoIntercept(
  mem: PhysicalMemory32,
  bitmapA: number,
  bitmapB: number,
  port: number,
  count: number,
  intercept: boolean,
): void {
  for (let p = port; p < port + count && p <= 0xffff; p++) {
    const offset = p & 0x7fff;
    const pa = (p < IO_BITMAP_PORTS ? bitmapA : bitmapB) + ((offset >>> 5) << 2);
    const mask = 1 << (offset & 31);
    const old = mem.read32(pa);
    mem.write32(pa, (intercept ? old | mask : old & ~mask) >>> 0);
  }
}
