/**
 * Interrupt and exception delivery (SDM Vol. 3A 6.4-6.15, Vol. 2 "INT n/INTO/INT3" pseudo-code; real-address
 * mode 20.1.4), checked against Bochs's interrupt()/protected_mode_int()/exception().
 *
 * Real-address mode: the IVT (4-byte entries; beyond the IDTR limit -> #GP), a 16-bit FLAGS/CS/IP frame;
 * IF, TF, AC and RF are cleared.
 *
 * Protected mode, in the SDM's order: the gate must lie within the IDT limit, else #GP(vector*8+2+EXT);
 * be an interrupt, trap or task gate, else #GP(vector*8+2+EXT); for INT n/INT3/INTO have DPL >= CPL,
 * else #GP(vector*8+2); be present, else #NP(vector*8+2+EXT). Task gates are rejected there with
 * #GP(vector*8+2+EXT): hardware task switching is not modelled. The gate's code segment: null ->
 * #GP(EXT); beyond its table -> #GP(sel+EXT); not code, or DPL > CPL -> #GP(sel+EXT); not present ->
 * #NP(sel+EXT). A non-conforming target with DPL < CPL switches to the stack for that level from the TSS
 * (tss.ts: #TS / #SS checks) and pushes SS, ESP, EFLAGS, CS, EIP (and the error code) there; otherwise
 * (conforming target, or DPL = CPL) the frame goes on the current stack and CPL is kept. The gate
 * offset must lie within the new CS limit, else #GP(EXT). TF, NT, RF and VM are cleared, IF too through
 * an interrupt gate. A 16-bit gate pushes words.
 *
 * EXT (bit 0 of the error code, SDM 6.13) is set when the exception occurred while delivering an event
 * external to the program: a hardware interrupt, NMI or an earlier exception - not INT n/INT3/INTO.
 * The EFLAGS image pushed has RF = 1 for fault-class exceptions and RF = 0 for INT n/INT3/INTO (SDM
 * 17.3.1.1). Delivery is all-or-nothing: the frame is written first, registers change last, and ESP is
 * restored when a push faults, so a fault during delivery sees the state of the interrupted program.
 *
 * Faults during delivery follow SDM 6.15 Table 6-5: contributory then contributory, or page fault then
 * contributory or page fault, is a double fault (#DF, error code 0, saved EIP of the first event); other
 * pairs are handled serially (the second exception is delivered instead); any fault while delivering
 * #DF is a triple fault: the core shuts down (Brk.SHUTDOWN). A fault while delivering INT n/INT3/INTO
 * is a fault of that instruction and propagates to it.
 *
 * Leaves out: task gates (hardware task switching), virtual-8086 mode, the shadow-stack and CET pushes.
 */
import type { CoreState } from "./core-state.ts";
import { Brk } from "./core-state.ts";
import {
  decodeDescriptor, dplOf, fetchDescriptor, gateOffset, gateSelector, isCode, isGate32, isNonConformingCode, isPresent,
  systemType,
} from "./descriptors.ts";
import { CpuFault, exceptionInfo, fault, isFaultClass, pushesErrorCode } from "./exceptions.ts";
import { branchFar, loadCodeSegment, loadRealSegment, loadStackSegment } from "./segments.ts";
import { innerStack } from "./tss.ts";
import { VmExitSignal } from "./vmx/vm-exit-signal.ts";
import { interceptException, recordIdtVectoring } from "./vmx/nonroot-events.ts";

export const enum EventKind {
  /** Hardware exception raised by the processor. */
  EXCEPTION = 0,
  /** External interrupt or NMI. */
  EXTERNAL = 1,
  /** INT n, INT3, INTO: DPL of the gate is checked against CPL. */
  SOFTWARE = 2,
}

// Local constants (registers.ts Reg/Seg/Eflags, exceptions.ts Vector): imported const enums are
// property loads under tsx.
const ESP = 4, CS = 1, SS = 2;
const GP = 13, NP = 11, PF = 14, DF = 8;
const TF = 1 << 8, IF = 1 << 9, NT = 1 << 14, RF = 1 << 16, VM = 1 << 17, AC = 1 << 18;
const GATE_TYPES = new Set([0x6, 0x7, 0xe, 0xf]); // 16/32-bit interrupt and trap gates
const TASK_GATE = 0x5;

