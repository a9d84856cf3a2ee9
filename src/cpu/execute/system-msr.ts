/**
 * RDMSR, WRMSR, RDPMC, SYSENTER, SYSEXIT (SDM Vol. 2 instruction pages; Vol. 3A 5.8.7 "Performing Fast
 * Calls to System Procedures with the SYSENTER and SYSEXIT Instructions").
 *
 * RDMSR/WRMSR move EDX:EAX to or from the MSR that ECX names (msr.ts; unknown MSR #GP(0)). RDPMC: the
 * model has no performance counters, so whatever ECX holds selects none and the SDM's "ECX does not
 * specify a valid counter" #GP(0) applies in every mode (it is also the privilege fault's vector).
 * SYSENTER/SYSEXIT load the flat CS/SS pair the SDM prescribes from IA32_SYSENTER_CS (CS = it, SS = it + 8
 * at ring 0; CS = it + 16, SS = it + 24 with RPL 3 for the return) without reading the GDT; both raise
 * #GP(0) in real mode or when IA32_SYSENTER_CS[15:2] is 0, SYSEXIT also at CPL > 0. Every segment load goes
 * through segments.ts setSegment (the only writer of the segment registers), after CPL changed, so the
 * core's per-segment access flags see the new CPL.
 *
 * Leaves out: 64-bit SYSEXIT (REX.W), VM exits on MSR accesses (VT-x issue).
 */
import { msrExits, rdpmcExits } from "../vmx/nonroot-instructions.ts";
import type { CoreState } from "../core-state.ts";
import type { ExecFn } from "../insn.ts";
import type { ExecTable } from "./registry.ts";
import { fault, Vector } from "../exceptions.ts";
import { Msr, readMsr, writeMsr } from "../msr.ts";
import { Eflags, Reg, Seg } from "../registers.ts";
import { setSegment } from "../segments.ts";

const value: [number, number] = [0, 0];

const rdmsr: ExecFn = (c, i) => {
  if (c.nonRoot) msrExits(c, c.regs[Reg.ECX], false); // SDM Vol. 3C 25.1.3 (after the CPL check of the row)
  const v = readMsr(c, c.regs[Reg.ECX], i.cyclesBefore);
  c.regs[Reg.EAX] = v[0];
  c.regs[Reg.EDX] = v[1];
};

const wrmsr: ExecFn = (c, i) => {
  if (c.nonRoot) msrExits(c, c.regs[Reg.ECX], true);
  value[0] = c.regs[Reg.EAX];
  value[1] = c.regs[Reg.EDX];
  writeMsr(c, c.regs[Reg.ECX], value, i.cyclesBefore);
};

/** RDPMC: the model has no performance counters (#GP(0)); in VMX non-root operation RDPMC exiting comes
 * first when CPL and CR4.PCE allow the instruction (SDM Vol. 3C 25.1.1, 25.1.3). */
const rdpmc: ExecFn = (c) => {
  if (c.nonRoot && ((c.cr4 & 0x100) !== 0 || c.cpl === 0)) rdpmcExits(c);
  fault(Vector.GP, 0);
};

/** Flat 4 GiB segment attributes: access byte (P, DPL, S, type) and G + D/B (segAttr layout). */
const FLAT = 0xc000;
const CODE_EXEC_READ_ACCESSED = 0x9b;
const DATA_READ_WRITE_ACCESSED = 0x93;
const DPL3 = 0x60;

function sysenterCs(c: CoreState): number {
  const cs = readMsr(c, Msr.IA32_SYSENTER_CS)[0] & 0xffff;
  if (!c.protectedMode || (cs & 0xfffc) === 0) fault(Vector.GP, 0);
  return cs;
}

const sysenter: ExecFn = (c) => {
  const cs = sysenterCs(c) & 0xfffc;
  const esp = readMsr(c, Msr.IA32_SYSENTER_ESP)[0];
  const eip = readMsr(c, Msr.IA32_SYSENTER_EIP)[0];
  c.setEflags(0, Eflags.VM | Eflags.IF | Eflags.RF);
  c.cpl = 0;
  setSegment(c, Seg.CS, cs, 0, -1, FLAT | CODE_EXEC_READ_ACCESSED);
  setSegment(c, Seg.SS, cs + 8, 0, -1, FLAT | DATA_READ_WRITE_ACCESSED);
  c.regs[Reg.ESP] = esp;
  c.eip = eip | 0;
};

const sysexit: ExecFn = (c) => {
  const cs = sysenterCs(c);
  if (c.cpl !== 0) fault(Vector.GP, 0);
  c.cpl = 3;
  setSegment(c, Seg.CS, ((cs + 16) | 3) & 0xffff, 0, -1, FLAT | DPL3 | CODE_EXEC_READ_ACCESSED);
  setSegment(c, Seg.SS, ((cs + 24) | 3) & 0xffff, 0, -1, FLAT | DPL3 | DATA_READ_WRITE_ACCESSED);
  c.regs[Reg.ESP] = c.regs[Reg.ECX];
  c.eip = c.regs[Reg.EDX];
};

export const MSR_EXEC: ExecTable = {
  rdmsr: () => rdmsr,
  wrmsr: () => wrmsr,
  rdpmc: () => rdpmc,
  sysenter: () => sysenter,
  sysexit: () => sysexit,
};
