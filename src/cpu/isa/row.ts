/**
 * Compact constructors for opcode-table rows and the flag sets the SDM's instruction pages use.
 * Keeps the tables in this folder readable as one line per SDM opcode-column entry.
 */
import { FlagBit, type IsaRow, type OperandSpec, type TimingClass } from "./types.ts";

export const ARITH = FlagBit.CF | FlagBit.PF | FlagBit.AF | FlagBit.ZF | FlagBit.SF | FlagBit.OF;
/** AND/OR/XOR/TEST: OF and CF cleared, SF ZF PF set by result, AF undefined (SDM Vol. 2 AND). */
export const LOGIC_DEF = FlagBit.CF | FlagBit.PF | FlagBit.ZF | FlagBit.SF | FlagBit.OF;
/** INC/DEC: CF unchanged (SDM Vol. 2 INC). */
export const INCDEC_DEF = FlagBit.PF | FlagBit.AF | FlagBit.ZF | FlagBit.SF | FlagBit.OF;

type Extra = Omit<Partial<IsaRow>, "mnemonic" | "opcode" | "operands" | "exec" | "cls">;

export function row(
  mnemonic: string,
  opcode: readonly number[],
  operands: string,
  exec: string,
  cls: TimingClass,
  extra: Extra = {},
): IsaRow {
  const ops = operands === "" ? [] : (operands.split(",").map((s) => s.trim()) as OperandSpec[]);
  return { mnemonic, opcode, operands: ops, exec, cls, ...extra };
}

/** The 16 condition codes in encoding order (SDM Vol. 1 B.1) with their assembler aliases. */
export const CONDITIONS: readonly { name: string; aliases: readonly string[] }[] = [
  { name: "o", aliases: [] },
  { name: "no", aliases: [] },
  { name: "b", aliases: ["c", "nae"] },
  { name: "ae", aliases: ["nb", "nc"] },
  { name: "e", aliases: ["z"] },
  { name: "ne", aliases: ["nz"] },
  { name: "be", aliases: ["na"] },
  { name: "a", aliases: ["nbe"] },
  { name: "s", aliases: [] },
  { name: "ns", aliases: [] },
  { name: "p", aliases: ["pe"] },
  { name: "np", aliases: ["po"] },
  { name: "l", aliases: ["nge"] },
  { name: "ge", aliases: ["nl"] },
  { name: "le", aliases: ["ng"] },
  { name: "g", aliases: ["nle"] },
];

/** Flags each condition code reads. */
export const CONDITION_READS: readonly number[] = [
  FlagBit.OF, FlagBit.OF, FlagBit.CF, FlagBit.CF, FlagBit.ZF, FlagBit.ZF,
  FlagBit.CF | FlagBit.ZF, FlagBit.CF | FlagBit.ZF, FlagBit.SF, FlagBit.SF, FlagBit.PF, FlagBit.PF,
  FlagBit.SF | FlagBit.OF, FlagBit.SF | FlagBit.OF,
  FlagBit.SF | FlagBit.OF | FlagBit.ZF, FlagBit.SF | FlagBit.OF | FlagBit.ZF,
];
