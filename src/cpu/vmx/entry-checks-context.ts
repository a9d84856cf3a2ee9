/**
 * What every VM-entry check rule sees (SDM Vol. 3C 26.2 "Checks on VMX Controls and Host-State Area", 26.3.1
 * "Checks on the Guest State Area"): the current VMCS with its control words read once, the processor's
 * capability MSRs, host-physical memory, and the shape of one rule. The rules themselves live in
 * entry-checks-controls.ts, -host.ts and -guest*.ts; entry-checks.ts runs them in the SDM's order.
 *
 * Facts of the model the rules rely on:
 * - MAXPHYADDR is 36 (ept-pointer.ts EPT_MAXPHYADDR): a physical address in a 64-bit field is legal when bits
 *   63:36 are 0, i.e. the high dword has only bits 3:0.
 * - The secondary processor-based controls count only when "activate secondary controls" is 1; otherwise VM
 *   entry treats them as 0 (SDM 26.2.1.1, 24.6.2). `proc2` here is that effective value.
 * - A field this processor's VMCS does not have (vmcs-fields.ts feature gating) reads as 0; rules read a
 *   feature's fields only when its control is 1, which the control checks allow only where it exists.
 *
 * Leaves out: nothing to model here beyond reading; rules keep no state between entries.
 */
import type { PhysicalMemory32, VmcsRegion } from "./vmcs.ts";
import { VmcsField } from "./vmcs-fields.ts";
import * as Controls from "./vmx-controls.ts";
import type { VmxCapabilities, VmxMisc } from "./vmx-capabilities.ts";
import * as Capabilities from "./vmx-capabilities.ts";
import * as Ept from "./ept-pointer.ts";

// Imported values as module constants: under tsx and vitest an imported binding is a getter call per use.
const { PROC_ACTIVATE_SECONDARY_CONTROLS } = Controls;
const { decodeVmxMisc, IA32_VMX_MISC, IA32_VMX_BASIC } = Capabilities;
const { EPT_MAXPHYADDR } = Ept;

/** The fields read here, as module constants (a property load of VmcsField per read is measurable). */
const {
  PIN_BASED_VM_EXECUTION_CONTROLS, PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS,
  SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, VM_ENTRY_CONTROLS, VM_ENTRY_INTERRUPTION_INFORMATION,
  VM_EXIT_CONTROLS,
} = VmcsField;

export interface EntryCheckEnv {
  /** The processor's capability MSRs (vmxCapabilities(...)); whether the TRUE control MSRs apply is already
   * folded into caps.controls. */
  caps: VmxCapabilities;
  /** Host-physical memory: the virtual-APIC page's VTPR (26.2.1.1) and the VMCS link pointer's revision
   * identifier (26.3.1.5) are read from it. */
  mem: PhysicalMemory32;
}

/** One check of SDM 26.2/26.3: its name (what the VMM prints when entry fails), its section, and the test. */
export interface EntryRule {
  readonly name: string;
  readonly section: string;
  /** The exit qualification of a VM-entry failure this rule causes (SDM 26.7: 0 default, 2 PDPTE loading,
   * 3 NMI injection with STI blocking, 4 VMCS link pointer). Guest-state rules only. */
  readonly qualification?: number;
  /** True when the VMCS breaks the rule. */
  readonly violated: (c: EntryContext) => boolean;
}

export function rule(name: string, section: string, violated: (c: EntryContext) => boolean, qualification?: number): EntryRule {
  return qualification === undefined ? { name, section, violated } : { name, section, violated, qualification };
}

/** Bits of a high dword that lie at or above MAXPHYADDR (bits 63:36 of the address). */
const ABOVE_MAXPHYADDR_HI = (~((1 << (EPT_MAXPHYADDR - 32)) - 1)) >>> 0;
const TWO_POW_32 = 4294967296;

/** True when a 64-bit physical address [lo, hi] sets a bit at or above MAXPHYADDR. */
export function beyondMaxPhys(hi: number): boolean {
  return ((hi & ABOVE_MAXPHYADDR_HI) >>> 0) !== 0;
}

/** True when `v` has any bit of `mask` set. */
export function anyBit(v: number, mask: number): boolean {
  return ((v & mask) >>> 0) !== 0;
}

// ---- MSR values VM entry checks (host 26.2.2, guest 26.3.1.1) ----

/**
 * The IA32_EFER bits the modelled processor has: none. IA32_EFER exists with Intel 64 (LME/LMA/SCE) or the
 * execute-disable bit (NXE) (SDM Vol. 4 Table 2-2, CPUID.80000001H:EDX[29]/[20]); the model has neither, so
 * every bit of an EFER field that VM entry loads is reserved and must be 0. The SDM's LMA/LME consistency
 * checks (LMA = "IA-32e mode guest" / "host address-space size", LME = LMA when CR0.PG) are implied.
 */
export const MODEL_EFER_DEFINED = 0;

