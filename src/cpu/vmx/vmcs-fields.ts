/**
 * The VMCS fields the model supports and their 32-bit encodings (SDM Vol. 3C 24.11.2 "VMREAD, VMWRITE,
 * and Encodings of VMCS Fields", Table 24-21; Appendix B "Field Encoding in VMCS", Tables B-1 .. B-15).
 * The encodings agree with shared/reference/vmx.md §3c (Bochs vmx.h, kvm-unit-tests vmx.h, Linux vmx.h).
 *
 * An encoding is: bit 0 access type (1 = the HIGH half of a 64-bit field), bits 9:1 index, bits 11:10 type
 * (0 control, 1 read-only data, 2 guest state, 3 host state), bit 12 reserved, bits 14:13 width (0 16-bit,
 * 1 64-bit, 2 32-bit, 3 natural width), bits 31:15 reserved. VMREAD/VMWRITE with a reserved bit set, with
 * the HIGH access type on a field that is not 64-bit, or with an encoding not in this table fail with
 * VM-instruction error 12 (vmcs.ts).
 *
 * The host is 32-bit and so are the guests: a natural-width field holds 32 bits here (Appendix B: natural
 * width is 32 bits on processors without Intel 64 architecture). 64-bit fields keep both halves.
 *
 * Which fields exist depends on the processor (Appendix B's footnotes: "This field exists only on processors
 * that support the 1-setting of ..."). Each row names the VMX feature that gates it; `supportedFields`
 * selects the rows for a feature set, and `highestIndex` gives what IA32_VMX_VMCS_ENUM[9:1] reports
 * (SDM Appendix A.9).
 *
 * Leaves out (the model implements neither the features nor their fields): PML address and index,
 * VM-function controls and the EPTP list, VMREAD/VMWRITE bitmaps (VMCS shadowing), #VE information,
 * XSS-exiting and ENCLS-exiting bitmaps, SPPTP, TSC multiplier, PAUSE-loop exiting gap/window,
 * IA32_PERF_GLOBAL_CTRL, IA32_BNDCFGS, IA32_RTIT_CTL, IA32_PKRS, CET state, EPTP index, and every field
 * of the IA-32e-only world (FS/GS bases are kept: they exist in 32-bit operation too). The executive-VMCS
 * pointer exists on every VMX processor and is kept as storage; the dual-monitor treatment of SMIs that
 * uses it is not modelled.
 */

/** Field width, bits 14:13 of an encoding (SDM 24.11.2). */
export const VmcsWidth = { BITS16: 0, BITS64: 1, BITS32: 2, NATURAL: 3 } as const;
/** Field type, bits 11:10 of an encoding (SDM 24.11.2). */
export const VmcsType = { CONTROL: 0, READ_ONLY: 1, GUEST: 2, HOST: 3 } as const;

/** Bits that must be 0 in an encoding: bit 12 and bits 31:15 (SDM Table 24-21). */
export const VMCS_ENCODING_RESERVED_MASK = 0xffff9000;

