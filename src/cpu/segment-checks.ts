/**
 * Checks on every memory access through a segment (SDM Vol. 3A 5.3 limit checking, 5.5-5.6 type
 * checking of the accessed segment, 6.15 interrupt 17 alignment check).
 *
 * The fast path costs one byte load: CoreState.segCheck[seg] is 0 when nothing can fail (a present,
 * writable, expand-up data segment with a 4 GiB limit and alignment checking off), and the access goes
 * straight to the linear address. Otherwise the access comes here:
 * - protected mode: a null-loaded (unusable) segment raises #GP(0); a write through a code segment or a
 *   read-only data segment, or a read through an execute-only code segment raises #GP(0);
 * - expand-up segments: every byte of the access must lie at or below the limit; expand-down data
 *   segments: above the limit and at or below FFFFH or FFFFFFFFH (the B flag) (SDM 3.4.5.1);
 * - a segment with a 4 GiB limit is not limit-checked (offsets wrap, as Bochs does);
 * - a failed check through SS raises #SS(0), through any other segment #GP(0);
 * - with CR0.AM, EFLAGS.AC and CPL 3, a misaligned access raises #AC(0) (SDM 6.15 Table 6-7).
 * Real-address mode checks only the limit (SDM 20.1.1: no type or privilege checks).
 */
import type { CoreState } from "./core-state.ts";
import { fault } from "./exceptions.ts";

const SS = 2;
const GP = 13;
const SS_FAULT = 12;
const AC = 17;
const CR0_AM = 1 << 18;
const EFLAGS_AC = 1 << 18;

/** Whether CR0.AM, EFLAGS.AC and CPL 3 make misaligned accesses fault (SDM 6.15, interrupt 17). */
export function alignmentChecking(c: CoreState): boolean {
  return (c.cr0 & CR0_AM) !== 0 && (c.eflags & EFLAGS_AC) !== 0 && c.cpl === 3 && (c.cr0 & 1) !== 0;
}

/** 0 when an access through `seg` needs no check at all, else 1 (the value of CoreState.segCheck). */
export function segmentNeedsChecks(c: CoreState, seg: number): number {
  const attr = c.segAttr[seg];
  const flat =
    (attr & 0x80) !== 0 && // present (usable)
    (attr & 0x1a) === 0x12 && // data segment (S = 1, code = 0), writable; expand-down is bit 2
    (attr & 0x04) === 0 &&
    c.segLimit[seg] === -1 &&
    !alignmentChecking(c);
  return flat ? 0 : 1;
}

/** Alignment an access of `size` bytes must have under alignment checking (SDM Table 6-7). */
function alignmentOf(size: number): number {
  return size === 6 ? 4 : size;
}

/**
 * Check an access of `size` bytes at offset `off` of segment `seg` (a read, or a write when `write`).
 * Raises #GP(0), #SS(0) or #AC(0).
 */
export function checkSegmentAccess(c: CoreState, seg: number, off: number, size: number, write: boolean): void {
  if (size === 0) return;
  const vector = seg === SS ? SS_FAULT : GP;
  const attr = c.segAttr[seg];
  if ((c.cr0 & 1) !== 0) {
    if ((attr & 0x80) === 0) fault(vector, 0);
    if ((attr & 0x08) !== 0) {
      // code segment: never writable, readable only with the R bit
      if (write || (attr & 0x02) === 0) fault(GP, 0);
    } else if (write && (attr & 0x02) === 0) {
      fault(vector, 0);
    }
  }
  const limit = c.segLimit[seg] >>> 0;
  const first = off >>> 0;
  const last = first + size - 1;
  if ((attr & 0x0c) === 0x04) {
    // expand-down data segment: valid offsets are limit+1 .. FFFFH or FFFFFFFFH
    const upper = (attr & 0x4000) !== 0 ? 0xffffffff : 0xffff;
    if (first <= limit || last > upper) fault(vector, 0);
  } else if (limit !== 0xffffffff && last > limit) {
    fault(vector, 0);
  }
  if (size > 1 && alignmentChecking(c)) {
    const lin = (c.segBase[seg] + first) | 0;
    if ((lin & (alignmentOf(size) - 1)) !== 0) fault(AC, 0);
  }
}
