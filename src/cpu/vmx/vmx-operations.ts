/**
 * The VMX instructions' operations (SDM Vol. 3C 30.3, "VMX Instructions", each instruction's Operation
 * section; 30.2 for the conventions VMsucceed / VMfailInvalid / VMfailValid(n)), shared by the opcodes
 * (execute/vmx.ts) and the embedded VMM's TypeScript API (vmx-api.ts): there is one implementation.
 *
 * Each operation starts with the instruction's fault checks in the SDM's order (#UD; in VMX non-root
 * operation a VM exit, thrown as a VmExitSignal with the instruction's exit reason; #GP(0)), then the
 * VMfail checks, then the effect. The memory operand (a 64-bit pointer, the INVEPT/INVVPID descriptor) is
 * fetched by the caller through `fetch`, called only where the SDM reads it, so a #PF or #GP of that
 * access comes in the SDM's place. The result is a status code: 0 VMsucceed, -1 VMfailInvalid, n > 0
 * VMfailValid(n); `setVmStatus` applies it to RFLAGS and the VM-instruction error field (30.2: VMfail(n)
 * is VMfailValid(n) when the current-VMCS pointer is valid, else VMfailInvalid).
 *
 * The processor has no virtual-8086 mode, no Intel 64 and no SMM, so the RFLAGS.VM, IA32_EFER.LMA / CS.L
 * and SMM conditions of the Operation sections are never true. MAXPHYADDR is 36.
 *
 * Costs: each operation adds its VmxCosts entry (vmreadCycles, vmptrldCycles of a VMCS that is not current,
 * ...); the VMCS region's memory traffic at VMPTRLD / VMCLEAR goes through the core's physical accessors and
 * so through the cache model.
 */
import type { CoreState } from "../core-state.ts";
import { fault } from "../exceptions.ts";
import { readMsr } from "../msr.ts";
import { VmcsField as F } from "./vmcs-fields.ts";
import { readField, writeField, writeFieldAsProcessor } from "./vmcs.ts";
import { vmExit } from "./vm-exit-signal.ts";
import { vmEntry } from "./vm-entry.ts";
import { invept } from "./ept-invept.ts";
import type { VmxState } from "./vmx-state.ts";

const UD = 6, GP = 13;
const CR4_VMXE = 1 << 13;
const FEATURE_CONTROL = 0x3a;
const IA32_VMX_CR0_FIXED0 = 0x486, IA32_VMX_CR0_FIXED1 = 0x487, IA32_VMX_CR4_FIXED0 = 0x488, IA32_VMX_CR4_FIXED1 = 0x489;
const SUCCEED = 0;
const FAIL_INVALID = -1;
/** Bits 63:36 of a physical address: beyond MAXPHYADDR. */
const HI_BEYOND_MAXPHYADDR = 0xfffffff0;
const ZF = 0x40, CF = 0x01, STATUS_FLAGS = 0x8d5; // CF PF AF ZF SF OF

/** Exit reasons of the VMX instructions in non-root operation (SDM Appendix C). */
export const VmxInstructionExit = {
  VMCALL: 18, VMCLEAR: 19, VMLAUNCH: 20, VMPTRLD: 21, VMPTRST: 22, VMREAD: 23, VMRESUME: 24, VMWRITE: 25,
  VMXOFF: 26, VMXON: 27, INVEPT: 50, INVVPID: 53,
} as const;

/** A 64-bit memory operand, read when the operation needs it: [bits 31:0, bits 63:32]. */
export type Fetch64 = () => readonly [number, number];

/** RFLAGS and the VM-instruction error field for status `code` (SDM 30.2). */
export function setVmStatus(c: CoreState, code: number): void {
  const v = c.vmx!;
  if (code === SUCCEED) c.setEflags(0, STATUS_FLAGS);
  else if (code === FAIL_INVALID || v.current === null) c.setEflags(CF, STATUS_FLAGS);
  else {
    c.setEflags(ZF, STATUS_FLAGS);
    writeFieldAsProcessor(v.current, F.VM_INSTRUCTION_ERROR, code);
  }
}

/** VMfail(n): VMfailValid(n) if there is a current VMCS, else VMfailInvalid. */
function vmfail(v: VmxState, n: number): number {
  return v.current !== null ? n : FAIL_INVALID;
}

/** The #UD, VM-exit and #GP checks shared by every VMX instruction but VMXON (30.3). */
function rootChecks(c: CoreState, exitReason: number): VmxState {
  const v = c.vmx;
  if (v === null || !v.on || (c.cr0 & 1) === 0) fault(UD);
  if (c.nonRoot) vmExit(exitReason);
  if (c.cpl !== 0) fault(GP, 0);
  return v;
}

