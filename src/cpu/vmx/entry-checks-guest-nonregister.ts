/**
 * The VM-entry checks on the guest's non-register state (SDM Vol. 3C 26.3.1.5 "Checks on Guest Non-Register
 * State"): activity state, interruptibility state, pending debug exceptions and the VMCS link pointer. A
 * failure is a VM-entry failure (exit reason 33 | 80000000H) with the exit qualification of SDM 26.7: 0, except
 * 3 for injecting an NMI while the interruptibility state says blocking by STI, and 4 for a bad VMCS link
 * pointer.
 *
 * Choices where the SDM leaves them to the implementation:
 * - "A processor may require bit 0 (blocking by STI) to be 0 if ... the interruption type ... is NMI. Other
 *   processors may not make this requirement." The model requires it (as Bochs does), with qualification 3,
 *   which SDM 26.7 reserves for exactly this case.
 * - Activity states: 0-3, each only if IA32_VMX_MISC bits 6-8 report it (every profile reports all three).
 *
 * What the model's processor lacks turns three rules into "must be 0": blocking by SMI (bit 2; the processor is
 * never in SMM), enclave interruption (bit 4; no SGX) and the RTM bit of the pending debug exceptions (bit 16;
 * no RTM). The VMCS link pointer follows the SDM in full (not KVM's "must be FFFFFFFF_FFFFFFFFH" without VMCS
 * shadowing): any other value must be 4-KiB aligned, within MAXPHYADDR, point at 4 bytes holding this
 * processor's VMCS revision identifier with bit 31 equal to "VMCS shadowing" (never 1 here), and not be the
 * current VMCS.
 *
 * Leaves out the rules that need SMM ("entry to SMM" with wait-for-SIPI or without SMI blocking; the executive
 * VMCS pointer): "entry to SMM" is refused earlier, by the control checks.
 */
import { VmcsField } from "./vmcs-fields.ts";
import * as Controls from "./vmx-controls.ts";
import type { EntryContext, EntryRule } from "./entry-checks-context.ts";
import * as Context from "./entry-checks-context.ts";

// Imported values as module constants: under tsx and vitest an imported binding is a getter call per use.
const { PIN_VIRTUAL_NMIS, PROC2_VMCS_SHADOWING } = Controls;
const {
  rule, beyondMaxPhys, intrType, intrVector, INTR_TYPE_EXTERNAL, INTR_TYPE_NMI, INTR_TYPE_HARDWARE_EXCEPTION,
  INTR_TYPE_OTHER_EVENT,
} = Context;

/** The fields read here, as module constants (a property load of VmcsField per read is measurable). */
const {
  GUEST_ACTIVITY_STATE, GUEST_IA32_DEBUGCTL, GUEST_INTERRUPTIBILITY_STATE, GUEST_PENDING_DEBUG_EXCEPTIONS,
  GUEST_RFLAGS, GUEST_SS_ACCESS_RIGHTS, VMCS_LINK_POINTER,
} = VmcsField;

const SECTION = "26.3.1.5";
/** Exit qualifications of VM-entry failures (SDM 26.7). */
const QUAL_NMI_STI = 3;
const QUAL_LINK_POINTER = 4;

export const ACTIVITY_ACTIVE = 0;
export const ACTIVITY_HLT = 1;
export const ACTIVITY_SHUTDOWN = 2;
export const ACTIVITY_WAIT_FOR_SIPI = 3;

/** Interruptibility state (Table 24-3). */
const BLOCKING_BY_STI = 1 << 0;
const BLOCKING_BY_MOV_SS = 1 << 1;
const BLOCKING_BY_SMI = 1 << 2;
const BLOCKING_BY_NMI = 1 << 3;
const ENCLAVE_INTERRUPTION = 1 << 4;

const RFLAGS_TF = 1 << 8;
const RFLAGS_IF = 1 << 9;
const DEBUGCTL_BTF = 1 << 1;
/** Pending debug exceptions (Table 24-4): bit 12 enabled breakpoint, 14 BS, 16 RTM. */
const PENDING_DEBUG_BS = 1 << 14;
const PENDING_DEBUG_RTM = 1 << 16;
/** Bits 11:4, 13, 15 and 31:17 must be 0. */
const PENDING_DEBUG_RESERVED = 0xfffeaff0;

