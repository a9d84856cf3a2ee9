/**
 * Instructions that cause VM exits in VMX non-root operation (SDM Vol. 3C 25.1.2 "Instructions That Cause
 * VM Exits Unconditionally", 25.1.3 "Instructions That Cause VM Exits Conditionally") and the instructions
 * whose behaviour changes there without an exit (25.3: MOV from CR0/CR4 reads the read shadows, MOV to
 * CR0/CR4, CLTS and LMSW leave the masked bits alone, RDTSC adds the TSC offset: the core's TSC offset
 * already includes it while the guest runs).
 *
 * The instruction handlers call these after their own checks that have priority over VM exits (25.1.1:
 * #UD, privilege-level #GP, the TSS I/O-permission #GP) and before their effect; a check that decides to
 * exit throws a VmExitSignal with the exit reason and qualification (exit-qualification.ts encodes them).
 * CPUID, INVD, GETSEC and the VMX instructions exit unconditionally; the rest per control. MONITOR and MWAIT
 * check their exits themselves (execute/monitor-mwait.ts).
 *
 * Leaves out: CR8 (no Intel 64), MOV-DR exits' DR7.GD interplay beyond ordering, descriptor-table exiting
 * (the model does not offer it), RDRAND/RDSEED/XSETBV/INVPCID/XSAVES (instructions the core does not have),
 * task switches (the core
 * does not implement hardware task switching; exit reason 9 never happens).
 */
import type { CoreState } from "../core-state.ts";
import type { Insn } from "../insn.ts";
import { fault } from "../exceptions.ts";
import { VmExitSignal } from "./vm-exit-signal.ts";
import {
  crReadValue, crWriteExits, crAfterWrite, cltsExits, cr0AfterClts, lmswExits, cr0AfterLmsw, movToCr3Exits, movFromCr3Exits,
} from "./cr-access.ts";
import {
  movToCrQualification, movFromCrQualification, cltsQualification, lmswQualification, movToDrQualification,
  movFromDrQualification, ioInsnQualification, insOutsInstructionInfo,
} from "./exit-qualification.ts";
import { ioAccessExits } from "./io-bitmap.ts";
import { msrAccessExits } from "./msr-bitmap.ts";

const UD = 6;
const PROC_HLT = 1 << 7, PROC_INVLPG = 1 << 9, PROC_RDPMC = 1 << 11, PROC_RDTSC = 1 << 12;
const PROC_MOV_DR = 1 << 23, PROC_PAUSE = 1 << 30;
const PROC2_RDTSCP = 1 << 3, PROC2_WBINVD = 1 << 6, PROC2_UNRESTRICTED = 1 << 7;
const CR0_PE = 1, CR0_PG = 0x80000000;
const IA32_VMX_CR0_FIXED0 = 0x486;
const IA32_VMX_CR4_FIXED0 = 0x488;

function exit(reason: number, qualification = 0): never {
  throw new VmExitSignal(reason, qualification);
}

/** CPUID (reason 10) and INVD (13) exit unconditionally (25.1.2). */
export function unconditionalExit(reason: number): never {
  exit(reason);
}

export function hltExits(c: CoreState): void {
  if ((c.vmx!.proc & PROC_HLT) !== 0) exit(12);
}

/** INVLPG (14): the qualification is the linear-address operand. */
export function invlpgExits(c: CoreState, lin: number): void {
  if ((c.vmx!.proc & PROC_INVLPG) !== 0) exit(14, lin >>> 0);
}

export function rdpmcExits(c: CoreState): void {
  if ((c.vmx!.proc & PROC_RDPMC) !== 0) exit(15);
}

/** RDTSC (16) / RDTSCP (51); RDTSCP is #UD unless "enable RDTSCP" (25.3). */
export function rdtscExits(c: CoreState, rdtscp: boolean): void {
  const v = c.vmx!;
  if (rdtscp && (v.proc2 & PROC2_RDTSCP) === 0) fault(UD);
  if ((v.proc & PROC_RDTSC) !== 0) exit(rdtscp ? 51 : 16);
}

export function pauseExits(c: CoreState): void {
  if ((c.vmx!.proc & PROC_PAUSE) !== 0) exit(40);
}

export function wbinvdExits(c: CoreState): void {
  if ((c.vmx!.proc2 & PROC2_WBINVD) !== 0) exit(54);
}

/**
 * MOV to CR0/CR3/CR4 (reason 28, 25.1.3): returns the value to load when it does not exit. CR0 and CR4: masked
 * bits keep their value (25.3); the result must still satisfy the fixed bits of VMX operation (23.8; PE and PG
 * are free with unrestricted guest), else #GP(0).
 */
