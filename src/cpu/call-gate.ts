/**
 * Far JMP and far CALL through a call gate (SDM Vol. 3A 5.8.3-5.8.5, Figures 5-8 and 5-13; Vol. 2 CALL
 * "CALL-GATE" and JMP "CALL-GATE" pseudo-code), checked against Bochs's jmp_call_gate and call_gate.
 * far-transfer.ts has already checked the gate itself (DPL >= CPL and RPL, type, present).
 *
 * The gate's code-segment selector: null -> #GP(0); beyond its table -> #GP(sel).
 * JMP: the usual code-segment checks with CPL (non-conforming DPL = CPL, conforming DPL <= CPL, present);
 *   JMP never changes privilege.
 * CALL: not code, or DPL > CPL -> #GP(sel); not present -> #NP(sel). A non-conforming target with
 *   DPL < CPL is a call to an inner privilege level: the stack for that level comes from the TSS
 *   (tss.ts, #TS/#SS checks), and the new stack gets the caller's SS and ESP (SP with a 16-bit stack),
 *   the gate's parameter count of words (16-bit gate) or dwords (32-bit gate) copied from the caller's
 *   stack, then CS and EIP; the new stack's limit is checked (#SS(new SS)). Otherwise the call stays at
 *   CPL: CS and EIP go on the current stack. The gate's size (not the instruction's operand size) sets
 *   the width of every push and of the offset (16 bits for a 286 gate). The offset must lie within the
 *   new CS limit, else #GP(0). Registers change only after every push succeeded.
 *
 * Leaves out: 64-bit call gates, CET shadow stacks.
 */
import type { CoreState } from "./core-state.ts";
import {
  type Descriptor, dplOf, fetchDescriptor, gateOffset, gateParamCount, gateSelector, isCode, isGate32,
  isNonConformingCode, isPresent,
} from "./descriptors.ts";
import { fault } from "./exceptions.ts";
import { branchFar, checkCodeSegment, loadCodeSegment, loadStackSegment } from "./segments.ts";
import { currentSp, innerStack } from "./tss.ts";

const ESP = 4, CS = 1, SS = 2;
const GP = 13, NP = 11;

/** The code segment a call gate names (null -> #GP(0), beyond its table -> #GP(sel)). */
function gateTarget(c: CoreState, gate: Descriptor): [number, Descriptor] {
  const sel = gateSelector(gate);
  if ((sel & 0xfffc) === 0) fault(GP, 0);
  return [sel, fetchDescriptor(c, sel, GP)];
}

export function jumpThroughGate(c: CoreState, gate: Descriptor): void {
  const [sel, d] = gateTarget(c, gate);
  checkCodeSegment(d, sel, 0, c.cpl);
  branchFar(c, sel, d, gateOffset(gate), c.cpl);
}

export function callThroughGate(c: CoreState, gate: Descriptor, returnEip: number): void {
  const [sel, d] = gateTarget(c, gate);
  const dpl = dplOf(d.attr);
  if (!isCode(d.attr) || dpl > c.cpl) fault(GP, sel & 0xfffc);
  if (!isPresent(d.attr)) fault(NP, sel & 0xfffc);
  const size = isGate32(gate) ? 4 : 2;
  const eip = gateOffset(gate);

  if (isNonConformingCode(d.attr) && dpl < c.cpl) {
    const stack = innerStack(c, dpl);
    stack.push(size, c.segSel[SS]);
    stack.push(size, currentSp(c));
    for (let n = gateParamCount(gate) - 1; n >= 0; n--) stack.push(size, c.peek(size, n * size));
    stack.push(size, c.segSel[CS]);
    stack.push(size, returnEip);
    if (eip >>> 0 > d.limit >>> 0) fault(GP, 0);
    const esp = stack.esp(c.regs[ESP]);
    loadCodeSegment(c, sel, d, dpl);
    loadStackSegment(c, stack.sel, stack.d, dpl);
    c.regs[ESP] = esp;
    c.eip = eip;
    return;
  }

  const oldEsp = c.regs[ESP];
  try {
    c.push(size, c.segSel[CS]);
    c.push(size, returnEip);
    branchFar(c, sel, d, eip, c.cpl);
  } catch (e) {
    c.regs[ESP] = oldEsp;
    throw e;
  }
}
