/**
 * A valid baseline VMCS for the VM-entry check tests (src/cpu/vmx/entry-checks*.ts), in the manner of
 * kvm-unit-tests x86/vmx.c init_vmcs (init_vmcs_ctrl / init_vmcs_host / init_vmcs_guest): minimal controls
 * adjusted to the capability MSRs (SDM 31.5.1: must-be-1 bits set, nothing else), a flat 32-bit protected-mode
 * host and guest with paging on (CR0 = PE|ET|NE|PG, CR4 = VMXE: the IA32_VMX_CR0/CR4_FIXED0 bits of every
 * profile, SDM A.7/A.8), ring-0 flat code and data segments, a busy 32-bit TSS, an unusable LDTR and the VMCS
 * link pointer FFFFFFFF_FFFFFFFFH. Helpers turn on one feature at a time with every field it needs valid, so a
 * test row can break exactly one rule (the row tables and their runner are in entry-checks-rows.ts). This file
 * does not import vitest, so benchmarks can build the same VMCS.
 *
 * The VMCS lives in a sparse RAM (any 32-bit-aligned physical address, 0 where never written) and is made
 * active the way VMPTRLD does (VmcsCache.load), with this processor's field set.
 */
import { VmcsCache, readField, writeField, type PhysicalMemory32, type VmcsRegion } from "../../../src/cpu/vmx/vmcs.ts";
import { VmcsField } from "../../../src/cpu/vmx/vmcs-fields.ts";
import {
  vmxCapabilities, adjustControls, IA32_VMX_BASIC, IA32_VMX_MISC, type VmxCapabilities, type VmxCapabilityOptions,
  type MsrValue,
} from "../../../src/cpu/vmx/vmx-capabilities.ts";
import type { ControlKind } from "../../../src/cpu/vmx/vmx-controls.ts";
import * as C from "../../../src/cpu/vmx/vmx-controls.ts";
import { checkVmEntry, type EntryCheckResult } from "../../../src/cpu/vmx/entry-checks.ts";

/** The CPU profiles with VMX capabilities (vmx-capabilities.ts VMX_GENERATION_OF_PROFILE). */
export const PROFILES = ["core2-q6600", "nehalem", "sandybridge", "haswell", "skylake"] as const;

/** Sparse physical memory: 32-bit words by address; unwritten words read 0. */
export class SparseMemory implements PhysicalMemory32 {
  private readonly words = new Map<number, number>();
  read32(pa: number): number {
    return this.words.get(pa) ?? 0;
  }
  write32(pa: number, value: number): void {
    this.words.set(pa, value >>> 0);
  }
}

/** Where the fixture puts things (host-physical), all 4-KiB aligned below 4 GiB. */
export const ADDR = {
  VMCS: 0x0001_0000,
  IO_BITMAP_A: 0x0002_0000,
  IO_BITMAP_B: 0x0002_1000,
  MSR_BITMAP: 0x0002_2000,
  VIRTUAL_APIC: 0x0002_3000,
  APIC_ACCESS: 0x0002_4000,
  PI_DESCRIPTOR: 0x0002_5000,
  EPT_PML4: 0x0002_6000,
  MSR_AREA: 0x0002_7000,
  /** A second VMCS region with this processor's revision identifier (a valid VMCS link pointer). */
  LINKED_VMCS: 0x0002_8000,
  HOST_CR3: 0x0010_0000,
  GUEST_CR3: 0x0020_0000,
} as const;

// Interruption types (SDM Table 24-14).
export const EXT_INT = 0, NMI = 2, HW_EXC = 3, SW_INT = 4, PRIV_SW_EXC = 5, SW_EXC = 6, OTHER = 7;

export interface Injection {
  type: number;
  vector: number;
  /** Sets "deliver error code" and the error-code field. */
  errorCode?: number;
  /** The VM-entry instruction length. */
  length?: number;
}

export class VmcsFixture {
  readonly mem = new SparseMemory();
  readonly vmcs: VmcsRegion;

