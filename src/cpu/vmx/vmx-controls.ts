/**
 * The VMX control words: bit names of the pin-based VM-execution controls (SDM Vol. 3C 24.6.1, Table
 * 24-5), the primary and secondary processor-based VM-execution controls (24.6.2, Tables 24-6 and 24-7),
 * the VM-exit controls (24.7.1, Table 24-10) and the VM-entry controls (24.8.1, Table 24-12), as plain
 * numeric constants named after the SDM (no const enum: imported members would be run-time loads under
 * tsx), and the "default1" classes of SDM Appendix A.2: the reserved bits that the first VMX processors
 * supported only as 1 and that the plain (non-TRUE) capability MSRs always report as must-be-1
 * (A.3.1 pin-based 1, 2, 4; A.3.2 primary 1, 4-6, 8, 13-16, 26; A.4 exit 0-8, 10, 11, 13, 14, 16, 17;
 * A.5 entry 0-8, 12; the secondary controls have none, A.3.3).
 *
 * Bit 31 is written 0x80000000 (a positive number): every mask here is an unsigned 32-bit value, and the
 * helpers return `>>> 0` results, so masks compare with === .
 *
 * Leaves out: the tertiary processor-based controls (primary bit 17, newer SDMs), the VM-function
 * controls (Table 24-9) and secondary bits above 25 (user wait/pause, ENCLV): no generation the model
 * reports has them. Which bits the model allows is vmx-capabilities.ts's business, not this file's.
 */

/** The five control words that have capability MSRs (SDM Appendix A.3-A.5). */
export type ControlKind = "pin" | "proc" | "proc2" | "exit" | "entry";

export const CONTROL_KINDS: readonly ControlKind[] = ["pin", "proc", "proc2", "exit", "entry"];

// ---- Pin-based VM-execution controls (SDM 24.6.1, Table 24-5) ----
export const PIN_EXTERNAL_INTERRUPT_EXITING = 1 << 0;
export const PIN_NMI_EXITING = 1 << 3;
export const PIN_VIRTUAL_NMIS = 1 << 5;
export const PIN_ACTIVATE_PREEMPTION_TIMER = 1 << 6;
export const PIN_PROCESS_POSTED_INTERRUPTS = 1 << 7;

// ---- Primary processor-based VM-execution controls (SDM 24.6.2, Table 24-6) ----
export const PROC_INTERRUPT_WINDOW_EXITING = 1 << 2;
export const PROC_USE_TSC_OFFSETTING = 1 << 3;
export const PROC_HLT_EXITING = 1 << 7;
export const PROC_INVLPG_EXITING = 1 << 9;
export const PROC_MWAIT_EXITING = 1 << 10;
export const PROC_RDPMC_EXITING = 1 << 11;
export const PROC_RDTSC_EXITING = 1 << 12;
export const PROC_CR3_LOAD_EXITING = 1 << 15;
export const PROC_CR3_STORE_EXITING = 1 << 16;
export const PROC_CR8_LOAD_EXITING = 1 << 19;
export const PROC_CR8_STORE_EXITING = 1 << 20;
export const PROC_USE_TPR_SHADOW = 1 << 21;
export const PROC_NMI_WINDOW_EXITING = 1 << 22;
export const PROC_MOV_DR_EXITING = 1 << 23;
export const PROC_UNCONDITIONAL_IO_EXITING = 1 << 24;
export const PROC_USE_IO_BITMAPS = 1 << 25;
export const PROC_MONITOR_TRAP_FLAG = 1 << 27;
export const PROC_USE_MSR_BITMAPS = 1 << 28;
export const PROC_MONITOR_EXITING = 1 << 29;
export const PROC_PAUSE_EXITING = 1 << 30;
export const PROC_ACTIVATE_SECONDARY_CONTROLS = 0x80000000;