/** Every supported field encoding by the SDM's name (Appendix B); a 64-bit field also has `_HIGH`. */
export const VmcsField = {
  // Table B-1: 16-bit control fields.
  VPID: 0x0000,
  POSTED_INTERRUPT_NOTIFICATION_VECTOR: 0x0002,
  // Table B-2: 16-bit guest-state fields.
  GUEST_ES_SELECTOR: 0x0800,
  GUEST_CS_SELECTOR: 0x0802,
  GUEST_SS_SELECTOR: 0x0804,
  GUEST_DS_SELECTOR: 0x0806,
  GUEST_FS_SELECTOR: 0x0808,
  GUEST_GS_SELECTOR: 0x080a,
  GUEST_LDTR_SELECTOR: 0x080c,
  GUEST_TR_SELECTOR: 0x080e,
  GUEST_INTERRUPT_STATUS: 0x0810,
  // Table B-3: 16-bit host-state fields.
  HOST_ES_SELECTOR: 0x0c00,
  HOST_CS_SELECTOR: 0x0c02,
  HOST_SS_SELECTOR: 0x0c04,
  HOST_DS_SELECTOR: 0x0c06,
  HOST_FS_SELECTOR: 0x0c08,
  HOST_GS_SELECTOR: 0x0c0a,
  HOST_TR_SELECTOR: 0x0c0c,
  // Table B-4: 64-bit control fields.
  IO_BITMAP_A: 0x2000,
  IO_BITMAP_A_HIGH: 0x2001,
  IO_BITMAP_B: 0x2002,
  IO_BITMAP_B_HIGH: 0x2003,
  MSR_BITMAPS: 0x2004,
  MSR_BITMAPS_HIGH: 0x2005,
  VM_EXIT_MSR_STORE_ADDRESS: 0x2006,
  VM_EXIT_MSR_STORE_ADDRESS_HIGH: 0x2007,
  VM_EXIT_MSR_LOAD_ADDRESS: 0x2008,
  VM_EXIT_MSR_LOAD_ADDRESS_HIGH: 0x2009,
  VM_ENTRY_MSR_LOAD_ADDRESS: 0x200a,
  VM_ENTRY_MSR_LOAD_ADDRESS_HIGH: 0x200b,
  EXECUTIVE_VMCS_POINTER: 0x200c,
  EXECUTIVE_VMCS_POINTER_HIGH: 0x200d,
  TSC_OFFSET: 0x2010,
  TSC_OFFSET_HIGH: 0x2011,
  VIRTUAL_APIC_ADDRESS: 0x2012,
  VIRTUAL_APIC_ADDRESS_HIGH: 0x2013,
  APIC_ACCESS_ADDRESS: 0x2014,
  APIC_ACCESS_ADDRESS_HIGH: 0x2015,
  POSTED_INTERRUPT_DESCRIPTOR_ADDRESS: 0x2016,
  POSTED_INTERRUPT_DESCRIPTOR_ADDRESS_HIGH: 0x2017,
  EPT_POINTER: 0x201a,
  EPT_POINTER_HIGH: 0x201b,
  EOI_EXIT_BITMAP_0: 0x201c,
  EOI_EXIT_BITMAP_0_HIGH: 0x201d,
  EOI_EXIT_BITMAP_1: 0x201e,
  EOI_EXIT_BITMAP_1_HIGH: 0x201f,
  EOI_EXIT_BITMAP_2: 0x2020,
  EOI_EXIT_BITMAP_2_HIGH: 0x2021,
  EOI_EXIT_BITMAP_3: 0x2022,
  EOI_EXIT_BITMAP_3_HIGH: 0x2023,
  // Table B-5: 64-bit read-only data field.
  GUEST_PHYSICAL_ADDRESS: 0x2400,
  GUEST_PHYSICAL_ADDRESS_HIGH: 0x2401,
  // Table B-6: 64-bit guest-state fields.
  VMCS_LINK_POINTER: 0x2800,
  VMCS_LINK_POINTER_HIGH: 0x2801,
  GUEST_IA32_DEBUGCTL: 0x2802,
  GUEST_IA32_DEBUGCTL_HIGH: 0x2803,
  GUEST_IA32_PAT: 0x2804,
  GUEST_IA32_PAT_HIGH: 0x2805,
  GUEST_IA32_EFER: 0x2806,
  GUEST_IA32_EFER_HIGH: 0x2807,
  GUEST_PDPTE0: 0x280a,
  GUEST_PDPTE0_HIGH: 0x280b,
  GUEST_PDPTE1: 0x280c,
  GUEST_PDPTE1_HIGH: 0x280d,
  GUEST_PDPTE2: 0x280e,
  GUEST_PDPTE2_HIGH: 0x280f,
  GUEST_PDPTE3: 0x2810,
  GUEST_PDPTE3_HIGH: 0x2811,
  // Table B-7: 64-bit host-state fields.
  HOST_IA32_PAT: 0x2c00,
  HOST_IA32_PAT_HIGH: 0x2c01,
  HOST_IA32_EFER: 0x2c02,
  HOST_IA32_EFER_HIGH: 0x2c03,
  // Table B-8: 32-bit control fields.
  PIN_BASED_VM_EXECUTION_CONTROLS: 0x4000,
  PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS: 0x4002,
  EXCEPTION_BITMAP: 0x4004,
  PAGE_FAULT_ERROR_CODE_MASK: 0x4006,
  PAGE_FAULT_ERROR_CODE_MATCH: 0x4008,
  CR3_TARGET_COUNT: 0x400a,
  VM_EXIT_CONTROLS: 0x400c,
  VM_EXIT_MSR_STORE_COUNT: 0x400e,
  VM_EXIT_MSR_LOAD_COUNT: 0x4010,
  VM_ENTRY_CONTROLS: 0x4012,
  VM_ENTRY_MSR_LOAD_COUNT: 0x4014,
  VM_ENTRY_INTERRUPTION_INFORMATION: 0x4016,
  VM_ENTRY_EXCEPTION_ERROR_CODE: 0x4018,
  VM_ENTRY_INSTRUCTION_LENGTH: 0x401a,
  TPR_THRESHOLD: 0x401c,
  SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS: 0x401e,
  // Table B-9: 32-bit read-only data fields.
  VM_INSTRUCTION_ERROR: 0x4400,
  EXIT_REASON: 0x4402,
  VM_EXIT_INTERRUPTION_INFORMATION: 0x4404,
  VM_EXIT_INTERRUPTION_ERROR_CODE: 0x4406,
  IDT_VECTORING_INFORMATION: 0x4408,
  IDT_VECTORING_ERROR_CODE: 0x440a,
  VM_EXIT_INSTRUCTION_LENGTH: 0x440c,
  VM_EXIT_INSTRUCTION_INFORMATION: 0x440e,
  // Table B-10: 32-bit guest-state fields.
  GUEST_ES_LIMIT: 0x4800,
  GUEST_CS_LIMIT: 0x4802,
  GUEST_SS_LIMIT: 0x4804,
  GUEST_DS_LIMIT: 0x4806,
  GUEST_FS_LIMIT: 0x4808,
  GUEST_GS_LIMIT: 0x480a,
  GUEST_LDTR_LIMIT: 0x480c,
  GUEST_TR_LIMIT: 0x480e,
  GUEST_GDTR_LIMIT: 0x4810,
  GUEST_IDTR_LIMIT: 0x4812,
  GUEST_ES_ACCESS_RIGHTS: 0x4814,
  GUEST_CS_ACCESS_RIGHTS: 0x4816,
  GUEST_SS_ACCESS_RIGHTS: 0x4818,
  GUEST_DS_ACCESS_RIGHTS: 0x481a,
  GUEST_FS_ACCESS_RIGHTS: 0x481c,
  GUEST_GS_ACCESS_RIGHTS: 0x481e,
  GUEST_LDTR_ACCESS_RIGHTS: 0x4820,
  GUEST_TR_ACCESS_RIGHTS: 0x4822,
  GUEST_INTERRUPTIBILITY_STATE: 0x4824,
  GUEST_ACTIVITY_STATE: 0x4826,
  GUEST_SMBASE: 0x4828,
  GUEST_IA32_SYSENTER_CS: 0x482a,
  VMX_PREEMPTION_TIMER_VALUE: 0x482e,
  // Table B-11: 32-bit host-state field.
  HOST_IA32_SYSENTER_CS: 0x4c00,
  // Table B-12: natural-width control fields.
  CR0_GUEST_HOST_MASK: 0x6000,
  CR4_GUEST_HOST_MASK: 0x6002,
  CR0_READ_SHADOW: 0x6004,
  CR4_READ_SHADOW: 0x6006,
  CR3_TARGET_VALUE_0: 0x6008,
  CR3_TARGET_VALUE_1: 0x600a,
  CR3_TARGET_VALUE_2: 0x600c,
  CR3_TARGET_VALUE_3: 0x600e,
  // Table B-13: natural-width read-only data fields.
  EXIT_QUALIFICATION: 0x6400,
  IO_RCX: 0x6402,
  IO_RSI: 0x6404,
  IO_RDI: 0x6406,
  IO_RIP: 0x6408,
  GUEST_LINEAR_ADDRESS: 0x640a,
  // Table B-14: natural-width guest-state fields.
  GUEST_CR0: 0x6800,
  GUEST_CR3: 0x6802,
  GUEST_CR4: 0x6804,
  GUEST_ES_BASE: 0x6806,
  GUEST_CS_BASE: 0x6808,
  GUEST_SS_BASE: 0x680a,
  GUEST_DS_BASE: 0x680c,
  GUEST_FS_BASE: 0x680e,
  GUEST_GS_BASE: 0x6810,
  GUEST_LDTR_BASE: 0x6812,
  GUEST_TR_BASE: 0x6814,
  GUEST_GDTR_BASE: 0x6816,
  GUEST_IDTR_BASE: 0x6818,
  GUEST_DR7: 0x681a,
  GUEST_RSP: 0x681c,
  GUEST_RIP: 0x681e,
  GUEST_RFLAGS: 0x6820,
  GUEST_PENDING_DEBUG_EXCEPTIONS: 0x6822,
  GUEST_IA32_SYSENTER_ESP: 0x6824,
  GUEST_IA32_SYSENTER_EIP: 0x6826,
  // Table B-15: natural-width host-state fields.
  HOST_CR0: 0x6c00,
  HOST_CR3: 0x6c02,
  HOST_CR4: 0x6c04,
  HOST_FS_BASE: 0x6c06,
  HOST_GS_BASE: 0x6c08,
  HOST_TR_BASE: 0x6c0a,
  HOST_GDTR_BASE: 0x6c0c,
  HOST_IDTR_BASE: 0x6c0e,
  HOST_IA32_SYSENTER_ESP: 0x6c10,
  HOST_IA32_SYSENTER_EIP: 0x6c12,
  HOST_RSP: 0x6c14,
  HOST_RIP: 0x6c16,
} as const;

