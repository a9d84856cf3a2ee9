/**
 * 32-bit paging (SDM Vol. 3A 4.3): the page walk behind a TLB miss, with 4 KiB pages and, when CR4.PSE
 * is set, 4 MiB pages; access rights (4.6: U/S and R/W combined over both levels, CR0.WP for supervisor
 * writes); accessed and dirty bits (4.8); global pages (CR4.PGE, 4.10.2.4); and page-fault exceptions
 * with CR2 and the error code of 4.7 (P, W/R, U/S, RSVD).
 *
 * As in Bochs, a walk that faults changes no accessed bit: A and D are written only once every check has
 * passed. Implicit supervisor-mode accesses (descriptor tables, IDT, TSS; 4.6) are checked as CPL 0 and
 * report U/S = 0. The processor has no PSE-36 and MAXPHYADDR is 32 bits, so bits 21:13 of a 4 MiB PDE are
 * reserved (Table 4-4) and raise #PF with RSVD set.
 *
 * With EPT (a guest with "enable EPT", CoreState.ept; SDM Vol. 3C 28.2.1) the walk is two-dimensional: CR3
 * and the page-directory entry hold guest-physical addresses, so the directory and table entries are read at
 * their EPT translations, the final guest-physical address is translated too, the guest's accessed and dirty
 * writes need EPT write permission, and the TLB entry combines both rights (vmx/ept-core.ts says in which order
 * and what an EPT violation leaves behind). With guest paging off the linear address is the guest-physical one.
 *
 * Leaves out: PAE and 4-level paging, NX, SMEP/SMAP, PCIDs, protection keys, the I/D error-code bit (it
 * exists only with NX or SMEP), and memory types (PAT, PCD/PWT are stored but not acted on).
 */
import type { CoreState } from "./core-state.ts";
import { CpuFault } from "./exceptions.ts";
import { TlbRight } from "./tlb.ts";
import { combinedRights, eptAccess, eptGuestPhysical, walkUnpaged } from "./vmx/ept-core.ts";
import type { EptTranslation } from "./vmx/ept.ts";

export const enum Pte {
  P = 1, RW = 2, US = 4, PWT = 8, PCD = 16, A = 32, D = 64, PS = 128, G = 256,
}

/** Page-fault error code bits (SDM Vol. 3A 4.7, Figure 4-12). */
export const enum PfError {
  P = 1, WR = 2, US = 4, RSVD = 8,
}

const CR0_WP = 1 << 16;
const CR0_PG = 0x80000000 | 0;
const EPT_W = 2;
const CR4_PSE = 1 << 4;
const CR4_PGE = 1 << 7;
const PF = 14;
/** Bits 21:13 of a 4 MiB PDE: reserved without PSE-36 (MAXPHYADDR 32). */
const PDE4M_RESERVED = 0x003fe000;

/** A page fault: the error code, and the linear address that CR2 receives. */
export class PageFault extends CpuFault {
  constructor(errorCode: number, readonly address: number) {
    super(PF, errorCode);
  }
}

function pageFault(c: CoreState, lin: number, code: number): never {
  c.cr2Before = c.cr2;
  c.cr2 = lin >>> 0;
  throw new PageFault(code, lin >>> 0);
}

/**
 * Translate `lin` for a read or write by a user-mode (`user`) or supervisor-mode access, or an instruction
 * fetch (`fetch`, which only EPT tells apart from a read): walk the paging structures, set accessed/dirty
 * bits, record the translation in the TLB and return the physical address. Raises #PF (CR2 = lin) when the
 * translation does not allow the access; with EPT, throws the EPT violation or misconfiguration VM exit.
 */
