/**
 * APIC virtualization in the core (SDM Vol. 3C chapter 29): the glue between the core's memory accesses and
 * instruction boundaries and the mechanisms of apic-access.ts, virtual-interrupt-delivery.ts and
 * posted-interrupts.ts.
 *
 * - A guest access whose physical address is on the APIC-access page (the core does not cache such
 *   translations, so every access reaches here) is virtualized or causes an APIC-access VM exit (reason 44,
 *   fault-like: nothing is written, the guest RIP is the instruction's). A virtualized write is followed,
 *   once the instruction has completed, by APIC-write emulation (29.4.3.2): TPR virtualization (a
 *   TPR-below-threshold exit 43), EOI virtualization (a virtualized-EOI exit 45 for vectors in the EOI-exit
 *   bitmap), self-IPI virtualization, or an APIC-write VM exit (56); these exits are trap-like (the guest RIP
 *   is the next instruction's), so the core performs them at the next instruction boundary.
 * - Virtual-interrupt delivery (29.2): at an instruction boundary where the guest can take an interrupt
 *   (RFLAGS.IF = 1, no blocking by STI or MOV SS), a recognized virtual interrupt (RVI[7:4] > VPPR[7:4]) is
 *   delivered through the guest's IDT without a VM exit.
 * - Posted-interrupt processing (29.6): an external interrupt whose vector is the notification vector,
 *   acknowledged on exit, does not exit: the PIR is merged into the virtual IRR, the local APIC gets its EOI,
 *   and the recognized virtual interrupt is delivered as above.
 *
 * An instruction fetch from the APIC-access page always exits (access type 2).
 *
 * Leaves out: x2APIC-mode MSR virtualization through RDMSR/WRMSR (apic-msr-virtualization.ts has the
 * semantics; the guests here use the xAPIC page), APIC accesses during event delivery or page walks (the
 * model treats them like data accesses), and linear accesses that span the page boundary into the APIC page.
 */
import type { CoreState } from "../core-state.ts";
import { Brk } from "../core-state.ts";
import { VmExitSignal } from "./vm-exit-signal.ts";
import { apicAccessRead, apicAccessWrite, apicWriteEmulation } from "./apic-access.ts";
import { deliverVirtualInterrupt, pendingVirtualInterrupt, vmEntryVirtualInterrupts } from "./virtual-interrupt-delivery.ts";
import { isPostedInterruptNotification, processPostedInterrupts } from "./posted-interrupts.ts";
import type { ApicvContext } from "./virtual-apic-page.ts";
import { rd } from "./guest-state.ts";
import { VmcsField as F } from "./vmcs-fields.ts";

const PROC_TPR_SHADOW = 1 << 21;
const PROC2_VIRTUALIZE_APIC_ACCESSES = 1 << 0;
const PROC2_VID = 1 << 9;
const PIN_POSTED = 1 << 7;
const LAPIC_EOI = 0xb0;

/** At VM entry: the APIC-access page and the virtual-interrupt state (29.2.1: entry evaluates). */
export function apicvOnEntry(c: CoreState): void {
  const v = c.vmx!;
  const r = v.current!;
  const used = (v.proc & PROC_TPR_SHADOW) !== 0 || (v.proc2 & (PROC2_VIRTUALIZE_APIC_ACCESSES | PROC2_VID)) !== 0 ||
    (v.pin & PIN_POSTED) !== 0;
  v.apicv = used ? { mem: v.mem, vmcs: r } : null;
  c.apicAccessPage = (v.proc2 & PROC2_VIRTUALIZE_APIC_ACCESSES) !== 0
    ? Math.floor(((rd(r, F.APIC_ACCESS_ADDRESS_HIGH) >>> 0) * 4294967296 + (rd(r, F.APIC_ACCESS_ADDRESS) >>> 0)) / 4096) : -1;
  v.pendingApicWrite = -1;
  v.virtualInterruptPending = v.apicv !== null && vmEntryVirtualInterrupts(v.apicv) !== null;
}

export function apicvOnExit(c: CoreState): void {
  c.apicAccessPage = -1;
  const v = c.vmx!;
  v.apicv = null;
  v.pendingApicWrite = -1;
  v.virtualInterruptPending = false;
}

function ctxOf(c: CoreState): ApicvContext {
  return c.vmx!.apicv!;
}

/** A guest read of `size` bytes at physical `pa` on the APIC-access page (29.4.2). */
export function apicPageRead(c: CoreState, pa: number, size: number): number {
  const r = apicAccessRead(ctxOf(c), pa & 0xfff, size, "data");
  if (r.kind === "exit") throw new VmExitSignal(r.reason, r.qualification);
  return r.value;
}

/** An instruction fetch from the APIC-access page: always an APIC-access exit, access type 2 (29.4.2). */
export function apicPageFetch(c: CoreState, pa: number): never {
  const r = apicAccessRead(ctxOf(c), pa & 0xfff, 1, "fetch");
  throw new VmExitSignal(44, r.kind === "exit" ? r.qualification : 0);
}

/** A guest write (29.4.3.1); the APIC-write emulation follows at the next instruction boundary. */
export function apicPageWrite(c: CoreState, pa: number, size: number, value: number): void {
  const r = apicAccessWrite(ctxOf(c), pa & 0xfff, size, value);
  if (r.kind === "exit") throw new VmExitSignal(r.reason, r.qualification);
  c.vmx!.pendingApicWrite = r.offset;
  c.brk |= Brk.EVENT;
}

/** APIC-write emulation after the instruction (29.4.3.2): a trap-like exit to perform, or null. */
export function apicWriteEmulationDue(c: CoreState): VmExitSignal | null {
  const v = c.vmx!;
  const offset = v.pendingApicWrite;
  v.pendingApicWrite = -1;
  const out = apicWriteEmulation(ctxOf(c), offset);
  refreshVirtualInterrupt(c);
  return out.kind === "exit" ? new VmExitSignal(out.reason, out.qualification) : null;
}

/** Whether a virtual interrupt is recognized now (29.2.1). */
export function refreshVirtualInterrupt(c: CoreState): boolean {
  const v = c.vmx!;
  v.virtualInterruptPending = v.apicv !== null && pendingVirtualInterrupt(v.apicv) !== null;
  if (v.virtualInterruptPending) c.brk |= Brk.EVENT;
  return v.virtualInterruptPending;
}

/** Virtual-interrupt delivery (29.2.2): the vector to deliver through the guest IDT. */
export function takeVirtualInterrupt(c: CoreState): number {
  const vector = deliverVirtualInterrupt(ctxOf(c));
  refreshVirtualInterrupt(c);
  return vector;
}

/**
 * An external interrupt acknowledged with `vector` while "process posted interrupts" is 1: when it is the
 * notification vector, process the posted interrupts (29.6) and return true (no VM exit).
 */
export function postedInterruptNotification(c: CoreState, vector: number): boolean {
  const v = c.vmx!;
  if ((v.pin & PIN_POSTED) === 0 || v.apicv === null || !isPostedInterruptNotification(v.apicv, vector)) return false;
  processPostedInterrupts(v.apicv);
  c.lapic?.mmioWrite(LAPIC_EOI, 4, 0); // step 4: EOI to the local APIC
  refreshVirtualInterrupt(c);
  return true;
}
