/**
 * Opcode table, integer arithmetic and logic: ADD OR ADC SBB AND SUB XOR CMP, TEST, INC DEC NEG NOT,
 * MUL IMUL DIV IDIV, the BCD adjusts, shifts and rotates, SHLD/SHRD, bit tests and scans.
 * Rows follow the opcode columns of the Intel SDM Vol. 2 instruction pages and Appendix A (opcode map);
 * flag sets follow each page's "Flags Affected" section.
 */
import { FlagBit, type IsaRow } from "./types.ts";
import { ARITH, INCDEC_DEF, LOGIC_DEF, row } from "./row.ts";

const { CF, PF, AF, ZF, SF, OF } = {
  CF: FlagBit.CF, PF: FlagBit.PF, AF: FlagBit.AF, ZF: FlagBit.ZF, SF: FlagBit.SF, OF: FlagBit.OF,
};

/** ALU operation numbers: the /digit of opcodes 80-83 and bits 5:3 of opcodes 00-3F. */
export const enum AluOp { ADD = 0, OR = 1, ADC = 2, SBB = 3, AND = 4, SUB = 5, XOR = 6, CMP = 7 }
export const ALU_NAMES = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"] as const;

/** Shift/rotate kind: the /digit of opcodes C0 C1 D0-D3. */
export const enum ShiftOp { ROL = 0, ROR = 1, RCL = 2, RCR = 3, SHL = 4, SHR = 5, SAL = 6, SAR = 7 }
export const SHIFT_NAMES = ["rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar"] as const;

function aluRows(): IsaRow[] {
  const rows: IsaRow[] = [];
  ALU_NAMES.forEach((m, op) => {
    const logic = op === AluOp.OR || op === AluOp.AND || op === AluOp.XOR;
    const carryIn = op === AluOp.ADC || op === AluOp.SBB;
    const f = {
      param: op,
      flagsDefined: logic ? LOGIC_DEF : ARITH,
      flagsUndefined: logic ? AF : 0,
      flagsRead: carryIn ? CF : 0,
      lockable: op !== AluOp.CMP,
    };
    const b = op * 8;
    rows.push(
      row(m, [b + 0], "Eb,Gb", "alu", "alu", f),
      row(m, [b + 1], "Ev,Gv", "alu", "alu", f),
      row(m, [b + 2], "Gb,Eb", "alu", "alu", { ...f, lockable: false }),
      row(m, [b + 3], "Gv,Ev", "alu", "alu", { ...f, lockable: false }),
      row(m, [b + 4], "AL,Ib", "alu", "alu", { ...f, lockable: false }),
      row(m, [b + 5], "eAX,Iv", "alu", "alu", { ...f, lockable: false }),
      row(m, [0x80], "Eb,Ib", "alu", "alu", { ...f, ext: op }),
      row(m, [0x81], "Ev,Iv", "alu", "alu", { ...f, ext: op }),
      row(m, [0x82], "Eb,Ib", "alu", "alu", { ...f, ext: op, noAsm: true }),
      row(m, [0x83], "Ev,Ibs", "alu", "alu", { ...f, ext: op }),
    );
  });
  return rows;
}

function shiftRows(): IsaRow[] {
  const rows: IsaRow[] = [];
  SHIFT_NAMES.forEach((m, op) => {
    const rotate = op <= ShiftOp.RCR;
    const carryIn = op === ShiftOp.RCL || op === ShiftOp.RCR;
    // Rotates define only CF (and OF for 1-bit counts); shifts define CF SF ZF PF, AF undefined.
    const byOne = rotate ? CF | OF : CF | PF | ZF | SF | OF;
    const byN = rotate ? CF : CF | PF | ZF | SF;
    const undefN = rotate ? OF : OF | AF;
    const x = {
      ext: op,
      param: op,
      flagsRead: carryIn ? CF : 0,
      noAsm: op === ShiftOp.SAL,
      aliases: op === ShiftOp.SHL ? ["sal"] : undefined,
    };
    rows.push(
      row(m, [0xd0], "Eb,1", "shift", "shift", { ...x, flagsDefined: byOne, flagsUndefined: rotate ? 0 : AF }),
      row(m, [0xd1], "Ev,1", "shift", "shift", { ...x, flagsDefined: byOne, flagsUndefined: rotate ? 0 : AF }),
      row(m, [0xd2], "Eb,CL", "shift", "shift", { ...x, flagsDefined: byN, flagsUndefined: undefN }),
      row(m, [0xd3], "Ev,CL", "shift", "shift", { ...x, flagsDefined: byN, flagsUndefined: undefN }),
      row(m, [0xc0], "Eb,Ib", "shift", "shift", { ...x, flagsDefined: byN, flagsUndefined: undefN }),
      row(m, [0xc1], "Ev,Ib", "shift", "shift", { ...x, flagsDefined: byN, flagsUndefined: undefN }),
    );
  });
  return rows;
}

