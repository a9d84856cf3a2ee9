/**
 * Loading segment registers and their hidden descriptor caches (SDM Vol. 3A 3.4.3, 5.4-5.8; the
 * "Protected Mode Exceptions" of MOV, POP and LDS/LES/LFS/LGS/LSS in Vol. 2).
 *
 * setSegment is the only writer of segSel/segBase/segLimit/segAttr; it tells the core (segmentLoaded)
 * so that the fast-path access flags follow, and a CS load asks the run loop to refetch.
 *
 * Real-address mode: base = selector << 4, limit and attributes kept (SDM Vol. 3A 20.1.1; Bochs keeps
 * them too, as P6 and later processors do).
 *
 * Protected mode, DS/ES/FS/GS (SDM Vol. 2 MOV "Operation"), in this order:
 *   null selector -> loaded, segment unusable (attr 0: P clear; the access checks raise #GP(0) on use);
 *   index beyond the GDT/LDT limit or LDT with null LDTR -> #GP(sel); system descriptor or execute-only
 *   code -> #GP(sel); data or non-conforming code with RPL > DPL or CPL > DPL -> #GP(sel);
 *   not present -> #NP(sel).
 * SS: null -> #GP(0); beyond limit -> #GP(sel); RPL != CPL, not a writable data segment, or DPL != CPL ->
 *   #GP(sel); not present -> #SS(sel).
 * Type and privilege are checked before presence; the accessed bit is set in the descriptor in memory
 * when it is clear (a supervisor write, c.writeSys8).
 *
 * Code segments are loaded only by far transfers and interrupt delivery (far-transfer.ts, call-gate.ts,
 * interrupts.ts, interrupt-return.ts) through checkCodeSegment / branchFar, which follow Bochs's check_cs
 * and branch_far (the SDM's JMP/CALL/RET/IRET pseudo-code in one place).
 *
 * Leaves out: virtual-8086 mode (not modelled), 64-bit mode.
 */
import type { CoreState } from "./core-state.ts";
import { Brk } from "./core-state.ts";
import {
  type Descriptor, dplOf, fetchDescriptor, isCode, isConformingCode, isNonConformingCode, isPresent,
  isReadableCode, isSegment, isWritableData, markAccessed,
} from "./descriptors.ts";
import { fault } from "./exceptions.ts";

// Local constants: under tsx an imported const enum member is a run-time property load.
const CS = 1, SS = 2;
const SS_FAULT = 12, NP = 11, GP = 13;
const ACCESSED = 1;

/** Put a descriptor into a segment register's hidden part. */
export function setSegment(c: CoreState, seg: number, sel: number, base: number, limit: number, attr: number): void {
  c.segSel[seg] = sel;
  c.segBase[seg] = base;
  c.segLimit[seg] = limit;
  c.segAttr[seg] = attr;
  c.segmentLoaded(seg);
  if (seg === CS) {
    c.cs32 = (attr & 0x4000) !== 0;
    c.brk |= Brk.REFETCH;
  } else if (seg === SS) {
    c.ss32 = (attr & 0x4000) !== 0;
  }
}

/** Make a data segment register null (unusable): selector as given, attributes 0 (not present). */
export function setNullSegment(c: CoreState, seg: number, sel: number): void {
  setSegment(c, seg, sel, 0, 0, 0);
}

/** Real-address mode load of any segment register: base = selector * 16, limit and attributes kept. */
export function loadRealSegment(c: CoreState, seg: number, sel: number): void {
  sel &= 0xffff;
  setSegment(c, seg, sel, sel << 4, c.segLimit[seg], c.segAttr[seg]);
}

/**
 * MOV/POP/LDS-style load of a data or stack segment register (ES, SS, DS, FS, GS). CS is loaded only by
 * far transfers (branchFar) in protected mode.
 */
export function loadSegment(c: CoreState, seg: number, sel: number): void {
  sel &= 0xffff;
  if (!c.protectedMode) {
    loadRealSegment(c, seg, sel);
    return;
  }
  if (seg === SS) {
    loadStackSelector(c, sel);
    return;
  }
  if (seg === CS) throw new Error("loadSegment: CS is loaded by far transfers only");
  if ((sel & 0xfffc) === 0) {
    setNullSegment(c, seg, sel);
    return;
  }
  const d = fetchDescriptor(c, sel, GP);
  const a = d.attr;
  if (!isSegment(a) || (isCode(a) && !isReadableCode(a))) fault(GP, sel & 0xfffc);
  if (!isConformingCode(a)) {
    const dpl = dplOf(a);
    if ((sel & 3) > dpl || c.cpl > dpl) fault(GP, sel & 0xfffc);
  }
  if (!isPresent(a)) fault(NP, sel & 0xfffc);
  markAccessed(c, d);
  setSegment(c, seg, sel, d.base, d.limit, a | ACCESSED);
}