const VECTOR_DB = 1;
const VECTOR_MC = 18;

function activity(c: EntryContext): number {
  return c.f(GUEST_ACTIVITY_STATE);
}

function interruptibility(c: EntryContext): number {
  return c.f(GUEST_INTERRUPTIBILITY_STATE);
}

function supported(c: EntryContext, state: number): boolean {
  switch (state) {
    case ACTIVITY_ACTIVE: return true;
    case ACTIVITY_HLT: return c.misc.activityHlt;
    case ACTIVITY_SHUTDOWN: return c.misc.activityShutdown;
    case ACTIVITY_WAIT_FOR_SIPI: return c.misc.activityWaitForSipi;
    default: return false;
  }
}

/** Whether an injected event (interruption type and vector) is one a processor in `state` can take (26.3.1.5:
 * active: any; HLT: external interrupt, NMI, #DB, #MC, pending MTF VM exit; shutdown: NMI, #MC;
 * wait-for-SIPI: none). */
export function injectionAllowedIn(state: number, info: number): boolean {
  const t = intrType(info);
  const v = intrVector(info);
  switch (state) {
    case ACTIVITY_ACTIVE: return true;
    case ACTIVITY_HLT:
      return t === INTR_TYPE_EXTERNAL || t === INTR_TYPE_NMI ||
        (t === INTR_TYPE_HARDWARE_EXCEPTION && (v === VECTOR_DB || v === VECTOR_MC)) ||
        (t === INTR_TYPE_OTHER_EVENT && v === 0);
    case ACTIVITY_SHUTDOWN:
      return t === INTR_TYPE_NMI || (t === INTR_TYPE_HARDWARE_EXCEPTION && v === VECTOR_MC);
    default: return false;
  }
}

const ACTIVITY_RULES: EntryRule[] = [
  rule("guest-activity-state", SECTION, (c) => !supported(c, activity(c))),
  rule("guest-activity-hlt-ss-dpl", SECTION,
    (c) => activity(c) === ACTIVITY_HLT && ((c.f(GUEST_SS_ACCESS_RIGHTS) >>> 5) & 3) !== 0),
  rule("guest-activity-blocking-not-active", SECTION,
    (c) => (interruptibility(c) & (BLOCKING_BY_STI | BLOCKING_BY_MOV_SS)) !== 0 && activity(c) !== ACTIVITY_ACTIVE),
  rule("guest-activity-injection", SECTION, (c) => {
    const info = c.injection;
    return info !== undefined && !injectionAllowedIn(activity(c), info);
  }),
];

const INTERRUPTIBILITY_RULES: EntryRule[] = [
  rule("guest-interruptibility-reserved-bits", SECTION, (c) => (interruptibility(c) & 0xffffffe0) !== 0),
  rule("guest-interruptibility-sti-and-mov-ss", SECTION,
    (c) => (interruptibility(c) & (BLOCKING_BY_STI | BLOCKING_BY_MOV_SS)) === (BLOCKING_BY_STI | BLOCKING_BY_MOV_SS)),
  rule("guest-interruptibility-sti-with-if-0", SECTION,
    (c) => (interruptibility(c) & BLOCKING_BY_STI) !== 0 && (c.f(GUEST_RFLAGS) & RFLAGS_IF) === 0),
  rule("guest-interruptibility-external-interrupt-blocked", SECTION,
    (c) => c.injecting(INTR_TYPE_EXTERNAL) && (interruptibility(c) & (BLOCKING_BY_STI | BLOCKING_BY_MOV_SS)) !== 0),
  rule("guest-interruptibility-nmi-mov-ss", SECTION,
    (c) => c.injecting(INTR_TYPE_NMI) && (interruptibility(c) & BLOCKING_BY_MOV_SS) !== 0),
  rule("guest-interruptibility-smi-outside-smm", SECTION, (c) => (interruptibility(c) & BLOCKING_BY_SMI) !== 0),
  rule("guest-interruptibility-nmi-sti", SECTION,
    (c) => c.injecting(INTR_TYPE_NMI) && (interruptibility(c) & BLOCKING_BY_STI) !== 0, QUAL_NMI_STI),
  rule("guest-interruptibility-virtual-nmi-blocking", SECTION,
    (c) => c.pinHas(PIN_VIRTUAL_NMIS) && c.injecting(INTR_TYPE_NMI) && (interruptibility(c) & BLOCKING_BY_NMI) !== 0),
  rule("guest-interruptibility-enclave", SECTION, (c) => (interruptibility(c) & ENCLAVE_INTERRUPTION) !== 0),
];

