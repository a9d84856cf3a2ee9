/**
 * Control transfer: JMP, CALL, RET (near, indirect, far), Jcc, LOOP/LOOPE/LOOPNE, JCXZ/JECXZ,
 * INT n / INT3 / INTO, IRET, BOUND (SDM Vol. 2 instruction pages).
 *
 * Near branches are handled here. Far JMP/CALL/RET and their privilege checks, call gates and stack
 * switches are far-transfer.ts and call-gate.ts (SDM Vol. 3A 5.8); IRET is interrupt-return.ts (SDM
 * Vol. 3A 6.14); INT n / INT3 / INTO deliver through interrupts.ts as software interrupts, whose gate
 * DPL is checked against CPL (SDM Vol. 3A 6.12.1.1). INTO raises #OF only when OF = 1; BOUND raises
 * #BR (a fault: the saved EIP is the BOUND instruction) when the index is outside the bounds.
 */
import { interceptSoftwareException } from "../vmx/nonroot-events.ts";
import type { CoreState } from "../core-state.ts";
import type { Insn } from "../insn.ts";
import type { ExecTable } from "./registry.ts";
import { compile } from "./codegen.ts";
import { getZF } from "../flags.ts";
import { deliverEvent, EventKind } from "../interrupts.ts";
import { fault, Vector } from "../exceptions.ts";
import { Eflags } from "../registers.ts";
import { farCall, farJump, farReturn } from "../far-transfer.ts";
import { interruptReturn } from "../interrupt-return.ts";
import { checkTarget, ea, jumpTo, readE } from "./operands.ts";

/** Read a far pointer m16:16 / m16:32 at the memory operand: [offset, selector]. */
function readFarPointer(c: CoreState, i: Insn): [number, number] {
  const lin = ea(c, i);
  const off = c.readN(lin, i.opsize);
  const sel = c.read16(lin + i.opsize);
  return [off, sel];
}

const ECX = 1; // local: an imported const enum member is a run-time property load under tsx

function counter(c: CoreState, i: Insn): number {
  return i.a16 ? c.regs[ECX] & 0xffff : c.regs[ECX];
}

export const CONTROL_EXEC: ExecTable = {
  jmp: () => compile("jmp_rel", "c.eip = i.imm;"),
  jmpInd: (i) => (c: CoreState, ii: Insn) => jumpTo(c, ii, readE(c, ii, ii.opsize)),
  jmpFar: (i, row) =>
    row.operands[0] === "Ap"
      ? (c: CoreState, ii: Insn) => farJump(c, ii.imm2, ii.imm, ii.opsize)
      : (c: CoreState, ii: Insn) => {
          const [off, sel] = readFarPointer(c, ii);
          farJump(c, sel, off, ii.opsize);
        },
  call: (i) => compile(`call_rel${i.opsize * 8}`, `c.push(${i.opsize}, i.nextEip); c.eip = i.imm;`),
  callInd: () => (c: CoreState, i: Insn) => {
    const target = i.opsize === 2 ? readE(c, i, 2) & 0xffff : readE(c, i, 4);
    checkTarget(c, target); // before the push: a fault leaves ESP as it was
    c.push(i.opsize, i.nextEip);
    c.eip = target;
  },
  callFar: (i, row) =>
    row.operands[0] === "Ap"
      ? (c: CoreState, ii: Insn) => farCall(c, ii.imm2, ii.imm, ii.opsize, ii.nextEip)
      : (c: CoreState, ii: Insn) => {
          const [off, sel] = readFarPointer(c, ii);
          farCall(c, sel, off, ii.opsize, ii.nextEip);
        },
  // The return address is checked against the CS limit before ESP moves (a #GP leaves ESP unchanged).
  ret: (i, row) =>
    row.operands.length === 0
      ? compile(`ret${i.opsize * 8}`, `const t = c.peek(${i.opsize})${i.opsize === 2 ? " & 0xffff" : ""}; checkTarget(c, t); c.adjustSp(${i.opsize}); c.eip = t;`)
      : compile(`ret${i.opsize * 8}_imm`, `const t = c.peek(${i.opsize})${i.opsize === 2 ? " & 0xffff" : ""}; checkTarget(c, t); c.adjustSp(${i.opsize} + i.imm); c.eip = t;`),
  retFar: (i, row) =>
    row.operands.length === 0
      ? (c: CoreState, ii: Insn) => farReturn(c, ii.opsize, 0)
      : (c: CoreState, ii: Insn) => farReturn(c, ii.opsize, ii.imm & 0xffff),
  jcc: (i) => compile(`j_cc${i.param}`, `if (condition(c, ${i.param})) { c.eip = i.imm; c.cycles += c.branchTakenExtra; }`),
  loop: (i) => (c: CoreState, ii: Insn) => {
    let n: number;
    if (ii.a16) {
      n = (c.regs[ECX] - 1) & 0xffff;
      c.regs[ECX] = (c.regs[ECX] & ~0xffff) | n;
    } else {
      n = (c.regs[ECX] - 1) | 0;
      c.regs[ECX] = n;
    }
    const p = ii.param;
    if (n !== 0 && (p === 0 || (p === 1 ? getZF(c) === 1 : getZF(c) === 0))) {
      c.eip = ii.imm;
      c.cycles += c.branchTakenExtra;
    }
  },
  jcxz: () => (c: CoreState, i: Insn) => {
    if (counter(c, i) === 0) {
      c.eip = i.imm;
      c.cycles += c.branchTakenExtra;
    }
  },
  int: () => (c: CoreState, i: Insn) => deliverEvent(c, i.imm & 0xff, -1, i.nextEip, EventKind.SOFTWARE),
  int3: () => (c: CoreState, i: Insn) => {
    if (c.nonRoot) interceptSoftwareException(c, Vector.BP); // SDM Vol. 3C 25.2: #BP through the exception bitmap
    deliverEvent(c, Vector.BP, -1, i.nextEip, EventKind.SOFTWARE);
  },
  into: () => (c: CoreState, i: Insn) => {
    if ((c.getEflags() & Eflags.OF) !== 0) {
      if (c.nonRoot) interceptSoftwareException(c, Vector.OF);
      deliverEvent(c, Vector.OF, -1, i.nextEip, EventKind.SOFTWARE);
    }
  },
  iret: () => (c: CoreState, i: Insn) => interruptReturn(c, i.opsize),
  bound: () => (c: CoreState, i: Insn) => {
    const size = i.opsize;
    const lin = ea(c, i);
    const shift = 32 - size * 8;
    const lo = (c.readN(lin, size) << shift) >> shift;
    const hi = (c.readN(lin + size, size) << shift) >> shift;
    const v = (c.getReg(i.reg, size) << shift) >> shift;
    if (v < lo || v > hi) fault(Vector.BR);
  },
};