/** MOV SS / POP SS / LSS in protected mode (SDM Vol. 2 MOV: the SS checks). */
function loadStackSelector(c: CoreState, sel: number): void {
  if ((sel & 0xfffc) === 0) fault(GP, 0);
  const d = fetchDescriptor(c, sel, GP);
  checkStackDescriptor(d, sel, c.cpl, GP);
  loadStackSegment(c, sel, d, c.cpl);
}

/**
 * Checks of a new stack segment for privilege level `pl` (MOV SS; RET/IRET to an outer level with
 * vector #GP; the TSS stack of a call gate or interrupt with vector #TS): RPL and DPL must equal `pl`
 * and the segment must be writable data, else vector(sel); not present -> #SS(sel).
 */
export function checkStackDescriptor(d: Descriptor, sel: number, pl: number, vector: number): void {
  if ((sel & 3) !== pl || !isWritableData(d.attr) || dplOf(d.attr) !== pl) fault(vector, sel & 0xfffc);
  if (!isPresent(d.attr)) fault(SS_FAULT, sel & 0xfffc);
}

/** Load SS from a checked descriptor with RPL = pl. */
export function loadStackSegment(c: CoreState, sel: number, d: Descriptor, pl: number): void {
  markAccessed(c, d);
  setSegment(c, SS, (sel & 0xfffc) | pl, d.base, d.limit, d.attr | ACCESSED);
}

/**
 * Checks of a far-transfer target code segment (Bochs check_cs; SDM Vol. 2 JMP/CALL/RET/IRET): a code
 * segment, else #GP(sel); non-conforming: DPL must equal `cpl` and `rpl` must not exceed it; conforming:
 * DPL must not exceed `cpl`; else #GP(sel); then present, else #NP(sel). Pass rpl 0 where the selector's
 * RPL is not checked (RET and IRET compare against the RPL itself, gates ignore it).
 */
export function checkCodeSegment(d: Descriptor, sel: number, rpl: number, cpl: number): void {
  const a = d.attr;
  if (!isCode(a)) fault(GP, sel & 0xfffc);
  const dpl = dplOf(a);
  if (isNonConformingCode(a)) {
    if (dpl !== cpl || rpl > cpl) fault(GP, sel & 0xfffc);
  } else if (dpl > cpl) {
    fault(GP, sel & 0xfffc);
  }
  if (!isPresent(a)) fault(NP, sel & 0xfffc);
}

/** Load CS from a checked descriptor; the new CPL becomes CS.RPL. */
export function loadCodeSegment(c: CoreState, sel: number, d: Descriptor, cpl: number): void {
  markAccessed(c, d);
  c.cpl = cpl;
  setSegment(c, CS, (sel & 0xfffc) | cpl, d.base, d.limit, d.attr | ACCESSED);
}

/** Transfer to eip in a checked code segment: the offset must lie within its limit, else #GP(0). */
export function branchFar(c: CoreState, sel: number, d: Descriptor, eip: number, cpl: number): void {
  if (eip >>> 0 > d.limit >>> 0) fault(GP, 0);
  loadCodeSegment(c, sel, d, cpl);
  c.eip = eip | 0;
}

/**
 * After a return to an outer privilege level (RET, IRET): ES, DS, FS and GS that hold a null selector,
 * or a data or non-conforming code segment with DPL < the new CPL, become null (SDM Vol. 2 RET/IRET
 * "FOR each SegReg in (ES, FS, GS, and DS)"; Bochs validate_seg_regs).
 */
export function nullInaccessibleSegments(c: CoreState): void {
  const cpl = c.cpl;
  for (const s of DATA_SEGS) {
    const a = c.segAttr[s];
    if (dplOf(a) < cpl && (!isSegment(a) || !isPresent(a) || !isConformingCode(a))) setNullSegment(c, s, 0);
  }
}
const DATA_SEGS = [0, 3, 4, 5]; // ES, DS, FS, GS
