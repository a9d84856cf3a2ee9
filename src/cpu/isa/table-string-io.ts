/**
 * Opcode table, string and I/O instructions: MOVS CMPS STOS LODS SCAS INS OUTS (with REP/REPE/REPNE),
 * IN/OUT with imm8 and DX. The size suffix (b/w/d) selects the row; w and d share an opcode and are told
 * apart by the operand size (SDM Vol. 2, MOVS/MOVSB/MOVSW/MOVSD).
 */
import { FlagBit, type IsaRow } from "./types.ts";
import { ARITH, row } from "./row.ts";

function sized(base: string, op: number, exec: string, extra: Partial<IsaRow>, cls: IsaRow["cls"] = "string"): IsaRow[] {
  return [
    row(base + "b", [op], "", exec, cls, { ...extra, param: 1 }),
    row(base + "w", [op + 1], "", exec, cls, { ...extra, param: 2, osize: 16 }),
    row(base + "d", [op + 1], "", exec, cls, { ...extra, param: 4, osize: 32 }),
  ];
}

const DF = FlagBit.DF;

export const STRING_IO_ROWS: readonly IsaRow[] = [
  ...sized("movs", 0xa4, "movs", { rep: "rep", flagsRead: DF }),
  ...sized("cmps", 0xa6, "cmps", { rep: "repe", flagsRead: DF, flagsDefined: ARITH }),
  ...sized("stos", 0xaa, "stos", { rep: "rep", flagsRead: DF }),
  ...sized("lods", 0xac, "lods", { rep: "rep", flagsRead: DF }),
  ...sized("scas", 0xae, "scas", { rep: "repe", flagsRead: DF, flagsDefined: ARITH }),
  ...sized("ins", 0x6c, "ins", { rep: "rep", flagsRead: DF }, "io"),
  ...sized("outs", 0x6e, "outs", { rep: "rep", flagsRead: DF }, "io"),
  row("in", [0xe4], "AL,Ib", "in", "io"),
  row("in", [0xe5], "eAX,Ib", "in", "io"),
  row("in", [0xec], "AL,DX", "in", "io"),
  row("in", [0xed], "eAX,DX", "in", "io"),
  row("out", [0xe6], "Ib,AL", "out", "io"),
  row("out", [0xe7], "Ib,eAX", "out", "io"),
  row("out", [0xee], "DX,AL", "out", "io"),
  row("out", [0xef], "DX,eAX", "out", "io"),
];
