/**
 * Stack frames and whole-register-file pushes: PUSHA/PUSHAD, POPA/POPAD, PUSHF/PUSHFD, POPF/POPFD,
 * ENTER, LEAVE (SDM Vol. 2 instruction pages; stack-address size from SS.B, SDM Vol. 1 6.2.3).
 *
 * Each instruction computes all its stack addresses first and commits registers last, so a fault in
 * the middle (a bus error now, #SS/#PF with the system layer) leaves ESP and EBP as they were.
 *
 * Every stack access is checked against SS (limit, expand-down; #SS(0)) before it is made.
 *
 * Leaves out: virtual-8086 mode (PUSHF/POPF IOPL sensitivity, VME).
 */
import type { CoreState } from "../core-state.ts";
import type { ExecFn, Insn } from "../insn.ts";
import type { ExecTable } from "./registry.ts";
import { Eflags, Reg, Seg } from "../registers.ts";
import { loadPoppedFlags } from "./eflags-write.ts";

/** Linear address of stack offset sp, wrapped to the stack-address size, after the SS checks for an
 * access of `size` bytes (#SS(0) beyond the limit; segment-checks.ts). */
function stackLin(c: CoreState, sp: number, size: number, write: boolean): number {
  const off = c.ss32 ? sp | 0 : sp & 0xffff;
  c.checkSegment(Seg.SS, off, size, write);
  return (c.segBase[Seg.SS] + off) | 0;
}

/** ESP after moving the stack pointer by delta (only SP changes with a 16-bit stack). */
function movedSp(c: CoreState, delta: number): number {
  const esp = c.regs[Reg.ESP];
  return c.ss32 ? (esp + delta) | 0 : (esp & ~0xffff) | ((esp + delta) & 0xffff);
}

/** PUSHA: EAX ECX EDX EBX, the ESP from before the first push, EBP ESI EDI (SDM PUSHA). */
function pusha(c: CoreState, i: Insn): void {
  const size = i.opsize;
  const r = c.regs;
  const sp = r[Reg.ESP];
  for (let n = 0; n < 8; n++) c.writeN(stackLin(c, sp - (n + 1) * size, size, true), size, r[n]);
  r[Reg.ESP] = movedSp(c, -8 * size);
}

/** POPA: EDI ESI EBP, skip the ESP image, EBX EDX ECX EAX (SDM POPA). 16-bit form changes low words. */
function popa(c: CoreState, i: Insn): void {
  const size = i.opsize;
  const r = c.regs;
  const sp = r[Reg.ESP];
  const v = popaScratch;
  for (let n = 0; n < 8; n++) v[7 - n] = c.readN(stackLin(c, sp + n * size, size, false), size);
  r[Reg.ESP] = movedSp(c, 8 * size);
  for (let n = 0; n < 8; n++) if (n !== Reg.ESP) c.setReg(n, size, v[n]);
}
const popaScratch = new Int32Array(8);

/** PUSHF: the materialised EFLAGS with VM and RF cleared in the image (SDM PUSHF). */
function pushf(c: CoreState, i: Insn): void {
  c.push(i.opsize, c.getEflags() & ~(Eflags.VM | Eflags.RF));
}

function popf(c: CoreState, i: Insn): void {
  const size = i.opsize;
  const v = c.peek(size);
  c.adjustSp(size);
  loadPoppedFlags(c, v, size);
}

/**
 * ENTER imm16, imm8 (SDM ENTER pseudo-code): push EBP; for nesting level L > 0 copy L-1 frame pointers
 * from the enclosing frame ([EBP-size], [EBP-2*size] ...) and push the new frame pointer; then EBP =
 * frame pointer and ESP -= imm16. The operand size sets the width of the pushes and of EBP/BP; the
 * stack-address size sets how SP/ESP and the [EBP] reads wrap.
 */
function enter(c: CoreState, i: Insn): void {
  const size = i.opsize;
  const r = c.regs;
  const alloc = i.imm & 0xffff;
  const level = i.imm2 & 0x1f;
  let sp = r[Reg.ESP];
  sp -= size;
  c.writeN(stackLin(c, sp, size, true), size, r[Reg.EBP]);
  const frameTemp = c.ss32 ? sp | 0 : (r[Reg.ESP] & ~0xffff) | (sp & 0xffff);
  if (level > 0) {
    let bp = r[Reg.EBP];
    for (let k = 1; k < level; k++) {
      bp -= size;
      sp -= size;
      c.writeN(stackLin(c, sp, size, true), size, c.readN(stackLin(c, bp, size, false), size));
    }
    sp -= size;
    c.writeN(stackLin(c, sp, size, true), size, frameTemp);
  }
  sp -= alloc;
  // The final stack pointer must be writable (SDM ENTER: #SS(0) "if the new value of the stack pointer is
  // outside the stack segment limit"); as Bochs, probe it with a read-modify-write of one element, so a
  // not-present page there faults too, before ESP and EBP change.
  const probe = stackLin(c, sp, size, true);
  c.writeN(probe, size, c.readN(probe, size));
  r[Reg.ESP] = c.ss32 ? sp | 0 : (r[Reg.ESP] & ~0xffff) | (sp & 0xffff);
  c.setReg(Reg.EBP, size, frameTemp);
}

/** LEAVE: ESP = EBP (SP = BP with a 16-bit stack), then pop EBP (SDM LEAVE). */
function leave(c: CoreState, i: Insn): void {
  const size = i.opsize;
  const r = c.regs;
  const bp = r[Reg.EBP];
  const v = c.readN(stackLin(c, bp, size, false), size);
  r[Reg.ESP] = c.ss32 ? (bp + size) | 0 : (r[Reg.ESP] & ~0xffff) | ((bp + size) & 0xffff);
  c.setReg(Reg.EBP, size, v);
}

const fixed = (f: ExecFn) => () => f;

export const STACK_EXEC: ExecTable = {
  pusha: fixed(pusha),
  popa: fixed(popa),
  pushf: fixed(pushf),
  popf: fixed(popf),
  enter: fixed(enter),
  leave: fixed(leave),
};
