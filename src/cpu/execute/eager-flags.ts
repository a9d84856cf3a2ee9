/**
 * Eager flag writes for the instructions of mul-div.ts, shift.ts, bits.ts and bcd.ts, which define
 * (or, for undefined flags, deliberately choose) all six arithmetic flags at once (SDM Vol. 1 3.4.3.1).
 * Overwriting all six makes the lazy record irrelevant, so there is nothing to materialise first; the
 * record is dropped so that no later reader sees the previous operation. Partial updates (rotates,
 * BT, BSF with a zero source) go through flags.ts setArith(), which materialises.
 *
 * Under tsx, every use of an imported binding is a call to a module-namespace getter; in handlers that
 * run per instruction this made MUL and the shifts about 5x slower. So these helpers read only
 * module-local values, and the executor files keep local copies of what they import (`const x = y`).
 */
import type { FlagState } from "../flags.ts";
import { FlagOp, PARITY } from "../flags.ts";
import { ARITH_FLAGS } from "../registers.ts";

const NOT_ARITH = ~ARITH_FLAGS;
const NONE: number = FlagOp.NONE;
const PAR = PARITY;
const SIGN = [0, 0x80, 0x8000, 0, 0x80000000 | 0];
const MASK = [0, 0xff, 0xffff, 0, -1];

/** Replace CF PF AF ZF SF OF with `bits` (EFLAGS bit positions). */
export function setAllArith(f: FlagState, bits: number): void {
  f.eflags = (f.eflags & NOT_ARITH) | bits;
  f.fop = NONE;
}

/** SF, ZF and PF of a result of `size` bytes, as EFLAGS bits (flags.ts szp without imported tables). */
export function szpBits(res: number, size: number): number {
  return ((res & MASK[size]) === 0 ? 0x40 : 0) | ((res & SIGN[size]) !== 0 ? 0x80 : 0) | (PAR[res & 0xff] << 2);
}