  constructor(readonly caps: VmxCapabilities) {
    const basic = caps.msrs.get(IA32_VMX_BASIC);
    const misc = caps.msrs.get(IA32_VMX_MISC);
    if (basic === undefined || misc === undefined) throw new Error("capabilities without IA32_VMX_BASIC/MISC");
    const revision = basic[0] & 0x7fffffff;
    this.mem.write32(ADDR.VMCS, revision);
    this.mem.write32(ADDR.LINKED_VMCS, revision);
    const cache = new VmcsCache(this.mem, { features: caps.vmcsFeatures, vmwriteToReadOnly: ((misc[0] >>> 29) & 1) === 1 });
    this.vmcs = cache.load(ADDR.VMCS);
    this.initControls();
    this.initHost();
    this.initGuest();
  }

  /** VMWRITE; a field this processor lacks is an error in the test. */
  write(encoding: number, value: number): void {
    const r = writeField(this.vmcs, encoding, value >>> 0);
    if (r !== 0) throw new Error(`VMWRITE 0x${encoding.toString(16)} failed with error ${r}`);
  }

  /** A 64-bit field: bits 31:0, then bits 63:32 through the HIGH encoding. */
  write64(encoding: number, lo: number, hi: number): void {
    this.write(encoding, lo);
    this.write(encoding + 1, hi);
  }

  read(encoding: number): number {
    const v = readField(this.vmcs, encoding);
    if (v === undefined) throw new Error(`VMREAD 0x${encoding.toString(16)}: no such field`);
    return v;
  }

  setBits(encoding: number, bits: number): void {
    this.write(encoding, (this.read(encoding) | bits) >>> 0);
  }

  clearBits(encoding: number, bits: number): void {
    this.write(encoding, (this.read(encoding) & ~bits) >>> 0);
  }

  check(): EntryCheckResult {
    return checkVmEntry(this.vmcs, { caps: this.caps, mem: this.mem });
  }

  // ---- the baseline ----

  private initControls(): void {
    const c = this.caps.controls;
    this.write(VmcsField.PIN_BASED_VM_EXECUTION_CONTROLS, adjustControls(c.pin, 0));
    this.write(VmcsField.PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, adjustControls(c.proc, 0));
    this.write(VmcsField.VM_EXIT_CONTROLS, adjustControls(c.exit, 0));
    this.write(VmcsField.VM_ENTRY_CONTROLS, adjustControls(c.entry, 0));
    this.write(VmcsField.CR3_TARGET_COUNT, 0);
    this.write(VmcsField.VM_ENTRY_INTERRUPTION_INFORMATION, 0);
  }

  private initHost(): void {
    this.write(VmcsField.HOST_CR0, 0x80000031); // PG | NE | ET | PE
    this.write(VmcsField.HOST_CR3, ADDR.HOST_CR3);
    this.write(VmcsField.HOST_CR4, 0x2000); // VMXE
    this.write(VmcsField.HOST_CS_SELECTOR, 0x08);
    for (const f of [VmcsField.HOST_SS_SELECTOR, VmcsField.HOST_DS_SELECTOR, VmcsField.HOST_ES_SELECTOR,
      VmcsField.HOST_FS_SELECTOR, VmcsField.HOST_GS_SELECTOR]) this.write(f, 0x10);
    this.write(VmcsField.HOST_TR_SELECTOR, 0x18);
    this.write(VmcsField.HOST_TR_BASE, 0x0003_0000);
    this.write(VmcsField.HOST_GDTR_BASE, 0x0003_1000);
    this.write(VmcsField.HOST_IDTR_BASE, 0x0003_2000);
    this.write(VmcsField.HOST_RSP, 0x0009_f000);
    this.write(VmcsField.HOST_RIP, 0x0004_0000);
  }

  private initGuest(): void {
    this.write(VmcsField.GUEST_CR0, 0x80000031);
    this.write(VmcsField.GUEST_CR3, ADDR.GUEST_CR3);
    this.write(VmcsField.GUEST_CR4, 0x2000);
    this.write(VmcsField.GUEST_DR7, 0x400);
    this.write64(VmcsField.GUEST_IA32_DEBUGCTL, 0, 0);
    this.setSegment("cs", 0x08, 0, 0xffffffff, 0xc09b); // code, execute/read, accessed, DPL 0, 32-bit, 4 KiB
    for (const s of ["ss", "ds", "es", "fs", "gs"] as const) this.setSegment(s, 0x10, 0, 0xffffffff, 0xc093);
    this.setSegment("ldtr", 0, 0, 0, 0x10000); // unusable
    this.setSegment("tr", 0x18, 0x0005_0000, 0x67, 0x8b); // busy 32-bit TSS
    this.write(VmcsField.GUEST_GDTR_BASE, 0x0005_1000);
    this.write(VmcsField.GUEST_GDTR_LIMIT, 0x1f);
    this.write(VmcsField.GUEST_IDTR_BASE, 0x0005_2000);
    this.write(VmcsField.GUEST_IDTR_LIMIT, 0x7ff);
    this.write(VmcsField.GUEST_RSP, 0x0008_0000);
    this.write(VmcsField.GUEST_RIP, 0x0006_0000);
    this.write(VmcsField.GUEST_RFLAGS, 0x2);
    this.write(VmcsField.GUEST_ACTIVITY_STATE, 0);
    this.write(VmcsField.GUEST_INTERRUPTIBILITY_STATE, 0);
    this.write(VmcsField.GUEST_PENDING_DEBUG_EXCEPTIONS, 0);
    this.write64(VmcsField.VMCS_LINK_POINTER, 0xffffffff, 0xffffffff);
  }