export type VmcsFieldName = keyof typeof VmcsField;
type FullName = Exclude<VmcsFieldName, `${string}_HIGH`>;

/** Declared width and type (written out per row, then checked against the encoding's bits by the tests). */
export type FieldWidth = "16" | "32" | "64" | "natural";
export type FieldType = "control" | "read-only" | "guest" | "host";

/**
 * The VMX feature whose 1-setting makes a field exist (Appendix B footnotes). Rows without one exist on
 * every VMX processor. "pat" and "efer" stand for any of the load/save IA32_PAT (IA32_EFER) controls.
 */
export type VmcsFeature =
  | "vpid"
  | "posted-interrupts"
  | "virtual-interrupt-delivery"
  | "ept"
  | "tpr-shadow"
  | "apic-access"
  | "secondary-controls"
  | "pat"
  | "efer"
  | "preemption-timer";

export const ALL_VMCS_FEATURES: readonly VmcsFeature[] = [
  "vpid", "posted-interrupts", "virtual-interrupt-delivery", "ept", "tpr-shadow", "apic-access",
  "secondary-controls", "pat", "efer", "preemption-timer",
];

export interface VmcsFieldInfo {
  /** The constant's name in VmcsField (the FULL encoding for a 64-bit field). */
  readonly name: FullName;
  /** The SDM's name of the field (Appendix B). */
  readonly sdmName: string;
  /** The FULL (or only) encoding. */
  readonly encoding: number;
  /** The HIGH encoding of a 64-bit field (encoding | 1), else undefined. */
  readonly highEncoding: number | undefined;
  readonly width: FieldWidth;
  readonly type: FieldType;
  /** The feature the field depends on, or undefined when every VMX processor has it. */
  readonly requires: VmcsFeature | undefined;
}

