/**
 * The VM-entry checks on the VMX controls (SDM Vol. 3C 26.2.1): 26.2.1.1 VM-execution control fields,
 * 26.2.1.2 VM-exit control fields, 26.2.1.3 VM-entry control fields (event injection included). A failure
 * makes VMLAUNCH/VMRESUME fail with VMfailValid(7), "VM entry with invalid control field(s)". The rules are in
 * the order the SDM lists them; the first one broken is reported.
 *
 * Reserved control bits are checked against caps.controls (the TRUE MSRs where they exist, Appendix A.3-A.5),
 * so every control the model does not offer fails here: CR8-load/store exiting, "IA-32e mode guest", "host
 * address-space size", "entry to SMM", monitor trap flag, virtualize x2APIC mode, VMCS shadowing ... The rules
 * that depend on such controls are still written out (x2APIC vs APIC accesses, the SMM controls, interruption
 * type 7) so that the checks stay right when a capability is added; the tests reach them with capability MSRs
 * that allow the control.
 *
 * Readings of the SDM where it leaves a choice or older and newer editions differ:
 * - TPR threshold: bits 31:4 must be 0 when "use TPR shadow" is 1 and "virtual-interrupt delivery" is 0; bits
 *   3:0 must not exceed VTPR[7:4] (byte 80H of the virtual-APIC page, read from memory) when "use TPR
 *   shadow" is 1 and both "virtualize APIC accesses" and "virtual-interrupt delivery" are 0 (the current SDM;
 *   the first editions, and Bochs, have no virtual-interrupt delivery in these conditions). The clearing of
 *   VTPR bytes 3:1 that the SDM allows once these checks pass is not done here (a check does not write).
 * - Error code of an injected event: bits 31:16 must be 0 when "deliver error code" is 1 (SDM, Bochs, KVM's
 *   nested checks; one copy of a later SDM reads 31:15, which no implementation follows).
 * - An injected software interrupt or software/privileged software exception needs an instruction length of
 *   1-15; 0 is allowed only when IA32_VMX_MISC[30] is 1, which the model reports where the hardware does
 *   (Skylake, vmx-capabilities.ts).
 * - The error-code delivery rule: bit 11 must be 1 exactly when ("unrestricted guest" is 0 or guest CR0.PE is
 *   1) and the type is hardware exception with vector 8, 10-14 or 17 (no #CP: the model has no CET).
 *
 * Leaves out (features the model has none of): PML, VM functions, EPTP switching, VMCS shadowing bitmaps, #VE,
 * sub-page permissions, mode-based execute control, TSC scaling, Intel PT, PERF_GLOBAL_CTRL, BNDCFGS; SMM
 * (the processor is never in SMM here, so "entry to SMM" and "deactivate dual-monitor treatment" must be 0).
 */
import type { MsrValue } from "./vmx-capabilities.ts";
import * as Capabilities from "./vmx-capabilities.ts";
import type { EptpRule } from "./ept-pointer.ts";
import * as Ept from "./ept-pointer.ts";
import { VmcsField } from "./vmcs-fields.ts";
import * as Controls from "./vmx-controls.ts";
import type { EntryContext, EntryRule } from "./entry-checks-context.ts";
import * as Context from "./entry-checks-context.ts";

