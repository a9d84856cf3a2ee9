/**
 * Whether a guest RDMSR or WRMSR exits in VMX non-root operation: the "use MSR bitmaps" VM-execution control
 * and the 4-KiB MSR-bitmap page (SDM Vol. 3C 24.6.9 "MSR-Bitmap Address", 25.1.3 "Instructions That Cause
 * VM Exits Conditionally", Appendix C reasons 31 and 32).
 *
 * The page has four 1-KiB quarters (24.6.9):
 *   000H  read bitmap for low MSRs    00000000H-00001FFFH
 *   400H  read bitmap for high MSRs   C0000000H-C0001FFFH
 *   800H  write bitmap for low MSRs
 *   C00H  write bitmap for high MSRs
 * MSR m of a range has bit n = m & 1FFFH of its quarter: bit (n & 7) of byte n >> 3.
 *
 * RDMSR (WRMSR) exits (25.1.3) if "use MSR bitmaps" is 0; or ECX is in neither range; or ECX is in a range
 * and its bit in the read (write) bitmap of that range is 1. Otherwise it executes normally (and may still
 * raise #GP for an MSR the processor does not have: that is the core's, after this check).
 *
 * Hot path of every guest RDMSR/WRMSR in non-root operation: one aligned 32-bit read, no allocation. The
 * bitmap is read at the time of the instruction (not cached at VM entry).
 *
 * Leaves out: the x2APIC-virtualization and APIC-register-virtualization special cases for MSRs 800H-8FFH
 * (29.5: a clear bitmap bit there reads the virtual-APIC page instead of the APIC; that is the APIC
 * virtualization code's business after this says "no exit"), and the #GP priority rules of 25.1.1 (CPL and
 * the like are checked by the core before any exit).
 */
import type { PhysicalMemory32 } from "./vmcs.ts";
import { PROC_USE_MSR_BITMAPS } from "./vmx-controls.ts";

/** Byte offsets of the four quarters in the MSR-bitmap page (SDM 24.6.9). */
export const MSR_BITMAP_READ_LOW = 0x000;
export const MSR_BITMAP_READ_HIGH = 0x400;
export const MSR_BITMAP_WRITE_LOW = 0x800;
export const MSR_BITMAP_WRITE_HIGH = 0xc00;

/** The two MSR ranges the bitmaps cover. */
export const MSR_LOW_LAST = 0x00001fff;
export const MSR_HIGH_FIRST = 0xc0000000;
export const MSR_HIGH_LAST = 0xc0001fff;

/**
 * The byte offset in the bitmap page of the quarter that decides `msr` for a read or a write, or -1 when
 * the MSR is outside both ranges (such an access always exits).
 */
export function msrBitmapQuarter(msr: number, write: boolean): number {
  const m = msr >>> 0;
  if (m <= MSR_LOW_LAST) return write ? MSR_BITMAP_WRITE_LOW : MSR_BITMAP_READ_LOW;
  if (m >= MSR_HIGH_FIRST && m <= MSR_HIGH_LAST) return write ? MSR_BITMAP_WRITE_HIGH : MSR_BITMAP_READ_HIGH;
  return -1;
}

/**
 * Whether RDMSR (`write` false) or WRMSR (`write` true) of MSR `msr` (the guest's ECX) exits, given the
 * primary processor-based controls and the physical address of the MSR-bitmap page.
 */
export function msrAccessExits(
  mem: PhysicalMemory32,
  procControls: number,
  msrBitmap: number,
  msr: number,
  write: boolean,
): boolean {
  if ((procControls & PROC_USE_MSR_BITMAPS) === 0) return true;
  // Range test on the int32 view (C0000000H-C0001FFFH are negative), so no heap numbers on this path.
  const hi = msr | 0;
  let quarter: number;
  if ((hi & ~0x1fff) === 0) quarter = write ? MSR_BITMAP_WRITE_LOW : MSR_BITMAP_READ_LOW;
  else if ((hi & ~0x1fff) === (MSR_HIGH_FIRST | 0)) quarter = write ? MSR_BITMAP_WRITE_HIGH : MSR_BITMAP_READ_HIGH;
  else return true;
  const n = hi & 0x1fff;
  return ((mem.read32(msrBitmap + quarter + ((n >>> 5) << 2)) >>> (n & 31)) & 1) !== 0;
}

/** The physical address of the byte holding the bit for `msr` and the bit within it, or undefined when the
 * MSR is outside both ranges (for VMMs and tests). */
export function msrBitmapBitAddress(
  msrBitmap: number,
  msr: number,
  write: boolean,
): { pa: number; bit: number } | undefined {
  const quarter = msrBitmapQuarter(msr, write);
  if (quarter < 0) return undefined;
  const n = msr & 0x1fff;
  return { pa: msrBitmap + quarter + (n >>> 3), bit: n & 7 };
}

/**
 * Sets (intercept) or clears (pass through) the read and/or write bit of `msr`. Returns false, changing
 * nothing, when the MSR is outside both ranges (its accesses exit whatever the page holds).
 */
export function setMsrIntercept(
  mem: PhysicalMemory32,
  msrBitmap: number,
  msr: number,
  access: { read?: boolean; write?: boolean },
  intercept: boolean,
): boolean {
  if (msrBitmapQuarter(msr, false) < 0) return false;
  const n = msr & 0x1fff;
  const mask = 1 << (n & 31);
  for (const write of [false, true]) {
    if ((write ? access.write : access.read) !== true) continue;
    const pa = msrBitmap + msrBitmapQuarter(msr, write) + ((n >>> 5) << 2);
    const old = mem.read32(pa);
    mem.write32(pa, (intercept ? old | mask : old & ~mask) >>> 0);
  }
  return true;
}