/** A pointer operand the instruction rejects: not 4-KByte aligned or beyond MAXPHYADDR. */
function badPointer(lo: number, hi: number): boolean {
  return (lo & 0xfff) !== 0 || (hi & HI_BEYOND_MAXPHYADDR) !== 0;
}

function physical(lo: number, hi: number): number {
  return hi * 4294967296 + (lo >>> 0);
}

function fixedBitsOk(c: CoreState): boolean {
  const m = (i: number) => readMsr(c, i)[0] | 0;
  const cr0f0 = m(IA32_VMX_CR0_FIXED0), cr0f1 = m(IA32_VMX_CR0_FIXED1);
  const cr4f0 = m(IA32_VMX_CR4_FIXED0), cr4f1 = m(IA32_VMX_CR4_FIXED1);
  return (c.cr0 & cr0f0) === cr0f0 && (c.cr0 & ~cr0f1) === 0 && (c.cr4 & cr4f0) === cr4f0 && (c.cr4 & ~cr4f1) === 0;
}

/** VMXON (30.3): enter VMX operation with the VMXON region at the operand's address. */
export function vmxon(c: CoreState, fetch: Fetch64): number {
  const v = c.vmx;
  if (v === null || (c.cr4 & CR4_VMXE) === 0 || (c.cr0 & 1) === 0) fault(UD);
  if (!v.on) {
    const fc = readMsr(c, FEATURE_CONTROL)[0];
    if (c.cpl > 0 || !fixedBitsOk(c) || (fc & 1) === 0 || (fc & 4) === 0) fault(GP, 0);
    const [lo, hi] = fetch();
    c.cycles += v.costs.vmxonCycles;
    if (badPointer(lo, hi)) return FAIL_INVALID;
    const pa = physical(lo, hi);
    const rev = v.vmcs.readRevisionDword(pa);
    if ((rev & 0x7fffffff) !== v.revision || (rev & 0x80000000) !== 0) return FAIL_INVALID;
    v.on = true;
    v.vmxonPtr = pa;
    v.current = null;
    return SUCCEED;
  }
  if (c.nonRoot) vmExit(VmxInstructionExit.VMXON);
  if (c.cpl > 0) fault(GP, 0);
  return vmfail(v, 15);
}

/**
 * VMXOFF (30.3): leave VMX operation. Active VMCSs are written back; a launched one keeps the launch-state byte
 * 2 in its region (vm-entry.ts: VMRESUME after VMXOFF is error 6 until VMCLEAR).
 */
export function vmxoff(c: CoreState): number {
  const v = rootChecks(c, VmxInstructionExit.VMXOFF);
  c.cycles += v.costs.vmxoffCycles;
  for (const pa of v.vmcs.activeAddresses()) {
    const r = v.vmcs.get(pa)!;
    if (r.launched) r.image[2] = 2;
    v.vmcs.flush(pa);
    v.vmcs.forget(pa);
  }
  v.on = false;
  v.current = null;
  return SUCCEED;
}

/** VMCLEAR (30.3). */
export function vmclear(c: CoreState, fetch: Fetch64): number {
  const v = rootChecks(c, VmxInstructionExit.VMCLEAR);
  const [lo, hi] = fetch();
  c.cycles += v.costs.vmclearCycles;
  if (badPointer(lo, hi)) return vmfail(v, 2);
  const pa = physical(lo, hi);
  if (pa === v.vmxonPtr) return vmfail(v, 3);
  v.vmcs.clear(pa);
  if (v.current !== null && v.current.pa === pa) v.current = null;
  return SUCCEED;
}

/** VMPTRLD (30.3). */
export function vmptrld(c: CoreState, fetch: Fetch64): number {
  const v = rootChecks(c, VmxInstructionExit.VMPTRLD);
  const [lo, hi] = fetch();
  if (badPointer(lo, hi)) return vmfail(v, 9);
  const pa = physical(lo, hi);
  if (pa === v.vmxonPtr) return vmfail(v, 10);
  const rev = v.vmcs.readRevisionDword(pa);
  // Bit 31 (shadow VMCS) is accepted only with VMCS shadowing, which the model does not offer.
  if ((rev & 0x7fffffff) !== v.revision || (rev & 0x80000000) !== 0) return vmfail(v, 11);
  c.cycles += v.current !== null && v.current.pa === pa ? v.costs.vmreadCycles : v.costs.vmptrldCycles;
  v.current = v.vmcs.load(pa);
  return SUCCEED;
}

