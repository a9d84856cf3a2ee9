/**
 * The VMCS field table and its encoding helpers.
 *
 * References (not our code):
 * - shared/reference/vmx.md §3c "VMCS field encodings (main fields)" (Bochs vmx.h; kvm-unit-tests vmx.h and
 *   Linux arch/x86/include/asm/vmx.h agree), and its "Encoding bits" table (reserved mask 0xFFFF9000);
 * - SDM Vol. 3C Appendix B, Tables B-1 .. B-15 (field names and encodings, transcribed below from the SDM
 *   pages at xem.github.io/minix86 ...-1951 .. -1959 and the older Vol. 3B Appendix H), with its footnotes
 *   "This field exists only on processors that support the 1-setting of ...";
 * - SDM Vol. 3C 24.11.2, Table 24-21 (bit 0 access type, 9:1 index, 11:10 type, 12 reserved, 14:13 width,
 *   31:15 reserved);
 * - kvm-unit-tests test_vmx_caps: IA32_VMX_VMCS_ENUM's highest index must be at least 0x15 (raw >= 0x2a).
 */
import { describe, expect, it } from "vitest";
import {
  ALL_VMCS_FEATURES,
  VMCS_ENCODING_RESERVED_MASK,
  VMCS_FIELDS,
  VmcsField,
  VmcsType,
  VmcsWidth,
  decodeEncoding,
  fieldByEncoding,
  highestIndex,
  makeEncoding,
  supportedFields,
  typeCode,
  widthCode,
} from "../../../src/cpu/vmx/vmcs-fields.ts";

