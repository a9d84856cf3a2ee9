/**
 * The checks VMLAUNCH and VMRESUME make on the current VMCS before entering the guest (SDM Vol. 3C 26.2
 * "Checks on VMX Controls and Host-State Area" and 26.3.1 "Checks on the Guest State Area"), for the model's
 * IA-32 processor: 32-bit host, 32-bit guests, no Intel 64 (so no IA-32e mode guest or host address-space
 * size: the capability MSRs refuse both, 26.2.4), MAXPHYADDR 36.
 *
 * Order and outcome (SDM 26.1-26.3, Vol. 3C 30.3 VMLAUNCH/VMRESUME; shared/reference/vmx.md §3a):
 * 1. 26.2.1 the VM-execution, VM-exit and VM-entry control fields: the first failure is VMfailValid(7).
 * 2. 26.2.2-26.2.4 the host-state area: VMfailValid(8).
 *    (The SDM allows control and host checks in either order; the model does the controls first, so a VMCS
 *    with both kinds of error gives 7, as Bochs does.)
 * 3. 26.3.1 the guest-state area: a VM-entry failure, exit reason 33 | 80000000H, with the exit qualification
 *    of SDM 26.7 (0, 3 NMI injection while blocking by STI, 4 VMCS link pointer).
 * Within each group the rules run in the order the SDM lists them, and the first broken one is reported by
 * name and section (the VMM prints both). The rule tables are exported so tests and reports can list them.
 *
 * This is only the checking: the instruction's earlier checks (#UD, CPL, current VMCS, MOV-SS blocking, launch
 * state), loading guest state, the MSR-load list (exit reason 34) and event injection are the caller's
 * (vm-entry.ts). Nothing here writes the VMCS or memory.
 *
 * Leaves out: the checks that exist only with Intel 64 (canonical addresses, bits 63:32), PAE PDPTEs (26.3.1.6;
 * CR4.PAE is never allowed), SMM and the dual-monitor treatment, and every feature the capability MSRs do not
 * offer (see the header of each rule file).
 */
import type { VmcsRegion } from "./vmcs.ts";
import { EntryContext, type EntryCheckEnv, type EntryRule } from "./entry-checks-context.ts";
import { CONTROL_RULES } from "./entry-checks-controls.ts";
import { HOST_STATE_RULES } from "./entry-checks-host.ts";
import { GUEST_STATE_RULES } from "./entry-checks-guest.ts";

export type { EntryCheckEnv, EntryRule } from "./entry-checks-context.ts";
export { CONTROL_RULES } from "./entry-checks-controls.ts";
export { HOST_STATE_RULES } from "./entry-checks-host.ts";
export { GUEST_STATE_RULES } from "./entry-checks-guest.ts";

export type EntryCheckResult =
  | { kind: "ok" }
  /** VMfailValid(7) for a control field, (8) for a host-state field. */
  | { kind: "vmfail"; error: 7 | 8; rule: string; section: string }
  /** VM-entry failure: exit reason 33 | 0x80000000 with this exit qualification. */
  | { kind: "guest-state"; rule: string; section: string; qualification: number };

/** VM-instruction error 7: "VM entry with invalid control field(s)" (SDM Table 30-1). */
export const VMFAIL_INVALID_CONTROLS = 7;
/** VM-instruction error 8: "VM entry with invalid host-state field(s)". */
export const VMFAIL_INVALID_HOST_STATE = 8;

const OK: EntryCheckResult = Object.freeze({ kind: "ok" });

/** The first rule of `rules` the VMCS breaks, in table order. */
export function firstBroken(rules: readonly EntryRule[], c: EntryContext): EntryRule | undefined {
  for (let i = 0; i < rules.length; i++) {
    if (rules[i].violated(c)) return rules[i];
  }
  return undefined;
}

/** The VM-entry checks of SDM 26.2 and 26.3.1 on the current VMCS `vmcs`. */
export function checkVmEntry(vmcs: VmcsRegion, env: EntryCheckEnv): EntryCheckResult {
  const c = new EntryContext(vmcs, env);
  const control = firstBroken(CONTROL_RULES, c);
  if (control !== undefined) {
    return { kind: "vmfail", error: VMFAIL_INVALID_CONTROLS, rule: control.name, section: control.section };
  }
  const host = firstBroken(HOST_STATE_RULES, c);
  if (host !== undefined) {
    return { kind: "vmfail", error: VMFAIL_INVALID_HOST_STATE, rule: host.name, section: host.section };
  }
  const guest = firstBroken(GUEST_STATE_RULES, c);
  if (guest !== undefined) {
    return { kind: "guest-state", rule: guest.name, section: guest.section, qualification: guest.qualification ?? 0 };
  }
  return OK;
}
