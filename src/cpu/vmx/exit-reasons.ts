/**
 * Basic VM-exit reasons 0-64 and the layout of the exit-reason field (SDM Vol. 3C Appendix C "VMX Basic Exit
 * Reasons", Table C-1; 27.2.1 for the field; shared/reference/vmx.md §3b, which checks the numbers against
 * Bochs vmx.h and kvm-unit-tests vmx.h).
 *
 * The field: bits 15:0 the basic exit reason; bit 27 enclave mode, 28 pending MTF VM exit, 29 VM exit from
 * VMX root operation (the last two for SMM); bit 31 set when VM entry failed (reasons 33, 34 and 41 then;
 * SDM 26.8). Every other bit is cleared by a VM exit.
 *
 * Leaves out: the reasons above 64 (PCONFIG and later); 35, 38 and 42 are unused numbers in Table C-1.
 * Many of these reasons are never produced by the model (SMIs, GETSEC, SGX, XSAVES ...); the table is
 * complete so a VMREAD of the field can always be named.
 */

export const ExitReason = {
  EXCEPTION_OR_NMI: 0,
  EXTERNAL_INTERRUPT: 1,
  TRIPLE_FAULT: 2,
  INIT_SIGNAL: 3,
  SIPI: 4,
  IO_SMI: 5,
  OTHER_SMI: 6,
  INTERRUPT_WINDOW: 7,
  NMI_WINDOW: 8,
  TASK_SWITCH: 9,
  CPUID: 10,
  GETSEC: 11,
  HLT: 12,
  INVD: 13,
  INVLPG: 14,
  RDPMC: 15,
  RDTSC: 16,
  RSM: 17,
  VMCALL: 18,
  VMCLEAR: 19,
  VMLAUNCH: 20,
  VMPTRLD: 21,
  VMPTRST: 22,
  VMREAD: 23,
  VMRESUME: 24,
  VMWRITE: 25,
  VMXOFF: 26,
  VMXON: 27,
  CONTROL_REGISTER_ACCESS: 28,
  MOV_DR: 29,
  IO_INSTRUCTION: 30,
  RDMSR: 31,
  WRMSR: 32,
  VM_ENTRY_FAILURE_INVALID_GUEST_STATE: 33,
  VM_ENTRY_FAILURE_MSR_LOADING: 34,
  MWAIT: 36,
  MONITOR_TRAP_FLAG: 37,
  MONITOR: 39,
  PAUSE: 40,
  VM_ENTRY_FAILURE_MACHINE_CHECK: 41,
  TPR_BELOW_THRESHOLD: 43,
  APIC_ACCESS: 44,
  VIRTUALIZED_EOI: 45,
  GDTR_IDTR_ACCESS: 46,
  LDTR_TR_ACCESS: 47,
  EPT_VIOLATION: 48,
  EPT_MISCONFIGURATION: 49,
  INVEPT: 50,
  RDTSCP: 51,
  VMX_PREEMPTION_TIMER_EXPIRED: 52,
  INVVPID: 53,
  WBINVD: 54,
  XSETBV: 55,
  APIC_WRITE: 56,
  RDRAND: 57,
  INVPCID: 58,
  VMFUNC: 59,
  ENCLS: 60,
  RDSEED: 61,
  PML_FULL: 62,
  XSAVES: 63,
  XRSTORS: 64,
} as const;

export type ExitReasonName = keyof typeof ExitReason;
export type BasicExitReason = (typeof ExitReason)[ExitReasonName];

/** The SDM's heading of each basic exit reason in Table C-1 (index = number; undefined = unused). */
const DESCRIPTIONS: readonly (string | undefined)[] = [
  "Exception or non-maskable interrupt (NMI)",
  "External interrupt",
  "Triple fault",
  "INIT signal",
  "Start-up IPI (SIPI)",
  "I/O system-management interrupt (SMI)",
  "Other SMI",
  "Interrupt window",
  "NMI window",
  "Task switch",
  "CPUID",
  "GETSEC",
  "HLT",
  "INVD",
  "INVLPG",
  "RDPMC",
  "RDTSC",
  "RSM",
  "VMCALL",
  "VMCLEAR",
  "VMLAUNCH",
  "VMPTRLD",
  "VMPTRST",
  "VMREAD",
  "VMRESUME",
  "VMWRITE",
  "VMXOFF",
  "VMXON",
  "Control-register accesses",
  "MOV DR",
  "I/O instruction",
  "RDMSR",
  "WRMSR",
  "VM-entry failure due to invalid guest state",
  "VM-entry failure due to MSR loading",
  undefined,
  "MWAIT",
  "Monitor trap flag",
  undefined,
  "MONITOR",
  "PAUSE",
  "VM-entry failure due to machine-check event",
  undefined,
  "TPR below threshold",
  "APIC access",
  "Virtualized EOI",
  "Access to GDTR or IDTR",
  "Access to LDTR or TR",
  "EPT violation",
  "EPT misconfiguration",
  "INVEPT",
  "RDTSCP",
  "VMX-preemption timer expired",
  "INVVPID",
  "WBINVD or WBNOINVD",
  "XSETBV",
  "APIC write",
  "RDRAND",
  "INVPCID",
  "VMFUNC",
  "ENCLS",
  "RDSEED",
  "Page-modification log full",
  "XSAVES",
  "XRSTORS",
];

/** The constant names by number, built once from ExitReason. */
const NAMES: (ExitReasonName | undefined)[] = [];
for (const [name, n] of Object.entries(ExitReason)) NAMES[n] = name as ExitReasonName;

/** Bit 31 of the exit-reason field: VM entry failed (SDM 26.8). */
export const EXIT_REASON_ENTRY_FAILURE = 0x80000000;
/** Bit 27: the exit came from enclave mode. */
export const EXIT_REASON_ENCLAVE_MODE = 1 << 27;
/** Bit 28: a pending MTF VM exit (SMM VM exits only). */
export const EXIT_REASON_PENDING_MTF = 1 << 28;
/** Bit 29: the VM exit came from VMX root operation (SMM VM exits only). */
export const EXIT_REASON_FROM_VMX_ROOT = 1 << 29;

/** Bits 15:0 of an exit-reason field value. */
export function basicExitReason(field: number): number {
  return field & 0xffff;
}

export function isVmEntryFailure(field: number): boolean {
  return (field & EXIT_REASON_ENTRY_FAILURE) !== 0;
}

/** The exit-reason field for a VM-entry failure with this basic reason (33, 34 or 41). */
export function vmEntryFailureReason(basic: number): number {
  return ((basic & 0xffff) | EXIT_REASON_ENTRY_FAILURE) >>> 0;
}

/** The ExitReason constant name of a basic reason, or undefined for an unused or unknown number. */
export function exitReasonName(basic: number): ExitReasonName | undefined {
  return Number.isInteger(basic) && basic >= 0 ? NAMES[basic] : undefined;
}

/** The SDM's heading of a basic reason (Table C-1), or undefined. */
export function exitReasonDescription(basic: number): string | undefined {
  return Number.isInteger(basic) && basic >= 0 ? DESCRIPTIONS[basic] : undefined;
}