/**
 * Deliver an interrupt or exception. `returnEip` is the EIP saved in the frame. On a fault during
 * delivery the double-fault rules apply; a triple fault marks the core shut down.
 */
export function deliverEvent(c: CoreState, vector: number, errorCode: number, returnEip: number, kind: EventKind): void {
  if (c.nonRoot) {
    deliverInGuest(c, vector, errorCode, returnEip, kind);
    return;
  }
  deliverAny(c, vector, errorCode, returnEip, kind);
}

/**
 * VMX non-root operation (SDM Vol. 3C 25.2, 27.2.4): an exception the exception bitmap selects is a VM exit
 * instead of a delivery; an exit that happens while this event is being delivered (a nested exception that
 * exits, an EPT violation on the IDT or the stack) reports this event as IDT-vectoring information.
 */
function deliverInGuest(c: CoreState, vector: number, errorCode: number, returnEip: number, kind: EventKind): void {
  if (kind === EventKind.EXCEPTION) interceptException(c, vector, errorCode);
  try {
    deliverAny(c, vector, errorCode, returnEip, kind);
  } catch (e) {
    if (e instanceof VmExitSignal) {
      const type = kind === EventKind.EXCEPTION ? 3 : kind === EventKind.SOFTWARE ? 4 : vector === 2 ? 2 : 0;
      recordIdtVectoring(e, vector, type, errorCode, c.protectedMode);
    }
    throw e;
  }
}

function deliverAny(c: CoreState, vector: number, errorCode: number, returnEip: number, kind: EventKind): void {
  if (kind === EventKind.SOFTWARE) {
    deliverOnce(c, vector, errorCode, returnEip, kind);
    return;
  }
  try {
    deliverOnce(c, vector, errorCode, returnEip, kind);
  } catch (e) {
    if (!(e instanceof CpuFault)) throw e;
    if (kind === EventKind.EXCEPTION && vector === DF) {
      tripleFault(c);
      return;
    }
    const second = e.vector;
    const first = kind === EventKind.EXCEPTION ? vector : -1;
    if (isDoubleFault(first, second)) {
      deliverEvent(c, DF, 0, returnEip, EventKind.EXCEPTION);
    } else {
      // EXT: the second exception happened while delivering an event external to the program.
      const code = e.errorCode >= 0 && second !== PF && second !== DF ? e.errorCode | 1 : e.errorCode;
      deliverEvent(c, second, code, returnEip, EventKind.EXCEPTION);
    }
  }
}

/** SDM Vol. 3A Table 6-5. `first` is -1 for an external interrupt or NMI (benign). */
export function isDoubleFault(first: number, second: number): boolean {
  if (first < 0) return false;
  const a = exceptionInfo(first).class;
  const b = exceptionInfo(second).class;
  return (a === "contributory" && b === "contributory") || (a === "page-fault" && b !== "benign");
}

export function tripleFault(c: CoreState): void {
  if (c.nonRoot) throw new VmExitSignal(2); // SDM Vol. 3C 25.2: a triple fault in the guest is a VM exit
  c.shutdown = true;
  c.brk |= Brk.SHUTDOWN;
}

function deliverOnce(c: CoreState, vector: number, errorCode: number, returnEip: number, kind: EventKind): void {
  let eflags = c.getEflags();
  // The delivery itself costs cycles (the profile's interruptDelivery; INT n's own class cost is on top).
  c.cycles += c.costs.interruptDelivery;
  if (kind === EventKind.SOFTWARE) eflags &= ~RF;
  else if (kind === EventKind.EXCEPTION && isFaultClass(vector)) eflags |= RF;
  if (!c.protectedMode) {
    deliverReal(c, vector, returnEip, eflags);
    return;
  }
  const code = kind === EventKind.EXCEPTION && pushesErrorCode(vector) ? (errorCode < 0 ? 0 : errorCode) : -1;
  deliverProtected(c, vector, code, returnEip, kind, eflags);
}