/** vmx.md §3c, row by row: [what the reference calls it, encoding, our constant]. */
const VMX_MD_3C: [string, number, keyof typeof VmcsField][] = [
  ["VPID", 0x0000, "VPID"],
  ["posted-interrupt notification vector", 0x0002, "POSTED_INTERRUPT_NOTIFICATION_VECTOR"],
  ["guest interrupt status (RVI/SVI)", 0x0810, "GUEST_INTERRUPT_STATUS"],
  ["I/O bitmap A (full)", 0x2000, "IO_BITMAP_A"],
  ["I/O bitmap A (high)", 0x2001, "IO_BITMAP_A_HIGH"],
  ["I/O bitmap B", 0x2002, "IO_BITMAP_B"],
  ["MSR bitmap", 0x2004, "MSR_BITMAPS"],
  ["VM-exit MSR-store addr", 0x2006, "VM_EXIT_MSR_STORE_ADDRESS"],
  ["VM-exit MSR-load addr", 0x2008, "VM_EXIT_MSR_LOAD_ADDRESS"],
  ["VM-entry MSR-load addr", 0x200a, "VM_ENTRY_MSR_LOAD_ADDRESS"],
  ["TSC offset", 0x2010, "TSC_OFFSET"],
  ["virtual-APIC page addr", 0x2012, "VIRTUAL_APIC_ADDRESS"],
  ["APIC-access addr", 0x2014, "APIC_ACCESS_ADDRESS"],
  ["posted-interrupt descriptor addr", 0x2016, "POSTED_INTERRUPT_DESCRIPTOR_ADDRESS"],
  ["EPT pointer", 0x201a, "EPT_POINTER"],
  ["EOI-exit bitmap 0", 0x201c, "EOI_EXIT_BITMAP_0"],
  ["EOI-exit bitmap 1", 0x201e, "EOI_EXIT_BITMAP_1"],
  ["EOI-exit bitmap 2", 0x2020, "EOI_EXIT_BITMAP_2"],
  ["EOI-exit bitmap 3", 0x2022, "EOI_EXIT_BITMAP_3"],
  ["guest-physical address (read-only)", 0x2400, "GUEST_PHYSICAL_ADDRESS"],
  ["VMCS link pointer", 0x2800, "VMCS_LINK_POINTER"],
  ["guest IA32_EFER", 0x2806, "GUEST_IA32_EFER"],
  ["CR0 guest-host mask", 0x6000, "CR0_GUEST_HOST_MASK"],
  ["CR4 guest-host mask", 0x6002, "CR4_GUEST_HOST_MASK"],
  ["CR0 read shadow", 0x6004, "CR0_READ_SHADOW"],
  ["CR4 read shadow", 0x6006, "CR4_READ_SHADOW"],
  ["exit qualification (read-only)", 0x6400, "EXIT_QUALIFICATION"],
  ["guest linear address (read-only)", 0x640a, "GUEST_LINEAR_ADDRESS"],
  ["guest CR0", 0x6800, "GUEST_CR0"],
  ["guest CR3", 0x6802, "GUEST_CR3"],
  ["guest CR4", 0x6804, "GUEST_CR4"],
  ["guest CS selector", 0x0802, "GUEST_CS_SELECTOR"],
  ["guest CS limit", 0x4802, "GUEST_CS_LIMIT"],
  ["guest CS AR", 0x4816, "GUEST_CS_ACCESS_RIGHTS"],
  ["guest CS base", 0x6808, "GUEST_CS_BASE"],
  ["host CR0", 0x6c00, "HOST_CR0"],
  ["host CR3", 0x6c02, "HOST_CR3"],
  ["host CR4", 0x6c04, "HOST_CR4"],
  ["host CS selector", 0x0c02, "HOST_CS_SELECTOR"],
  ["pin-based controls", 0x4000, "PIN_BASED_VM_EXECUTION_CONTROLS"],
  ["primary processor-based controls", 0x4002, "PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS"],
  ["exception bitmap", 0x4004, "EXCEPTION_BITMAP"],
  ["CR3-target count", 0x400a, "CR3_TARGET_COUNT"],
  ["VM-exit controls", 0x400c, "VM_EXIT_CONTROLS"],
  ["VM-exit MSR-store count", 0x400e, "VM_EXIT_MSR_STORE_COUNT"],
  ["VM-exit MSR-load count", 0x4010, "VM_EXIT_MSR_LOAD_COUNT"],
  ["VM-entry controls", 0x4012, "VM_ENTRY_CONTROLS"],
  ["VM-entry MSR-load count", 0x4014, "VM_ENTRY_MSR_LOAD_COUNT"],
  ["VM-entry interruption information", 0x4016, "VM_ENTRY_INTERRUPTION_INFORMATION"],
  ["VM-entry exception error code", 0x4018, "VM_ENTRY_EXCEPTION_ERROR_CODE"],
  ["VM-entry instruction length", 0x401a, "VM_ENTRY_INSTRUCTION_LENGTH"],
  ["TPR threshold", 0x401c, "TPR_THRESHOLD"],
  ["secondary processor-based controls", 0x401e, "SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS"],
  ["VM-instruction error (read-only)", 0x4400, "VM_INSTRUCTION_ERROR"],
  ["exit reason (read-only)", 0x4402, "EXIT_REASON"],
  ["VM-exit interruption info", 0x4404, "VM_EXIT_INTERRUPTION_INFORMATION"],
  ["VM-exit interruption error code", 0x4406, "VM_EXIT_INTERRUPTION_ERROR_CODE"],
  ["IDT-vectoring info", 0x4408, "IDT_VECTORING_INFORMATION"],
  ["IDT-vectoring error code", 0x440a, "IDT_VECTORING_ERROR_CODE"],
  ["VM-exit instruction length", 0x440c, "VM_EXIT_INSTRUCTION_LENGTH"],
  ["VM-exit instruction info", 0x440e, "VM_EXIT_INSTRUCTION_INFORMATION"],
  ["guest interruptibility state", 0x4824, "GUEST_INTERRUPTIBILITY_STATE"],
  ["guest activity state", 0x4826, "GUEST_ACTIVITY_STATE"],
  ["VMX-preemption timer value", 0x482e, "VMX_PREEMPTION_TIMER_VALUE"],
  ["guest RSP", 0x681c, "GUEST_RSP"],
  ["guest RIP", 0x681e, "GUEST_RIP"],
  ["guest RFLAGS", 0x6820, "GUEST_RFLAGS"],
  ["host RSP", 0x6c14, "HOST_RSP"],
  ["host RIP", 0x6c16, "HOST_RIP"],
];

