/**
 * VM-instruction error numbers.
 *
 * References (not our code): SDM Vol. 3C 30.4 Table 30-1 (the descriptions, as on the SDM page
 * xem.github.io/minix86 ...-1209.html), and shared/reference/vmx.md §2 (the same table, with the numbers
 * cross-checked against Bochs vmx.h VMX_error_code, kvm-unit-tests vmx.h VMXERR_* and Xen vmcs.h VMX_INSN_*).
 */
import { describe, expect, it } from "vitest";
import {
  VmInstructionError,
  isReservedVmInstructionError,
  vmInstructionErrorText,
} from "../../../src/cpu/vmx/vm-instruction-error.ts";

/** Table 30-1 / vmx.md §2: [number, description, our constant]. */
const TABLE_30_1: [number, string, keyof typeof VmInstructionError][] = [
  [1, "VMCALL executed in VMX root operation", "VMCALL_IN_VMX_ROOT_OPERATION"],
  [2, "VMCLEAR with invalid physical address", "VMCLEAR_INVALID_PHYSICAL_ADDRESS"],
  [3, "VMCLEAR with VMXON pointer", "VMCLEAR_WITH_VMXON_POINTER"],
  [4, "VMLAUNCH with non-clear VMCS", "VMLAUNCH_NON_CLEAR_VMCS"],
  [5, "VMRESUME with non-launched VMCS", "VMRESUME_NON_LAUNCHED_VMCS"],
  [6, "VMRESUME after VMXOFF (VMXOFF and VMXON between VMLAUNCH and VMRESUME)", "VMRESUME_AFTER_VMXOFF"],
  [7, "VM entry with invalid control field(s)", "VM_ENTRY_INVALID_CONTROL_FIELDS"],
  [8, "VM entry with invalid host-state field(s)", "VM_ENTRY_INVALID_HOST_STATE_FIELDS"],
  [9, "VMPTRLD with invalid physical address", "VMPTRLD_INVALID_PHYSICAL_ADDRESS"],
  [10, "VMPTRLD with VMXON pointer", "VMPTRLD_WITH_VMXON_POINTER"],
  [11, "VMPTRLD with incorrect VMCS revision identifier", "VMPTRLD_INCORRECT_VMCS_REVISION_ID"],
  [12, "VMREAD/VMWRITE from/to unsupported VMCS component", "UNSUPPORTED_VMCS_COMPONENT"],
  [13, "VMWRITE to read-only VMCS component", "VMWRITE_READ_ONLY_VMCS_COMPONENT"],
  [15, "VMXON executed in VMX root operation", "VMXON_IN_VMX_ROOT_OPERATION"],
  [16, "VM entry with invalid executive-VMCS pointer", "VM_ENTRY_INVALID_EXECUTIVE_VMCS_POINTER"],
  [17, "VM entry with non-launched executive VMCS", "VM_ENTRY_NON_LAUNCHED_EXECUTIVE_VMCS"],
  [18, "VM entry with executive-VMCS pointer not VMXON pointer", "VM_ENTRY_EXECUTIVE_VMCS_POINTER_NOT_VMXON_POINTER"],
  [19, "VMCALL with non-clear VMCS", "VMCALL_NON_CLEAR_VMCS"],
  [20, "VMCALL with invalid VM-exit control fields", "VMCALL_INVALID_VM_EXIT_CONTROL_FIELDS"],
  [22, "VMCALL with incorrect MSEG revision identifier", "VMCALL_INCORRECT_MSEG_REVISION_ID"],
  [23, "VMXOFF under dual-monitor treatment of SMIs and SMM", "VMXOFF_UNDER_DUAL_MONITOR_TREATMENT"],
  [24, "VMCALL with invalid SMM-monitor features", "VMCALL_INVALID_SMM_MONITOR_FEATURES"],
  [25, "VM entry with invalid VM-execution control fields in executive VMCS", "VM_ENTRY_INVALID_EXECUTION_CONTROLS_IN_EXECUTIVE_VMCS"],
  [26, "VM entry with events blocked by MOV SS", "VM_ENTRY_EVENTS_BLOCKED_BY_MOV_SS"],
  [28, "Invalid operand to INVEPT/INVVPID", "INVALID_OPERAND_TO_INVEPT_INVVPID"],
];

describe("VM-instruction error numbers (SDM Table 30-1, vmx.md §2)", () => {
  it.each(TABLE_30_1)("error %i: %s", (n, text, name) => {
    expect(VmInstructionError[name]).toBe(n);
    // The SDM text may carry a parenthesised context ("when attempting to ... SMM"); the description starts
    // with the table's wording.
    expect(vmInstructionErrorText(n)?.startsWith(text)).toBe(true);
    expect(isReservedVmInstructionError(n)).toBe(false);
  });

  it("has exactly the numbers of the table: 1-28 without the reserved 14, 21 and 27", () => {
    const numbers = Object.values(VmInstructionError).sort((a, b) => a - b);
    expect(numbers).toEqual(TABLE_30_1.map(([n]) => n));
    for (const n of [14, 21, 27]) {
      expect(isReservedVmInstructionError(n)).toBe(true);
      expect(vmInstructionErrorText(n)).toBeUndefined();
    }
  });

  it("names nothing outside 1-28 (vmx.md: no number above 28 in Bochs, kvm-unit-tests or Xen)", () => {
    for (const n of [0, 29, 64, -1, 1.5]) expect(vmInstructionErrorText(n)).toBeUndefined();
  });
});