export function walk(c: CoreState, lin: number, write: boolean, user: boolean, fetch = false): number {
  const x = c.ept;
  if (x !== null && (c.cr0 & CR0_PG) === 0) return walkUnpaged(c, x, lin, write, fetch);
  const t = c.tlb!;
  t.walks++;
  const errBase = (write ? PfError.WR : 0) | (user ? PfError.US : 0);
  const pdeGpa = ((c.cr3 & 0xfffff000) + ((lin >>> 22) << 2)) >>> 0;
  let pdeEpt: EptTranslation | null = null;
  let pdeAddr = pdeGpa;
  if (x !== null) {
    pdeEpt = eptGuestPhysical(c, x, pdeGpa, "read", lin, true);
    pdeAddr = pdeEpt.hpa;
  }
  const pde = c.readPhys32(pdeAddr);
  if ((pde & Pte.P) === 0) pageFault(c, lin, errBase);
  const wp = (c.cr0 & CR0_WP) !== 0;
  let rights: number;
  let entry: number;
  let entryGpa = pdeGpa;
  let entryEpt = pdeEpt;
  let entryAddr: number;
  let paBase: number;
  if ((pde & Pte.PS) !== 0 && (c.cr4 & CR4_PSE) !== 0) {
    if ((pde & PDE4M_RESERVED) !== 0) pageFault(c, lin, errBase | PfError.P | PfError.RSVD);
    rights = pde;
    entry = pde;
    entryAddr = pdeAddr;
    paBase = ((pde & 0xffc00000) | (lin & 0x003ff000)) >>> 0;
  } else {
    entryGpa = ((pde & 0xfffff000) + (((lin >>> 12) & 0x3ff) << 2)) >>> 0;
    entryAddr = entryGpa;
    if (x !== null) {
      entryEpt = eptGuestPhysical(c, x, entryGpa, "read", lin, true);
      entryAddr = entryEpt.hpa;
    }
    entry = c.readPhys32(entryAddr);
    if ((entry & Pte.P) === 0) pageFault(c, lin, errBase);
    rights = pde & entry; // U/S and R/W must allow the access at both levels (SDM 4.6.1)
    paBase = (entry & 0xfffff000) >>> 0;
  }
  const userOk = (rights & Pte.US) !== 0;
  const writable = (rights & Pte.RW) !== 0;
  if (user ? !userOk || (write && !writable) : write && wp && !writable) {
    pageFault(c, lin, errBase | PfError.P);
  }
  const pdeA = entryAddr !== pdeAddr && (pde & Pte.A) === 0;
  let e = entry | Pte.A;
  if (write) e |= Pte.D;
  let final: EptTranslation | null = null;
  if (x !== null) {
    // The final guest-physical address, then the EPT write permission of the accessed/dirty updates (SDM Vol. 3C
    // 28.2.3.2: they are data writes), before anything is written.
    final = eptGuestPhysical(c, x, (paBase | (lin & 0xfff)) >>> 0, eptAccess(write, fetch), lin, false);
    if (pdeA && (pdeEpt!.perms & EPT_W) === 0) eptGuestPhysical(c, x, pdeGpa, "write", lin, true);
    if (e !== entry && (entryEpt!.perms & EPT_W) === 0) eptGuestPhysical(c, x, entryGpa, "write", lin, true);
  }
  // Accessed and dirty bits, only once the access is known to succeed (SDM 4.8).
  if (pdeA) c.writePhys32(pdeAddr, pde | Pte.A);
  if (e !== entry) c.writePhys32(entryAddr, e);
  const dirty = (e & Pte.D) !== 0;
  let r = TlbRight.SUP_READ;
  if (dirty && (writable || !wp)) r |= TlbRight.SUP_WRITE;
  if (userOk) {
    r |= TlbRight.USER_READ;
    if (dirty && writable) r |= TlbRight.USER_WRITE;
  }
  const global = (e & Pte.G) !== 0 && (c.cr4 & CR4_PGE) !== 0;
  if (final !== null) {
    r = combinedRights(r, final.perms, write, x!.adEnabled);
    paBase = final.hpa - (lin & 0xfff);
  }
  t.fill(lin >>> 12, paBase, r, global);
  return (paBase | (lin & 0xfff)) >>> 0;
}
