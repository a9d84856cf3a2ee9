/**
 * Control transfer: JMP, CALL, RET (near, indirect, far), Jcc, LOOP/LOOPE/LOOPNE, JCXZ/JECXZ,
 * INT n / INT3 / INTO, IRET, BOUND (SDM Vol. 2 instruction pages; far transfers and IRET per
 * SDM Vol. 3A 5.8 and 6.14 for the same-privilege and return-to-outer-ring cases; call gates and
 * task switches are the system-architecture layer's).
 */
import type { CoreState } from "../core-state.ts";
import type { Insn } from "../insn.ts";
import type { ExecTable } from "./registry.ts";
import { compile } from "./codegen.ts";
import { getZF } from "../flags.ts";
import { deliverEvent, EventKind } from "../interrupts.ts";
import { fault, Vector } from "../exceptions.ts";
import { Eflags, Reg, Seg } from "../registers.ts";
import { loadSegment } from "../segments.ts";
import { ea, jumpTo, readE } from "./operands.ts";
import { loadPoppedFlags } from "./eflags-write.ts";

function farJump(c: CoreState, sel: number, offset: number, size: number): void {
  loadSegment(c, Seg.CS, sel);
  c.eip = size === 2 ? offset & 0xffff : offset | 0;
}

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

function iret(c: CoreState, i: Insn): void {
  const size = i.opsize;
  const eip = c.peek(size, 0);
  const cs = c.peek(size, size) & 0xffff;
  const fl = c.peek(size, 2 * size);
  if (!c.protectedMode) {
    c.adjustSp(3 * size);
    loadSegment(c, Seg.CS, cs);
    c.eip = size === 2 ? eip & 0xffff : eip;
    loadPoppedFlags(c, fl, size);
    return;
  }
  if ((c.eflags & Eflags.NT) !== 0) fault(Vector.GP, 0); // task return: no hardware task switching
  const oldCpl = c.cpl;
  const rpl = cs & 3;
  if (rpl < oldCpl) fault(Vector.GP, cs & ~3);
  if (rpl > oldCpl) {
    // Return to an outer privilege level: ESP and SS follow on the stack (SDM Vol. 3A 6.14 / IRET).
    const esp = c.peek(size, 3 * size);
    const ss = c.peek(size, 4 * size) & 0xffff;
    loadPoppedFlags(c, fl, size);
    loadSegment(c, Seg.CS, cs);
    loadSegment(c, Seg.SS, ss);
    c.regs[Reg.ESP] = size === 2 ? (c.regs[Reg.ESP] & ~0xffff) | (esp & 0xffff) : esp;
  } else {
    c.adjustSp(3 * size);
    loadPoppedFlags(c, fl, size);
    loadSegment(c, Seg.CS, cs);
  }
  c.eip = size === 2 ? eip & 0xffff : eip;
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
    const target = readE(c, i, i.opsize);
    c.push(i.opsize, i.nextEip);
    jumpTo(c, i, target);
  },
  callFar: (i, row) => (c: CoreState, ii: Insn) => {
    const [off, sel] = row.operands[0] === "Ap" ? [ii.imm, ii.imm2] : readFarPointer(c, ii);
    const size = ii.opsize;
    const oldCs = c.segSel[Seg.CS];
    const oldEsp = c.regs[Reg.ESP];
    c.push(size, oldCs);
    c.push(size, ii.nextEip);
    try {
      farJump(c, sel, off, size);
    } catch (e) {
      c.regs[Reg.ESP] = oldEsp;
      throw e;
    }
  },
  ret: (i, row) =>
    row.operands.length === 0
      ? compile(`ret${i.opsize * 8}`, `const t = c.pop(${i.opsize}); c.eip = ${i.opsize === 2 ? "t & 0xffff" : "t"};`)
      : compile(`ret${i.opsize * 8}_imm`, `const t = c.pop(${i.opsize}); c.adjustSp(i.imm); c.eip = ${i.opsize === 2 ? "t & 0xffff" : "t"};`),
  retFar: (i, row) => (c: CoreState, ii: Insn) => {
    const size = ii.opsize;
    const off = c.peek(size, 0);
    const sel = c.peek(size, size) & 0xffff;
    if (c.protectedMode && (sel & 3) > c.cpl) {
      // Return to an outer ring: ESP and SS follow the immediate-adjusted frame.
      const esp = c.peek(size, 2 * size + ii.imm);
      const ss = c.peek(size, 3 * size + ii.imm) & 0xffff;
      farJump(c, sel, off, size);
      loadSegment(c, Seg.SS, ss);
      c.regs[Reg.ESP] = esp;
      c.adjustSp(row.operands.length ? ii.imm : 0);
      return;
    }
    farJump(c, sel, off, size);
    c.adjustSp(2 * size + (row.operands.length ? ii.imm : 0));
  },
  jcc: (i) => compile(`j_cc${i.param}`, `if (condition(c, ${i.param})) c.eip = i.imm;`),
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
    if (n !== 0 && (p === 0 || (p === 1 ? getZF(c) === 1 : getZF(c) === 0))) c.eip = ii.imm;
  },
  jcxz: () => (c: CoreState, i: Insn) => {
    if (counter(c, i) === 0) c.eip = i.imm;
  },
  int: () => (c: CoreState, i: Insn) => deliverEvent(c, i.imm & 0xff, -1, i.nextEip, EventKind.SOFTWARE),
  int3: () => (c: CoreState, i: Insn) => deliverEvent(c, Vector.BP, -1, i.nextEip, EventKind.SOFTWARE),
  into: () => (c: CoreState, i: Insn) => {
    if ((c.getEflags() & Eflags.OF) !== 0) deliverEvent(c, Vector.OF, -1, i.nextEip, EventKind.SOFTWARE);
  },
  iret: () => iret,
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