/** SDM Appendix B (Tables B-1 .. B-15), full encodings only: [SDM name, encoding, width, type]. */
type W = "16" | "32" | "64" | "natural";
type T = "control" | "read-only" | "guest" | "host";
const APPENDIX_B: [string, number, W, T][] = [
  // B-1
  ["Virtual-processor identifier (VPID)", 0x0000, "16", "control"],
  ["Posted-interrupt notification vector", 0x0002, "16", "control"],
  ["EPTP index", 0x0004, "16", "control"],
  // B-2
  ["Guest ES selector", 0x0800, "16", "guest"],
  ["Guest CS selector", 0x0802, "16", "guest"],
  ["Guest SS selector", 0x0804, "16", "guest"],
  ["Guest DS selector", 0x0806, "16", "guest"],
  ["Guest FS selector", 0x0808, "16", "guest"],
  ["Guest GS selector", 0x080a, "16", "guest"],
  ["Guest LDTR selector", 0x080c, "16", "guest"],
  ["Guest TR selector", 0x080e, "16", "guest"],
  ["Guest interrupt status", 0x0810, "16", "guest"],
  ["PML index", 0x0812, "16", "guest"],
  // B-3
  ["Host ES selector", 0x0c00, "16", "host"],
  ["Host CS selector", 0x0c02, "16", "host"],
  ["Host SS selector", 0x0c04, "16", "host"],
  ["Host DS selector", 0x0c06, "16", "host"],
  ["Host FS selector", 0x0c08, "16", "host"],
  ["Host GS selector", 0x0c0a, "16", "host"],
  ["Host TR selector", 0x0c0c, "16", "host"],
  // B-4
  ["Address of I/O bitmap A", 0x2000, "64", "control"],
  ["Address of I/O bitmap B", 0x2002, "64", "control"],
  ["Address of MSR bitmaps", 0x2004, "64", "control"],
  ["VM-exit MSR-store address", 0x2006, "64", "control"],
  ["VM-exit MSR-load address", 0x2008, "64", "control"],
  ["VM-entry MSR-load address", 0x200a, "64", "control"],
  ["Executive-VMCS pointer", 0x200c, "64", "control"],
  ["PML address", 0x200e, "64", "control"],
  ["TSC offset", 0x2010, "64", "control"],
  ["Virtual-APIC address", 0x2012, "64", "control"],
  ["APIC-access address", 0x2014, "64", "control"],
  ["Posted-interrupt descriptor address", 0x2016, "64", "control"],
  ["VM-function controls", 0x2018, "64", "control"],
  ["EPT pointer (EPTP)", 0x201a, "64", "control"],
  ["EOI-exit bitmap 0", 0x201c, "64", "control"],
  ["EOI-exit bitmap 1", 0x201e, "64", "control"],
  ["EOI-exit bitmap 2", 0x2020, "64", "control"],
  ["EOI-exit bitmap 3", 0x2022, "64", "control"],
  ["EPTP-list address", 0x2024, "64", "control"],
  ["VMREAD-bitmap address", 0x2026, "64", "control"],
  ["VMWRITE-bitmap address", 0x2028, "64", "control"],
  ["Virtualization-exception information address", 0x202a, "64", "control"],
  ["XSS-exiting bitmap", 0x202c, "64", "control"],
  // B-5
  ["Guest-physical address", 0x2400, "64", "read-only"],
  // B-6
  ["VMCS link pointer", 0x2800, "64", "guest"],
  ["Guest IA32_DEBUGCTL", 0x2802, "64", "guest"],
  ["Guest IA32_PAT", 0x2804, "64", "guest"],
  ["Guest IA32_EFER", 0x2806, "64", "guest"],
  ["Guest IA32_PERF_GLOBAL_CTRL", 0x2808, "64", "guest"],
  ["Guest PDPTE0", 0x280a, "64", "guest"],
  ["Guest PDPTE1", 0x280c, "64", "guest"],
  ["Guest PDPTE2", 0x280e, "64", "guest"],
  ["Guest PDPTE3", 0x2810, "64", "guest"],
  // B-7
  ["Host IA32_PAT", 0x2c00, "64", "host"],
  ["Host IA32_EFER", 0x2c02, "64", "host"],
  ["Host IA32_PERF_GLOBAL_CTRL", 0x2c04, "64", "host"],
  // B-8
  ["Pin-based VM-execution controls", 0x4000, "32", "control"],
  ["Primary processor-based VM-execution controls", 0x4002, "32", "control"],
  ["Exception bitmap", 0x4004, "32", "control"],
  ["Page-fault error-code mask", 0x4006, "32", "control"],
  ["Page-fault error-code match", 0x4008, "32", "control"],
  ["CR3-target count", 0x400a, "32", "control"],
  ["VM-exit controls", 0x400c, "32", "control"],
  ["VM-exit MSR-store count", 0x400e, "32", "control"],
  ["VM-exit MSR-load count", 0x4010, "32", "control"],
  ["VM-entry controls", 0x4012, "32", "control"],
  ["VM-entry MSR-load count", 0x4014, "32", "control"],
  ["VM-entry interruption-information field", 0x4016, "32", "control"],
  ["VM-entry exception error code", 0x4018, "32", "control"],
  ["VM-entry instruction length", 0x401a, "32", "control"],
  ["TPR threshold", 0x401c, "32", "control"],
  ["Secondary processor-based VM-execution controls", 0x401e, "32", "control"],
  ["PLE_Gap", 0x4020, "32", "control"],
  ["PLE_Window", 0x4022, "32", "control"],
  // B-9
  ["VM-instruction error", 0x4400, "32", "read-only"],
  ["Exit reason", 0x4402, "32", "read-only"],
  ["VM-exit interruption information", 0x4404, "32", "read-only"],
  ["VM-exit interruption error code", 0x4406, "32", "read-only"],
  ["IDT-vectoring information field", 0x4408, "32", "read-only"],
  ["IDT-vectoring error code", 0x440a, "32", "read-only"],
  ["VM-exit instruction length", 0x440c, "32", "read-only"],
  ["VM-exit instruction information", 0x440e, "32", "read-only"],
  // B-10
  ["Guest ES limit", 0x4800, "32", "guest"],
  ["Guest CS limit", 0x4802, "32", "guest"],
  ["Guest SS limit", 0x4804, "32", "guest"],
  ["Guest DS limit", 0x4806, "32", "guest"],
  ["Guest FS limit", 0x4808, "32", "guest"],
  ["Guest GS limit", 0x480a, "32", "guest"],
  ["Guest LDTR limit", 0x480c, "32", "guest"],
  ["Guest TR limit", 0x480e, "32", "guest"],
  ["Guest GDTR limit", 0x4810, "32", "guest"],
  ["Guest IDTR limit", 0x4812, "32", "guest"],
  ["Guest ES access rights", 0x4814, "32", "guest"],
  ["Guest CS access rights", 0x4816, "32", "guest"],
  ["Guest SS access rights", 0x4818, "32", "guest"],
  ["Guest DS access rights", 0x481a, "32", "guest"],
  ["Guest FS access rights", 0x481c, "32", "guest"],
  ["Guest GS access rights", 0x481e, "32", "guest"],
  ["Guest LDTR access rights", 0x4820, "32", "guest"],
  ["Guest TR access rights", 0x4822, "32", "guest"],
  ["Guest interruptibility state", 0x4824, "32", "guest"],
  ["Guest activity state", 0x4826, "32", "guest"],
  ["Guest SMBASE", 0x4828, "32", "guest"],
  ["Guest IA32_SYSENTER_CS", 0x482a, "32", "guest"],
  ["VMX-preemption timer value", 0x482e, "32", "guest"],
  // B-11
  ["Host IA32_SYSENTER_CS", 0x4c00, "32", "host"],
  // B-12
  ["CR0 guest/host mask", 0x6000, "natural", "control"],
  ["CR4 guest/host mask", 0x6002, "natural", "control"],
  ["CR0 read shadow", 0x6004, "natural", "control"],
  ["CR4 read shadow", 0x6006, "natural", "control"],
  ["CR3-target value 0", 0x6008, "natural", "control"],
  ["CR3-target value 1", 0x600a, "natural", "control"],
  ["CR3-target value 2", 0x600c, "natural", "control"],
  ["CR3-target value 3", 0x600e, "natural", "control"],
  // B-13
  ["Exit qualification", 0x6400, "natural", "read-only"],
  ["I/O RCX", 0x6402, "natural", "read-only"],
  ["I/O RSI", 0x6404, "natural", "read-only"],
  ["I/O RDI", 0x6406, "natural", "read-only"],
  ["I/O RIP", 0x6408, "natural", "read-only"],
  ["Guest-linear address", 0x640a, "natural", "read-only"],
  // B-14
  ["Guest CR0", 0x6800, "natural", "guest"],
  ["Guest CR3", 0x6802, "natural", "guest"],
  ["Guest CR4", 0x6804, "natural", "guest"],
  ["Guest ES base", 0x6806, "natural", "guest"],
  ["Guest CS base", 0x6808, "natural", "guest"],
  ["Guest SS base", 0x680a, "natural", "guest"],
  ["Guest DS base", 0x680c, "natural", "guest"],
  ["Guest FS base", 0x680e, "natural", "guest"],
  ["Guest GS base", 0x6810, "natural", "guest"],
  ["Guest LDTR base", 0x6812, "natural", "guest"],
  ["Guest TR base", 0x6814, "natural", "guest"],
  ["Guest GDTR base", 0x6816, "natural", "guest"],
  ["Guest IDTR base", 0x6818, "natural", "guest"],
  ["Guest DR7", 0x681a, "natural", "guest"],
  ["Guest RSP", 0x681c, "natural", "guest"],
  ["Guest RIP", 0x681e, "natural", "guest"],
  ["Guest RFLAGS", 0x6820, "natural", "guest"],
  ["Guest pending debug exceptions", 0x6822, "natural", "guest"],
  ["Guest IA32_SYSENTER_ESP", 0x6824, "natural", "guest"],
  ["Guest IA32_SYSENTER_EIP", 0x6826, "natural", "guest"],
  // B-15
  ["Host CR0", 0x6c00, "natural", "host"],
  ["Host CR3", 0x6c02, "natural", "host"],
  ["Host CR4", 0x6c04, "natural", "host"],
  ["Host FS base", 0x6c06, "natural", "host"],
  ["Host GS base", 0x6c08, "natural", "host"],
  ["Host TR base", 0x6c0a, "natural", "host"],
  ["Host GDTR base", 0x6c0c, "natural", "host"],
  ["Host IDTR base", 0x6c0e, "natural", "host"],
  ["Host IA32_SYSENTER_ESP", 0x6c10, "natural", "host"],
  ["Host IA32_SYSENTER_EIP", 0x6c12, "natural", "host"],
  ["Host RSP", 0x6c14, "natural", "host"],
  ["Host RIP", 0x6c16, "natural", "host"],
];

