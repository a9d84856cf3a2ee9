/**
 * EPT in the core's address translation (SDM Vol. 3C 28.2.1 "EPT Overview", 28.2.3 "EPT-Induced VM Exits",
 * 28.3.1 "Information That May Be Cached"): the glue between the EPT walk (ept.ts eptTranslate) and the
 * core's guest page walk (paging.ts) and TLB (tlb.ts).
 *
 * While the core runs a guest with "enable EPT" (secondary control bit 1), CoreState.ept holds an EptContext
 * and every guest-physical address goes through EPT (28.2.1): the guest's page-directory and page-table
 * reads, the guest's accessed/dirty writes to them, the final guest-physical address of the access, and
 * with guest paging off (unrestricted guest) the linear address itself. An EPT violation (reason 48) or
 * misconfiguration (49) is thrown as a VmExitSignal (vm-exit-signal.ts) with the qualification of Table 27-7,
 * the guest-physical address and, for violations, the guest-linear address; the core performs the exit with
 * the guest RIP of the faulting instruction (or fetch, or event delivery), before anything of the access
 * happened: the walk writes no accessed or dirty flag, guest or EPT, unless every check passed.
 *
 * Order within a 2-D walk (as KVM's walk_addr_generic; the SDM does not say): each guest paging-structure
 * entry's guest-physical address is translated when the entry is read; the guest's own checks (#PF) come
 * before the translation of the final guest-physical address; then the EPT write permission that the guest's
 * accessed/dirty updates need ("Writes by the logical processor to guest paging structures to update
 * accessed and dirty flags are considered to be data writes", 28.2.3.2; with EPT A/D on, EPTP bit 6, the
 * reads were already treated as writes); then the flags are written. Bochs writes the guest's flags before
 * translating the final address; a violation there leaves them set.
 *
 * The TLB entry (tlb.ts) made by such a walk combines the guest's rights with the EPT permissions of the final
 * page (28.3.1 "combined mappings"): no write entry unless EPT allows writes (and, with EPT A/D on, unless this
 * walk was a write, so that the first write walks and sets the EPT dirty flag, 28.2.4), no read entry unless
 * EPT allows reads and instruction fetches (TlbRight.NO_EXEC: fetches look up the read view, so a page
 * without X is walked on every access and the walk of a fetch, CoreState.translate called without its
 * `data` flag, checks X).
 *
 * Also what VM entry and exit change (vm-entry.ts, vm-exit.ts call enterTranslationContext and
 * leaveTranslationContext): the EPT context and the current VPID (28.1: the VMCS's VPID with "enable VPID",
 * else 0; 0 in root operation), which a core with a TLB timing model uses as the tag of its entries.
 *
 * Leaves out: guest-physical mappings cached apart from combined ones (VmxState.eptMappings is not consulted:
 * every 2-D walk re-walks EPT; the timing model's VPID-tagged entries stand for the cached combined mappings),
 * the NMI-unblocking bit 12 of the qualification, EPT memory types (the walk reports them; no cache-policy
 * effect), PAE guests' PDPTE loads, and host-physical addresses at or above 4 GiB (the core's physical address
 * space is 32 bits: an EPT mapping there is a SimulationError).
 */
import type { CoreState } from "../core-state.ts";
import { SimulationError } from "../simulation-error.ts";
import { type EptAccess, type EptTranslateOptions, type EptTranslation, eptTranslate } from "./ept.ts";
import type { EptMemory32 } from "./ept-memory.ts";
import { ep4ta } from "./ept-pointer.ts";
import { VmExitSignal } from "./vm-exit-signal.ts";
import { VmcsField as F } from "./vmcs-fields.ts";
import { readField, type VmcsRegion } from "./vmcs.ts";
import type { VmxState } from "./vmx-state.ts";

// Local numeric constants (imported const enums are property loads under tsx).
const EPT_R = 1;
const EPT_W = 2;
const EPT_X = 4;
const SUP_READ = 1;
const SUP_WRITE = 2;
const USER_READ = 4;
const USER_WRITE = 8;
const NO_EXEC = 16;
const ALL_RIGHTS = SUP_READ | SUP_WRITE | USER_READ | USER_WRITE;
const EXIT_EPT_VIOLATION = 48;
const EXIT_EPT_MISCONFIG = 49;
const PROC2_ENABLE_EPT = 1 << 1;
const CAP_EXECUTE_ONLY = 1 << 0;
const CAP_PAGE_2M = 1 << 16;
const CAP_PAGE_1G = 1 << 17;
const FOUR_GIB = 4294967296;
const EPT_POINTER = F.EPT_POINTER;
const EPT_POINTER_HIGH = F.EPT_POINTER_HIGH;

/** The EPT of the guest the core runs (set at VM entry, dropped at VM exit). */
export class EptContext {
  /** EPTP as [bits 31:0, bits 63:32] (VM entry checked it, ept-pointer.ts checkEptp). */
  readonly eptp: [number, number] = [0, 0];
  /** EP4TA (28.3.1): the tag of the combined mappings this context makes. */
  ep4ta = 0;
  /** EPTP bit 6: accessed and dirty flags for EPT (28.2.4). */
  adEnabled = false;
  /** EPT walks done through this context (statistics; each also counts in Tlb.walks). */
  walks = 0;
  /** Options of eptTranslate, reused: guestLinear and fromGuestPagingWalk change per call. */
  readonly opts: EptTranslateOptions;
  /** Host-physical memory through the core's physical accessors, so a core with caches charges the reads. */
  readonly mem: EptMemory32;

