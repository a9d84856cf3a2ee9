/**
 * Opcode table, control transfer: JMP/CALL/RET (near, far, indirect), Jcc, LOOP/LOOPE/LOOPNE,
 * JCXZ/JECXZ, INT n/INT3/INTO, IRET, BOUND.
 * Intel SDM Vol. 2 instruction pages and Appendix A opcode map.
 */
import { FlagBit, type IsaRow } from "./types.ts";
import { CONDITIONS, CONDITION_READS, row } from "./row.ts";

const ALL = FlagBit.CF | FlagBit.PF | FlagBit.AF | FlagBit.ZF | FlagBit.SF | FlagBit.OF |
  FlagBit.DF | FlagBit.IF | FlagBit.TF;

export const CONTROL_ROWS: readonly IsaRow[] = [
  row("jmp", [0xeb], "Jb", "jmp", "branch", { end: "jump" }),
  row("jmp", [0xe9], "Jv", "jmp", "branch", { end: "jump" }),
  row("jmp", [0xff], "Ev", "jmpInd", "branch", { ext: 4, end: "jump" }),
  row("jmp", [0xea], "Ap", "jmpFar", "branch", { end: "jump" }),
  row("jmp", [0xff], "Mp", "jmpFar", "branch", { ext: 5, end: "jump" }),
  row("call", [0xe8], "Jv", "call", "call", { end: "jump" }),
  row("call", [0xff], "Ev", "callInd", "call", { ext: 2, end: "jump" }),
  row("call", [0x9a], "Ap", "callFar", "call", { end: "jump" }),
  row("call", [0xff], "Mp", "callFar", "call", { ext: 3, end: "jump" }),
  row("ret", [0xc3], "", "ret", "ret", { end: "jump" }),
  row("ret", [0xc2], "Iw", "ret", "ret", { end: "jump" }),
  row("retf", [0xcb], "", "retFar", "ret", { end: "jump" }),
  row("retf", [0xca], "Iw", "retFar", "ret", { end: "jump" }),
  ...CONDITIONS.map((c, i) => row("j" + c.name, [0x70 + i], "Jb", "jcc", "branch",
    { param: i, flagsRead: CONDITION_READS[i], end: "branch", aliases: c.aliases.map((a) => "j" + a) })),
  ...CONDITIONS.map((c, i) => row("j" + c.name, [0x0f, 0x80 + i], "Jv", "jcc", "branch",
    { param: i, flagsRead: CONDITION_READS[i], end: "branch", aliases: c.aliases.map((a) => "j" + a) })),
  row("loopne", [0xe0], "Jb", "loop", "branch", { param: 2, flagsRead: FlagBit.ZF, end: "branch", aliases: ["loopnz"] }),
  row("loope", [0xe1], "Jb", "loop", "branch", { param: 1, flagsRead: FlagBit.ZF, end: "branch", aliases: ["loopz"] }),
  row("loop", [0xe2], "Jb", "loop", "branch", { param: 0, end: "branch" }),
  row("jcxz", [0xe3], "Jb", "jcxz", "branch", { asize: 16, end: "branch" }),
  row("jecxz", [0xe3], "Jb", "jcxz", "branch", { asize: 32, end: "branch" }),
  row("int3", [0xcc], "", "int3", "int", { end: "jump" }),
  row("int", [0xcd], "Ib", "int", "int", { end: "jump" }),
  row("into", [0xce], "", "into", "int", { flagsRead: FlagBit.OF, end: "jump" }),
  row("iret", [0xcf], "", "iret", "int", { osize: 16, flagsDefined: ALL, end: "jump" }),
  row("iretd", [0xcf], "", "iret", "int", { osize: 32, flagsDefined: ALL, end: "jump" }),
  row("bound", [0x62], "Gv,Ma", "bound", "alu"),
];
