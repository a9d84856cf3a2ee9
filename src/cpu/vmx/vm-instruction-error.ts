/**
 * VM-instruction error numbers: what VMfailValid(n) writes into the VM-instruction error field
 * (SDM Vol. 3C 30.4, Table 30-1; shared/reference/vmx.md §2, which also gives the names Bochs, kvm-unit-tests
 * and Xen use for 16-28). Numbers 14, 21 and 27 are reserved; nothing above 28 is defined here.
 *
 * The flag convention that goes with them (SDM 30.2): VMsucceed clears CF, PF, AF, ZF, SF and OF;
 * VMfailInvalid sets CF only and writes no error; VMfailValid(n) sets ZF only and writes n. VMfail(n) is
 * VMfailValid(n) when the current-VMCS pointer is valid, else VMfailInvalid. The instructions that apply
 * these rules live with the VMX instructions, not here.
 *
 * Leaves out: the SMM dual-monitor treatment that errors 16-20 and 22-25 describe is not modelled, so the
 * model never produces those numbers; they are listed so a VMREAD of the field can be named.
 */

export const VmInstructionError = {
  VMCALL_IN_VMX_ROOT_OPERATION: 1,
  VMCLEAR_INVALID_PHYSICAL_ADDRESS: 2,
  VMCLEAR_WITH_VMXON_POINTER: 3,
  VMLAUNCH_NON_CLEAR_VMCS: 4,
  VMRESUME_NON_LAUNCHED_VMCS: 5,
  VMRESUME_AFTER_VMXOFF: 6,
  VM_ENTRY_INVALID_CONTROL_FIELDS: 7,
  VM_ENTRY_INVALID_HOST_STATE_FIELDS: 8,
  VMPTRLD_INVALID_PHYSICAL_ADDRESS: 9,
  VMPTRLD_WITH_VMXON_POINTER: 10,
  VMPTRLD_INCORRECT_VMCS_REVISION_ID: 11,
  UNSUPPORTED_VMCS_COMPONENT: 12,
  VMWRITE_READ_ONLY_VMCS_COMPONENT: 13,
  VMXON_IN_VMX_ROOT_OPERATION: 15,
  VM_ENTRY_INVALID_EXECUTIVE_VMCS_POINTER: 16,
  VM_ENTRY_NON_LAUNCHED_EXECUTIVE_VMCS: 17,
  VM_ENTRY_EXECUTIVE_VMCS_POINTER_NOT_VMXON_POINTER: 18,
  VMCALL_NON_CLEAR_VMCS: 19,
  VMCALL_INVALID_VM_EXIT_CONTROL_FIELDS: 20,
  VMCALL_INCORRECT_MSEG_REVISION_ID: 22,
  VMXOFF_UNDER_DUAL_MONITOR_TREATMENT: 23,
  VMCALL_INVALID_SMM_MONITOR_FEATURES: 24,
  VM_ENTRY_INVALID_EXECUTION_CONTROLS_IN_EXECUTIVE_VMCS: 25,
  VM_ENTRY_EVENTS_BLOCKED_BY_MOV_SS: 26,
  INVALID_OPERAND_TO_INVEPT_INVVPID: 28,
} as const;

export type VmInstructionErrorNumber = (typeof VmInstructionError)[keyof typeof VmInstructionError];

/** Table 30-1's descriptions, indexed by error number (undefined: 0, and the reserved 14, 21, 27). */
const DESCRIPTIONS: Readonly<Record<number, string>> = {
  1: "VMCALL executed in VMX root operation",
  2: "VMCLEAR with invalid physical address",
  3: "VMCLEAR with VMXON pointer",
  4: "VMLAUNCH with non-clear VMCS",
  5: "VMRESUME with non-launched VMCS",
  6: "VMRESUME after VMXOFF (VMXOFF and VMXON between VMLAUNCH and VMRESUME)",
  7: "VM entry with invalid control field(s)",
  8: "VM entry with invalid host-state field(s)",
  9: "VMPTRLD with invalid physical address",
  10: "VMPTRLD with VMXON pointer",
  11: "VMPTRLD with incorrect VMCS revision identifier",
  12: "VMREAD/VMWRITE from/to unsupported VMCS component",
  13: "VMWRITE to read-only VMCS component",
  15: "VMXON executed in VMX root operation",
  16: "VM entry with invalid executive-VMCS pointer",
  17: "VM entry with non-launched executive VMCS",
  18: "VM entry with executive-VMCS pointer not VMXON pointer (when attempting to deactivate the dual-monitor treatment of SMIs and SMM)",
  19: "VMCALL with non-clear VMCS (when attempting to activate the dual-monitor treatment of SMIs and SMM)",
  20: "VMCALL with invalid VM-exit control fields",
  22: "VMCALL with incorrect MSEG revision identifier (when attempting to activate the dual-monitor treatment of SMIs and SMM)",
  23: "VMXOFF under dual-monitor treatment of SMIs and SMM",
  24: "VMCALL with invalid SMM-monitor features (when attempting to activate the dual-monitor treatment of SMIs and SMM)",
  25: "VM entry with invalid VM-execution control fields in executive VMCS (when attempting to return from SMM)",
  26: "VM entry with events blocked by MOV SS",
  28: "Invalid operand to INVEPT/INVVPID",
};

/** The SDM's description of error n, or undefined for 0, a reserved number or one beyond the table. */
export function vmInstructionErrorText(n: number): string | undefined {
  return Object.hasOwn(DESCRIPTIONS, n) ? DESCRIPTIONS[n] : undefined;
}

/** True for the numbers Table 30-1 marks reserved (14, 21, 27). */
export function isReservedVmInstructionError(n: number): boolean {
  return n === 14 || n === 21 || n === 27;
}