/** Real-address mode (SDM Vol. 3A 20.1.4; Vol. 2 INT n "REAL-ADDRESS-MODE"). */
function deliverReal(c: CoreState, vector: number, returnEip: number, eflags: number): void {
  if (vector * 4 + 3 > c.idtLimit >>> 0) fault(GP, 0);
  const esp = c.regs[ESP];
  try {
    c.push(2, eflags);
    c.push(2, c.segSel[CS]);
    c.push(2, returnEip);
    const ip = c.readSys16((c.idtBase + vector * 4) | 0);
    const cs = c.readSys16((c.idtBase + vector * 4 + 2) | 0);
    if (ip > c.segLimit[CS] >>> 0) fault(GP, 0);
    c.setEflags(0, IF | TF | AC | RF);
    loadRealSegment(c, CS, cs);
    c.eip = ip;
  } catch (e) {
    c.regs[ESP] = esp;
    throw e;
  }
}

function deliverProtected(c: CoreState, vector: number, code: number, returnEip: number, kind: EventKind, eflags: number): void {
  const entry = vector * 8;
  if (entry + 7 > c.idtLimit >>> 0) fault(GP, entry + 2);
  const lo = c.readSys32((c.idtBase + entry) | 0);
  const hi = c.readSys32((c.idtBase + entry + 4) | 0);
  const g = decodeDescriptor(lo, hi, (c.idtBase + entry) | 0);
  const type = systemType(g.attr);
  if (type !== TASK_GATE && !GATE_TYPES.has(type)) fault(GP, entry + 2);
  if (kind === EventKind.SOFTWARE && dplOf(g.attr) < c.cpl) fault(GP, entry + 2);
  if (!isPresent(g.attr)) fault(NP, entry + 2);
  if (type === TASK_GATE) fault(GP, entry + 2); // hardware task switching is not modelled

  const sel = gateSelector(g);
  const offset = gateOffset(g);
  const size = isGate32(g) ? 4 : 2;
  if ((sel & 0xfffc) === 0) fault(GP, 0);
  const d = fetchDescriptor(c, sel, GP);
  const dpl = dplOf(d.attr);
  if (!isCode(d.attr) || dpl > c.cpl) fault(GP, sel & 0xfffc);
  if (!isPresent(d.attr)) fault(NP, sel & 0xfffc);

  const oldCs = c.segSel[CS];
  if (isNonConformingCode(d.attr) && dpl < c.cpl) {
    // Interrupt to an inner privilege level: the frame goes on the TSS stack for the new CPL.
    const stack = innerStack(c, dpl);
    c.cycles += c.costs.privilegeChangeExtra;
    if (offset >>> 0 > d.limit >>> 0) fault(GP, 0);
    stack.push(size, c.segSel[SS]);
    stack.push(size, c.regs[ESP]);
    stack.push(size, eflags);
    stack.push(size, oldCs);
    stack.push(size, returnEip);
    if (code >= 0) stack.push(size, code);
    const esp = stack.esp(c.regs[ESP]);
    loadCodeSegment(c, sel, d, dpl);
    loadStackSegment(c, stack.sel, stack.d, dpl);
    c.regs[ESP] = esp;
    c.eip = offset | 0;
  } else {
    // Same privilege level (conforming target or DPL = CPL): the frame goes on the current stack.
    if (offset >>> 0 > d.limit >>> 0) fault(GP, 0);
    const esp = c.regs[ESP];
    try {
      c.push(size, eflags);
      c.push(size, oldCs);
      c.push(size, returnEip);
      if (code >= 0) c.push(size, code);
    } catch (e) {
      c.regs[ESP] = esp;
      throw e;
    }
    branchFar(c, sel, d, offset, c.cpl);
  }
  c.setEflags(0, TF | NT | RF | VM | ((type & 1) === 0 ? IF : 0));
}