// Imported values as module constants: under tsx and vitest an imported binding is a getter call per use.
const { IA32_VMX_EPT_VPID_CAP } = Capabilities;
const { checkEptp } = Ept;
const {
  PIN_EXTERNAL_INTERRUPT_EXITING, PIN_NMI_EXITING, PIN_VIRTUAL_NMIS, PIN_ACTIVATE_PREEMPTION_TIMER,
  PIN_PROCESS_POSTED_INTERRUPTS, PROC_USE_TPR_SHADOW, PROC_NMI_WINDOW_EXITING, PROC_USE_IO_BITMAPS,
  PROC_USE_MSR_BITMAPS, PROC_MONITOR_TRAP_FLAG, PROC_ACTIVATE_SECONDARY_CONTROLS, PROC2_VIRTUALIZE_APIC_ACCESSES,
  PROC2_ENABLE_EPT, PROC2_VIRTUALIZE_X2APIC_MODE, PROC2_ENABLE_VPID, PROC2_UNRESTRICTED_GUEST,
  PROC2_APIC_REGISTER_VIRTUALIZATION, PROC2_VIRTUAL_INTERRUPT_DELIVERY, EXIT_ACKNOWLEDGE_INTERRUPT_ON_EXIT,
  EXIT_SAVE_PREEMPTION_TIMER_VALUE, ENTRY_TO_SMM, ENTRY_DEACTIVATE_DUAL_MONITOR_TREATMENT,
} = Controls;
const {
  rule, anyBit, beyondMaxPhys, intrType, intrVector, INTR_INFO_DELIVER_ERROR_CODE, INTR_TYPE_RESERVED,
  INTR_TYPE_NMI, INTR_TYPE_HARDWARE_EXCEPTION, INTR_TYPE_SOFTWARE_INTERRUPT,
  INTR_TYPE_PRIVILEGED_SOFTWARE_EXCEPTION, INTR_TYPE_SOFTWARE_EXCEPTION, INTR_TYPE_OTHER_EVENT,
} = Context;

/** The fields read here, as module constants (a property load of VmcsField per read is measurable). */
const {
  APIC_ACCESS_ADDRESS, CR3_TARGET_COUNT, EPT_POINTER, GUEST_CR0, IO_BITMAP_A, IO_BITMAP_B, MSR_BITMAPS,
  POSTED_INTERRUPT_DESCRIPTOR_ADDRESS, POSTED_INTERRUPT_NOTIFICATION_VECTOR, TPR_THRESHOLD, VIRTUAL_APIC_ADDRESS,
  VM_ENTRY_EXCEPTION_ERROR_CODE, VM_ENTRY_INSTRUCTION_LENGTH, VM_ENTRY_MSR_LOAD_ADDRESS, VM_ENTRY_MSR_LOAD_COUNT,
  VM_EXIT_MSR_LOAD_ADDRESS, VM_EXIT_MSR_LOAD_COUNT, VM_EXIT_MSR_STORE_ADDRESS, VM_EXIT_MSR_STORE_COUNT, VPID,
} = VmcsField;

const EXEC = "26.2.1.1";
const EXIT = "26.2.1.2";
const ENTRY = "26.2.1.3";

const TWO_POW_32 = 4294967296;
const PHYS_LIMIT = 2 ** 36; // MAXPHYADDR 36 (entry-checks-context.ts)
const CR0_PE = 1;

/** True when control word `value` breaks its capability MSR (vmx-capabilities.ts `allowed`, SDM A.3: a bit
 * whose allowed-0 setting is 1 is 0, or one whose allowed-1 setting is 0 is 1), without allocating. */
function breaksCapability(msr: MsrValue, value: number): boolean {
  return ((msr[0] & ~value) | (value & ~msr[1])) !== 0;
}

/** A 4-KiB-aligned address within MAXPHYADDR (I/O and MSR bitmaps, virtual-APIC and APIC-access pages). */
function badPageAddress(c: EntryContext, fullEncoding: number): boolean {
  return (c.f(fullEncoding) & 0xfff) !== 0 || beyondMaxPhys(c.hi(fullEncoding));
}

/** An MSR-store/load area of `count` 16-byte entries: address bits 3:0 zero, the address and the area's last
 * byte (address + count * 16 - 1, computed wider than MAXPHYADDR) within MAXPHYADDR (26.2.1.2, 26.2.1.3). */
function badMsrArea(c: EntryContext, addressEncoding: number, countEncoding: number): boolean {
  const count = c.f(countEncoding);
  if (count === 0) return false;
  const lo = c.f(addressEncoding);
  const hi = c.hi(addressEncoding);
  if ((lo & 0xf) !== 0 || beyondMaxPhys(hi)) return true;
  return hi * TWO_POW_32 + lo + count * 16 - 1 >= PHYS_LIMIT;
}