const MULF = { flagsDefined: CF | OF, flagsUndefined: SF | ZF | AF | PF };
const DIVF = { flagsDefined: 0, flagsUndefined: ARITH };
const SHDF = { flagsDefined: CF | SF | ZF | PF, flagsUndefined: OF | AF };
const BTF = { flagsDefined: CF, flagsUndefined: OF | SF | AF | PF };
const BTL = { ...BTF, lockable: true };

export const ARITH_ROWS: readonly IsaRow[] = [
  ...aluRows(),
  row("test", [0x84], "Eb,Gb", "test", "alu", { flagsDefined: LOGIC_DEF, flagsUndefined: AF }),
  row("test", [0x85], "Ev,Gv", "test", "alu", { flagsDefined: LOGIC_DEF, flagsUndefined: AF }),
  row("test", [0xa8], "AL,Ib", "test", "alu", { flagsDefined: LOGIC_DEF, flagsUndefined: AF }),
  row("test", [0xa9], "eAX,Iv", "test", "alu", { flagsDefined: LOGIC_DEF, flagsUndefined: AF }),
  row("test", [0xf6], "Eb,Ib", "test", "alu", { ext: 0, flagsDefined: LOGIC_DEF, flagsUndefined: AF }),
  row("test", [0xf7], "Ev,Iv", "test", "alu", { ext: 0, flagsDefined: LOGIC_DEF, flagsUndefined: AF }),
  // F6 /1 and F7 /1 are undocumented aliases of TEST that Intel and AMD processors execute.
  row("test", [0xf6], "Eb,Ib", "test", "alu", { ext: 1, noAsm: true, flagsDefined: LOGIC_DEF, flagsUndefined: AF }),
  row("test", [0xf7], "Ev,Iv", "test", "alu", { ext: 1, noAsm: true, flagsDefined: LOGIC_DEF, flagsUndefined: AF }),
  row("inc", [0x40], "Zv", "incdec", "alu", { param: 0, flagsDefined: INCDEC_DEF }),
  row("dec", [0x48], "Zv", "incdec", "alu", { param: 1, flagsDefined: INCDEC_DEF }),
  row("inc", [0xfe], "Eb", "incdec", "alu", { ext: 0, param: 0, flagsDefined: INCDEC_DEF, lockable: true }),
  row("dec", [0xfe], "Eb", "incdec", "alu", { ext: 1, param: 1, flagsDefined: INCDEC_DEF, lockable: true }),
  row("inc", [0xff], "Ev", "incdec", "alu", { ext: 0, param: 0, flagsDefined: INCDEC_DEF, lockable: true }),
  row("dec", [0xff], "Ev", "incdec", "alu", { ext: 1, param: 1, flagsDefined: INCDEC_DEF, lockable: true }),
  row("not", [0xf6], "Eb", "not", "alu", { ext: 2, flagsDefined: 0, lockable: true }),
  row("not", [0xf7], "Ev", "not", "alu", { ext: 2, flagsDefined: 0, lockable: true }),
  row("neg", [0xf6], "Eb", "neg", "alu", { ext: 3, flagsDefined: ARITH, lockable: true }),
  row("neg", [0xf7], "Ev", "neg", "alu", { ext: 3, flagsDefined: ARITH, lockable: true }),
  row("mul", [0xf6], "Eb", "mul", "mul", { ext: 4, ...MULF }),
  row("mul", [0xf7], "Ev", "mul", "mul", { ext: 4, ...MULF }),
  row("imul", [0xf6], "Eb", "imul1", "mul", { ext: 5, ...MULF }),
  row("imul", [0xf7], "Ev", "imul1", "mul", { ext: 5, ...MULF }),
  row("imul", [0x0f, 0xaf], "Gv,Ev", "imul", "mul", MULF),
  row("imul", [0x6b], "Gv,Ev,Ibs", "imul", "mul", MULF),
  row("imul", [0x69], "Gv,Ev,Iv", "imul", "mul", MULF),
  row("div", [0xf6], "Eb", "div", "div", { ext: 6, ...DIVF }),
  row("div", [0xf7], "Ev", "div", "div", { ext: 6, ...DIVF }),
  row("idiv", [0xf6], "Eb", "idiv", "div", { ext: 7, ...DIVF }),
  row("idiv", [0xf7], "Ev", "idiv", "div", { ext: 7, ...DIVF }),
  row("daa", [0x27], "", "daa", "bcd", { flagsDefined: CF | AF | SF | ZF | PF, flagsUndefined: OF, flagsRead: CF | AF }),
  row("das", [0x2f], "", "das", "bcd", { flagsDefined: CF | AF | SF | ZF | PF, flagsUndefined: OF, flagsRead: CF | AF }),
  row("aaa", [0x37], "", "aaa", "bcd", { flagsDefined: CF | AF, flagsUndefined: OF | SF | ZF | PF, flagsRead: AF }),
  row("aas", [0x3f], "", "aas", "bcd", { flagsDefined: CF | AF, flagsUndefined: OF | SF | ZF | PF, flagsRead: AF }),
  row("aam", [0xd4], "Ib", "aam", "bcd", { flagsDefined: SF | ZF | PF, flagsUndefined: OF | AF | CF }),
  row("aad", [0xd5], "Ib", "aad", "bcd", { flagsDefined: SF | ZF | PF, flagsUndefined: OF | AF | CF }),
  ...shiftRows(),
  row("shld", [0x0f, 0xa4], "Ev,Gv,Ib", "shld", "shift", SHDF),
  row("shld", [0x0f, 0xa5], "Ev,Gv,CL", "shld", "shift", SHDF),
  row("shrd", [0x0f, 0xac], "Ev,Gv,Ib", "shrd", "shift", SHDF),
  row("shrd", [0x0f, 0xad], "Ev,Gv,CL", "shrd", "shift", SHDF),
  row("bt", [0x0f, 0xa3], "Ev,Gv", "bt", "bit", { param: 0, ...BTF }),
  row("bts", [0x0f, 0xab], "Ev,Gv", "bt", "bit", { param: 1, ...BTL }),
  row("btr", [0x0f, 0xb3], "Ev,Gv", "bt", "bit", { param: 2, ...BTL }),
  row("btc", [0x0f, 0xbb], "Ev,Gv", "bt", "bit", { param: 3, ...BTL }),
  row("bt", [0x0f, 0xba], "Ev,Ib", "bt", "bit", { ext: 4, param: 0, ...BTF }),
  row("bts", [0x0f, 0xba], "Ev,Ib", "bt", "bit", { ext: 5, param: 1, ...BTL }),
  row("btr", [0x0f, 0xba], "Ev,Ib", "bt", "bit", { ext: 6, param: 2, ...BTL }),
  row("btc", [0x0f, 0xba], "Ev,Ib", "bt", "bit", { ext: 7, param: 3, ...BTL }),
  row("bsf", [0x0f, 0xbc], "Gv,Ev", "bsf", "bit", { flagsDefined: ZF, flagsUndefined: CF | OF | SF | AF | PF }),
  row("bsr", [0x0f, 0xbd], "Gv,Ev", "bsr", "bit", { flagsDefined: ZF, flagsUndefined: CF | OF | SF | AF | PF }),
];
