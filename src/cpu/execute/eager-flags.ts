/**
 * Eager flag writes for the instructions of mul-div.ts, shift.ts, bits.ts and bcd.ts, which define
 * (or, for undefined flags, deliberately choose) all six arithmetic flags at once (SDM Vol. 1 3.4.3.1).
 * Overwriting all six makes the lazy record irrelevant, so there is nothing to materialise first; the
 * record is dropped so that no later reader sees the previous operation. Partial updates (rotates,
 * BT, BSF with a zero source) go through flags.ts setArith(), which materialises.
 */
import type { FlagState } from "../flags.ts";
import { FlagOp } from "../flags.ts";
import { ARITH_FLAGS } from "../registers.ts";

const NOT_ARITH = ~ARITH_FLAGS;
const NONE: number = FlagOp.NONE;

/** Replace CF PF AF ZF SF OF with `bits` (EFLAGS bit positions). */
export function setAllArith(f: FlagState, bits: number): void {
  f.eflags = (f.eflags & NOT_ARITH) | bits;
  f.fop = NONE;
}

