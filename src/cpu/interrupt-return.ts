/**
 * IRET/IRETD (SDM Vol. 2 IRET "Operation" and "Protected Mode Exceptions"; Vol. 3A 6.14), checked against
 * Bochs's iret_protected.
 *
 * Real-address mode: pops EIP, CS, EFLAGS; the new EIP must lie within the CS limit (#GP(0)); a 32-bit
 * IRET loads the EFLAGS bits 257FD5H (keeping VM, VIF, VIP), a 16-bit one the low 16 bits.
 *
 * Protected mode:
 * - NT = 1 asks for a return to the previous task. Hardware task switching is not modelled; the model
 *   raises #GP(0), as processors do for IRET with NT = 1 in IA-32e mode (SDM IRET: "IF NT = 1 ... IA-32e
 *   mode: #GP(0)") and as Bochs's long_iret does - a choice, documented here, not the legacy behaviour.
 * - The popped CS: null -> #GP(0); beyond its table -> #GP(sel); RPL < CPL -> #GP(sel); not code,
 *   non-conforming with DPL != RPL, conforming with DPL > RPL -> #GP(sel); not present -> #NP(sel).
 * - RPL = CPL: same level; the offset must lie within the CS limit (#GP(0)); ESP += 3 * operand size.
 * - RPL > CPL: return to an outer level: SS and ESP are popped too; null SS -> #GP(0); beyond its table,
 *   RPL != CS.RPL, not writable data, DPL != CS.RPL -> #GP(sel); not present -> #SS(sel). Then CPL =
 *   CS.RPL, and ES/DS/FS/GS that the new CPL may not use become null.
 * - EFLAGS, decided with the CPL before the return: CF PF AF ZF SF TF DF OF NT always; RF AC ID with a
 *   32-bit operand; IF only when CPL <= IOPL; IOPL (and VIF, VIP with a 32-bit operand) only at CPL 0.
 *   VM is ignored: virtual-8086 mode is not modelled (the SDM's RETURN-TO-VIRTUAL-8086-MODE path is not
 *   taken even at CPL 0 with VM set in the image).
 * Every pop goes through c.peek, so a stack-limit fault (#SS(0)) or a check leaves ESP unchanged.
 *
 * RF: IRET loads it from the image (SDM 17.3.1.1); clearing it after the next instruction is the run
 * loop's job.
 */
import type { CoreState } from "./core-state.ts";
import { fetchDescriptor, isBig } from "./descriptors.ts";
import { fault } from "./exceptions.ts";
import {
  branchFar, checkCodeSegment, checkStackDescriptor, loadRealSegment, loadStackSegment, nullInaccessibleSegments,
} from "./segments.ts";

const ESP = 4, CS = 1;
const GP = 13;
const NT = 1 << 14, IF = 1 << 9, IOPL = 3 << 12, RF = 1 << 16, AC = 1 << 18, ID = 1 << 21;
const VIF = 1 << 19, VIP = 1 << 20;
/** CF PF AF ZF SF TF DF OF NT. */
const ALWAYS = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x100 | 0x400 | 0x800 | NT;
const REAL_MODE_32 = 0x257fd5;

/** EFLAGS bits IRET may change at the current CPL and IOPL (SDM IRET). */
export function iretFlagMask(c: CoreState, size: number): number {
  let m = ALWAYS;
  if (size === 4) m |= RF | AC | ID;
  const cpl = c.cpl;
  if (cpl <= ((c.eflags >> 12) & 3)) m |= IF;
  if (cpl === 0) m |= IOPL | (size === 4 ? VIF | VIP : 0);
  return size === 2 ? m & 0xffff : m;
}

export function interruptReturn(c: CoreState, size: number): void {
  // IRET ends NMI blocking even when it faults (SDM Vol. 3A 6.7.1). In VMX non-root operation (Vol. 3C 25.3):
  // with "NMI exiting" it leaves NMI blocking alone; with "virtual NMIs" it ends virtual-NMI blocking instead.
  const v = c.nonRoot ? c.vmx : null;
  if (v === null) c.nmiBlocked = false;
  else if ((v.pin & 0x20) !== 0) v.virtualNmiBlocked = false;
  else if ((v.pin & 0x08) === 0) c.nmiBlocked = false;
  // Task return: hardware task switching is not modelled (checked before any pop, as Bochs does).
  if (c.protectedMode && (c.eflags & NT) !== 0) fault(GP, 0);
  const eip = c.peek(size, 0);
  const sel = c.peek(size, size) & 0xffff;
  const flags = c.peek(size, 2 * size);
  if (!c.protectedMode) {
    if (eip >>> 0 > c.segLimit[CS] >>> 0) fault(GP, 0);
    c.adjustSp(3 * size);
    loadRealSegment(c, CS, sel);
    c.eip = eip;
    c.setEflags(flags, size === 4 ? REAL_MODE_32 : 0xffff);
    return;
  }
  if ((sel & 0xfffc) === 0) fault(GP, 0);
  const d = fetchDescriptor(c, sel, GP);
  const rpl = sel & 3;
  if (rpl < c.cpl) fault(GP, sel & 0xfffc);
  checkCodeSegment(d, sel, 0, rpl);
  const mask = iretFlagMask(c, size);
  if (rpl === c.cpl) {
    branchFar(c, sel, d, eip, rpl);
    c.setEflags(flags, mask);
    c.adjustSp(3 * size);
    return;
  }
  const ss = c.peek(size, 4 * size) & 0xffff;
  if ((ss & 0xfffc) === 0) fault(GP, 0);
  const sd = fetchDescriptor(c, ss, GP);
  checkStackDescriptor(sd, ss, rpl, GP);
  const esp = c.peek(size, 3 * size);
  branchFar(c, sel, d, eip, rpl);
  c.setEflags(flags, mask);
  loadStackSegment(c, ss, sd, rpl);
  c.regs[ESP] = isBig(sd.attr) ? esp : (c.regs[ESP] & ~0xffff) | (esp & 0xffff);
  nullInaccessibleSegments(c);
}
