/**
 * Loading segment registers and their hidden descriptor caches (SDM Vol. 3A 3.4.3, 3.4.5, 5.4-5.6).
 *
 * Real-address mode: base = selector << 4, limit and attributes unchanged (SDM Vol. 3A 20.1.1).
 * Protected mode: descriptor fetched from the GDT or LDT, presence and null-selector checks, accessed
 * bit set. Leaves out (system-architecture layer): the full type/DPL/RPL/CPL checks of SDM 5.5-5.8,
 * call gates and conforming-code rules.
 */
import type { CoreState } from "./core-state.ts";
import { Brk } from "./core-state.ts";
import { fault, Vector } from "./exceptions.ts";
import { Seg } from "./registers.ts";

export interface Descriptor {
  base: number;
  limit: number;
  /** Access byte (bits 0-7) and the flags nibble G D/B L AVL (bits 12-15), as in segAttr. */
  attr: number;
  /** Linear address of the descriptor's high dword (to set the accessed bit). */
  addr: number;
}

/** Read the descriptor a selector names. Raises #GP(selector) when it lies outside the table. */
export function readDescriptor(c: CoreState, sel: number): Descriptor {
  const ti = (sel & 4) !== 0;
  const tblBase = ti ? c.ldtrBase : c.gdtBase;
  const tblLimit = ti ? c.ldtrLimit : c.gdtLimit;
  const off = sel & ~7;
  if (off + 7 > tblLimit) fault(Vector.GP, sel & ~3);
  const addr = (tblBase + off) | 0;
  const lo = c.read32(addr);
  const hi = c.read32(addr + 4);
  let limit = (lo & 0xffff) | (hi & 0xf0000);
  if (hi & (1 << 23)) limit = (limit << 12) | 0xfff;
  return {
    base: (lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000),
    limit,
    attr: ((hi >> 8) & 0xff) | ((hi >> 8) & 0xf000),
    addr: addr + 4,
  };
}

/** Put a descriptor into a segment register's hidden part. */
export function setSegment(c: CoreState, seg: number, sel: number, base: number, limit: number, attr: number): void {
  c.segSel[seg] = sel;
  c.segBase[seg] = base;
  c.segLimit[seg] = limit;
  c.segAttr[seg] = attr;
  c.segmentLoaded(seg);
  if (seg === Seg.CS) {
    c.cs32 = (attr & 0x4000) !== 0;
    c.brk |= Brk.REFETCH;
  } else if (seg === Seg.SS) {
    c.ss32 = (attr & 0x4000) !== 0;
  }
}

/** MOV/POP/LDS-style load of a data or stack segment register, or a far-transfer load of CS. */
export function loadSegment(c: CoreState, seg: number, sel: number): void {
  sel &= 0xffff;
  if (!c.protectedMode) {
    setSegment(c, seg, sel, sel << 4, c.segLimit[seg], c.segAttr[seg]);
    return;
  }
  if ((sel & ~3) === 0) {
    if (seg === Seg.SS || seg === Seg.CS) fault(Vector.GP, 0);
    setSegment(c, seg, sel, 0, 0, 0); // null selector: unusable until loaded again
    return;
  }
  const d = readDescriptor(c, sel);
  if ((d.attr & 0x80) === 0) fault(seg === Seg.SS ? Vector.SS : Vector.NP, sel & ~3);
  if ((d.attr & 1) === 0) c.write8(d.addr + 1, ((d.attr | 1) & 0xff)); // accessed bit (byte 5)
  setSegment(c, seg, sel, d.base, d.limit, d.attr | 1);
  if (seg === Seg.CS) c.cpl = sel & 3;
}
