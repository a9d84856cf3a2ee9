/**
 * The IA-32 opcode table: every row the decoder decodes and the assembler encodes. One list, built from
 * the per-group tables of this folder. Order matters only for the assembler's tie-breaking, which
 * prefers the shortest encoding anyway.
 */
import type { IsaRow } from "./types.ts";
import { ARITH_ROWS } from "./table-arith.ts";
import { MOVE_ROWS } from "./table-move.ts";
import { CONTROL_ROWS } from "./table-control.ts";
import { STRING_IO_ROWS } from "./table-string-io.ts";
import { MISC_ROWS } from "./table-misc.ts";
import { SYSTEM_ROWS } from "./table-system.ts";
import { VMX_ROWS } from "./table-vmx.ts";

export * from "./types.ts";
export { CONDITIONS } from "./row.ts";
export { ALU_NAMES, SHIFT_NAMES } from "./table-arith.ts";

export const ISA: readonly IsaRow[] = [
  ...ARITH_ROWS,
  ...MOVE_ROWS,
  ...CONTROL_ROWS,
  ...STRING_IO_ROWS,
  ...MISC_ROWS,
  ...SYSTEM_ROWS,
  ...VMX_ROWS,
];

/** True when the operand specifier is encoded through ModRM (r/m or reg field). */
const MODRM_SPECS = new Set<string>([
  "Eb", "Ew", "Ed", "Ev", "M", "Mb", "Mw", "Md", "Mv", "Mp", "Ma", "Ms", "Mq", "Mo", "Rd",
  "Gb", "Gw", "Gd", "Gv", "Sw", "Cd", "Dd",
]);

export function usesModrm(spec: string): boolean {
  return MODRM_SPECS.has(spec);
}

export function rowNeedsModrm(r: IsaRow): boolean {
  return r.ext !== undefined || r.modrmByte !== undefined || r.operands.some(usesModrm);
}