/** VTPR[7:4]: bits 7:4 of the 32-bit field at offset 80H of the virtual-APIC page (SDM 29.1.1). */
function vtprPriority(c: EntryContext): number {
  return (c.mem.read32(c.address(VIRTUAL_APIC_ADDRESS) + 0x80) >>> 4) & 0xf;
}

// checkEptp's answer for the last context asked (the five EPTP rules share one call per VM entry).
let eptpContext: EntryContext | undefined;
let eptpProblems: readonly EptpRule[] = [];

function eptpBreaks(c: EntryContext, which: EptpRule): boolean {
  if (!c.proc2Has(PROC2_ENABLE_EPT)) return false;
  if (eptpContext !== c) {
    const cap = c.caps.msrs.get(IA32_VMX_EPT_VPID_CAP)?.[0] ?? 0;
    eptpProblems = checkEptp([c.f(EPT_POINTER), c.hi(EPT_POINTER)], cap).map((p) => p.rule);
    eptpContext = c;
  }
  return eptpProblems.includes(which);
}

/** 26.2.1.1, in the SDM's order. */
export const EXECUTION_CONTROL_RULES: readonly EntryRule[] = [
  rule("pin-based-reserved-bits", EXEC, (c) => breaksCapability(c.caps.controls.pin, c.pin)),
  rule("primary-reserved-bits", EXEC, (c) => breaksCapability(c.caps.controls.proc, c.proc)),
  // Only when "activate secondary controls" is 1; otherwise c.proc2 is 0 and nothing is checked.
  rule("secondary-reserved-bits", EXEC,
    (c) => c.procHas(PROC_ACTIVATE_SECONDARY_CONTROLS) && breaksCapability(c.caps.controls.proc2, c.proc2)),
  // "must not be greater than 4 ... software should read IA32_VMX_MISC" (bits 24:16; 4 on every profile).
  rule("cr3-target-count", EXEC, (c) => c.f(CR3_TARGET_COUNT) > c.misc.cr3TargetCount),
  rule("io-bitmap-a-address", EXEC, (c) => c.procHas(PROC_USE_IO_BITMAPS) && badPageAddress(c, IO_BITMAP_A)),
  rule("io-bitmap-b-address", EXEC, (c) => c.procHas(PROC_USE_IO_BITMAPS) && badPageAddress(c, IO_BITMAP_B)),
  rule("msr-bitmap-address", EXEC, (c) => c.procHas(PROC_USE_MSR_BITMAPS) && badPageAddress(c, MSR_BITMAPS)),
  rule("virtual-apic-address", EXEC,
    (c) => c.procHas(PROC_USE_TPR_SHADOW) && badPageAddress(c, VIRTUAL_APIC_ADDRESS)),
  rule("tpr-threshold-bits-31-4", EXEC,
    (c) => c.procHas(PROC_USE_TPR_SHADOW) && !c.proc2Has(PROC2_VIRTUAL_INTERRUPT_DELIVERY) &&
      anyBit(c.f(TPR_THRESHOLD), 0xfffffff0)),
  rule("tpr-threshold-above-vtpr", EXEC,
    (c) => c.procHas(PROC_USE_TPR_SHADOW) &&
      !c.proc2Has(PROC2_VIRTUALIZE_APIC_ACCESSES | PROC2_VIRTUAL_INTERRUPT_DELIVERY) &&
      (c.f(TPR_THRESHOLD) & 0xf) > vtprPriority(c)),
  rule("apic-virtualization-without-tpr-shadow", EXEC,
    (c) => !c.procHas(PROC_USE_TPR_SHADOW) && c.proc2Has(PROC2_VIRTUALIZE_X2APIC_MODE |
      PROC2_APIC_REGISTER_VIRTUALIZATION | PROC2_VIRTUAL_INTERRUPT_DELIVERY)),
  rule("virtual-nmis-without-nmi-exiting", EXEC, (c) => c.pinHas(PIN_VIRTUAL_NMIS) && !c.pinHas(PIN_NMI_EXITING)),
  rule("nmi-window-without-virtual-nmis", EXEC,
    (c) => c.procHas(PROC_NMI_WINDOW_EXITING) && !c.pinHas(PIN_VIRTUAL_NMIS)),
  rule("apic-access-address", EXEC,
    (c) => c.proc2Has(PROC2_VIRTUALIZE_APIC_ACCESSES) && badPageAddress(c, APIC_ACCESS_ADDRESS)),
  rule("x2apic-mode-with-apic-accesses", EXEC,
    (c) => c.proc2Has(PROC2_VIRTUALIZE_X2APIC_MODE) && c.proc2Has(PROC2_VIRTUALIZE_APIC_ACCESSES)),
  rule("vid-without-external-interrupt-exiting", EXEC,
    (c) => c.proc2Has(PROC2_VIRTUAL_INTERRUPT_DELIVERY) && !c.pinHas(PIN_EXTERNAL_INTERRUPT_EXITING)),
  rule("posted-interrupts-without-vid", EXEC,
    (c) => c.pinHas(PIN_PROCESS_POSTED_INTERRUPTS) && !c.proc2Has(PROC2_VIRTUAL_INTERRUPT_DELIVERY)),
  rule("posted-interrupts-without-ack-on-exit", EXEC,
    (c) => c.pinHas(PIN_PROCESS_POSTED_INTERRUPTS) && !c.exitHas(EXIT_ACKNOWLEDGE_INTERRUPT_ON_EXIT)),
  // "The posted-interrupt notification vector has a value in the range 0-255 (bits 15:8 are all 0)."
  rule("posted-interrupt-vector", EXEC,
    (c) => c.pinHas(PIN_PROCESS_POSTED_INTERRUPTS) && anyBit(c.f(POSTED_INTERRUPT_NOTIFICATION_VECTOR), 0xff00)),
  rule("posted-interrupt-descriptor-address", EXEC,
    (c) => c.pinHas(PIN_PROCESS_POSTED_INTERRUPTS) &&
      (anyBit(c.f(POSTED_INTERRUPT_DESCRIPTOR_ADDRESS), 0x3f) ||
        beyondMaxPhys(c.hi(POSTED_INTERRUPT_DESCRIPTOR_ADDRESS)))),
  rule("vpid-zero", EXEC, (c) => c.proc2Has(PROC2_ENABLE_VPID) && c.f(VPID) === 0),
  rule("eptp-memory-type", EXEC, (c) => eptpBreaks(c, "memory-type")),
  rule("eptp-walk-length", EXEC, (c) => eptpBreaks(c, "walk-length")),
  rule("eptp-accessed-dirty", EXEC, (c) => eptpBreaks(c, "accessed-dirty")),
  rule("eptp-reserved-11-7", EXEC, (c) => eptpBreaks(c, "reserved-11-7")),
  rule("eptp-reserved-above-maxphyaddr", EXEC, (c) => eptpBreaks(c, "reserved-above-maxphyaddr")),
  rule("unrestricted-guest-without-ept", EXEC,
    (c) => c.proc2Has(PROC2_UNRESTRICTED_GUEST) && !c.proc2Has(PROC2_ENABLE_EPT)),
];

