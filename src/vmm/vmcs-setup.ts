/**
 * How the embedded VMM fills a VMCS (SDM Vol. 3C 24.3-24.8, and the checks of 26.2-26.3 it must pass),
 * through the VMX API (every field is a VMWRITE, charged as one): the VM-execution, VM-exit and VM-entry
 * controls adjusted to the capability MSRs (31.5.1: the bits the caller wants where allowed, the must-be-1
 * bits set), the host-state area from the core's current state (the state the VMM runs in: flat segments,
 * its page directory, its stack), and a flat 32-bit protected-mode guest with paging (CR0 = PE|NE|PG|ET and
 * CR4.VMXE from the fixed bits, IA32_VMX_CR0/CR4_FIXED0) or, with unrestricted guest, without.
 *
 * Leaves out: real-mode guests and virtual-8086 mode (a guest image starts in protected mode, as a Multiboot
 * kernel does).
 */
import type { CoreState } from "../cpu/core-state.ts";
import { adjustControls } from "../cpu/vmx/vmx-capabilities.ts";
import { VmcsField as F } from "../cpu/vmx/vmcs-fields.ts";
import type { VmxApi } from "../cpu/vmx/vmx-api.ts";
import { readMsr } from "../cpu/msr.ts";

export interface ControlRequest {
  pin?: number;
  proc?: number;
  proc2?: number;
  exit?: number;
  entry?: number;
}

const PROC_ACTIVATE_SECONDARY = 0x80000000;

/** Write the five control words: what is wanted where allowed, plus every must-be-1 bit. */
export function writeControls(api: VmxApi, want: ControlRequest): void {
  const caps = api.core.vmx!.caps.controls;
  let proc = want.proc ?? 0;
  if ((want.proc2 ?? 0) !== 0) proc |= PROC_ACTIVATE_SECONDARY;
  set(api, F.PIN_BASED_VM_EXECUTION_CONTROLS, adjustControls(caps.pin, want.pin ?? 0));
  const procValue = adjustControls(caps.proc, proc);
  set(api, F.PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, procValue);
  if ((procValue & PROC_ACTIVATE_SECONDARY) !== 0) {
    set(api, F.SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, adjustControls(caps.proc2, want.proc2 ?? 0));
  }
  set(api, F.VM_EXIT_CONTROLS, adjustControls(caps.exit, want.exit ?? 0));
  set(api, F.VM_ENTRY_CONTROLS, adjustControls(caps.entry, want.entry ?? 0));
  set(api, F.VMCS_LINK_POINTER, 0xffffffff);
  set(api, F.VMCS_LINK_POINTER_HIGH, 0xffffffff);
}

function set(api: VmxApi, field: number, value: number): void {
  const s = api.vmwrite(field, value);
  if (!s.ok) throw new Error(`VMWRITE 0x${field.toString(16)} failed: ${JSON.stringify(s)}`);
}

/** The host-state area from the core's current state; `hostRip`/`hostRsp` are where exits land. */
export function writeHostState(api: VmxApi, hostRip: number, hostRsp: number): void {
  const c: CoreState = api.core;
  set(api, F.HOST_CR0, c.cr0);
  set(api, F.HOST_CR3, c.cr3);
  set(api, F.HOST_CR4, c.cr4);
  const sel = [F.HOST_ES_SELECTOR, F.HOST_CS_SELECTOR, F.HOST_SS_SELECTOR, F.HOST_DS_SELECTOR, F.HOST_FS_SELECTOR, F.HOST_GS_SELECTOR];
  // The host's selectors: RPL and TI must be 0, CS and SS not null (26.2.3).
  for (let s = 0; s < 6; s++) set(api, sel[s], c.segSel[s] & 0xfff8);
  set(api, F.HOST_TR_SELECTOR, c.trSel & 0xfff8);
  set(api, F.HOST_FS_BASE, c.segBase[4]);
  set(api, F.HOST_GS_BASE, c.segBase[5]);
  set(api, F.HOST_TR_BASE, c.trBase);
  set(api, F.HOST_GDTR_BASE, c.gdtBase);
  set(api, F.HOST_IDTR_BASE, c.idtBase);
  set(api, F.HOST_IA32_SYSENTER_CS, readMsr(c, 0x174)[0]);
  set(api, F.HOST_IA32_SYSENTER_ESP, readMsr(c, 0x175)[0]);
  set(api, F.HOST_IA32_SYSENTER_EIP, readMsr(c, 0x176)[0]);
  set(api, F.HOST_RIP, hostRip);
  set(api, F.HOST_RSP, hostRsp);
}

