/**
 * Basic VM-exit reasons and the exit-reason field.
 *
 * References (not our code): SDM Vol. 3C Appendix C Table C-1 (headings, from the SDM pages at
 * xem.github.io/minix86 ...-1961 .. -1963 and Vol. 3B Appendix I), shared/reference/vmx.md §3b (numbers
 * 0-64 from Bochs vmx.h VMX_vmexit_reason and kvm-unit-tests vmx.h enum Reason) and its exit-reason field
 * layout table (bits 15:0 basic reason, 27 enclave, 28 pending MTF, 29 from VMX root, 31 VM-entry failure
 * = 0x80000000); SDM 26.8 (a failed VM entry sets bit 31 with reason 33, 34 or 41).
 */
import { describe, expect, it } from "vitest";
import {
  EXIT_REASON_ENCLAVE_MODE,
  EXIT_REASON_ENTRY_FAILURE,
  EXIT_REASON_FROM_VMX_ROOT,
  EXIT_REASON_PENDING_MTF,
  ExitReason,
  basicExitReason,
  exitReasonDescription,
  exitReasonName,
  isVmEntryFailure,
  vmEntryFailureReason,
} from "../../../src/cpu/vmx/exit-reasons.ts";

/** vmx.md §3b / Appendix C: [number, heading, our constant]. */
const TABLE_C_1: [number, string, keyof typeof ExitReason][] = [
  [0, "Exception or non-maskable interrupt (NMI)", "EXCEPTION_OR_NMI"],
  [1, "External interrupt", "EXTERNAL_INTERRUPT"],
  [2, "Triple fault", "TRIPLE_FAULT"],
  [3, "INIT signal", "INIT_SIGNAL"],
  [4, "Start-up IPI (SIPI)", "SIPI"],
  [5, "I/O system-management interrupt (SMI)", "IO_SMI"],
  [6, "Other SMI", "OTHER_SMI"],
  [7, "Interrupt window", "INTERRUPT_WINDOW"],
  [8, "NMI window", "NMI_WINDOW"],
  [9, "Task switch", "TASK_SWITCH"],
  [10, "CPUID", "CPUID"],
  [11, "GETSEC", "GETSEC"],
  [12, "HLT", "HLT"],
  [13, "INVD", "INVD"],
  [14, "INVLPG", "INVLPG"],
  [15, "RDPMC", "RDPMC"],
  [16, "RDTSC", "RDTSC"],
  [17, "RSM", "RSM"],
  [18, "VMCALL", "VMCALL"],
  [19, "VMCLEAR", "VMCLEAR"],
  [20, "VMLAUNCH", "VMLAUNCH"],
  [21, "VMPTRLD", "VMPTRLD"],
  [22, "VMPTRST", "VMPTRST"],
  [23, "VMREAD", "VMREAD"],
  [24, "VMRESUME", "VMRESUME"],
  [25, "VMWRITE", "VMWRITE"],
  [26, "VMXOFF", "VMXOFF"],
  [27, "VMXON", "VMXON"],
  [28, "Control-register accesses", "CONTROL_REGISTER_ACCESS"],
  [29, "MOV DR", "MOV_DR"],
  [30, "I/O instruction", "IO_INSTRUCTION"],
  [31, "RDMSR", "RDMSR"],
  [32, "WRMSR", "WRMSR"],
  [33, "VM-entry failure due to invalid guest state", "VM_ENTRY_FAILURE_INVALID_GUEST_STATE"],
  [34, "VM-entry failure due to MSR loading", "VM_ENTRY_FAILURE_MSR_LOADING"],
  [36, "MWAIT", "MWAIT"],
  [37, "Monitor trap flag", "MONITOR_TRAP_FLAG"],
  [39, "MONITOR", "MONITOR"],
  [40, "PAUSE", "PAUSE"],
  [41, "VM-entry failure due to machine-check event", "VM_ENTRY_FAILURE_MACHINE_CHECK"],
  [43, "TPR below threshold", "TPR_BELOW_THRESHOLD"],
  [44, "APIC access", "APIC_ACCESS"],
  [45, "Virtualized EOI", "VIRTUALIZED_EOI"],
  [46, "Access to GDTR or IDTR", "GDTR_IDTR_ACCESS"],
  [47, "Access to LDTR or TR", "LDTR_TR_ACCESS"],
  [48, "EPT violation", "EPT_VIOLATION"],
  [49, "EPT misconfiguration", "EPT_MISCONFIGURATION"],
  [50, "INVEPT", "INVEPT"],
  [51, "RDTSCP", "RDTSCP"],
  [52, "VMX-preemption timer expired", "VMX_PREEMPTION_TIMER_EXPIRED"],
  [53, "INVVPID", "INVVPID"],
  [54, "WBINVD", "WBINVD"],
  [55, "XSETBV", "XSETBV"],
  [56, "APIC write", "APIC_WRITE"],
  [57, "RDRAND", "RDRAND"],
  [58, "INVPCID", "INVPCID"],
  [59, "VMFUNC", "VMFUNC"],
  [60, "ENCLS", "ENCLS"],
  [61, "RDSEED", "RDSEED"],
  [62, "Page-modification log full", "PML_FULL"],
  [63, "XSAVES", "XSAVES"],
  [64, "XRSTORS", "XRSTORS"],
];

