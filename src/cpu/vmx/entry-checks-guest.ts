/**
 * The VM-entry checks on the guest-state area (SDM Vol. 3C 26.3.1): this file has 26.3.1.1 "Checks on Guest
 * Control Registers, Debug Registers, and MSRs", 26.3.1.3 "Checks on Guest Descriptor-Table Registers" and
 * 26.3.1.4 "Checks on Guest RIP and RFLAGS", and puts them in the SDM's order with 26.3.1.2 (segment registers,
 * entry-checks-guest-segments.ts) and 26.3.1.5 (non-register state, entry-checks-guest-nonregister.ts). A
 * failure is a VM-entry failure: exit reason 33 with bit 31 set, the rule's exit qualification (0 unless said).
 *
 * 26.3.1.1 as the model has it:
 * - CR0 against IA32_VMX_CR0_FIXED0/1, except PE and PG when "unrestricted guest" is 1 and never NW and CD
 *   ("not changed by VM entry"); PG requires PE. CR4 against IA32_VMX_CR4_FIXED0/1 (whose FIXED1 keeps only
 *   the CR4 bits the core implements, so PAE, VME, PVI and the SSE bits are refused here).
 * - "load debug controls": the IA32_DEBUGCTL field's reserved bits must be 0; the model takes them from the
 *   architectural definition (SDM Vol. 4 Table 2-2: bits 5:2 and 63:16 reserved; the model's core has no
 *   IA32_DEBUGCTL MSR of its own). The DR7 bits 63:32 rule does not exist in a 32-bit natural-width field.
 * - "load IA32_PAT": each byte of the PAT field a valid memory type. "load IA32_EFER": every bit 0 (the model has
 *   no EFER bits, entry-checks-context.ts).
 *
 * Leaves out, as the model has no Intel 64 and no PAE: guest CR3 and SYSENTER canonical/width checks, the
 * IA-32e rules (CR0.PG/CR4.PAE with "IA-32e mode guest", CR4.PCIDE, RIP bits 63:32, RFLAGS bits 63:32) and the
 * PDPTE checks of 26.3.1.6 (reached only with CR0.PG and CR4.PAE, and CR4.PAE cannot pass the CR4 fixed bits).
 * PERF_GLOBAL_CTRL, BNDCFGS, RTIT_CTL, CET and PKRS: not offered.
 */
import { VmcsField } from "./vmcs-fields.ts";
import * as Capabilities from "./vmx-capabilities.ts";
import * as Controls from "./vmx-controls.ts";
import type { EntryContext, EntryRule } from "./entry-checks-context.ts";
import * as Context from "./entry-checks-context.ts";
import * as Host from "./entry-checks-host.ts";
import { GUEST_SEGMENT_RULES } from "./entry-checks-guest-segments.ts";
import { GUEST_NON_REGISTER_RULES } from "./entry-checks-guest-nonregister.ts";

// Imported values as module constants: under tsx and vitest an imported binding is a getter call per use.
const { guestCr0Fixed0, IA32_VMX_CR0_FIXED1, IA32_VMX_CR4_FIXED0, IA32_VMX_CR4_FIXED1 } = Capabilities;
const {
  PROC2_UNRESTRICTED_GUEST, ENTRY_LOAD_DEBUG_CONTROLS, ENTRY_LOAD_IA32_PAT, ENTRY_LOAD_IA32_EFER,
  ENTRY_IA32E_MODE_GUEST,
} = Controls;
const { rule, anyBit, validPat, MODEL_EFER_DEFINED, INTR_TYPE_EXTERNAL } = Context;
const { breaksFixedBits } = Host;

/** The fields read here, as module constants (a property load of VmcsField per read is measurable). */
const {
  GUEST_CR0, GUEST_CR4, GUEST_GDTR_LIMIT, GUEST_IA32_DEBUGCTL, GUEST_IA32_EFER, GUEST_IA32_PAT, GUEST_IDTR_LIMIT,
  GUEST_RFLAGS,
} = VmcsField;

const REGS = "26.3.1.1";
const DTR = "26.3.1.3";
const RIP_RFLAGS = "26.3.1.4";