  /** Selector, base, limit and access rights of a guest segment register. */
  setSegment(reg: "es" | "cs" | "ss" | "ds" | "fs" | "gs" | "ldtr" | "tr", selector: number, base: number,
    limit: number, ar: number): void {
    const R = reg.toUpperCase();
    const f = VmcsField as Record<string, number>;
    this.write(f[`GUEST_${R}_SELECTOR`], selector);
    this.write(f[`GUEST_${R}_BASE`], base);
    this.write(f[`GUEST_${R}_LIMIT`], limit);
    this.write(f[`GUEST_${R}_ACCESS_RIGHTS`], ar);
  }

  // ---- one feature at a time, with every field it needs valid ----

  pin(bits: number): this { this.setBits(VmcsField.PIN_BASED_VM_EXECUTION_CONTROLS, bits); return this; }
  proc(bits: number): this { this.setBits(VmcsField.PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, bits); return this; }
  exit(bits: number): this { this.setBits(VmcsField.VM_EXIT_CONTROLS, bits); return this; }
  entry(bits: number): this { this.setBits(VmcsField.VM_ENTRY_CONTROLS, bits); return this; }

  /** Activates the secondary controls and sets `bits` in them. */
  proc2(bits: number): this {
    this.proc(C.PROC_ACTIVATE_SECONDARY_CONTROLS);
    this.setBits(VmcsField.SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, bits);
    return this;
  }

  useIoBitmaps(): this {
    this.write64(VmcsField.IO_BITMAP_A, ADDR.IO_BITMAP_A, 0);
    this.write64(VmcsField.IO_BITMAP_B, ADDR.IO_BITMAP_B, 0);
    return this.proc(C.PROC_USE_IO_BITMAPS);
  }

  useMsrBitmaps(): this {
    this.write64(VmcsField.MSR_BITMAPS, ADDR.MSR_BITMAP, 0);
    return this.proc(C.PROC_USE_MSR_BITMAPS);
  }

  /** "Use TPR shadow" with VTPR = `vtpr` on the virtual-APIC page and a TPR threshold of 0. */
  useTprShadow(vtpr = 0): this {
    this.write64(VmcsField.VIRTUAL_APIC_ADDRESS, ADDR.VIRTUAL_APIC, 0);
    this.mem.write32(ADDR.VIRTUAL_APIC + 0x80, vtpr);
    this.write(VmcsField.TPR_THRESHOLD, 0);
    return this.proc(C.PROC_USE_TPR_SHADOW);
  }

  useApicAccesses(): this {
    this.write64(VmcsField.APIC_ACCESS_ADDRESS, ADDR.APIC_ACCESS, 0);
    return this.proc2(C.PROC2_VIRTUALIZE_APIC_ACCESSES);
  }

  /** EPT with a write-back, 4-level EPTP (SDM Table 24-8). */
  useEpt(): this {
    this.write64(VmcsField.EPT_POINTER, ADDR.EPT_PML4 | (3 << 3) | 6, 0);
    return this.proc2(C.PROC2_ENABLE_EPT);
  }

  useVpid(vpid = 1): this {
    this.write(VmcsField.VPID, vpid);
    return this.proc2(C.PROC2_ENABLE_VPID);
  }

  useUnrestrictedGuest(): this {
    return this.useEpt().proc2(C.PROC2_UNRESTRICTED_GUEST);
  }

  useVirtualNmis(): this {
    return this.pin(C.PIN_NMI_EXITING | C.PIN_VIRTUAL_NMIS);
  }