// ---- Secondary processor-based VM-execution controls (SDM 24.6.2, Table 24-7) ----
export const PROC2_VIRTUALIZE_APIC_ACCESSES = 1 << 0;
export const PROC2_ENABLE_EPT = 1 << 1;
export const PROC2_DESCRIPTOR_TABLE_EXITING = 1 << 2;
export const PROC2_ENABLE_RDTSCP = 1 << 3;
export const PROC2_VIRTUALIZE_X2APIC_MODE = 1 << 4;
export const PROC2_ENABLE_VPID = 1 << 5;
export const PROC2_WBINVD_EXITING = 1 << 6;
export const PROC2_UNRESTRICTED_GUEST = 1 << 7;
export const PROC2_APIC_REGISTER_VIRTUALIZATION = 1 << 8;
export const PROC2_VIRTUAL_INTERRUPT_DELIVERY = 1 << 9;
export const PROC2_PAUSE_LOOP_EXITING = 1 << 10;
export const PROC2_RDRAND_EXITING = 1 << 11;
export const PROC2_ENABLE_INVPCID = 1 << 12;
export const PROC2_ENABLE_VM_FUNCTIONS = 1 << 13;
export const PROC2_VMCS_SHADOWING = 1 << 14;
export const PROC2_ENABLE_ENCLS_EXITING = 1 << 15;
export const PROC2_RDSEED_EXITING = 1 << 16;
export const PROC2_ENABLE_PML = 1 << 17;
export const PROC2_EPT_VIOLATION_VE = 1 << 18;
export const PROC2_CONCEAL_VMX_FROM_PT = 1 << 19;
export const PROC2_ENABLE_XSAVES_XRSTORS = 1 << 20;
export const PROC2_MODE_BASED_EXECUTE_CONTROL = 1 << 22;
export const PROC2_SUBPAGE_WRITE_PERMISSIONS = 1 << 23;
export const PROC2_PT_USES_GUEST_PHYSICAL_ADDRESSES = 1 << 24;
export const PROC2_USE_TSC_SCALING = 1 << 25;

// ---- VM-exit controls (SDM 24.7.1, Table 24-10) ----
export const EXIT_SAVE_DEBUG_CONTROLS = 1 << 2;
export const EXIT_HOST_ADDRESS_SPACE_SIZE = 1 << 9;
export const EXIT_LOAD_IA32_PERF_GLOBAL_CTRL = 1 << 12;
export const EXIT_ACKNOWLEDGE_INTERRUPT_ON_EXIT = 1 << 15;
export const EXIT_SAVE_IA32_PAT = 1 << 18;
export const EXIT_LOAD_IA32_PAT = 1 << 19;
export const EXIT_SAVE_IA32_EFER = 1 << 20;
export const EXIT_LOAD_IA32_EFER = 1 << 21;
export const EXIT_SAVE_PREEMPTION_TIMER_VALUE = 1 << 22;
export const EXIT_CLEAR_IA32_BNDCFGS = 1 << 23;
export const EXIT_CONCEAL_VMX_FROM_PT = 1 << 24;

// ---- VM-entry controls (SDM 24.8.1, Table 24-12) ----
export const ENTRY_LOAD_DEBUG_CONTROLS = 1 << 2;
export const ENTRY_IA32E_MODE_GUEST = 1 << 9;
export const ENTRY_TO_SMM = 1 << 10;
export const ENTRY_DEACTIVATE_DUAL_MONITOR_TREATMENT = 1 << 11;
export const ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL = 1 << 13;
export const ENTRY_LOAD_IA32_PAT = 1 << 14;
export const ENTRY_LOAD_IA32_EFER = 1 << 15;
export const ENTRY_LOAD_IA32_BNDCFGS = 1 << 16;
export const ENTRY_CONCEAL_VMX_FROM_PT = 1 << 17;

/** A mask with the given bit positions set, as an unsigned 32-bit value. */
function bits(...positions: number[]): number {
  let m = 0;
  for (const p of positions) m |= 1 << p;
  return m >>> 0;
}

// ---- The default1 classes (SDM Appendix A.2; the bit lists of A.3.1, A.3.2, A.4, A.5) ----
/** Pin-based bits 1, 2, 4 (A.3.1) = 0x16. */
export const PIN_DEFAULT1 = bits(1, 2, 4);
/** Primary processor-based bits 1, 4-6, 8, 13-16, 26 (A.3.2) = 0x0401E172. */
export const PROC_DEFAULT1 = bits(1, 4, 5, 6, 8, 13, 14, 15, 16, 26);
/** Secondary processor-based controls: none; every reserved bit is reserved to 0 (A.3.3). */
export const PROC2_DEFAULT1 = 0;
/** VM-exit bits 0-8, 10, 11, 13, 14, 16, 17 (A.4) = 0x00036DFF. */
export const EXIT_DEFAULT1 = bits(0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 13, 14, 16, 17);
/** VM-entry bits 0-8 and 12 (A.5) = 0x000011FF. */
export const ENTRY_DEFAULT1 = bits(0, 1, 2, 3, 4, 5, 6, 7, 8, 12);