/** A value WRMSR to IA32_PAT accepts at CPL 0: each of the 8 bytes 0 (UC), 1 (WC), 4 (WT), 5 (WP), 6 (WB)
 * or 7 (UC-) (SDM 26.2.2 / 26.3.1.1, Vol. 3A 11.12.2). */
export function validPat(lo: number, hi: number): boolean {
  for (let i = 0; i < 8; i++) {
    const b = ((i < 4 ? lo : hi) >>> ((i & 3) * 8)) & 0xff;
    if (b === 2 || b === 3 || b > 7) return false;
  }
  return true;
}

// ---- The VM-entry interruption-information field (SDM 24.8.3, Table 24-14) ----
/** Bit 31: the field is valid (an event is to be injected). */
export const INTR_INFO_VALID = 0x80000000;
/** Bit 11: deliver an error code. */
export const INTR_INFO_DELIVER_ERROR_CODE = 1 << 11;
/** Interruption types, bits 10:8. */
export const INTR_TYPE_EXTERNAL = 0;
export const INTR_TYPE_RESERVED = 1;
export const INTR_TYPE_NMI = 2;
export const INTR_TYPE_HARDWARE_EXCEPTION = 3;
export const INTR_TYPE_SOFTWARE_INTERRUPT = 4;
export const INTR_TYPE_PRIVILEGED_SOFTWARE_EXCEPTION = 5;
export const INTR_TYPE_SOFTWARE_EXCEPTION = 6;
export const INTR_TYPE_OTHER_EVENT = 7;

export function intrType(info: number): number { return (info >>> 8) & 7; }
export function intrVector(info: number): number { return info & 0xff; }

/** One VM entry's view of the VMCS and the processor. */
export class EntryContext {
  readonly caps: VmxCapabilities;
  readonly mem: PhysicalMemory32;
  readonly pin: number;
  readonly proc: number;
  /** The secondary controls as VM entry uses them: 0 unless "activate secondary controls" is 1. */
  readonly proc2: number;
  readonly exit: number;
  readonly entry: number;
  readonly misc: VmxMisc;
  /** IA32_VMX_BASIC[30:0]. */
  readonly revisionId: number;

  // The active VMCS's data and where each encoding lives in it (vmcs.ts VmcsLayout: kind 0 = no such field).
  private readonly image: Uint32Array;
  private readonly kind: Uint8Array;
  private readonly dword: Uint16Array;

  constructor(readonly vmcs: VmcsRegion, env: EntryCheckEnv) {
    this.image = vmcs.image;
    this.kind = vmcs.layout.kind;
    this.dword = vmcs.layout.dword;
    this.caps = env.caps;
    this.mem = env.mem;
    this.pin = this.f(PIN_BASED_VM_EXECUTION_CONTROLS);
    this.proc = this.f(PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS);
    this.proc2 = anyBit(this.proc, PROC_ACTIVATE_SECONDARY_CONTROLS)
      ? this.f(SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS) : 0;
    this.exit = this.f(VM_EXIT_CONTROLS);
    this.entry = this.f(VM_ENTRY_CONTROLS);
    this.misc = decodeVmxMisc(env.caps.msrs.get(IA32_VMX_MISC) ?? [0, 0]);
    this.revisionId = (env.caps.msrs.get(IA32_VMX_BASIC)?.[0] ?? 0) & 0x7fffffff;
  }

  /** A field's 32 bits as VMREAD gives them (bits 31:0 of a 64-bit field's FULL encoding, bits 63:32 of its
   * HIGH encoding); 0 for a field this VMCS does not have. `encoding` is one of vmcs-fields.ts (below 8000H).
   * This is readField without its checks on arbitrary encodings: the rules read every VM entry. */
  f(encoding: number): number {
    return this.kind[encoding] === 0 ? 0 : this.image[this.dword[encoding]];
  }

  /** The high dword of a 64-bit field (its HIGH encoding is the FULL one + 1). */
  hi(fullEncoding: number): number {
    return this.f(fullEncoding + 1);
  }

  /** A 64-bit physical-address field as a number (exact below 2^53; the model's addresses are below 2^36). */
  address(fullEncoding: number): number {
    return this.hi(fullEncoding) * TWO_POW_32 + this.f(fullEncoding);
  }

  /** The VM-entry interruption-information field when its valid bit is 1, else undefined. */
  get injection(): number | undefined {
    const info = this.f(VM_ENTRY_INTERRUPTION_INFORMATION);
    return anyBit(info, INTR_INFO_VALID) ? info : undefined;
  }

  /** True when an event of interruption type `type` is being injected. */
  injecting(type: number): boolean {
    const info = this.injection;
    return info !== undefined && intrType(info) === type;
  }

  pinHas(bits: number): boolean { return anyBit(this.pin, bits); }
  procHas(bits: number): boolean { return anyBit(this.proc, bits); }
  proc2Has(bits: number): boolean { return anyBit(this.proc2, bits); }
  exitHas(bits: number): boolean { return anyBit(this.exit, bits); }
  entryHas(bits: number): boolean { return anyBit(this.entry, bits); }
}