export interface FlatGuest {
  rip: number;
  rsp: number;
  /** Guest CR3 (its page directory); with paging the guest needs page tables. */
  cr3: number;
  /** Paging on (CR0.PG, CR4.PSE); false needs unrestricted guest. Default true. */
  paging?: boolean;
  /** Selectors of the guest's flat code and data segments (default 08H and 10H). */
  codeSelector?: number;
  dataSelector?: number;
  /** RFLAGS (default 2: IF clear). */
  rflags?: number;
  /** The guest's GDT/IDT (base, limit); default 0 / FFFFH (it sets its own). */
  gdt?: [number, number];
  idt?: [number, number];
}

/** A flat 32-bit ring-0 guest (24.4, with the 26.3.1 rules: busy TSS, unusable LDTR, SS.DPL = CPL = 0). */
export function writeFlatGuest(api: VmxApi, g: FlatGuest): void {
  const paging = g.paging ?? true;
  const cs = g.codeSelector ?? 0x08;
  const ds = g.dataSelector ?? 0x10;
  set(api, F.GUEST_CR0, paging ? 0x80000031 : 0x00000031);
  set(api, F.GUEST_CR3, g.cr3);
  set(api, F.GUEST_CR4, (1 << 13) | (paging ? 1 << 4 : 0));
  set(api, F.CR0_READ_SHADOW, paging ? 0x80000031 : 0x00000031);
  set(api, F.CR4_READ_SHADOW, paging ? 1 << 4 : 0);
  set(api, F.GUEST_DR7, 0x400);
  const segs: [number, number, number, number][] = [
    [F.GUEST_ES_SELECTOR, F.GUEST_ES_BASE, F.GUEST_ES_LIMIT, F.GUEST_ES_ACCESS_RIGHTS],
    [F.GUEST_CS_SELECTOR, F.GUEST_CS_BASE, F.GUEST_CS_LIMIT, F.GUEST_CS_ACCESS_RIGHTS],
    [F.GUEST_SS_SELECTOR, F.GUEST_SS_BASE, F.GUEST_SS_LIMIT, F.GUEST_SS_ACCESS_RIGHTS],
    [F.GUEST_DS_SELECTOR, F.GUEST_DS_BASE, F.GUEST_DS_LIMIT, F.GUEST_DS_ACCESS_RIGHTS],
    [F.GUEST_FS_SELECTOR, F.GUEST_FS_BASE, F.GUEST_FS_LIMIT, F.GUEST_FS_ACCESS_RIGHTS],
    [F.GUEST_GS_SELECTOR, F.GUEST_GS_BASE, F.GUEST_GS_LIMIT, F.GUEST_GS_ACCESS_RIGHTS],
  ];
  segs.forEach(([sel, base, limit, ar], s) => {
    set(api, sel, s === 1 ? cs : ds);
    set(api, base, 0);
    set(api, limit, 0xffffffff);
    set(api, ar, s === 1 ? 0xc09b : 0xc093);
  });
  set(api, F.GUEST_LDTR_SELECTOR, 0);
  set(api, F.GUEST_LDTR_ACCESS_RIGHTS, 0x10000);
  set(api, F.GUEST_TR_SELECTOR, 0);
  set(api, F.GUEST_TR_BASE, 0);
  set(api, F.GUEST_TR_LIMIT, 0xff);
  set(api, F.GUEST_TR_ACCESS_RIGHTS, 0x8b);
  set(api, F.GUEST_GDTR_BASE, g.gdt?.[0] ?? 0);
  set(api, F.GUEST_GDTR_LIMIT, g.gdt?.[1] ?? 0xffff);
  set(api, F.GUEST_IDTR_BASE, g.idt?.[0] ?? 0);
  set(api, F.GUEST_IDTR_LIMIT, g.idt?.[1] ?? 0xffff);
  set(api, F.GUEST_RSP, g.rsp);
  set(api, F.GUEST_RIP, g.rip);
  set(api, F.GUEST_RFLAGS, g.rflags ?? 2);
  set(api, F.GUEST_ACTIVITY_STATE, 0);
  set(api, F.GUEST_INTERRUPTIBILITY_STATE, 0);
  set(api, F.GUEST_PENDING_DEBUG_EXCEPTIONS, 0);
}