/** 26.2.1.2, in the SDM's order. */
export const EXIT_CONTROL_RULES: readonly EntryRule[] = [
  rule("exit-reserved-bits", EXIT, (c) => breaksCapability(c.caps.controls.exit, c.exit)),
  rule("save-preemption-timer-without-timer", EXIT,
    (c) => c.exitHas(EXIT_SAVE_PREEMPTION_TIMER_VALUE) && !c.pinHas(PIN_ACTIVATE_PREEMPTION_TIMER)),
  rule("exit-msr-store-address", EXIT,
    (c) => badMsrArea(c, VM_EXIT_MSR_STORE_ADDRESS, VM_EXIT_MSR_STORE_COUNT)),
  rule("exit-msr-load-address", EXIT,
    (c) => badMsrArea(c, VM_EXIT_MSR_LOAD_ADDRESS, VM_EXIT_MSR_LOAD_COUNT)),
];

/** Exceptions that deliver an error code: #DF, #TS, #NP, #SS, #GP, #PF, #AC (26.2.1.3). */
const ERROR_CODE_VECTORS = (1 << 8) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 14) | (1 << 17);

/** Whether the deliver-error-code bit must be 1 for this injection (26.2.1.3). */
function errorCodeExpected(c: EntryContext, info: number): boolean {
  const pe = (c.f(GUEST_CR0) & CR0_PE) !== 0;
  const vector = intrVector(info);
  return (!c.proc2Has(PROC2_UNRESTRICTED_GUEST) || pe) && intrType(info) === INTR_TYPE_HARDWARE_EXCEPTION &&
    vector < 32 && ((ERROR_CODE_VECTORS >>> vector) & 1) !== 0;
}