  constructor(c: CoreState, eptVpidCapLo: number) {
    this.opts = {
      executeOnlyAllowed: (eptVpidCapLo & CAP_EXECUTE_ONLY) !== 0,
      pages2M: (eptVpidCapLo & CAP_PAGE_2M) !== 0,
      pages1G: (eptVpidCapLo & CAP_PAGE_1G) !== 0,
      guestLinear: 0,
      fromGuestPagingWalk: false,
    };
    this.mem = {
      read32: (pa) => physical(c, pa).readPhys32(pa),
      write32: (pa, value) => physical(c, pa).writePhys32(pa, value),
    };
  }

  /** Point the context at `eptp` (VM entry). */
  load(lo: number, hi: number): void {
    this.eptp[0] = lo >>> 0;
    this.eptp[1] = hi >>> 0;
    this.ep4ta = ep4ta(this.eptp);
    this.adEnabled = (lo & 0x40) !== 0;
    this.opts.adEnabled = this.adEnabled;
  }
}

function physical(c: CoreState, pa: number): CoreState {
  if (pa >= FOUR_GIB) beyond4G(c, pa, "EPT paging structure");
  return c;
}

function beyond4G(c: CoreState, pa: number, what: string): never {
  throw new SimulationError(`${what} at host-physical 0x${pa.toString(16)}: the model's physical address space is 32 bits`, {
    core: c.id, eip: c.eip, dump: c.dump(),
  });
}

/** One context per core, reused across VM entries (no allocation per entry). */
const contexts = new WeakMap<CoreState, EptContext>();

/**
 * VM entry (26.3.2, after the controls are cached and before the guest's CR0/CR3/CR4 are loaded, whose TLB
 * flush must already see the guest's context): EPT with "enable EPT", and the guest's VPID.
 */
export function enterTranslationContext(c: CoreState, v: VmxState, r: VmcsRegion): void {
  c.vpid = v.vpid;
  if ((v.proc2 & PROC2_ENABLE_EPT) === 0) {
    c.ept = null;
    return;
  }
  let x = contexts.get(c);
  if (x === undefined) {
    x = new EptContext(c, v.eptVpidCapLo);
    contexts.set(c, x);
  }
  x.load(readField(r, EPT_POINTER) ?? 0, readField(r, EPT_POINTER_HIGH) ?? 0);
  c.ept = x;
}

/** VM exit, VM-entry failure after the guest state was loaded (27.5, 26.8): VPID 0, no EPT, before the host's
 * CR0/CR3/CR4 are loaded. */
export function leaveTranslationContext(c: CoreState): void {
  c.ept = null;
  c.vpid = 0;
}

/**
 * Translate guest-physical `gpa` (below 4 GiB) for `access` through the context's EPT; `structure` marks the
 * access to a guest paging-structure entry (qualification bit 8 clear). Returns the translation (hpa below
 * 4 GiB, perms) or throws the EPT violation or misconfiguration as a VM exit.
 */
export function eptGuestPhysical(
  c: CoreState, x: EptContext, gpa: number, access: EptAccess, lin: number, structure: boolean,
): EptTranslation {
  const o = x.opts;
  o.guestLinear = lin >>> 0;
  o.fromGuestPagingWalk = structure;
  x.walks++;
  c.tlb!.walks++;
  const r = eptTranslate(x.mem, x.eptp, gpa, access, o);
  if ("hpa" in r) {
    if (r.hpa >= FOUR_GIB) beyond4G(c, r.hpa, `guest-physical 0x${gpa.toString(16)} maps to a page`);
    return r;
  }
  if ("violation" in r) {
    const s = new VmExitSignal(EXIT_EPT_VIOLATION, r.violation.qualification);
    s.gpaLo = gpa >>> 0;
    s.gpaHi = 0;
    s.guestLinear = lin >>> 0;
    throw s;
  }
  // 27.2.1: an EPT misconfiguration leaves the qualification and the guest-linear field undefined (0 here).
  const s = new VmExitSignal(EXIT_EPT_MISCONFIG, 0);
  s.gpaLo = gpa >>> 0;
  s.gpaHi = 0;
  throw s;
}

/** The access kind of a linear access for EPT: a write, an instruction fetch or a data read. */
export function eptAccess(write: boolean, fetch: boolean): EptAccess {
  return write ? "write" : fetch ? "fetch" : "read";
}

/**
 * TLB rights (tlb.ts TlbRight) of a combined mapping: the guest's `rights` restricted by the EPT permissions
 * `perms` of the final page; `write` says whether this walk was for a write (EPT A/D: no write entry before
 * the EPT dirty flag has been set by a write walk).
 */
export function combinedRights(rights: number, perms: number, write: boolean, ad: boolean): number {
  let r = rights;
  if ((perms & EPT_R) === 0) r &= ~(SUP_READ | USER_READ);
  if ((perms & EPT_W) === 0 || (ad && !write)) r &= ~(SUP_WRITE | USER_WRITE);
  if ((perms & EPT_X) === 0) r |= NO_EXEC;
  return r;
}

/**
 * A TLB miss with guest paging off (CR0.PG = 0, unrestricted guest): the linear address is the guest-physical
 * address (28.2.1); fill the TLB with every right EPT allows and return the host-physical address.
 */
export function walkUnpaged(c: CoreState, x: EptContext, lin: number, write: boolean, fetch: boolean): number {
  const t = eptGuestPhysical(c, x, lin >>> 0, eptAccess(write, fetch), lin, false);
  const offset = lin & 0xfff;
  c.tlb!.fill(lin >>> 12, t.hpa - offset, combinedRights(ALL_RIGHTS, t.perms, write, x.adEnabled), false);
  return t.hpa;
}