/** Appendix B fields the model leaves out (the header of vmcs-fields.ts says why). */
const LEFT_OUT = new Set([
  "EPTP index", "PML index", "PML address", "VM-function controls", "EPTP-list address", "VMREAD-bitmap address",
  "VMWRITE-bitmap address", "Virtualization-exception information address", "XSS-exiting bitmap",
  "Guest IA32_PERF_GLOBAL_CTRL", "Host IA32_PERF_GLOBAL_CTRL", "PLE_Gap", "PLE_Window",
]);

describe("VMCS field encodings against vmx.md §3c", () => {
  it.each(VMX_MD_3C)("%s = %d (decimal)", (_what, enc, name) => {
    expect(VmcsField[name]).toBe(enc);
    expect(fieldByEncoding(enc)).toBeDefined();
  });
});

describe("VMCS field table against SDM Appendix B", () => {
  const byEncoding = new Map(APPENDIX_B.map(([n, e, w, t]) => [e, { n, w, t }]));

  it("has one row per encoding, each named, sized and typed as Appendix B says", () => {
    const seen = new Set<number>();
    for (const f of VMCS_FIELDS) {
      expect(seen.has(f.encoding), f.name).toBe(false);
      seen.add(f.encoding);
      const ref = byEncoding.get(f.encoding);
      expect(ref, `${f.name} 0x${f.encoding.toString(16)} is in Appendix B`).toBeDefined();
      expect(f.sdmName).toBe(ref!.n);
      expect(f.width).toBe(ref!.w);
      expect(f.type).toBe(ref!.t);
    }
  });

  it("supports every Appendix B field except the ones the header lists as left out", () => {
    for (const [name, enc] of APPENDIX_B) {
      if (LEFT_OUT.has(name)) expect(fieldByEncoding(enc), name).toBeUndefined();
      else expect(fieldByEncoding(enc)?.sdmName, name).toBe(name);
    }
    expect(VMCS_FIELDS.length).toBe(APPENDIX_B.length - LEFT_OUT.size);
  });

  it("gives each row an encoding whose bits decode to the declared width and type (SDM 24.11.2)", () => {
    for (const f of VMCS_FIELDS) {
      const d = decodeEncoding(f.encoding);
      expect(d.width, f.name).toBe(widthCode(f.width));
      expect(d.type, f.name).toBe(typeCode(f.type));
      expect(d.high, f.name).toBe(false);
      expect(d.reserved, f.name).toBe(false);
      expect(makeEncoding(d.width, d.type, d.index)).toBe(f.encoding);
    }
  });

  it("has a HIGH encoding (FULL | 1) exactly for the 64-bit fields (Appendix B.2: even FULL, odd HIGH)", () => {
    for (const f of VMCS_FIELDS) {
      if (f.width === "64") {
        expect(f.highEncoding, f.name).toBe(f.encoding | 1);
        expect(decodeEncoding(f.highEncoding!).high).toBe(true);
        expect(fieldByEncoding(f.highEncoding!)).toBe(f);
        expect((VmcsField as Record<string, number>)[`${f.name}_HIGH`]).toBe(f.encoding + 1);
      } else {
        expect(f.highEncoding, f.name).toBeUndefined();
        expect(fieldByEncoding(f.encoding | 1), `${f.name} | 1`).toBeUndefined();
      }
    }
  });

  it("has a VmcsField constant for every row and a row for every constant", () => {
    const fromTable = new Set<number>();
    for (const f of VMCS_FIELDS) {
      fromTable.add(f.encoding);
      if (f.highEncoding !== undefined) fromTable.add(f.highEncoding);
    }
    expect(new Set(Object.values(VmcsField))).toEqual(fromTable);
  });
});

