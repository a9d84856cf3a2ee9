/**
 * The VM-entry checks on the host-state area (SDM Vol. 3C 26.2.2 "Checks on Host Control Registers and MSRs",
 * 26.2.3 "Checks on Host Segment and Descriptor-Table Registers", 26.2.4 "Checks Related to Address-Space
 * Size"). A failure makes VMLAUNCH/VMRESUME fail with VMfailValid(8), "VM entry with invalid host-state
 * field(s)". They run after the control checks of 26.2.1 (entry-checks.ts), in the SDM's order.
 *
 * The model is IA-32 without Intel 64 (vmx-capabilities.ts): natural-width fields hold 32 bits, so the checks
 * the SDM makes only "on processors that support Intel 64 architecture" do not exist here: host CR3 bits
 * beyond MAXPHYADDR (a 32-bit CR3 cannot reach bit 36), canonical SYSENTER_ESP/EIP and FS/GS/GDTR/IDTR/TR
 * bases, CR4.PCIDE, RIP bits 63:32. 26.2.4 reduces to its last sentence: on processors without Intel 64,
 * "IA-32e mode guest" and "host address-space size" must both be 0; the capability MSRs never allow them, so
 * the control checks (error 7) catch them first and this rule is reached only with MSRs that allow them.
 *
 * IA32_EFER has no defined bits in the model (entry-checks-context.ts MODEL_EFER_DEFINED), so "load IA32_EFER"
 * on exit needs an all-zero host EFER field. IA32_PERF_GLOBAL_CTRL is not offered (no rule).
 *
 * Leaves out: CET (S_CET, SSP, interrupt SSP table), PKRS: the model has none of them.
 */
import { VmcsField } from "./vmcs-fields.ts";
import * as Capabilities from "./vmx-capabilities.ts";
import * as Controls from "./vmx-controls.ts";
import type { EntryContext, EntryRule } from "./entry-checks-context.ts";
import * as Context from "./entry-checks-context.ts";

// Imported values as module constants: under tsx and vitest an imported binding is a getter call per use.
const { IA32_VMX_CR0_FIXED0, IA32_VMX_CR0_FIXED1, IA32_VMX_CR4_FIXED0, IA32_VMX_CR4_FIXED1 } = Capabilities;
const { EXIT_HOST_ADDRESS_SPACE_SIZE, EXIT_LOAD_IA32_PAT, EXIT_LOAD_IA32_EFER, ENTRY_IA32E_MODE_GUEST } = Controls;
const { rule, anyBit, validPat, MODEL_EFER_DEFINED } = Context;

/** The fields read here, as module constants (a property load of VmcsField per read is measurable). */
const {
  HOST_CR0, HOST_CR4, HOST_CS_SELECTOR, HOST_DS_SELECTOR, HOST_ES_SELECTOR, HOST_FS_SELECTOR, HOST_GS_SELECTOR,
  HOST_IA32_EFER, HOST_IA32_PAT, HOST_SS_SELECTOR, HOST_TR_SELECTOR,
} = VmcsField;

const CTRL = "26.2.2";
const SEG = "26.2.3";
const SIZE = "26.2.4";

/** True when `value` breaks the FIXED0/FIXED1 pair of MSRs (a bit fixed to 1 is 0, or one fixed to 0 is 1;
 * SDM Appendix A.7/A.8). */
export function breaksFixedBits(c: EntryContext, value: number, fixed0Msr: number, fixed1Msr: number): boolean {
  const fixed0 = c.caps.msrs.get(fixed0Msr)?.[0] ?? 0;
  const fixed1 = c.caps.msrs.get(fixed1Msr)?.[0] ?? 0xffffffff;
  return anyBit(~value, fixed0) || anyBit(value, ~fixed1);
}

/** 26.2.2, in the SDM's order. */
export const HOST_CONTROL_REGISTER_RULES: readonly EntryRule[] = [
  rule("host-cr0-fixed-bits", CTRL, (c) => breaksFixedBits(c, c.f(HOST_CR0), IA32_VMX_CR0_FIXED0, IA32_VMX_CR0_FIXED1)),
  rule("host-cr4-fixed-bits", CTRL, (c) => breaksFixedBits(c, c.f(HOST_CR4), IA32_VMX_CR4_FIXED0, IA32_VMX_CR4_FIXED1)),
  rule("host-pat", CTRL,
    (c) => c.exitHas(EXIT_LOAD_IA32_PAT) && !validPat(c.f(HOST_IA32_PAT), c.hi(HOST_IA32_PAT))),
  rule("host-efer-reserved-bits", CTRL,
    (c) => c.exitHas(EXIT_LOAD_IA32_EFER) &&
      (anyBit(c.f(HOST_IA32_EFER), ~MODEL_EFER_DEFINED) || c.hi(HOST_IA32_EFER) !== 0)),
];

/** "In the selector field for each of CS, SS, DS, ES, FS, GS and TR, the RPL (bits 1:0) and the TI flag (bit 2)
 * must be 0." One rule per register, in that order. */
const SELECTORS: readonly (readonly [string, number])[] = [
  ["cs", HOST_CS_SELECTOR], ["ss", HOST_SS_SELECTOR], ["ds", HOST_DS_SELECTOR],
  ["es", HOST_ES_SELECTOR], ["fs", HOST_FS_SELECTOR], ["gs", HOST_GS_SELECTOR],
  ["tr", HOST_TR_SELECTOR],
];

/** 26.2.3, in the SDM's order. */
export const HOST_SEGMENT_RULES: readonly EntryRule[] = [
  ...SELECTORS.map(([name, enc]) => rule(`host-${name}-selector-rpl-ti`, SEG, (c) => (c.f(enc) & 7) !== 0)),
  rule("host-cs-selector-null", SEG, (c) => c.f(HOST_CS_SELECTOR) === 0),
  rule("host-tr-selector-null", SEG, (c) => c.f(HOST_TR_SELECTOR) === 0),
  rule("host-ss-selector-null", SEG,
    (c) => !c.exitHas(EXIT_HOST_ADDRESS_SPACE_SIZE) && c.f(HOST_SS_SELECTOR) === 0),
];

/** 26.2.4 on a processor without Intel 64. */
export const ADDRESS_SPACE_SIZE_RULES: readonly EntryRule[] = [
  rule("ia32e-controls-without-intel64", SIZE,
    (c) => c.entryHas(ENTRY_IA32E_MODE_GUEST) || c.exitHas(EXIT_HOST_ADDRESS_SPACE_SIZE)),
];

/** Every host-state check of 26.2.2-26.2.4 in order: a failure is VMfailValid(8). */
export const HOST_STATE_RULES: readonly EntryRule[] = [
  ...HOST_CONTROL_REGISTER_RULES, ...HOST_SEGMENT_RULES, ...ADDRESS_SPACE_SIZE_RULES,
];
