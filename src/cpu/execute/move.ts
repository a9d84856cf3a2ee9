/**
 * The hot data-movement instructions: MOV (general forms, moffs, immediates), MOVZX, MOVSX, LEA,
 * PUSH and POP of general registers, memory and immediates (SDM Vol. 2 instruction pages).
 * Compiled per form and size (codegen.ts).
 */
import type { ExecTable } from "./registry.ts";
import { compile, memRead, memWrite, regRead, regWrite } from "./codegen.ts";
import type { ExecFn, Insn } from "../insn.ts";
import type { OperandSpec } from "../isa/types.ts";
import type { CoreState } from "../core-state.ts";
import { Reg } from "../registers.ts";
import { ea } from "./operands.ts";

/** Source expression for a read operand of `size`. */
function readOp(spec: OperandSpec, i: Insn, size: number): string {
  if (spec[0] === "I") return "i.imm";
  if (spec[0] === "G" || spec[0] === "Z") return regRead(size, "i.reg");
  if (spec === "AL" || spec === "eAX") return regRead(size, "0");
  return i.rm >= 0 ? regRead(size, "i.rm") : memRead(size, "ea(c, i)");
}

/** Statement writing value expression v to a destination operand of `size`. */
function writeOp(spec: OperandSpec, i: Insn, size: number, v: string): string {
  if (spec[0] === "G" || spec[0] === "Z") return regWrite(size, "i.reg", v);
  if (spec === "AL" || spec === "eAX") return regWrite(size, "0", v);
  return i.rm >= 0 ? regWrite(size, "i.rm", v) : memWrite(size, v, "ea(c, i)");
}

const formName = (i: Insn, d: string, s: string) =>
  `${d}${s}${i.osize * 8}${i.rm >= 0 ? "r" : "m"}`;

export const MOVE_EXEC: ExecTable = {
  mov: (i, row) => {
    const [d, s] = row.operands;
    return compile(`mov_${formName(i, d, s)}`, `const v = ${readOp(s, i, i.osize)}; ${writeOp(d, i, i.osize, "v")}`);
  },
  movzx: (i, row) => {
    const srcSize = row.operands[1] === "Eb" ? 1 : 2;
    return compile(`movzx${i.osize * 8}_${srcSize * 8}${i.rm >= 0 ? "r" : "m"}`,
      `const v = ${readOp(row.operands[1], i, srcSize)}; ${regWrite(i.osize, "i.reg", "v")}`);
  },
  movsx: (i, row) => {
    const srcSize = row.operands[1] === "Eb" ? 1 : 2;
    const shift = 32 - srcSize * 8;
    return compile(`movsx${i.osize * 8}_${srcSize * 8}${i.rm >= 0 ? "r" : "m"}`,
      `const v = (${readOp(row.operands[1], i, srcSize)} << ${shift}) >> ${shift}; ${regWrite(i.osize, "i.reg", "v")}`);
  },
  lea: (i) => compile(`lea${i.osize * 8}`, `const v = offsetOf(c, i); ${regWrite(i.osize, "i.reg", "v")}`),
  push: (i, row): ExecFn => {
    const s = row.operands[0];
    const size = i.opsize;
    if (s === "Zv") return compile(`push${size * 8}_reg`, `c.push(${size}, c.regs[i.reg]);`);
    if (s[0] === "I") return compile(`push${size * 8}_imm`, `c.push(${size}, i.imm);`);
    return compile(`push${size * 8}_${i.rm >= 0 ? "r" : "m"}`, `c.push(${size}, ${readOp(s, i, size)});`);
  },
  pop: (i, row): ExecFn => {
    const size = i.opsize;
    if (row.operands[0] === "Zv" || i.rm >= 0) {
      return compile(`pop${size * 8}_reg`, `const v = c.pop(${size}); ${regWrite(size, row.operands[0] === "Zv" ? "i.reg" : "i.rm", "v")}`);
    }
    return popToMemory;
  },
};

/** POP to memory: ESP is incremented before the destination address is computed (SDM Vol. 2 POP). */
function popToMemory(c: CoreState, i: Insn): void {
  const size = i.opsize;
  const v = c.peek(size);
  const oldEsp = c.regs[Reg.ESP];
  c.adjustSp(size);
  try {
    c.writeN(ea(c, i), size, v);
  } catch (e) {
    c.regs[Reg.ESP] = oldEsp;
    throw e;
  }
}
