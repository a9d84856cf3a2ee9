/**
 * Far JMP, far CALL and far RET (SDM Vol. 2 JMP, CALL, RET "Operation" and "Protected Mode Exceptions";
 * Vol. 3A 5.8 "Privilege Level Checking When Transferring Program Control Between Code Segments"),
 * checked against Bochs's jump_protected / call_protected / return_protected.
 *
 * Real-address mode: CS base = selector * 16; the new EIP must lie within the (unchanged) CS limit,
 * else #GP(0) - checked before anything is pushed.
 *
 * Protected mode, direct to a code segment: null selector -> #GP(0); beyond its table -> #GP(sel); then
 * checkCodeSegment (segments.ts): not code, non-conforming with DPL != CPL or RPL > CPL, conforming with
 * DPL > CPL -> #GP(sel); not present -> #NP(sel). CPL never changes; CS.RPL becomes CPL. CALL pushes
 * CS and EIP (16 or 32 bits by operand size) on the current stack (#SS(0) when it has no room), then the
 * offset is checked against the new limit (#GP(0)); a fault leaves ESP as it was.
 *
 * Through a system descriptor: its DPL must be >= CPL and >= the selector's RPL, else #GP(sel). Call
 * gates (16/32-bit) go to call-gate.ts after the present check (#NP(gate selector)). Task gates and TSS
 * descriptors would switch tasks: hardware task switching is not modelled, so they raise #GP(sel), as
 * does every other system type.
 *
 * RET: the popped CS selector: null -> #GP(0); beyond its table -> #GP(sel); RPL < CPL -> #GP(sel);
 * code-segment checks against its RPL. RPL = CPL: same level, ESP += 2 * operand size + imm. RPL > CPL:
 * return to an outer level: SS:ESP follow the immediate-adjusted frame; null SS -> #GP(0), beyond its
 * table, RPL != CS.RPL, not writable data or DPL != CS.RPL -> #GP(sel), not present -> #SS(sel); then
 * CPL = CS.RPL, ESP = popped ESP + imm, and ES/DS/FS/GS that the new CPL may not use become null.
 * Every pop goes through c.peek, so a stack-limit fault (#SS(0)) leaves ESP unchanged.
 *
 * Leaves out: hardware task switching, virtual-8086 mode, 64-bit mode, CET shadow stacks.
 */
import type { CoreState } from "./core-state.ts";
import { dplOf, fetchDescriptor, isBig, isPresent, isSegment, systemType } from "./descriptors.ts";
import { fault } from "./exceptions.ts";
import {
  branchFar, checkCodeSegment, checkStackDescriptor, loadRealSegment, loadStackSegment, nullInaccessibleSegments,
} from "./segments.ts";
import { callThroughGate, jumpThroughGate } from "./call-gate.ts";

const ESP = 4, CS = 1;
const GP = 13, NP = 11;
const CALL_GATE16 = 0x4, CALL_GATE32 = 0xc;

/** Offset of a far pointer for the operand size. */
const offsetFor = (offset: number, size: number): number => (size === 2 ? offset & 0xffff : offset | 0);

function checkRealTarget(c: CoreState, eip: number): void {
  if (eip >>> 0 > c.segLimit[CS] >>> 0) fault(GP, 0);
}

/** The checks on a call gate named by a far JMP/CALL selector; other system descriptors fault. */
function checkGate(c: CoreState, sel: number, attr: number): void {
  const dpl = dplOf(attr);
  if (dpl < c.cpl || dpl < (sel & 3)) fault(GP, sel & 0xfffc);
  const type = systemType(attr);
  // TSS descriptors and task gates would switch tasks (not modelled); the other types are invalid here.
  if (type !== CALL_GATE16 && type !== CALL_GATE32) fault(GP, sel & 0xfffc);
  if (!isPresent(attr)) fault(NP, sel & 0xfffc);
}

/** JMP ptr16:16/32 and JMP m16:16/32. */
export function farJump(c: CoreState, sel: number, offset: number, size: number): void {
  sel &= 0xffff;
  const eip = offsetFor(offset, size);
  if (!c.protectedMode) {
    checkRealTarget(c, eip);
    loadRealSegment(c, CS, sel);
    c.eip = eip;
    return;
  }
  if ((sel & 0xfffc) === 0) fault(GP, 0);
  const d = fetchDescriptor(c, sel, GP);
  if (isSegment(d.attr)) {
    checkCodeSegment(d, sel, sel & 3, c.cpl);
    branchFar(c, sel, d, eip, c.cpl);
    return;
  }
  checkGate(c, sel, d.attr);
  jumpThroughGate(c, d);
}

/** CALL ptr16:16/32 and CALL m16:16/32; `returnEip` is the offset of the next instruction. */
export function farCall(c: CoreState, sel: number, offset: number, size: number, returnEip: number): void {
  sel &= 0xffff;
  const eip = offsetFor(offset, size);
  const oldEsp = c.regs[ESP];
  if (!c.protectedMode) {
    checkRealTarget(c, eip);
    try {
      c.push(size, c.segSel[CS]);
      c.push(size, returnEip);
    } catch (e) {
      c.regs[ESP] = oldEsp;
      throw e;
    }
    loadRealSegment(c, CS, sel);
    c.eip = eip;
    return;
  }
  if ((sel & 0xfffc) === 0) fault(GP, 0);
  const d = fetchDescriptor(c, sel, GP);
  if (isSegment(d.attr)) {
    checkCodeSegment(d, sel, sel & 3, c.cpl);
    try {
      c.push(size, c.segSel[CS]);
      c.push(size, returnEip);
      branchFar(c, sel, d, eip, c.cpl);
    } catch (e) {
      c.regs[ESP] = oldEsp;
      throw e;
    }
    return;
  }
  checkGate(c, sel, d.attr);
  callThroughGate(c, d, returnEip);
}

/** RETF and RETF imm16 (`popBytes`: the immediate). */
export function farReturn(c: CoreState, size: number, popBytes: number): void {
  const eip = size === 2 ? c.peek(2, 0) : c.peek(4, 0);
  const sel = c.peek(size, size) & 0xffff;
  if (!c.protectedMode) {
    checkRealTarget(c, eip);
    loadRealSegment(c, CS, sel);
    c.eip = eip;
    c.adjustSp(2 * size + popBytes);
    return;
  }
  if ((sel & 0xfffc) === 0) fault(GP, 0);
  const d = fetchDescriptor(c, sel, GP);
  const rpl = sel & 3;
  if (rpl < c.cpl) fault(GP, sel & 0xfffc);
  checkCodeSegment(d, sel, 0, rpl);
  if (rpl === c.cpl) {
    branchFar(c, sel, d, eip, rpl);
    c.adjustSp(2 * size + popBytes);
    return;
  }
  // Return to an outer privilege level (SDM Vol. 2 RET "RETURN-TO-OUTER-PRIVILEGE-LEVEL").
  const ss = c.peek(size, 3 * size + popBytes) & 0xffff;
  if ((ss & 0xfffc) === 0) fault(GP, 0);
  const sd = fetchDescriptor(c, ss, GP);
  checkStackDescriptor(sd, ss, rpl, GP);
  const esp = c.peek(size, 2 * size + popBytes);
  branchFar(c, sel, d, eip, rpl);
  loadStackSegment(c, ss, sd, rpl);
  c.regs[ESP] = isBig(sd.attr) ? (esp + popBytes) | 0 : (c.regs[ESP] & ~0xffff) | ((esp + popBytes) & 0xffff);
  nullInaccessibleSegments(c);
}
