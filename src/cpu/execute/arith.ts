/**
 * Executors of the integer arithmetic rows beyond the ALU group (src/cpu/isa/table-arith.ts): multiply
 * and divide, decimal adjusts, shifts and rotates, bit tests and scans. One table so that index.ts
 * needs one entry; each part lives in its own file.
 */
import type { ExecTable } from "./registry.ts";
import { MUL_DIV_EXEC } from "./mul-div.ts";
import { BCD_EXEC } from "./bcd.ts";
import { SHIFT_EXEC } from "./shift.ts";
import { BIT_EXEC } from "./bits.ts";

export const ARITH_EXEC: ExecTable = {
  ...MUL_DIV_EXEC,
  ...BCD_EXEC,
  ...SHIFT_EXEC,
  ...BIT_EXEC,
};