describe("encoding helpers (SDM 24.11.2, Table 24-21)", () => {
  it.each([
    // [encoding, high, index, type, width]
    [0x0000, false, 0, VmcsType.CONTROL, VmcsWidth.BITS16],
    [0x0c0c, false, 6, VmcsType.HOST, VmcsWidth.BITS16],
    [0x2001, true, 0, VmcsType.CONTROL, VmcsWidth.BITS64],
    [0x2401, true, 0, VmcsType.READ_ONLY, VmcsWidth.BITS64],
    [0x4826, false, 0x13, VmcsType.GUEST, VmcsWidth.BITS32],
    [0x681e, false, 0x0f, VmcsType.GUEST, VmcsWidth.NATURAL],
    [0x6c16, false, 0x0b, VmcsType.HOST, VmcsWidth.NATURAL],
  ] as const)("encoding %d decodes as Appendix B lists it", (enc, high, index, type, width) => {
    expect(decodeEncoding(enc)).toEqual({ high, index, type, width, reserved: false });
    expect(makeEncoding(width, type, index, high)).toBe(enc);
  });

  it("uses the reserved mask 0xFFFF9000 of vmx.md (bit 12 and bits 31:15)", () => {
    expect(VMCS_ENCODING_RESERVED_MASK >>> 0).toBe(0xffff9000);
    let bits = 0;
    for (let b = 0; b < 32; b++) if (b === 12 || b >= 15) bits |= 1 << b;
    expect(VMCS_ENCODING_RESERVED_MASK >>> 0).toBe(bits >>> 0);
  });

  it.each([
    ["bit 12", 0x681e | 0x1000],
    ["bit 15", 0x681e | 0x8000],
    ["bit 31", (0x681e | 0x80000000) >>> 0],
    ["all ones (kvm-unit-tests VMREAD(~0))", 0xffffffff],
  ])("a reserved bit (%s) makes an encoding name no field", (_what, enc) => {
    expect(decodeEncoding(enc).reserved).toBe(true);
    expect(fieldByEncoding(enc)).toBeUndefined();
  });

  it("rejects values that are not 32-bit unsigned integers", () => {
    expect(fieldByEncoding(-1)).toBeUndefined();
    expect(fieldByEncoding(0x681e + 0.5)).toBeUndefined();
  });
});