function row(name: FullName, width: FieldWidth, type: FieldType, sdmName: string, requires?: VmcsFeature): VmcsFieldInfo {
  const high = width === "64" ? (VmcsField as Record<string, number>)[`${name}_HIGH`] : undefined;
  return { name, sdmName, encoding: VmcsField[name], highEncoding: high, width, type, requires };
}

/** The table, in the order of Appendix B. */
export const VMCS_FIELDS: readonly VmcsFieldInfo[] = [
  row("VPID", "16", "control", "Virtual-processor identifier (VPID)", "vpid"),
  row("POSTED_INTERRUPT_NOTIFICATION_VECTOR", "16", "control", "Posted-interrupt notification vector", "posted-interrupts"),
  row("GUEST_ES_SELECTOR", "16", "guest", "Guest ES selector"),
  row("GUEST_CS_SELECTOR", "16", "guest", "Guest CS selector"),
  row("GUEST_SS_SELECTOR", "16", "guest", "Guest SS selector"),
  row("GUEST_DS_SELECTOR", "16", "guest", "Guest DS selector"),
  row("GUEST_FS_SELECTOR", "16", "guest", "Guest FS selector"),
  row("GUEST_GS_SELECTOR", "16", "guest", "Guest GS selector"),
  row("GUEST_LDTR_SELECTOR", "16", "guest", "Guest LDTR selector"),
  row("GUEST_TR_SELECTOR", "16", "guest", "Guest TR selector"),
  row("GUEST_INTERRUPT_STATUS", "16", "guest", "Guest interrupt status", "virtual-interrupt-delivery"),
  row("HOST_ES_SELECTOR", "16", "host", "Host ES selector"),
  row("HOST_CS_SELECTOR", "16", "host", "Host CS selector"),
  row("HOST_SS_SELECTOR", "16", "host", "Host SS selector"),
  row("HOST_DS_SELECTOR", "16", "host", "Host DS selector"),
  row("HOST_FS_SELECTOR", "16", "host", "Host FS selector"),
  row("HOST_GS_SELECTOR", "16", "host", "Host GS selector"),
  row("HOST_TR_SELECTOR", "16", "host", "Host TR selector"),
  row("IO_BITMAP_A", "64", "control", "Address of I/O bitmap A"),
  row("IO_BITMAP_B", "64", "control", "Address of I/O bitmap B"),
  row("MSR_BITMAPS", "64", "control", "Address of MSR bitmaps"),
  row("VM_EXIT_MSR_STORE_ADDRESS", "64", "control", "VM-exit MSR-store address"),
  row("VM_EXIT_MSR_LOAD_ADDRESS", "64", "control", "VM-exit MSR-load address"),
  row("VM_ENTRY_MSR_LOAD_ADDRESS", "64", "control", "VM-entry MSR-load address"),
  row("EXECUTIVE_VMCS_POINTER", "64", "control", "Executive-VMCS pointer"),
  row("TSC_OFFSET", "64", "control", "TSC offset"),
  row("VIRTUAL_APIC_ADDRESS", "64", "control", "Virtual-APIC address", "tpr-shadow"),
  row("APIC_ACCESS_ADDRESS", "64", "control", "APIC-access address", "apic-access"),
  row("POSTED_INTERRUPT_DESCRIPTOR_ADDRESS", "64", "control", "Posted-interrupt descriptor address", "posted-interrupts"),
  row("EPT_POINTER", "64", "control", "EPT pointer (EPTP)", "ept"),
  row("EOI_EXIT_BITMAP_0", "64", "control", "EOI-exit bitmap 0", "virtual-interrupt-delivery"),
  row("EOI_EXIT_BITMAP_1", "64", "control", "EOI-exit bitmap 1", "virtual-interrupt-delivery"),
  row("EOI_EXIT_BITMAP_2", "64", "control", "EOI-exit bitmap 2", "virtual-interrupt-delivery"),
  row("EOI_EXIT_BITMAP_3", "64", "control", "EOI-exit bitmap 3", "virtual-interrupt-delivery"),
  row("GUEST_PHYSICAL_ADDRESS", "64", "read-only", "Guest-physical address", "ept"),
  row("VMCS_LINK_POINTER", "64", "guest", "VMCS link pointer"),
  row("GUEST_IA32_DEBUGCTL", "64", "guest", "Guest IA32_DEBUGCTL"),
  row("GUEST_IA32_PAT", "64", "guest", "Guest IA32_PAT", "pat"),
  row("GUEST_IA32_EFER", "64", "guest", "Guest IA32_EFER", "efer"),
  row("GUEST_PDPTE0", "64", "guest", "Guest PDPTE0", "ept"),
  row("GUEST_PDPTE1", "64", "guest", "Guest PDPTE1", "ept"),
  row("GUEST_PDPTE2", "64", "guest", "Guest PDPTE2", "ept"),
  row("GUEST_PDPTE3", "64", "guest", "Guest PDPTE3", "ept"),
  row("HOST_IA32_PAT", "64", "host", "Host IA32_PAT", "pat"),
  row("HOST_IA32_EFER", "64", "host", "Host IA32_EFER", "efer"),
  row("PIN_BASED_VM_EXECUTION_CONTROLS", "32", "control", "Pin-based VM-execution controls"),
  row("PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS", "32", "control", "Primary processor-based VM-execution controls"),
  row("EXCEPTION_BITMAP", "32", "control", "Exception bitmap"),
  row("PAGE_FAULT_ERROR_CODE_MASK", "32", "control", "Page-fault error-code mask"),
  row("PAGE_FAULT_ERROR_CODE_MATCH", "32", "control", "Page-fault error-code match"),
  row("CR3_TARGET_COUNT", "32", "control", "CR3-target count"),
  row("VM_EXIT_CONTROLS", "32", "control", "VM-exit controls"),
  row("VM_EXIT_MSR_STORE_COUNT", "32", "control", "VM-exit MSR-store count"),
  row("VM_EXIT_MSR_LOAD_COUNT", "32", "control", "VM-exit MSR-load count"),
  row("VM_ENTRY_CONTROLS", "32", "control", "VM-entry controls"),
  row("VM_ENTRY_MSR_LOAD_COUNT", "32", "control", "VM-entry MSR-load count"),
  row("VM_ENTRY_INTERRUPTION_INFORMATION", "32", "control", "VM-entry interruption-information field"),
  row("VM_ENTRY_EXCEPTION_ERROR_CODE", "32", "control", "VM-entry exception error code"),
  row("VM_ENTRY_INSTRUCTION_LENGTH", "32", "control", "VM-entry instruction length"),
  row("TPR_THRESHOLD", "32", "control", "TPR threshold", "tpr-shadow"),
  row("SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS", "32", "control", "Secondary processor-based VM-execution controls", "secondary-controls"),
  row("VM_INSTRUCTION_ERROR", "32", "read-only", "VM-instruction error"),
  row("EXIT_REASON", "32", "read-only", "Exit reason"),
  row("VM_EXIT_INTERRUPTION_INFORMATION", "32", "read-only", "VM-exit interruption information"),
  row("VM_EXIT_INTERRUPTION_ERROR_CODE", "32", "read-only", "VM-exit interruption error code"),
  row("IDT_VECTORING_INFORMATION", "32", "read-only", "IDT-vectoring information field"),
  row("IDT_VECTORING_ERROR_CODE", "32", "read-only", "IDT-vectoring error code"),
  row("VM_EXIT_INSTRUCTION_LENGTH", "32", "read-only", "VM-exit instruction length"),
  row("VM_EXIT_INSTRUCTION_INFORMATION", "32", "read-only", "VM-exit instruction information"),
  row("GUEST_ES_LIMIT", "32", "guest", "Guest ES limit"),
  row("GUEST_CS_LIMIT", "32", "guest", "Guest CS limit"),
  row("GUEST_SS_LIMIT", "32", "guest", "Guest SS limit"),
  row("GUEST_DS_LIMIT", "32", "guest", "Guest DS limit"),
  row("GUEST_FS_LIMIT", "32", "guest", "Guest FS limit"),
  row("GUEST_GS_LIMIT", "32", "guest", "Guest GS limit"),
  row("GUEST_LDTR_LIMIT", "32", "guest", "Guest LDTR limit"),
  row("GUEST_TR_LIMIT", "32", "guest", "Guest TR limit"),
  row("GUEST_GDTR_LIMIT", "32", "guest", "Guest GDTR limit"),
  row("GUEST_IDTR_LIMIT", "32", "guest", "Guest IDTR limit"),
  row("GUEST_ES_ACCESS_RIGHTS", "32", "guest", "Guest ES access rights"),
  row("GUEST_CS_ACCESS_RIGHTS", "32", "guest", "Guest CS access rights"),
  row("GUEST_SS_ACCESS_RIGHTS", "32", "guest", "Guest SS access rights"),
  row("GUEST_DS_ACCESS_RIGHTS", "32", "guest", "Guest DS access rights"),
  row("GUEST_FS_ACCESS_RIGHTS", "32", "guest", "Guest FS access rights"),
  row("GUEST_GS_ACCESS_RIGHTS", "32", "guest", "Guest GS access rights"),
  row("GUEST_LDTR_ACCESS_RIGHTS", "32", "guest", "Guest LDTR access rights"),
  row("GUEST_TR_ACCESS_RIGHTS", "32", "guest", "Guest TR access rights"),
  row("GUEST_INTERRUPTIBILITY_STATE", "32", "guest", "Guest interruptibility state"),
  row("GUEST_ACTIVITY_STATE", "32", "guest", "Guest activity state"),
  row("GUEST_SMBASE", "32", "guest", "Guest SMBASE"),
  row("GUEST_IA32_SYSENTER_CS", "32", "guest", "Guest IA32_SYSENTER_CS"),
  row("VMX_PREEMPTION_TIMER_VALUE", "32", "guest", "VMX-preemption timer value", "preemption-timer"),
  row("HOST_IA32_SYSENTER_CS", "32", "host", "Host IA32_SYSENTER_CS"),
  row("CR0_GUEST_HOST_MASK", "natural", "control", "CR0 guest/host mask"),
  row("CR4_GUEST_HOST_MASK", "natural", "control", "CR4 guest/host mask"),
  row("CR0_READ_SHADOW", "natural", "control", "CR0 read shadow"),
  row("CR4_READ_SHADOW", "natural", "control", "CR4 read shadow"),
  row("CR3_TARGET_VALUE_0", "natural", "control", "CR3-target value 0"),
  row("CR3_TARGET_VALUE_1", "natural", "control", "CR3-target value 1"),
  row("CR3_TARGET_VALUE_2", "natural", "control", "CR3-target value 2"),
  row("CR3_TARGET_VALUE_3", "natural", "control", "CR3-target value 3"),
  row("EXIT_QUALIFICATION", "natural", "read-only", "Exit qualification"),
  row("IO_RCX", "natural", "read-only", "I/O RCX"),
  row("IO_RSI", "natural", "read-only", "I/O RSI"),
  row("IO_RDI", "natural", "read-only", "I/O RDI"),
  row("IO_RIP", "natural", "read-only", "I/O RIP"),
  row("GUEST_LINEAR_ADDRESS", "natural", "read-only", "Guest-linear address"),
  row("GUEST_CR0", "natural", "guest", "Guest CR0"),
  row("GUEST_CR3", "natural", "guest", "Guest CR3"),
  row("GUEST_CR4", "natural", "guest", "Guest CR4"),
  row("GUEST_ES_BASE", "natural", "guest", "Guest ES base"),
  row("GUEST_CS_BASE", "natural", "guest", "Guest CS base"),
  row("GUEST_SS_BASE", "natural", "guest", "Guest SS base"),
  row("GUEST_DS_BASE", "natural", "guest", "Guest DS base"),
  row("GUEST_FS_BASE", "natural", "guest", "Guest FS base"),
  row("GUEST_GS_BASE", "natural", "guest", "Guest GS base"),
  row("GUEST_LDTR_BASE", "natural", "guest", "Guest LDTR base"),
  row("GUEST_TR_BASE", "natural", "guest", "Guest TR base"),
  row("GUEST_GDTR_BASE", "natural", "guest", "Guest GDTR base"),
  row("GUEST_IDTR_BASE", "natural", "guest", "Guest IDTR base"),
  row("GUEST_DR7", "natural", "guest", "Guest DR7"),
  row("GUEST_RSP", "natural", "guest", "Guest RSP"),
  row("GUEST_RIP", "natural", "guest", "Guest RIP"),
  row("GUEST_RFLAGS", "natural", "guest", "Guest RFLAGS"),
  row("GUEST_PENDING_DEBUG_EXCEPTIONS", "natural", "guest", "Guest pending debug exceptions"),
  row("GUEST_IA32_SYSENTER_ESP", "natural", "guest", "Guest IA32_SYSENTER_ESP"),
  row("GUEST_IA32_SYSENTER_EIP", "natural", "guest", "Guest IA32_SYSENTER_EIP"),
  row("HOST_CR0", "natural", "host", "Host CR0"),
  row("HOST_CR3", "natural", "host", "Host CR3"),
  row("HOST_CR4", "natural", "host", "Host CR4"),
  row("HOST_FS_BASE", "natural", "host", "Host FS base"),
  row("HOST_GS_BASE", "natural", "host", "Host GS base"),
  row("HOST_TR_BASE", "natural", "host", "Host TR base"),
  row("HOST_GDTR_BASE", "natural", "host", "Host GDTR base"),
  row("HOST_IDTR_BASE", "natural", "host", "Host IDTR base"),
  row("HOST_IA32_SYSENTER_ESP", "natural", "host", "Host IA32_SYSENTER_ESP"),
  row("HOST_IA32_SYSENTER_EIP", "natural", "host", "Host IA32_SYSENTER_EIP"),
  row("HOST_RSP", "natural", "host", "Host RSP"),
  row("HOST_RIP", "natural", "host", "Host RIP"),
];

