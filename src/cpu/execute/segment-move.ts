/**
 * Moves between segment registers and general registers, memory and the stack: MOV r/m,Sreg (8C),
 * MOV Sreg,r/m (8E), PUSH Sreg, POP Sreg, LDS/LES/LSS/LFS/LGS (SDM Vol. 2 MOV, PUSH, POP, LDS/LES/...).
 * The descriptor load itself is segments.ts's loadSegment.
 *
 * Choices where the SDM allows several behaviours:
 * - MOV r32,Sreg zero-extends the selector (P6 and later, SDM MOV; the AMD EPYC host does the same).
 * - PUSH Sreg with a 32-bit operand size decrements ESP by 4 and writes only the low 16 bits, leaving
 *   the upper half of the slot unchanged, as "all recent Core and Atom processors" do (SDM PUSH).
 *   AMD processors (measured on the EPYC host) zero-extend instead: a differential test must ignore
 *   bytes 2-3 of that slot.
 *
 * - MOV SS and POP SS (not LSS) block interrupts, NMIs and single-step traps until the next instruction
 *   has executed (SDM Vol. 3A 6.8.3): they set the core's interrupt shadow once the load succeeded.
 *
 * The protected-mode checks of the descriptor load (null, limit, type, RPL/DPL/CPL, present, with their
 * #GP/#NP/#SS error codes) are segments.ts's loadSegment. Leaves out: virtual-8086 mode.
 */
import type { CoreState } from "../core-state.ts";
import type { ExecFn, Insn } from "../insn.ts";
import type { ExecTable } from "./registry.ts";
import { fault, Vector } from "../exceptions.ts";
import { Reg, Seg } from "../registers.ts";
import { loadSegment } from "../segments.ts";
import { ea, offsetOf } from "./operands.ts";

const SS = 2; // Seg.SS, local: an imported const enum member is a run-time property load under tsx

/** Sreg encodings 6 and 7 name no register: #UD (SDM MOV, "If attempt is made to load a nonexistent segment register"). */
function movFromSegReg(c: CoreState, i: Insn): void {
  if (i.reg > 5) fault(Vector.UD);
  c.setReg(i.rm, i.opsize, c.segSel[i.reg]);
}

function movFromSegMem(c: CoreState, i: Insn): void {
  if (i.reg > 5) fault(Vector.UD);
  c.write16(ea(c, i), c.segSel[i.reg]);
}

/** MOV Sreg, r/m16: loading CS this way is #UD (SDM MOV). */
function movToSeg(c: CoreState, i: Insn): void {
  if (i.reg === Seg.CS || i.reg > 5) fault(Vector.UD);
  const sel = i.rm >= 0 ? c.regs[i.rm] & 0xffff : c.read16(ea(c, i));
  loadSegment(c, i.reg, sel);
  if (i.reg === SS) c.setInterruptShadow();
}

function pushSeg(c: CoreState, i: Insn): void {
  const sel = c.segSel[i.param];
  if (i.opsize === 2) {
    c.push(2, sel);
    return;
  }
  const r = c.regs;
  const esp = r[Reg.ESP];
  const sp = c.ss32 ? (esp - 4) | 0 : (esp & ~0xffff) | ((esp - 4) & 0xffff);
  const off = c.ss32 ? sp : sp & 0xffff;
  c.checkSegment(Seg.SS, off, 2, true); // the 16-bit store is what is limit-checked (Bochs PUSH32_Sw)
  c.write16((c.segBase[Seg.SS] + off) | 0, sel);
  r[Reg.ESP] = sp;
}

/** POP Sreg: the stack pointer moves only if the segment load succeeds (SDM POP: faults are precise). */
function popSeg(c: CoreState, i: Insn): void {
  const size = i.opsize;
  const sel = c.peek(size) & 0xffff;
  const esp = c.regs[Reg.ESP];
  // The increment uses the stack-address size in force before a POP SS changes it.
  const newEsp = c.ss32 ? (esp + size) | 0 : (esp & ~0xffff) | ((esp + size) & 0xffff);
  loadSegment(c, i.param, sel);
  c.regs[Reg.ESP] = newEsp;
  if (i.param === SS) c.setInterruptShadow();
}

/** LDS/LES/LSS/LFS/LGS r, m16:16/m16:32: offset first, then the selector (SDM LDS/LES/...). */
function loadFar(c: CoreState, i: Insn): void {
  const size = i.opsize;
  const off = offsetOf(c, i);
  const base = c.segBase[i.seg];
  const selOff = i.a16 ? (off + size) & 0xffff : off + size;
  c.checkSegment(i.seg, off, size, false);
  c.checkSegment(i.seg, selOff, 2, false);
  const v = c.readN((base + off) | 0, size);
  const sel = c.read16((base + selOff) | 0);
  loadSegment(c, i.param, sel);
  c.setReg(i.reg, size, v);
}

const fixed = (f: ExecFn) => () => f;

export const SEGMENT_MOVE_EXEC: ExecTable = {
  movFromSeg: (i) => (i.rm >= 0 ? movFromSegReg : movFromSegMem),
  movToSeg: fixed(movToSeg),
  pushSeg: fixed(pushSeg),
  popSeg: fixed(popSeg),
  loadFar: fixed(loadFar),
};