/** VMPTRST (30.3): the current-VMCS pointer, FFFFFFFF_FFFFFFFFH when invalid. */
export function vmptrst(c: CoreState): readonly [number, number] {
  const v = rootChecks(c, VmxInstructionExit.VMPTRST);
  c.cycles += v.costs.vmreadCycles;
  if (v.current === null) return [0xffffffff, 0xffffffff];
  return [v.current.pa >>> 0, Math.floor(v.current.pa / 4294967296)];
}

/** VMREAD (30.3): status, and the value in out[0] on success. */
export function vmread(c: CoreState, encoding: number, out: number[]): number {
  const v = rootChecks(c, VmxInstructionExit.VMREAD);
  c.cycles += v.costs.vmreadCycles;
  if (v.current === null) return FAIL_INVALID;
  const value = readField(v.current, encoding >>> 0);
  if (value === undefined) return 12;
  out[0] = value;
  return SUCCEED;
}

/** VMWRITE (30.3). */
export function vmwrite(c: CoreState, encoding: number, fetchValue: () => number): number {
  const v = rootChecks(c, VmxInstructionExit.VMWRITE);
  const value = fetchValue();
  c.cycles += v.costs.vmwriteCycles;
  if (v.current === null) return FAIL_INVALID;
  return writeField(v.current, encoding >>> 0, value);
}

/** VMLAUNCH / VMRESUME (30.3, then vm-entry.ts). */
export function vmlaunchOrResume(c: CoreState, launch: boolean): number {
  rootChecks(c, launch ? VmxInstructionExit.VMLAUNCH : VmxInstructionExit.VMRESUME);
  return vmEntry(c, launch);
}

/** VMCALL (30.3): in non-root operation a VM exit whatever the CPL; in root operation VMfail(1). */
export function vmcall(c: CoreState): number {
  const v = c.vmx;
  if (v === null || !v.on) fault(UD);
  if (c.nonRoot) vmExit(VmxInstructionExit.VMCALL);
  if (c.cpl > 0) fault(GP, 0);
  return vmfail(v, 1);
}

/** INVEPT (30.3): `fetch` reads the 128-bit descriptor's first 8 bytes (the EPTP). */
export function inveptOp(c: CoreState, type: number, fetch: Fetch64): number {
  const v = c.vmx;
  if (v === null || !v.on || (c.cr0 & 1) === 0 || (v.eptVpidCapLo & (1 << 20)) === 0) fault(UD);
  if (c.nonRoot) vmExit(VmxInstructionExit.INVEPT);
  if (c.cpl > 0) fault(GP, 0);
  const eptp = fetch();
  c.cycles += v.costs.inveptCycles;
  const out = invept(v.eptMappings, type >>> 0, eptp, v.eptVpidCapLo);
  if (!out.ok) return vmfail(v, out.vmInstructionError);
  c.flushTlb(true); // combined mappings of that EP4TA (the model drops all of them)
  return SUCCEED;
}

/**
 * INVVPID (30.3): type 0 individual address, 1 single context, 2 all contexts, 3 single context retaining
 * globals, each only when IA32_VMX_EPT_VPID_CAP bits 40-43 report it; descriptor bits 15:0 VPID, 63:16 reserved,
 * 127:64 the linear address (`fetchDescriptor` returns [dword0, dword1, dword2]).
 */
export function invvpidOp(c: CoreState, type: number, fetchDescriptor: () => readonly [number, number, number]): number {
  const v = c.vmx;
  if (v === null || !v.on || (c.cr0 & 1) === 0 || (v.eptVpidCapHi & 1) === 0) fault(UD);
  if (c.nonRoot) vmExit(VmxInstructionExit.INVVPID);
  if (c.cpl > 0) fault(GP, 0);
  const [d0, d1, linear] = fetchDescriptor();
  c.cycles += v.costs.invvpidCycles;
  const t = type >>> 0;
  if (t > 3 || (v.eptVpidCapHi & (1 << (8 + t))) === 0) return vmfail(v, 28);
  if ((d0 & 0xffff0000) !== 0 || d1 !== 0) return vmfail(v, 28);
  const vpid = d0 & 0xffff;
  if (t !== 2 && vpid === 0) return vmfail(v, 28);
  if (t === 0) c.invalidateVpidPage(vpid, linear);
  else c.invalidateVpid(t === 2 ? -1 : vpid, t === 3);
  return SUCCEED;
}