/** A rule on the injected event, tested only when the interruption-information field is valid. */
function injectionRule(name: string, violated: (c: EntryContext, info: number) => boolean): EntryRule {
  return rule(name, ENTRY, (c) => {
    const info = c.injection;
    return info !== undefined && violated(c, info);
  });
}

/** 26.2.1.3, in the SDM's order. */
export const ENTRY_CONTROL_RULES: readonly EntryRule[] = [
  rule("entry-reserved-bits", ENTRY, (c) => breaksCapability(c.caps.controls.entry, c.entry)),
  // "If the processor is not in SMM, the 'entry to SMM' and 'deactivate dual-monitor treatment' VM-entry
  // controls must be 0" (the model has no SMM).
  rule("smm-controls-outside-smm", ENTRY, (c) => c.entryHas(ENTRY_TO_SMM | ENTRY_DEACTIVATE_DUAL_MONITOR_TREATMENT)),
  // Type 1 is reserved everywhere, type 7 (other event) where the monitor trap flag cannot be 1.
  injectionRule("injection-type-reserved", (c, info) => {
    const t = intrType(info);
    return t === INTR_TYPE_RESERVED || (t === INTR_TYPE_OTHER_EVENT && !anyBit(c.caps.controls.proc[1], PROC_MONITOR_TRAP_FLAG));
  }),
  injectionRule("injection-nmi-vector", (_c, info) => intrType(info) === INTR_TYPE_NMI && intrVector(info) !== 2),
  injectionRule("injection-exception-vector",
    (_c, info) => intrType(info) === INTR_TYPE_HARDWARE_EXCEPTION && intrVector(info) > 31),
  injectionRule("injection-other-event-vector", (_c, info) => intrType(info) === INTR_TYPE_OTHER_EVENT && intrVector(info) !== 0),
  injectionRule("injection-deliver-error-code",
    (c, info) => anyBit(info, INTR_INFO_DELIVER_ERROR_CODE) !== errorCodeExpected(c, info)),
  injectionRule("injection-reserved-bits", (_c, info) => anyBit(info, 0x7ffff000)),
  injectionRule("injection-error-code-bits-31-16",
    (c, info) => anyBit(info, INTR_INFO_DELIVER_ERROR_CODE) && anyBit(c.f(VM_ENTRY_EXCEPTION_ERROR_CODE), 0xffff0000)),
  injectionRule("injection-instruction-length", (c, info) => {
    const t = intrType(info);
    if (t !== INTR_TYPE_SOFTWARE_INTERRUPT && t !== INTR_TYPE_PRIVILEGED_SOFTWARE_EXCEPTION && t !== INTR_TYPE_SOFTWARE_EXCEPTION) {
      return false;
    }
    const len = c.f(VM_ENTRY_INSTRUCTION_LENGTH);
    return len > 15 || (len === 0 && !c.misc.injectLengthZero);
  }),
  rule("entry-msr-load-address", ENTRY,
    (c) => badMsrArea(c, VM_ENTRY_MSR_LOAD_ADDRESS, VM_ENTRY_MSR_LOAD_COUNT)),
];

/** Every control check of 26.2.1 in order: a failure is VMfailValid(7). */
export const CONTROL_RULES: readonly EntryRule[] = [...EXECUTION_CONTROL_RULES, ...EXIT_CONTROL_RULES, ...ENTRY_CONTROL_RULES];