const CR0_PE = 1 << 0;
const CR0_NW = 1 << 29;
const CR0_CD = 1 << 30;
const CR0_PG = 0x80000000;
/** IA32_DEBUGCTL bits 31:0 that are reserved (Vol. 4 Table 2-2: 5:2 and 31:16; all of 63:32). */
const DEBUGCTL_RESERVED_LO = 0xffff003c;
/** RFLAGS bits that must be 0: 31:22, 15, 5, 3 (bits 63:32 do not exist here). */
const RFLAGS_RESERVED = 0xffc08028;
const RFLAGS_FIXED1 = 1 << 1;
const RFLAGS_IF = 1 << 9;
const RFLAGS_VM = 1 << 17;

function cr0(c: EntryContext): number {
  return c.f(GUEST_CR0);
}

/** CR0 against the fixed bits, PE/PG exempt under "unrestricted guest", NW/CD never checked. */
function cr0FixedBroken(c: EntryContext): boolean {
  const ug = c.proc2Has(PROC2_UNRESTRICTED_GUEST);
  const unchecked = (CR0_NW | CR0_CD | (ug ? CR0_PE | CR0_PG : 0)) >>> 0;
  const fixed0 = guestCr0Fixed0(c.caps, c.proc, c.proc2) & ~unchecked;
  const fixed1 = (c.caps.msrs.get(IA32_VMX_CR0_FIXED1)?.[0] ?? 0xffffffff) | unchecked;
  const v = cr0(c);
  return anyBit(~v, fixed0) || anyBit(v, ~fixed1);
}

const CONTROL_REGISTER_RULES: EntryRule[] = [
  rule("guest-cr0-fixed-bits", REGS, cr0FixedBroken),
  rule("guest-cr0-pg-without-pe", REGS, (c) => anyBit(cr0(c), CR0_PG) && !anyBit(cr0(c), CR0_PE)),
  rule("guest-cr4-fixed-bits", REGS, (c) => breaksFixedBits(c, c.f(GUEST_CR4), IA32_VMX_CR4_FIXED0, IA32_VMX_CR4_FIXED1)),
  rule("guest-debugctl-reserved-bits", REGS,
    (c) => c.entryHas(ENTRY_LOAD_DEBUG_CONTROLS) &&
      (anyBit(c.f(GUEST_IA32_DEBUGCTL), DEBUGCTL_RESERVED_LO) || c.hi(GUEST_IA32_DEBUGCTL) !== 0)),
  rule("guest-pat", REGS,
    (c) => c.entryHas(ENTRY_LOAD_IA32_PAT) && !validPat(c.f(GUEST_IA32_PAT), c.hi(GUEST_IA32_PAT))),
  rule("guest-efer-reserved-bits", REGS,
    (c) => c.entryHas(ENTRY_LOAD_IA32_EFER) &&
      (anyBit(c.f(GUEST_IA32_EFER), ~MODEL_EFER_DEFINED) || c.hi(GUEST_IA32_EFER) !== 0)),
];

const DESCRIPTOR_TABLE_RULES: EntryRule[] = [
  rule("guest-gdtr-limit", DTR, (c) => anyBit(c.f(GUEST_GDTR_LIMIT), 0xffff0000)),
  rule("guest-idtr-limit", DTR, (c) => anyBit(c.f(GUEST_IDTR_LIMIT), 0xffff0000)),
];

function rflags(c: EntryContext): number {
  return c.f(GUEST_RFLAGS);
}

const RIP_RFLAGS_RULES: EntryRule[] = [
  rule("guest-rflags-reserved-bits", RIP_RFLAGS, (c) => anyBit(rflags(c), RFLAGS_RESERVED)),
  rule("guest-rflags-bit-1", RIP_RFLAGS, (c) => !anyBit(rflags(c), RFLAGS_FIXED1)),
  rule("guest-rflags-vm", RIP_RFLAGS,
    (c) => anyBit(rflags(c), RFLAGS_VM) && (c.entryHas(ENTRY_IA32E_MODE_GUEST) || !anyBit(cr0(c), CR0_PE))),
  rule("guest-rflags-if-for-external-interrupt", RIP_RFLAGS,
    (c) => c.injecting(INTR_TYPE_EXTERNAL) && !anyBit(rflags(c), RFLAGS_IF)),
];

/** Every guest-state check of 26.3.1 in the SDM's order: a failure is a VM-entry failure (reason 33). */
export const GUEST_STATE_RULES: readonly EntryRule[] = [
  ...CONTROL_REGISTER_RULES,
  ...GUEST_SEGMENT_RULES,
  ...DESCRIPTOR_TABLE_RULES,
  ...RIP_RFLAGS_RULES,
  ...GUEST_NON_REGISTER_RULES,
];