export const DEFAULT1: Readonly<Record<ControlKind, number>> = Object.freeze({
  pin: PIN_DEFAULT1,
  proc: PROC_DEFAULT1,
  proc2: PROC2_DEFAULT1,
  exit: EXIT_DEFAULT1,
  entry: ENTRY_DEFAULT1,
});

/** The SDM's name of each defined bit, per control word (for error messages and reports). */
export const CONTROL_BIT_NAMES: Readonly<Record<ControlKind, Readonly<Record<number, string>>>> = Object.freeze({
  pin: {
    0: "external-interrupt exiting", 3: "NMI exiting", 5: "virtual NMIs", 6: "activate VMX-preemption timer",
    7: "process posted interrupts",
  },
  proc: {
    2: "interrupt-window exiting", 3: "use TSC offsetting", 7: "HLT exiting", 9: "INVLPG exiting",
    10: "MWAIT exiting", 11: "RDPMC exiting", 12: "RDTSC exiting", 15: "CR3-load exiting",
    16: "CR3-store exiting", 19: "CR8-load exiting", 20: "CR8-store exiting", 21: "use TPR shadow",
    22: "NMI-window exiting", 23: "MOV-DR exiting", 24: "unconditional I/O exiting", 25: "use I/O bitmaps",
    27: "monitor trap flag", 28: "use MSR bitmaps", 29: "MONITOR exiting", 30: "PAUSE exiting",
    31: "activate secondary controls",
  },
  proc2: {
    0: "virtualize APIC accesses", 1: "enable EPT", 2: "descriptor-table exiting", 3: "enable RDTSCP",
    4: "virtualize x2APIC mode", 5: "enable VPID", 6: "WBINVD exiting", 7: "unrestricted guest",
    8: "APIC-register virtualization", 9: "virtual-interrupt delivery", 10: "PAUSE-loop exiting",
    11: "RDRAND exiting", 12: "enable INVPCID", 13: "enable VM functions", 14: "VMCS shadowing",
    15: "enable ENCLS exiting", 16: "RDSEED exiting", 17: "enable PML", 18: "EPT-violation #VE",
    19: "conceal VMX from PT", 20: "enable XSAVES/XRSTORS", 22: "mode-based execute control for EPT",
    23: "sub-page write permissions for EPT", 24: "Intel PT uses guest physical addresses",
    25: "use TSC scaling",
  },
  exit: {
    2: "save debug controls", 9: "host address-space size", 12: "load IA32_PERF_GLOBAL_CTRL",
    15: "acknowledge interrupt on exit", 18: "save IA32_PAT", 19: "load IA32_PAT", 20: "save IA32_EFER",
    21: "load IA32_EFER", 22: "save VMX-preemption timer value", 23: "clear IA32_BNDCFGS",
    24: "conceal VMX from PT",
  },
  entry: {
    2: "load debug controls", 9: "IA-32e mode guest", 10: "entry to SMM",
    11: "deactivate dual-monitor treatment", 13: "load IA32_PERF_GLOBAL_CTRL", 14: "load IA32_PAT",
    15: "load IA32_EFER", 16: "load IA32_BNDCFGS", 17: "conceal VMX from PT",
  },
});

/** The SDM names of the bits set in `mask` of control word `kind`, lowest bit first; a bit with no
 * defined control is "reserved bit N" (default1 or reserved-to-0, SDM Appendix A.2). */
export function controlBitNames(kind: ControlKind, mask: number): string[] {
  const names = CONTROL_BIT_NAMES[kind];
  const out: string[] = [];
  for (let b = 0; b < 32; b++) {
    if (((mask >>> b) & 1) === 0) continue;
    out.push(names[b] ?? `reserved bit ${b}`);
  }
  return out;
}