describe("basic exit reasons (SDM Appendix C, vmx.md §3b)", () => {
  it.each(TABLE_C_1)("%i: %s", (n, heading, name) => {
    expect(ExitReason[name]).toBe(n);
    expect(exitReasonName(n)).toBe(name);
    // Newer SDMs extend a few headings ("WBINVD or WBNOINVD"); the table's wording is the start.
    expect(exitReasonDescription(n)?.startsWith(heading)).toBe(true);
  });

  it("covers 0-64 except the unused 35, 38 and 42, and nothing else", () => {
    const numbers = Object.values(ExitReason).sort((a, b) => a - b);
    expect(numbers).toEqual(TABLE_C_1.map(([n]) => n));
    for (const n of [35, 38, 42, 65, -1, 2.5]) {
      expect(exitReasonName(n)).toBeUndefined();
      expect(exitReasonDescription(n)).toBeUndefined();
    }
  });

  it("has the numbers the issue and vmx.md §3a name for the VMX instructions in non-root operation", () => {
    // vmx.md §3a: VMXON/VMCLEAR/VMPTRLD/VMREAD/VMWRITE/VMPTRST/INVEPT/INVVPID/VMXOFF/VMLAUNCH/VMRESUME
    // exit with 27/19/21/23/25/22/50/53/26/20/24; VMCALL with 18.
    expect([
      ExitReason.VMXON, ExitReason.VMCLEAR, ExitReason.VMPTRLD, ExitReason.VMREAD, ExitReason.VMWRITE,
      ExitReason.VMPTRST, ExitReason.INVEPT, ExitReason.INVVPID, ExitReason.VMXOFF, ExitReason.VMLAUNCH,
      ExitReason.VMRESUME, ExitReason.VMCALL,
    ]).toEqual([27, 19, 21, 23, 25, 22, 50, 53, 26, 20, 24, 18]);
  });
});

describe("the exit-reason field (vmx.md §3b layout, SDM 26.8 / 27.2.1)", () => {
  it("puts the VM-entry failure flag in bit 31 (0x80000000) and the SMM/enclave flags in 27-29", () => {
    expect(EXIT_REASON_ENTRY_FAILURE >>> 0).toBe(0x80000000);
    expect(EXIT_REASON_ENCLAVE_MODE).toBe(0x08000000);
    expect(EXIT_REASON_PENDING_MTF).toBe(0x10000000);
    expect(EXIT_REASON_FROM_VMX_ROOT).toBe(0x20000000);
  });

  it.each([
    [ExitReason.VM_ENTRY_FAILURE_INVALID_GUEST_STATE, 0x80000021],
    [ExitReason.VM_ENTRY_FAILURE_MSR_LOADING, 0x80000022],
    [ExitReason.VM_ENTRY_FAILURE_MACHINE_CHECK, 0x80000029],
  ])("a VM-entry failure with reason %i reads back as %i", (basic, field) => {
    // kvm-unit-tests guest-state checks expect exit reason 33 | 0x80000000.
    expect(vmEntryFailureReason(basic)).toBe(field);
    expect(isVmEntryFailure(field)).toBe(true);
    expect(basicExitReason(field)).toBe(basic);
  });

  it("keeps bits 15:0 as the basic reason whatever the flags", () => {
    const field = (EXIT_REASON_FROM_VMX_ROOT | EXIT_REASON_PENDING_MTF | ExitReason.EPT_VIOLATION) >>> 0;
    expect(basicExitReason(field)).toBe(48);
    expect(isVmEntryFailure(field)).toBe(false);
    expect(isVmEntryFailure(ExitReason.CPUID)).toBe(false);
  });
});