/** BS must be 1 exactly when RFLAGS.TF is 1 and IA32_DEBUGCTL.BTF is 0 (checked only with blocking by STI or
 * MOV SS, or in the HLT state). */
function bsBroken(c: EntryContext): boolean {
  const blocked = (interruptibility(c) & (BLOCKING_BY_STI | BLOCKING_BY_MOV_SS)) !== 0 || activity(c) === ACTIVITY_HLT;
  if (!blocked) return false;
  const tf = (c.f(GUEST_RFLAGS) & RFLAGS_TF) !== 0;
  const btf = (c.f(GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF) !== 0;
  const bs = (c.f(GUEST_PENDING_DEBUG_EXCEPTIONS) & PENDING_DEBUG_BS) !== 0;
  return bs !== (tf && !btf);
}

const PENDING_DEBUG_RULES: EntryRule[] = [
  rule("guest-pending-debug-reserved-bits", SECTION,
    (c) => (c.f(GUEST_PENDING_DEBUG_EXCEPTIONS) & PENDING_DEBUG_RESERVED) !== 0),
  rule("guest-pending-debug-bs", SECTION, bsBroken),
  rule("guest-pending-debug-rtm", SECTION, (c) => (c.f(GUEST_PENDING_DEBUG_EXCEPTIONS) & PENDING_DEBUG_RTM) !== 0),
];

/** The link pointer when it is not FFFFFFFF_FFFFFFFFH (the value meaning "none"), else undefined. */
function linkPointer(c: EntryContext): readonly [number, number] | undefined {
  const lo = c.f(VMCS_LINK_POINTER);
  const hi = c.hi(VMCS_LINK_POINTER);
  return lo === 0xffffffff && hi === 0xffffffff ? undefined : [lo, hi];
}

/** The first 4 bytes of the region the link pointer names (only read once it is aligned and in range). */
function linkedRevisionDword(c: EntryContext): number {
  return c.mem.read32(c.address(VMCS_LINK_POINTER)) >>> 0;
}

function linkRule(name: string, violated: (c: EntryContext, lo: number, hi: number) => boolean): EntryRule {
  return rule(name, SECTION, (c) => {
    const p = linkPointer(c);
    return p !== undefined && violated(c, p[0], p[1]);
  }, QUAL_LINK_POINTER);
}

const LINK_POINTER_RULES: EntryRule[] = [
  linkRule("vmcs-link-pointer-alignment", (_c, lo) => (lo & 0xfff) !== 0),
  linkRule("vmcs-link-pointer-maxphyaddr", (_c, _lo, hi) => beyondMaxPhys(hi)),
  linkRule("vmcs-link-pointer-revision", (c) => (linkedRevisionDword(c) & 0x7fffffff) !== c.revisionId),
  linkRule("vmcs-link-pointer-shadow-indicator",
    (c) => (linkedRevisionDword(c) >>> 31 === 1) !== c.proc2Has(PROC2_VMCS_SHADOWING)),
  // The processor is never in SMM: the field must not hold the current-VMCS pointer.
  linkRule("vmcs-link-pointer-current-vmcs", (c) => c.address(VMCS_LINK_POINTER) === c.vmcs.pa),
];

/** 26.3.1.5, in the SDM's order. */
export const GUEST_NON_REGISTER_RULES: readonly EntryRule[] = [
  ...ACTIVITY_RULES, ...INTERRUPTIBILITY_RULES, ...PENDING_DEBUG_RULES, ...LINK_POINTER_RULES,
];