// ---- Encoding helpers (SDM 24.11.2, Table 24-21) ----

export interface DecodedEncoding {
  /** Bit 0: 1 = HIGH access (bits 63:32 of a 64-bit field). */
  readonly high: boolean;
  /** Bits 9:1. */
  readonly index: number;
  /** Bits 11:10, a VmcsType value. */
  readonly type: number;
  /** Bits 14:13, a VmcsWidth value. */
  readonly width: number;
  /** Bit 12 or any of bits 31:15 set. */
  readonly reserved: boolean;
}

export function decodeEncoding(encoding: number): DecodedEncoding {
  const e = encoding >>> 0;
  return {
    high: (e & 1) !== 0,
    index: (e >>> 1) & 0x1ff,
    type: (e >>> 10) & 3,
    width: (e >>> 13) & 3,
    reserved: (e & VMCS_ENCODING_RESERVED_MASK) !== 0,
  };
}

export function makeEncoding(width: number, type: number, index: number, high = false): number {
  return ((width & 3) << 13) | ((type & 3) << 10) | ((index & 0x1ff) << 1) | (high ? 1 : 0);
}

/** The width code (VmcsWidth) of a declared width. */
export function widthCode(w: FieldWidth): number {
  return w === "16" ? VmcsWidth.BITS16 : w === "64" ? VmcsWidth.BITS64 : w === "32" ? VmcsWidth.BITS32 : VmcsWidth.NATURAL;
}