export function movToCr(c: CoreState, i: Insn, value: number): number {
  const v = c.vmx!;
  if (i.reg === 0) {
    if (crWriteExits(v.cr0Mask, v.cr0Shadow, value)) exit(28, movToCrQualification(i));
    const cr0 = crAfterWrite(c.cr0, v.cr0Mask, value);
    let fixed0 = v.caps.msrs.get(IA32_VMX_CR0_FIXED0)![0];
    if ((v.proc2 & PROC2_UNRESTRICTED) !== 0) fixed0 &= ~(CR0_PE | CR0_PG);
    if (((cr0 & fixed0) >>> 0) !== fixed0 >>> 0) fault(13, 0);
    return cr0;
  }
  if (i.reg === 4) {
    if (crWriteExits(v.cr4Mask, v.cr4Shadow, value)) exit(28, movToCrQualification(i));
    const cr4 = crAfterWrite(c.cr4, v.cr4Mask, value);
    // 25.3 / 23.8: the result must keep the CR4 fixed bits (VMXE), else #GP(0).
    const fixed0 = v.caps.msrs.get(IA32_VMX_CR4_FIXED0)![0];
    if (((cr4 & fixed0) >>> 0) !== fixed0 >>> 0) fault(13, 0);
    return cr4;
  }
  if (i.reg === 3 && movToCr3Exits(v.proc, v.cr3TargetCount, v.cr3Targets, value)) exit(28, movToCrQualification(i));
  return value;
}

/** MOV from CR0/CR3/CR4: CR3-store exiting, and the read shadows of CR0 and CR4 (25.3). */
export function movFromCr(c: CoreState, i: Insn, real: number): number {
  const v = c.vmx!;
  if (i.reg === 0) return crReadValue(real, v.cr0Mask, v.cr0Shadow);
  if (i.reg === 4) return crReadValue(real, v.cr4Mask, v.cr4Shadow);
  if (i.reg === 3 && movFromCr3Exits(v.proc)) exit(28, movFromCrQualification(i));
  return real;
}

/** CLTS: exits when TS is masked and set in the shadow; else the new CR0. */
export function clts(c: CoreState): number {
  const v = c.vmx!;
  if (cltsExits(v.cr0Mask, v.cr0Shadow)) exit(28, cltsQualification());
  return cr0AfterClts(c.cr0, v.cr0Mask);
}

/** LMSW with `source` (16 bits) read from a register or from linear address `lin`: exits per 25.1.3 (with
 * the memory operand's linear address in the guest-linear field, 27.2.1), else the new CR0. */
export function lmsw(c: CoreState, i: Insn, source: number, lin: number): number {
  const v = c.vmx!;
  if (lmswExits(v.cr0Mask, v.cr0Shadow, source)) {
    const s = new VmExitSignal(28, lmswQualification(i, source));
    if (i.rm < 0) s.guestLinear = lin;
    throw s;
  }
  return cr0AfterLmsw(c.cr0, v.cr0Mask, source);
}

/** MOV DR (29). */
export function movDrExits(c: CoreState, i: Insn, toDr: boolean): void {
  if ((c.vmx!.proc & PROC_MOV_DR) !== 0) exit(29, toDr ? movToDrQualification(i) : movFromDrQualification(i));
}

/** IN/OUT/INS/OUTS (30): unconditional I/O exiting or the I/O bitmaps. */
export function ioExits(c: CoreState, i: Insn, port: number, size: number): void {
  const v = c.vmx!;
  if (!ioAccessExits(v.mem, v.proc, v.ioBitmapA, v.ioBitmapB, port, size)) return;
  const s = new VmExitSignal(30, ioInsnQualification(i, port));
  const op = i.row === null ? 0 : i.row.opcode[0];
  if (op >= 0x6c && op <= 0x6f) {
    s.instructionInfo = insOutsInstructionInfo(i, op <= 0x6d);
    // 27.2.? guest-linear address of the string operand: ES:[eDI] for INS, DS (or the override):[eSI] for OUTS.
    const off = (r: number) => (i.a16 ? c.regs[r] & 0xffff : c.regs[r]);
    s.guestLinear = op <= 0x6d ? (c.segBase[0] + off(7)) | 0 : (c.segBase[i.segOverride ? i.seg : 3] + off(6)) | 0;
  }
  throw s;
}

/** RDMSR (31) / WRMSR (32) with the MSR bitmaps. */
export function msrExits(c: CoreState, index: number, write: boolean): void {
  const v = c.vmx!;
  if (msrAccessExits(v.mem, v.proc, v.msrBitmap, index >>> 0, write)) exit(write ? 32 : 31);
}
