/**
 * Flag control (CLC STC CMC CLD STD CLI STI), NOP forms, PAUSE, HLT, CPUID, RDTSC, RDTSCP and UD2
 * (SDM Vol. 2 instruction pages; CLI/STI privilege per the decision tables on the CLI and STI pages).
 *
 * Leaves out, for the system-architecture layer: virtual-8086 mode and CR4.VME/PVI (CLI/STI acting on
 * VIF), and the one-instruction interrupt shadow that STI opens when it sets IF (SDM Vol. 2 STI) -
 * CoreState has no field for it yet, so an interrupt may be taken right after STI.
 */
import { hltExits, pauseExits, rdtscExits, unconditionalExit } from "../vmx/nonroot-instructions.ts";
import type { CoreState } from "../core-state.ts";
import { Brk } from "../core-state.ts";
import type { ExecFn, Insn } from "../insn.ts";
import type { ExecTable } from "./registry.ts";
import { fault, Vector } from "../exceptions.ts";
import { getCF, setArith } from "../flags.ts";
import { Eflags, Reg } from "../registers.ts";
import { cpuidLeaf, cpuIdentityOf } from "../cpuid.ts";
import { Msr, readMsr } from "../msr.ts";

/**
 * Extra cycles of PAUSE over a NOP. The real figure is a CPU-profile matter (about 10 cycles before
 * Skylake, about 140 from Skylake on); 10 is the pre-Skylake order of magnitude.
 */
export const PAUSE_EXTRA_CYCLES = 10;

/** CR4.TSD: RDTSC/RDTSCP are privileged (SDM Vol. 3A 2.5). */
const CR4_TSD = 1 << 2;
const CR0_MP = 1 << 1;
const CR0_TS = 1 << 3;

const FLAG_OPS: readonly ExecFn[] = [
  (c) => setArith(c, Eflags.CF, 0), // CLC
  (c) => setArith(c, Eflags.CF, Eflags.CF), // STC
  (c) => setArith(c, Eflags.CF, getCF(c) ^ 1), // CMC
  (c) => c.setEflags(0, Eflags.DF), // CLD
  (c) => c.setEflags(Eflags.DF, Eflags.DF), // STD
];

/** CLI/STI: in protected mode #GP(0) unless CPL <= IOPL; real-address mode always may (SDM CLI, STI). */
function checkIopl(c: CoreState): void {
  if (c.protectedMode && c.cpl > ((c.eflags >> 12) & 3)) fault(Vector.GP, 0);
}

function cli(c: CoreState): void {
  checkIopl(c);
  c.setEflags(0, Eflags.IF);
}

function sti(c: CoreState): void {
  checkIopl(c);
  if ((c.eflags & Eflags.IF) === 0) c.setStiShadow();
  c.setEflags(Eflags.IF, Eflags.IF);
}

function nop(): void {}

/** WAIT/FWAIT: #NM when CR0.MP and CR0.TS are both set (SDM Vol. 2 WAIT; Vol. 3A 2.5 Table 2-2). There
 * is no x87 unit, so there is never a pending x87 exception to report. */
function fwait(c: CoreState): void {
  if ((c.cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) fault(Vector.NM);
}

function pause(c: CoreState): void {
  if (c.nonRoot) pauseExits(c);
  c.cycles += PAUSE_EXTRA_CYCLES;
}

/** HLT: privileged (CPL 0 only); execution resumes after it (EIP already points past it). */
function hlt(c: CoreState): void {
  if (c.protectedMode && c.cpl !== 0) fault(Vector.GP, 0);
  if (c.nonRoot) hltExits(c);
  c.halted = true;
  c.brk |= Brk.HALT;
}

const cpuidOut = new Int32Array(4);

function cpuid(c: CoreState): void {
  if (c.nonRoot) unconditionalExit(10); // SDM Vol. 3C 25.1.2
  const r = c.regs;
  const leaf = r[Reg.EAX];
  cpuidLeaf(cpuIdentityOf(c), c.id, r[Reg.EAX], r[Reg.ECX], cpuidOut);
  r[Reg.EAX] = cpuidOut[0];
  r[Reg.EBX] = cpuidOut[1];
  // CPUID.1:ECX.VMX[bit 5] on a core with VMX support (SDM Vol. 3C 23.6).
  r[Reg.ECX] = c.vmx !== null && leaf === 1 ? cpuidOut[2] | 0x20 : cpuidOut[2];
  r[Reg.EDX] = cpuidOut[3];
}

/** EDX:EAX = TSC (SDM RDTSC); with CR4.TSD set only CPL 0 may read it. */
function rdtsc(c: CoreState, i: Insn): void {
  if ((c.cr4 & CR4_TSD) !== 0 && c.protectedMode && c.cpl !== 0) fault(Vector.GP, 0);
  if (c.nonRoot) rdtscExits(c, i.row !== null && i.row.mnemonic === "rdtscp");
  const t = c.tscAt(i);
  c.regs[Reg.EAX] = t >>> 0;
  c.regs[Reg.EDX] = Math.floor(t / 4294967296) | 0;
}

/** RDTSCP: RDTSC, and ECX = IA32_TSC_AUX[31:0] (SDM RDTSCP). */
function rdtscp(c: CoreState, i: Insn): void {
  rdtsc(c, i);
  c.regs[Reg.ECX] = readMsr(c, Msr.IA32_TSC_AUX)[0];
}

function ud(): never {
  fault(Vector.UD);
}

export const MISC_EXEC: ExecTable = {
  flagOp: (i: Insn) => FLAG_OPS[i.param],
  cli: () => cli,
  sti: () => sti,
  nop: () => nop,
  fwait: () => fwait,
  pause: () => pause,
  hlt: () => hlt,
  cpuid: () => cpuid,
  rdtsc: () => rdtsc,
  rdtscp: () => rdtscp,
  ud: () => ud,
};