  /** Virtual-interrupt delivery with what it requires: TPR shadow and external-interrupt exiting. */
  useVirtualInterruptDelivery(): this {
    return this.useTprShadow().pin(C.PIN_EXTERNAL_INTERRUPT_EXITING).proc2(C.PROC2_VIRTUAL_INTERRUPT_DELIVERY);
  }

  /** Posted interrupts with everything they require (SDM 26.2.1.1). */
  usePostedInterrupts(vector = 0xf2): this {
    this.useVirtualInterruptDelivery().exit(C.EXIT_ACKNOWLEDGE_INTERRUPT_ON_EXIT);
    this.write(VmcsField.POSTED_INTERRUPT_NOTIFICATION_VECTOR, vector);
    this.write64(VmcsField.POSTED_INTERRUPT_DESCRIPTOR_ADDRESS, ADDR.PI_DESCRIPTOR, 0);
    return this.pin(C.PIN_PROCESS_POSTED_INTERRUPTS);
  }

  /** An unrestricted guest in real mode: CR0.PE = CR0.PG = 0 (the flat segments stay valid). */
  realModeGuest(): this {
    this.useUnrestrictedGuest();
    this.write(VmcsField.GUEST_CR0, 0x30); // NE | ET
    return this;
  }

  /** A ring-3 flat guest (CPL 3): CS, SS, DS, ES, FS, GS with RPL 3 and DPL 3. */
  ring3Guest(): this {
    this.setSegment("cs", 0x0b, 0, 0xffffffff, 0xc0fb);
    for (const s of ["ss", "ds", "es", "fs", "gs"] as const) this.setSegment(s, 0x13, 0, 0xffffffff, 0xc0f3);
    return this;
  }

  /** A virtual-8086 guest as 26.3.1.2 wants it: RFLAGS.VM, bases = selector << 4, limits FFFFH, AR F3H. */
  v86Guest(): this {
    const sel = { cs: 0x1000, ss: 0x2000, ds: 0x3000, es: 0x4000, fs: 0x5000, gs: 0x6000 } as const;
    for (const [s, v] of Object.entries(sel)) this.setSegment(s as keyof typeof sel, v, v << 4, 0xffff, 0xf3);
    this.setBits(VmcsField.GUEST_RFLAGS, 1 << 17);
    return this;
  }

  inject(e: Injection): this {
    let info = 0x80000000 | (e.type << 8) | e.vector;
    if (e.errorCode !== undefined) {
      info |= 1 << 11;
      this.write(VmcsField.VM_ENTRY_EXCEPTION_ERROR_CODE, e.errorCode);
    }
    this.write(VmcsField.VM_ENTRY_INTERRUPTION_INFORMATION, info >>> 0);
    this.write(VmcsField.VM_ENTRY_INSTRUCTION_LENGTH, e.length ?? 0);
    return this;
  }
}

// ---- capabilities ----

/** The model's capabilities for a profile (or generation), as the VMM sees them. */
export function capsOf(profile: string, opts?: VmxCapabilityOptions): VmxCapabilities {
  return vmxCapabilities(profile, opts);
}

/** Whether the control word `kind` may have every bit of `bits` set (and, for the secondary controls, whether
 * they can be activated at all). */
export function allows(caps: VmxCapabilities, kind: ControlKind, bits: number): boolean {
  if (kind === "proc2" && (caps.controls.proc[1] & C.PROC_ACTIVATE_SECONDARY_CONTROLS) === 0) return false;
  return ((caps.controls[kind][1] & bits) >>> 0) === bits >>> 0;
}

/** Capabilities with extra allowed-1 bits in some control words (to reach rules behind controls the model
 * does not offer). */
export function withAllowed(caps: VmxCapabilities, extra: Partial<Record<ControlKind, number>>): VmxCapabilities {
  const controls = { ...caps.controls };
  for (const [k, bits] of Object.entries(extra) as [ControlKind, number][]) {
    const m: MsrValue = controls[k];
    controls[k] = [m[0], (m[1] | bits) >>> 0];
  }
  return { ...caps, controls };
}

/** Capabilities with one capability MSR replaced. */
export function withMsr(caps: VmxCapabilities, index: number, value: MsrValue): VmxCapabilities {
  const msrs = new Map(caps.msrs);
  msrs.set(index, value);
  return { ...caps, msrs };
}