/** The type code (VmcsType) of a declared type. */
export function typeCode(t: FieldType): number {
  return t === "control" ? VmcsType.CONTROL : t === "read-only" ? VmcsType.READ_ONLY : t === "guest" ? VmcsType.GUEST : VmcsType.HOST;
}

// ---- Lookup ----

/** Encodings below this bound (bits 14:0) are the only ones that can name a field. */
const ENCODING_SPACE = 0x8000;
/** encoding -> 1 + row index in VMCS_FIELDS (0 = no such field); HIGH encodings point at their row. */
const BY_ENCODING = new Int16Array(ENCODING_SPACE);
for (let i = 0; i < VMCS_FIELDS.length; i++) {
  const f = VMCS_FIELDS[i];
  BY_ENCODING[f.encoding] = i + 1;
  if (f.highEncoding !== undefined) BY_ENCODING[f.highEncoding] = i + 1;
}

/** The table row an encoding (FULL or HIGH) names, or undefined (reserved bits, unknown, HIGH of a non-64-bit field). */
export function fieldByEncoding(encoding: number): VmcsFieldInfo | undefined {
  const e = encoding >>> 0;
  if (e >= ENCODING_SPACE || e !== encoding || (e & VMCS_ENCODING_RESERVED_MASK) !== 0) return undefined;
  const i = BY_ENCODING[e];
  return i === 0 ? undefined : VMCS_FIELDS[i - 1];
}

/** The rows that exist on a processor with these features (Appendix B footnotes). */
export function supportedFields(features: Iterable<VmcsFeature>): VmcsFieldInfo[] {
  const have = new Set(features);
  return VMCS_FIELDS.filter((f) => f.requires === undefined || have.has(f.requires));
}

/**
 * The highest index (bits 9:1) among these fields' encodings: IA32_VMX_VMCS_ENUM bits 9:1 (SDM A.9).
 * The MSR's value is this index shifted left by 1.
 */
export function highestIndex(fields: readonly VmcsFieldInfo[]): number {
  let max = 0;
  for (const f of fields) max = Math.max(max, decodeEncoding(f.encoding).index);
  return max;
}
