/**
 * Control registers CR0, CR2, CR3, CR4: their bits and the checks and side effects of loading them
 * (SDM Vol. 3A 2.5 "Control Registers", Vol. 2 "MOV - Move to/from Control Registers", LMSW, CLTS).
 * MOV CR, LMSW and CLTS use this file; so will VM entry and exit, which load CR0/CR3/CR4 too.
 *
 * CR0: reserved bits are ignored and read back as zero (SDM 2.5; #GP on them exists only for bits 63:32
 * in 64-bit mode), ET is hardwired to 1 (P6 family and later), PG without PE and NW without CD raise
 * #GP(0). CR4: a bit of a feature the model does not implement is reserved and raises #GP(0).
 * CR3 is stored as written (32-bit paging ignores its low bits).
 *
 * TLB invalidation follows SDM Vol. 3A 4.10.4.1: MOV to CR3 drops non-global translations; a change of
 * CR0.PG or CR0.WP, or of CR4.PGE or CR4.PSE, drops all of them (WP: the TLB caches write permission
 * computed under it). PE/PG changes switch translation on or off; PE and AM changes re-evaluate the
 * segment fast paths (type checks exist only in protected mode; AM enables alignment checking).
 *
 * Leaves out: the FPU's use of MP/EM/NE (no x87 is modelled; WAIT uses MP and TS), caching (CD/NW), and
 * the VMX fixed-bit rules for CR0/CR4 (VT-x issue).
 */
import type { CoreState } from "./core-state.ts";
import { Brk } from "./core-state.ts";
import { fault, Vector } from "./exceptions.ts";

export const enum Cr0 {
  PE = 1 << 0, MP = 1 << 1, EM = 1 << 2, TS = 1 << 3, ET = 1 << 4, NE = 1 << 5, WP = 1 << 16, AM = 1 << 18,
  NW = 1 << 29, CD = 1 << 30, PG = 1 << 31,
}

export const enum Cr4 {
  VME = 1 << 0, PVI = 1 << 1, TSD = 1 << 2, DE = 1 << 3, PSE = 1 << 4, PAE = 1 << 5, MCE = 1 << 6,
  PGE = 1 << 7, PCE = 1 << 8, OSFXSR = 1 << 9, OSXMMEXCPT = 1 << 10, VMXE = 1 << 13,
}

/** The CR0 bits that exist on an IA-32 processor; the others are reserved. */
export const CR0_DEFINED =
  Cr0.PE | Cr0.MP | Cr0.EM | Cr0.TS | Cr0.ET | Cr0.NE | Cr0.WP | Cr0.AM | Cr0.NW | Cr0.CD | Cr0.PG;

/**
 * CR4 bits the model implements: TSD (RDTSC privilege), DE (DR4/DR5 #UD), PCE (RDPMC privilege) and MCE
 * (accepted as Bochs does: no machine check is ever raised), PSE (4 MiB pages) and PGE (global pages);
 * the VT-x issue adds VMXE;
 * VME/PVI (virtual-8086), PAE and the SSE bits stay reserved.
 */
export const CR4_IMPLEMENTED = Cr4.TSD | Cr4.DE | Cr4.PSE | Cr4.MCE | Cr4.PGE | Cr4.PCE;

/** PG, NE, PE: IA32_VMX_CR0_FIXED0 of every VMX processor the model describes (vmx-capabilities.ts). */
const CR0_VMX_FIXED1 = (Cr0.PG | Cr0.NE | Cr0.PE) | 0;

/** Load CR0 as MOV CR0 / LMSW do: validate, then store (reserved bits dropped, ET set). */
export function writeCr0(c: CoreState, value: number): void {
  const v = (value & CR0_DEFINED) | Cr0.ET;
  // In VMX root operation PE, NE and PG are fixed to 1 (IA32_VMX_CR0_FIXED0, SDM Vol. 3C 23.8); in non-root
  // operation vmx/nonroot-instructions.ts has checked the guest's fixed bits.
  if (c.vmx !== null && c.vmx.on && !c.nonRoot && (v & CR0_VMX_FIXED1) !== CR0_VMX_FIXED1) fault(Vector.GP, 0);
  if ((v & Cr0.PG) !== 0 && (v & Cr0.PE) === 0) fault(Vector.GP, 0);
  if ((v & Cr0.NW) !== 0 && (v & Cr0.CD) === 0) fault(Vector.GP, 0);
  const changed = c.cr0 ^ v;
  c.cr0 = v >>> 0;
  if ((changed & (Cr0.PE | Cr0.PG)) !== 0) c.pagingModeChanged();
  else if ((changed & Cr0.WP) !== 0) c.flushTlb(true);
  if ((changed & (Cr0.PE | Cr0.AM)) !== 0) c.refreshSegmentChecks();
  if ((changed & Cr0.CD) !== 0) c.cacheModeChanged();
  if ((changed & Cr0.PE) !== 0) c.brk |= Brk.REFETCH;
}

export function writeCr3(c: CoreState, value: number): void {
  c.cr3 = value >>> 0;
  c.flushTlb(false);
}

export function writeCr4(c: CoreState, value: number): void {
  // CR4.VMXE exists on a processor with VMX (SDM Vol. 3C 23.7) and cannot be cleared in VMX operation (23.8).
  const vmx = c.vmx;
  if ((value & ~(CR4_IMPLEMENTED | (vmx !== null ? Cr4.VMXE : 0))) !== 0) fault(Vector.GP, 0);
  if (vmx !== null && vmx.on && (value & Cr4.VMXE) === 0) fault(Vector.GP, 0);
  const v = value >>> 0;
  const changed = (c.cr4 ^ v) >>> 0;
  c.cr4 = v;
  if ((changed & (Cr4.PGE | Cr4.PSE)) !== 0) c.flushTlb(true);
  else if (changed !== 0) c.brk |= Brk.REFETCH;
}

/** MOV from CRn. CR1 and CR5-CR7 do not exist: #UD (SDM MOV CR). */
export function readCr(c: CoreState, n: number): number {
  switch (n) {
    case 0: return c.cr0;
    case 2: return c.cr2;
    case 3: return c.cr3;
    case 4: return c.cr4;
    default: return fault(Vector.UD);
  }
}

/** MOV to CRn. CR2 takes any value (it is where #PF reports the faulting address). */
export function writeCr(c: CoreState, n: number, value: number): void {
  switch (n) {
    case 0: writeCr0(c, value); return;
    case 2: c.cr2 = value >>> 0; return;
    case 3: writeCr3(c, value); return;
    case 4: writeCr4(c, value); return;
    default: fault(Vector.UD);
  }
}

/** True when CRn exists (MOV CR raises #UD for the others before any privilege check). */
export function crExists(n: number): boolean {
  return n === 0 || n === 2 || n === 3 || n === 4;
}