describe("feature-gated fields (Appendix B footnotes) and IA32_VMX_VMCS_ENUM (SDM A.9)", () => {
  it.each([
    ["vpid", VmcsField.VPID],
    ["posted-interrupts", VmcsField.POSTED_INTERRUPT_NOTIFICATION_VECTOR],
    ["posted-interrupts", VmcsField.POSTED_INTERRUPT_DESCRIPTOR_ADDRESS],
    ["virtual-interrupt-delivery", VmcsField.GUEST_INTERRUPT_STATUS],
    ["virtual-interrupt-delivery", VmcsField.EOI_EXIT_BITMAP_3],
    ["ept", VmcsField.EPT_POINTER],
    ["ept", VmcsField.GUEST_PHYSICAL_ADDRESS],
    ["ept", VmcsField.GUEST_PDPTE0],
    ["tpr-shadow", VmcsField.VIRTUAL_APIC_ADDRESS],
    ["tpr-shadow", VmcsField.TPR_THRESHOLD],
    ["apic-access", VmcsField.APIC_ACCESS_ADDRESS],
    ["secondary-controls", VmcsField.SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS],
    ["pat", VmcsField.GUEST_IA32_PAT],
    ["efer", VmcsField.HOST_IA32_EFER],
    ["preemption-timer", VmcsField.VMX_PREEMPTION_TIMER_VALUE],
  ] as const)("%s gates encoding %d", (feature, enc) => {
    expect(fieldByEncoding(enc)?.requires).toBe(feature);
    expect(supportedFields(ALL_VMCS_FEATURES).some((f) => f.encoding === enc)).toBe(true);
    expect(supportedFields(ALL_VMCS_FEATURES.filter((x) => x !== feature)).some((f) => f.encoding === enc)).toBe(false);
  });

  it("keeps the basic fields on a processor with no optional feature", () => {
    const basic = supportedFields([]);
    for (const n of ["GUEST_RIP", "HOST_RIP", "VMCS_LINK_POINTER", "EXIT_REASON", "IO_BITMAP_A", "CR3_TARGET_VALUE_3"] as const) {
      expect(basic.some((f) => f.encoding === VmcsField[n]), n).toBe(true);
    }
  });

  it("reports the highest index 0x17 (the preemption-timer value) with every feature, 0x15 without the timer", () => {
    // 0x482E = width 2, type 2, index 0x17; 0x482A (guest IA32_SYSENTER_CS) has index 0x15.
    expect(highestIndex(supportedFields(ALL_VMCS_FEATURES))).toBe(0x17);
    expect(highestIndex(supportedFields(ALL_VMCS_FEATURES.filter((x) => x !== "preemption-timer")))).toBe(0x15);
    // kvm-unit-tests test_vmx_caps: the MSR's bits 9:1 must be at least 0x15.
    expect(highestIndex(supportedFields([])) << 1).toBeGreaterThanOrEqual(0x2a);
  });
});
