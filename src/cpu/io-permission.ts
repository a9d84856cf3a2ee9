/**
 * May the current code access an I/O port? (SDM Vol. 1 19.5 "I/O Permission Bit Map"; the IN, OUT, INS
 * and OUTS pages of Vol. 2.)
 *
 * Real-address mode: always. Protected mode with CPL <= IOPL: always. Otherwise the TSS I/O permission
 * bitmap decides: its base is the word at TSS offset 66H, and the bit of every byte port the access
 * covers must be clear. The processor reads the two bitmap bytes that hold the port's first bit (an
 * access may span a byte boundary), so both must lie within the TSS limit; a TR that was never loaded
 * (limit below 67H, the smallest 32-bit TSS) or a map beyond the limit denies everything.
 *
 * A 16-bit TSS has no bitmap: with one in TR every port is denied at CPL > IOPL (Bochs allow_io). The TSS
 * is read with implicit supervisor accesses (c.readSys16, SDM Vol. 3A 4.6).
 *
 * Leaves out: virtual-8086 mode (not modelled).
 */
import type { CoreState } from "./core-state.ts";
import { tssIs32 } from "./tss.ts";

/** TSS offset of the I/O map base field (SDM Vol. 3A Figure 7-2). */
const IO_MAP_BASE_OFFSET = 0x66;
/** Smallest limit of a 32-bit TSS (104 bytes). */
const MIN_TSS32_LIMIT = 0x67;

export function ioPermitted(c: CoreState, port: number, size: number): boolean {
  if (!c.protectedMode) return true;
  if (c.cpl <= ((c.eflags >> 12) & 3)) return true;
  return bitmapAllows(c, port & 0xffff, size);
}

function bitmapAllows(c: CoreState, port: number, size: number): boolean {
  const limit = c.trLimit >>> 0;
  if (limit < MIN_TSS32_LIMIT || !tssIs32(c)) return false;
  const off = c.readSys16((c.trBase + IO_MAP_BASE_OFFSET) | 0) + (port >>> 3);
  if (off + 1 > limit) return false;
  const bits = c.readSys16((c.trBase + off) | 0);
  return ((bits >>> (port & 7)) & ((1 << size) - 1)) === 0;
}
