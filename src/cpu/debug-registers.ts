/**
 * Debug registers DR0-DR3, DR6, DR7 as storage (SDM Vol. 3B 17.2 "Debug Registers"). CoreState has no
 * fields for them, so each core's set lives in a WeakMap keyed by the core.
 *
 * Fixed bits follow SDM 17.2.3/17.2.4 as Bochs models them: DR6 reads bits 4-11 and 16-31 as 1 and bit 12
 * as 0, only B0-B3, BD, BS, BT are writable (reset FFFF0FF0H); DR7 reads bit 10 as 1 and bits 11, 12, 14,
 * 15 as 0 (reset 400H). DR4/DR5 alias DR6/DR7 unless CR4.DE is set (then MOV DR raises #UD, handled by
 * the instruction). DR7.GD makes the next MOV DR raise #DB with DR6.BD set; the processor clears GD on
 * entering the #DB handler so it can use the registers, which the instruction does before faulting.
 *
 * Leaves out: breakpoint matching (instruction, data and I/O breakpoints, #DB traps on hits), DR6.BS
 * single-step reporting, and RTM bits.
 */
import type { CoreState } from "./core-state.ts";

export const DR6_FIXED1 = 0xffff0ff0 | 0;
export const DR6_WRITABLE = 0x0000e00f;
export const DR6_BD = 1 << 13;
export const DR7_FIXED1 = 0x400;
export const DR7_WRITABLE = 0xffff23ff | 0;
export const DR7_GD = 1 << 13;

/** Index 0-3 DR0-DR3, 6 DR6, 7 DR7 (4 and 5 unused: callers map the aliases). */
const sets = new WeakMap<CoreState, Int32Array>();

export function debugRegisters(c: CoreState): Int32Array {
  let d = sets.get(c);
  if (d === undefined) {
    d = new Int32Array(8);
    d[6] = DR6_FIXED1;
    d[7] = DR7_FIXED1;
    sets.set(c, d);
  }
  return d;
}

/** Read DRn, n in 0-3, 6, 7. */
export function readDr(c: CoreState, n: number): number {
  return debugRegisters(c)[n];
}

/** Write DRn, n in 0-3, 6, 7, keeping the fixed bits. */
export function writeDr(c: CoreState, n: number, v: number): void {
  const d = debugRegisters(c);
  if (n === 6) d[6] = DR6_FIXED1 | (v & DR6_WRITABLE);
  else if (n === 7) d[7] = (v & DR7_WRITABLE) | DR7_FIXED1;
  else d[n] = v;
}
