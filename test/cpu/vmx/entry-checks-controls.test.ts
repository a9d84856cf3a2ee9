/**
 * The VM-entry checks on the VMX controls (src/cpu/vmx/entry-checks-controls.ts): one row per rule of SDM
 * Vol. 3C 26.2.1.1 (VM-execution controls), 26.2.1.2 (VM-exit controls) and 26.2.1.3 (VM-entry controls and
 * event injection), each failing with VMfailValid(7), plus rows for valid settings next to each rule.
 *
 * References (not our code): the SDM sentences quoted per row; kvm-unit-tests x86/vmx_tests.c
 * test_vm_execution_ctls (test_pin_based_ctls, test_primary/secondary_processor_based_ctls,
 * test_cr3_targets, test_io_bitmaps, test_msr_bitmap, test_apic_virt_addr / test_tpr_threshold,
 * test_nmi_ctrls, test_virtual_intr_ctls, test_posted_intr, test_vpid, test_ept_eptp,
 * test_vmx_preemption_timer), test_vm_entry_ctls / test_invalid_event_injection, test_vm_exit_ctls /
 * test_entry_msr_load / test_exit_msr_store (the cases real processors reject, shared/reference/vmx.md §3c);
 * Bochs cpu/vmx.cc VMenterLoadCheckVmControls. Per-generation capabilities are the [VML] MSR dumps behind
 * vmx-capabilities.ts (a row runs only where its controls exist).
 */
import { describe, it } from "vitest";
import { VmcsField } from "../../../src/cpu/vmx/vmcs-fields.ts";
import * as C from "../../../src/cpu/vmx/vmx-controls.ts";
import { IA32_VMX_EPT_VPID_CAP, decodeVmxMisc, IA32_VMX_MISC, type VmxCapabilities } from "../../../src/cpu/vmx/vmx-capabilities.ts";
import { CONTROL_RULES } from "../../../src/cpu/vmx/entry-checks.ts";
import {
  ADDR, allows, withAllowed, type VmcsFixture, EXT_INT, NMI, HW_EXC, SW_INT, PRIV_SW_EXC, SW_EXC, OTHER,
} from "./vmcs-fixture.ts";
import { expectRulesCovered, runRows, type EntryCheckRow } from "./entry-checks-rows.ts";

const X = "26.2.1.1";
const XE = "26.2.1.2";
const EN = "26.2.1.3";
const fail = (rule: string) => ({ kind: "vmfail" as const, error: 7 as const, rule });
const OK = { kind: "ok" as const };

const hasSecondary = (c: VmxCapabilities) => allows(c, "proc", C.PROC_ACTIVATE_SECONDARY_CONTROLS);
const has2 = (bits: number) => (c: VmxCapabilities) => allows(c, "proc2", bits);
const hasPin = (bits: number) => (c: VmxCapabilities) => allows(c, "pin", bits);
const hasProc = (bits: number) => (c: VmxCapabilities) => allows(c, "proc", bits);
const hasExit = (bits: number) => (c: VmxCapabilities) => allows(c, "exit", bits);
const eptCap = (c: VmxCapabilities) => c.msrs.get(IA32_VMX_EPT_VPID_CAP)?.[0] ?? 0;
const lengthZeroOk = (c: VmxCapabilities) => decodeVmxMisc(c.msrs.get(IA32_VMX_MISC) ?? [0, 0]).injectLengthZero;
const hasPosted = hasPin(C.PIN_PROCESS_POSTED_INTERRUPTS);

/** Rows that each break one address field in two ways: not aligned, and a bit at or above MAXPHYADDR (36). */
function addressRows(rule: string, section: string, sdm: string, enc: number, good: number, misalign: number,
  enable: (f: VmcsFixture) => void, applies?: (c: VmxCapabilities) => boolean): EntryCheckRow[] {
  return [
    { name: `${rule}: valid`, section, sdm, applies, mutate: enable, expected: OK },
    {
      name: `${rule}: low bits set`, section, sdm, applies, expected: fail(rule),
      mutate: (f) => { enable(f); f.write64(enc, good + misalign, 0); },
    },
    {
      name: `${rule}: bit 36 set`, section, sdm, applies, expected: fail(rule),
      mutate: (f) => { enable(f); f.write64(enc, good, 0x10); },
    },
    {
      name: `${rule}: bits 35:32 may be set`, section, sdm, applies, expected: OK,
      mutate: (f) => { enable(f); f.write64(enc, good, 0xf); },
    },
  ];
}

const EXECUTION_ROWS: EntryCheckRow[] = [
  {
    name: "pin-based default1 bit 1 cleared", section: X, expected: fail("pin-based-reserved-bits"),
    sdm: "Reserved bits in the pin-based VM-execution controls must be set properly (A.3.1: bits 1, 2, 4 must be 1)",
    mutate: (f) => f.clearBits(VmcsField.PIN_BASED_VM_EXECUTION_CONTROLS, 1 << 1),
  },
  {
    name: "pin-based reserved bit 31 set", section: X, expected: fail("pin-based-reserved-bits"),
    sdm: "Reserved bits in the pin-based VM-execution controls must be set properly",
    mutate: (f) => f.pin(0x80000000),
  },
  {
    name: "posted interrupts where not offered", section: X, expected: fail("pin-based-reserved-bits"),
    sdm: "Reserved bits in the pin-based VM-execution controls must be set properly (allowed-1 bit 7 is 0)",
    applies: (c) => !hasPosted(c), mutate: (f) => f.pin(C.PIN_PROCESS_POSTED_INTERRUPTS),
  },
  {
    name: "primary default1 bit 1 cleared", section: X, expected: fail("primary-reserved-bits"),
    sdm: "Reserved bits in the primary processor-based VM-execution controls must be set properly (A.3.2)",
    mutate: (f) => f.clearBits(VmcsField.PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, 1 << 1),
  },
  {
    name: "CR8-load exiting (needs Intel 64)", section: X, expected: fail("primary-reserved-bits"),
    sdm: "Table 24-6: CR8-load exiting must be 0 on processors that do not support Intel 64 architecture",
    mutate: (f) => f.proc(C.PROC_CR8_LOAD_EXITING),
  },
  {
    name: "activate secondary controls where there are none", section: X, expected: fail("primary-reserved-bits"),
    sdm: "Reserved bits in the primary processor-based VM-execution controls must be set properly (Merom: bit 31 allowed-1 is 0)",
    applies: (c) => !hasSecondary(c), mutate: (f) => f.proc(C.PROC_ACTIVATE_SECONDARY_CONTROLS),
  },
  {
    name: "descriptor-table exiting (not offered)", section: X, expected: fail("secondary-reserved-bits"),
    sdm: "If 'activate secondary controls' is 1, reserved bits in the secondary processor-based controls must be cleared",
    applies: hasSecondary, mutate: (f) => f.proc2(C.PROC2_DESCRIPTOR_TABLE_EXITING),
  },
  {
    name: "secondary controls ignored while not activated", section: X, expected: OK,
    sdm: "If 'activate secondary controls' is 0, no checks are performed on the secondary processor-based VM-execution controls",
    applies: hasSecondary,
    mutate: (f) => f.write(VmcsField.SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, 0xffffffff),
  },
  {
    name: "CR3-target count 4", section: X, expected: OK,
    sdm: "The CR3-target count must not be greater than 4 (IA32_VMX_MISC[24:16] = 4)",
    mutate: (f) => f.write(VmcsField.CR3_TARGET_COUNT, 4),
  },
  {
    name: "CR3-target count 5", section: X, expected: fail("cr3-target-count"),
    sdm: "The CR3-target count must not be greater than 4", mutate: (f) => f.write(VmcsField.CR3_TARGET_COUNT, 5),
  },
  ...addressRows("io-bitmap-a-address", X, "If 'use I/O bitmaps' is 1, bits 11:0 of each I/O-bitmap address must be 0 ... within the physical-address width",
    VmcsField.IO_BITMAP_A, ADDR.IO_BITMAP_A, 0x800, (f) => f.useIoBitmaps()),
  ...addressRows("io-bitmap-b-address", X, "If 'use I/O bitmaps' is 1, bits 11:0 of each I/O-bitmap address must be 0 ... within the physical-address width",
    VmcsField.IO_BITMAP_B, ADDR.IO_BITMAP_B, 1, (f) => f.useIoBitmaps()),
  {
    name: "I/O-bitmap addresses not checked without 'use I/O bitmaps'", section: X, expected: OK,
    sdm: "If the 'use I/O bitmaps' VM-execution control is 1, ... (no check otherwise)",
    mutate: (f) => f.write64(VmcsField.IO_BITMAP_A, 0x123, 0xffff),
  },
  ...addressRows("msr-bitmap-address", X, "If 'use MSR bitmaps' is 1, bits 11:0 of the MSR-bitmap address must be 0 ... within the physical-address width",
    VmcsField.MSR_BITMAPS, ADDR.MSR_BITMAP, 0x10, (f) => f.useMsrBitmaps()),
  ...addressRows("virtual-apic-address", X, "If 'use TPR shadow' is 1, bits 11:0 of the virtual-APIC address must be 0 ... within the physical-address width",
    VmcsField.VIRTUAL_APIC_ADDRESS, ADDR.VIRTUAL_APIC, 0x80, (f) => f.useTprShadow()),
  {
    name: "TPR threshold 10H", section: X, expected: fail("tpr-threshold-bits-31-4"),
    sdm: "If 'use TPR shadow' is 1 and 'virtual-interrupt delivery' is 0, bits 31:4 of the TPR threshold must be 0",
    mutate: (f) => { f.useTprShadow(0xf0); f.write(VmcsField.TPR_THRESHOLD, 0x10); },
  },
  {
    name: "TPR threshold 3 above VTPR[7:4] = 2", section: X, expected: fail("tpr-threshold-above-vtpr"),
    sdm: "With 'use TPR shadow' 1 and 'virtualize APIC accesses' and 'virtual-interrupt delivery' 0, TPR threshold bits 3:0 should not be greater than VTPR[7:4]",
    mutate: (f) => { f.useTprShadow(0x2f); f.write(VmcsField.TPR_THRESHOLD, 3); },
  },
  {
    name: "TPR threshold 2 equal to VTPR[7:4] = 2", section: X, expected: OK,
    sdm: "TPR threshold bits 3:0 should not be greater than VTPR[7:4]",
    mutate: (f) => { f.useTprShadow(0x20); f.write(VmcsField.TPR_THRESHOLD, 2); },
  },
  {
    name: "TPR threshold above VTPR with 'virtualize APIC accesses'", section: X, expected: OK,
    sdm: "The VTPR comparison is made only if 'virtualize APIC accesses' and 'virtual-interrupt delivery' are both 0",
    applies: has2(C.PROC2_VIRTUALIZE_APIC_ACCESSES),
    mutate: (f) => { f.useTprShadow(0).useApicAccesses(); f.write(VmcsField.TPR_THRESHOLD, 0xf); },
  },
  {
    name: "TPR threshold not checked with virtual-interrupt delivery", section: X, expected: OK,
    sdm: "Bits 31:4 (and the VTPR comparison) are checked only if 'virtual-interrupt delivery' is 0",
    applies: has2(C.PROC2_VIRTUAL_INTERRUPT_DELIVERY),
    mutate: (f) => { f.useVirtualInterruptDelivery(); f.write(VmcsField.TPR_THRESHOLD, 0x1234); },
  },
  {
    name: "APIC-register virtualization without TPR shadow", section: X, expected: fail("apic-virtualization-without-tpr-shadow"),
    sdm: "If 'use TPR shadow' is 0, 'virtualize x2APIC mode', 'APIC-register virtualization' and 'virtual-interrupt delivery' must be 0",
    applies: has2(C.PROC2_APIC_REGISTER_VIRTUALIZATION), mutate: (f) => f.proc2(C.PROC2_APIC_REGISTER_VIRTUALIZATION),
  },
  {
    name: "virtual-interrupt delivery without TPR shadow", section: X, expected: fail("apic-virtualization-without-tpr-shadow"),
    sdm: "If 'use TPR shadow' is 0, ... 'virtual-interrupt delivery' must be 0",
    applies: has2(C.PROC2_VIRTUAL_INTERRUPT_DELIVERY),
    mutate: (f) => f.pin(C.PIN_EXTERNAL_INTERRUPT_EXITING).proc2(C.PROC2_VIRTUAL_INTERRUPT_DELIVERY),
  },
  {
    name: "virtualize x2APIC mode without TPR shadow (capability added)", section: X,
    expected: fail("apic-virtualization-without-tpr-shadow"),
    sdm: "If 'use TPR shadow' is 0, 'virtualize x2APIC mode' ... must be 0",
    applies: hasSecondary, caps: (b) => withAllowed(b, { proc2: C.PROC2_VIRTUALIZE_X2APIC_MODE }),
    mutate: (f) => f.proc2(C.PROC2_VIRTUALIZE_X2APIC_MODE),
  },
  {
    name: "APIC-register virtualization with TPR shadow", section: X, expected: OK,
    sdm: "'APIC-register virtualization' may be 1 when 'use TPR shadow' is 1",
    applies: has2(C.PROC2_APIC_REGISTER_VIRTUALIZATION),
    mutate: (f) => f.useTprShadow().proc2(C.PROC2_APIC_REGISTER_VIRTUALIZATION),
  },
  {
    name: "virtual NMIs without NMI exiting", section: X, expected: fail("virtual-nmis-without-nmi-exiting"),
    sdm: "If the 'NMI exiting' VM-execution control is 0, the 'virtual NMIs' VM-execution control must be 0",
    applies: hasPin(C.PIN_VIRTUAL_NMIS), mutate: (f) => f.pin(C.PIN_VIRTUAL_NMIS),
  },
  {
    name: "NMI-window exiting without virtual NMIs", section: X, expected: fail("nmi-window-without-virtual-nmis"),
    sdm: "If the 'virtual NMIs' VM-execution control is 0, the 'NMI-window exiting' VM-execution control must be 0",
    applies: hasProc(C.PROC_NMI_WINDOW_EXITING), mutate: (f) => f.pin(C.PIN_NMI_EXITING).proc(C.PROC_NMI_WINDOW_EXITING),
  },
  {
    name: "NMI exiting, virtual NMIs and NMI-window exiting", section: X, expected: OK,
    sdm: "NMI-window exiting requires virtual NMIs, which require NMI exiting",
    applies: hasProc(C.PROC_NMI_WINDOW_EXITING), mutate: (f) => f.useVirtualNmis().proc(C.PROC_NMI_WINDOW_EXITING),
  },
  ...addressRows("apic-access-address", X, "If 'virtualize APIC accesses' is 1, bits 11:0 of the APIC-access address must be 0 ... within the physical-address width",
    VmcsField.APIC_ACCESS_ADDRESS, ADDR.APIC_ACCESS, 0x800, (f) => f.useApicAccesses(), has2(C.PROC2_VIRTUALIZE_APIC_ACCESSES)),
  {
    name: "virtualize x2APIC mode with virtualize APIC accesses (capability added)", section: X,
    expected: fail("x2apic-mode-with-apic-accesses"),
    sdm: "If the 'virtualize x2APIC mode' VM-execution control is 1, the 'virtualize APIC accesses' VM-execution control must be 0",
    applies: has2(C.PROC2_VIRTUALIZE_APIC_ACCESSES), caps: (b) => withAllowed(b, { proc2: C.PROC2_VIRTUALIZE_X2APIC_MODE }),
    mutate: (f) => f.useTprShadow().useApicAccesses().proc2(C.PROC2_VIRTUALIZE_X2APIC_MODE),
  },
  {
    name: "virtual-interrupt delivery without external-interrupt exiting", section: X,
    expected: fail("vid-without-external-interrupt-exiting"),
    sdm: "If 'virtual-interrupt delivery' is 1, the 'external-interrupt exiting' VM-execution control must be 1",
    applies: has2(C.PROC2_VIRTUAL_INTERRUPT_DELIVERY),
    mutate: (f) => f.useTprShadow().proc2(C.PROC2_VIRTUAL_INTERRUPT_DELIVERY),
  },
  {
    name: "posted interrupts with everything they need", section: X, expected: OK,
    sdm: "If 'process posted interrupts' is 1: virtual-interrupt delivery, acknowledge interrupt on exit, vector 0-255, descriptor 64-byte aligned",
    applies: hasPosted, mutate: (f) => f.usePostedInterrupts(),
  },
  {
    name: "posted interrupts without virtual-interrupt delivery", section: X, expected: fail("posted-interrupts-without-vid"),
    sdm: "If 'process posted interrupts' is 1, the 'virtual-interrupt delivery' VM-execution control is 1",
    applies: hasPosted,
    mutate: (f) => { f.usePostedInterrupts(); f.clearBits(VmcsField.SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, C.PROC2_VIRTUAL_INTERRUPT_DELIVERY); },
  },
  {
    name: "posted interrupts without acknowledge interrupt on exit", section: X, expected: fail("posted-interrupts-without-ack-on-exit"),
    sdm: "If 'process posted interrupts' is 1, the 'acknowledge interrupt on exit' VM-exit control is 1",
    applies: hasPosted,
    mutate: (f) => { f.usePostedInterrupts(); f.clearBits(VmcsField.VM_EXIT_CONTROLS, C.EXIT_ACKNOWLEDGE_INTERRUPT_ON_EXIT); },
  },
  {
    name: "posted-interrupt notification vector 100H", section: X, expected: fail("posted-interrupt-vector"),
    sdm: "The posted-interrupt notification vector has a value in the range 0-255 (bits 15:8 are all 0)",
    applies: hasPosted, mutate: (f) => f.usePostedInterrupts(0x100),
  },
  {
    name: "posted-interrupt notification vector FFH", section: X, expected: OK,
    sdm: "The posted-interrupt notification vector has a value in the range 0-255", applies: hasPosted,
    mutate: (f) => f.usePostedInterrupts(0xff),
  },
  ...addressRows("posted-interrupt-descriptor-address", X, "Bits 5:0 of the posted-interrupt descriptor address are all 0 ... within the physical-address width",
    VmcsField.POSTED_INTERRUPT_DESCRIPTOR_ADDRESS, ADDR.PI_DESCRIPTOR, 0x20, (f) => f.usePostedInterrupts(), hasPosted),
  {
    name: "posted-interrupt descriptor 64-byte (not 4-KiB) aligned", section: X, expected: OK,
    sdm: "Bits 5:0 of the posted-interrupt descriptor address are all 0", applies: hasPosted,
    mutate: (f) => { f.usePostedInterrupts(); f.write64(VmcsField.POSTED_INTERRUPT_DESCRIPTOR_ADDRESS, ADDR.PI_DESCRIPTOR + 0x40, 0); },
  },
  {
    name: "VPID 0", section: X, expected: fail("vpid-zero"),
    sdm: "If the 'enable VPID' VM-execution control is 1, the value of the VPID VM-execution control field must not be 0000H",
    applies: has2(C.PROC2_ENABLE_VPID), mutate: (f) => f.useVpid(0),
  },
  {
    name: "VPID FFFFH", section: X, expected: OK, sdm: "the VPID must not be 0000H",
    applies: has2(C.PROC2_ENABLE_VPID), mutate: (f) => f.useVpid(0xffff),
  },
  {
    name: "EPT with a write-back 4-level EPTP", section: X, expected: OK,
    sdm: "EPTP: supported memory type, bits 5:3 = 3, reserved bits 0", applies: has2(C.PROC2_ENABLE_EPT),
    mutate: (f) => f.useEpt(),
  },
  {
    name: "EPTP memory type 1 (WC)", section: X, expected: fail("eptp-memory-type"),
    sdm: "The EPT memory type (bits 2:0) must be a value supported by the processor as indicated in IA32_VMX_EPT_VPID_CAP",
    applies: has2(C.PROC2_ENABLE_EPT),
    mutate: (f) => { f.useEpt(); f.write64(VmcsField.EPT_POINTER, ADDR.EPT_PML4 | (3 << 3) | 1, 0); },
  },
  {
    name: "EPTP page-walk length 5", section: X, expected: fail("eptp-walk-length"),
    sdm: "Bits 5:3 (1 less than the EPT page-walk length) must be 3, indicating an EPT page-walk length of 4",
    applies: has2(C.PROC2_ENABLE_EPT),
    mutate: (f) => { f.useEpt(); f.write64(VmcsField.EPT_POINTER, ADDR.EPT_PML4 | (4 << 3) | 6, 0); },
  },
  {
    name: "EPTP A/D enable where EPT A/D flags are not supported", section: X, expected: fail("eptp-accessed-dirty"),
    sdm: "Bit 6 must be 0 if bit 21 of IA32_VMX_EPT_VPID_CAP is read as 0",
    applies: (c) => has2(C.PROC2_ENABLE_EPT)(c) && (eptCap(c) & (1 << 21)) === 0,
    mutate: (f) => { f.useEpt(); f.write64(VmcsField.EPT_POINTER, ADDR.EPT_PML4 | 0x40 | (3 << 3) | 6, 0); },
  },
  {
    name: "EPTP A/D enable where supported", section: X, expected: OK,
    sdm: "Bit 6 must be 0 if bit 21 of IA32_VMX_EPT_VPID_CAP is read as 0 (it is 1 here)",
    applies: (c) => has2(C.PROC2_ENABLE_EPT)(c) && (eptCap(c) & (1 << 21)) !== 0,
    mutate: (f) => { f.useEpt(); f.write64(VmcsField.EPT_POINTER, ADDR.EPT_PML4 | 0x40 | (3 << 3) | 6, 0); },
  },
  {
    name: "EPTP bit 7 set", section: X, expected: fail("eptp-reserved-11-7"),
    sdm: "Reserved bits 11:7 and 63:N must all be 0", applies: has2(C.PROC2_ENABLE_EPT),
    mutate: (f) => { f.useEpt(); f.write64(VmcsField.EPT_POINTER, ADDR.EPT_PML4 | 0x80 | (3 << 3) | 6, 0); },
  },
  {
    name: "EPTP bit 36 set", section: X, expected: fail("eptp-reserved-above-maxphyaddr"),
    sdm: "Reserved bits 11:7 and 63:N (N = 36) must all be 0", applies: has2(C.PROC2_ENABLE_EPT),
    mutate: (f) => { f.useEpt(); f.write64(VmcsField.EPT_POINTER, ADDR.EPT_PML4 | (3 << 3) | 6, 0x10); },
  },
  {
    name: "EPTP not checked without 'enable EPT'", section: X, expected: OK,
    sdm: "If the 'enable EPT' VM-execution control is 1, the EPTP ... must satisfy (no check otherwise)",
    applies: has2(C.PROC2_ENABLE_EPT), mutate: (f) => f.write64(VmcsField.EPT_POINTER, 0xfff, 0xffffffff),
  },
  {
    name: "unrestricted guest without EPT", section: X, expected: fail("unrestricted-guest-without-ept"),
    sdm: "If the 'unrestricted guest' VM-execution control is 1, the 'enable EPT' VM-execution control must also be 1",
    applies: has2(C.PROC2_UNRESTRICTED_GUEST), mutate: (f) => f.proc2(C.PROC2_UNRESTRICTED_GUEST),
  },
  {
    name: "unrestricted guest with EPT", section: X, expected: OK,
    sdm: "'unrestricted guest' requires 'enable EPT'", applies: has2(C.PROC2_UNRESTRICTED_GUEST),
    mutate: (f) => f.useUnrestrictedGuest(),
  },
];

/** An MSR-store/load area of `count` entries at [lo, hi]. */
function msrArea(f: VmcsFixture, addr: number, count: number, lo: number, hi = 0): void {
  f.write64(addr, lo, hi);
  f.write(addr === VmcsField.VM_EXIT_MSR_STORE_ADDRESS ? VmcsField.VM_EXIT_MSR_STORE_COUNT
    : addr === VmcsField.VM_EXIT_MSR_LOAD_ADDRESS ? VmcsField.VM_EXIT_MSR_LOAD_COUNT : VmcsField.VM_ENTRY_MSR_LOAD_COUNT, count);
}

function msrAreaRows(rule: string, section: string, enc: number, what: string): EntryCheckRow[] {
  const sdm = `If the ${what} count is non-zero: the lower 4 bits of the address must be 0, and neither the address nor that of the area's last byte (address + count * 16 - 1) may set bits beyond the physical-address width`;
  return [
    { name: `${rule}: 16-byte aligned`, section, sdm, expected: OK, mutate: (f) => msrArea(f, enc, 2, ADDR.MSR_AREA + 0x10) },
    { name: `${rule}: address bit 3 set`, section, sdm, expected: fail(rule), mutate: (f) => msrArea(f, enc, 1, ADDR.MSR_AREA + 8) },
    { name: `${rule}: address bit 36 set`, section, sdm, expected: fail(rule), mutate: (f) => msrArea(f, enc, 1, ADDR.MSR_AREA, 0x10) },
    {
      name: `${rule}: last byte exactly at 2^36 - 1`, section, sdm, expected: OK,
      mutate: (f) => msrArea(f, enc, 1, 0xfffffff0, 0xf),
    },
    {
      name: `${rule}: last byte at 2^36 + 15`, section, sdm, expected: fail(rule),
      mutate: (f) => msrArea(f, enc, 2, 0xfffffff0, 0xf),
    },
    {
      name: `${rule}: address not checked with count 0`, section, sdm, expected: OK,
      mutate: (f) => msrArea(f, enc, 0, 0x7, 0xffff),
    },
  ];
}

const EXIT_ROWS: EntryCheckRow[] = [
  {
    name: "host address-space size (needs Intel 64)", section: XE, expected: fail("exit-reserved-bits"),
    sdm: "Reserved bits in the VM-exit controls must be set properly (Table 24-10: bit 9 must be 0 without Intel 64)",
    mutate: (f) => f.exit(C.EXIT_HOST_ADDRESS_SPACE_SIZE),
  },
  {
    name: "VM-exit default1 bit 0 cleared", section: XE, expected: fail("exit-reserved-bits"),
    sdm: "Reserved bits in the VM-exit controls must be set properly (A.4: bits 0-8, 10, 11, 13, 14, 16, 17 default to 1)",
    mutate: (f) => f.clearBits(VmcsField.VM_EXIT_CONTROLS, 1),
  },
  {
    name: "save preemption-timer value without the timer", section: XE, expected: fail("save-preemption-timer-without-timer"),
    sdm: "If 'activate VMX-preemption timer' is 0, the 'save VMX-preemption timer value' VM-exit control must also be 0",
    applies: hasExit(C.EXIT_SAVE_PREEMPTION_TIMER_VALUE), mutate: (f) => f.exit(C.EXIT_SAVE_PREEMPTION_TIMER_VALUE),
  },
  {
    name: "save preemption-timer value with the timer", section: XE, expected: OK,
    sdm: "'save VMX-preemption timer value' requires 'activate VMX-preemption timer'",
    applies: hasExit(C.EXIT_SAVE_PREEMPTION_TIMER_VALUE),
    mutate: (f) => f.pin(C.PIN_ACTIVATE_PREEMPTION_TIMER).exit(C.EXIT_SAVE_PREEMPTION_TIMER_VALUE),
  },
  ...msrAreaRows("exit-msr-store-address", XE, VmcsField.VM_EXIT_MSR_STORE_ADDRESS, "VM-exit MSR-store"),
  ...msrAreaRows("exit-msr-load-address", XE, VmcsField.VM_EXIT_MSR_LOAD_ADDRESS, "VM-exit MSR-load"),
];

const INJECT_SDM = "26.2.1.3: fields relevant to VM-entry event injection must be set properly";

const ENTRY_ROWS: EntryCheckRow[] = [
  {
    name: "IA-32e mode guest (needs Intel 64)", section: EN, expected: fail("entry-reserved-bits"),
    sdm: "Reserved bits in the VM-entry controls must be set properly (Table 24-12: bit 9 must be 0 without Intel 64)",
    mutate: (f) => f.entry(C.ENTRY_IA32E_MODE_GUEST),
  },
  {
    name: "load IA32_PERF_GLOBAL_CTRL (not offered)", section: EN, expected: fail("entry-reserved-bits"),
    sdm: "Reserved bits in the VM-entry controls must be set properly", mutate: (f) => f.entry(C.ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL),
  },
  {
    name: "entry to SMM outside SMM (capability added)", section: EN, expected: fail("smm-controls-outside-smm"),
    sdm: "If the processor is not in SMM, the 'entry to SMM' and 'deactivate dual-monitor treatment' VM-entry controls must be 0",
    caps: (b) => withAllowed(b, { entry: C.ENTRY_TO_SMM }), mutate: (f) => f.entry(C.ENTRY_TO_SMM),
  },
  {
    name: "deactivate dual-monitor treatment outside SMM (capability added)", section: EN, expected: fail("smm-controls-outside-smm"),
    sdm: "If the processor is not in SMM, ... 'deactivate dual-monitor treatment' VM-entry control must be 0",
    caps: (b) => withAllowed(b, { entry: C.ENTRY_DEACTIVATE_DUAL_MONITOR_TREATMENT }),
    mutate: (f) => f.entry(C.ENTRY_DEACTIVATE_DUAL_MONITOR_TREATMENT),
  },
  // Valid injections.
  { name: "inject external interrupt 20H", section: EN, sdm: INJECT_SDM, expected: OK,
    mutate: (f) => { f.setBits(VmcsField.GUEST_RFLAGS, 1 << 9); f.inject({ type: EXT_INT, vector: 0x20 }); } },
  { name: "inject NMI", section: EN, sdm: INJECT_SDM, expected: OK, mutate: (f) => f.inject({ type: NMI, vector: 2 }) },
  { name: "inject #GP(0)", section: EN, sdm: INJECT_SDM, expected: OK,
    mutate: (f) => f.inject({ type: HW_EXC, vector: 13, errorCode: 0 }) },
  { name: "inject #PF with error code FFFFH", section: EN, sdm: INJECT_SDM, expected: OK,
    mutate: (f) => f.inject({ type: HW_EXC, vector: 14, errorCode: 0xffff }) },
  { name: "inject #UD", section: EN, sdm: INJECT_SDM, expected: OK, mutate: (f) => f.inject({ type: HW_EXC, vector: 6 }) },
  { name: "inject INT 80H, length 2", section: EN, sdm: INJECT_SDM, expected: OK,
    mutate: (f) => f.inject({ type: SW_INT, vector: 0x80, length: 2 }) },
  { name: "inject INT3 as software exception, length 1", section: EN, sdm: INJECT_SDM, expected: OK,
    mutate: (f) => f.inject({ type: SW_EXC, vector: 3, length: 1 }) },
  { name: "inject INT1 (ICEBP) as privileged software exception, length 15", section: EN, sdm: INJECT_SDM, expected: OK,
    mutate: (f) => f.inject({ type: PRIV_SW_EXC, vector: 1, length: 15 }) },
  {
    name: "injection fields ignored while not valid", section: EN, expected: OK,
    sdm: "If the valid bit (bit 31) in the VM-entry interruption-information field is 1, the following must hold",
    mutate: (f) => f.write(VmcsField.VM_ENTRY_INTERRUPTION_INFORMATION, 0x7fffffff),
  },
  // Broken injections.
  {
    name: "interruption type 1", section: EN, expected: fail("injection-type-reserved"),
    sdm: "The interruption type (bits 10:8) is not set to a reserved value. Value 1 is reserved on all logical processors",
    mutate: (f) => f.inject({ type: 1, vector: 0x20 }),
  },
  {
    name: "interruption type 7 without the monitor trap flag", section: EN, expected: fail("injection-type-reserved"),
    sdm: "value 7 (other event) is reserved on logical processors that do not support the 1-setting of the 'monitor trap flag' VM-execution control",
    mutate: (f) => f.inject({ type: OTHER, vector: 0 }),
  },
  {
    name: "pending MTF VM exit with the monitor trap flag (capability added)", section: EN, expected: OK,
    sdm: "If the interruption type is other event, the vector is 0 (pending MTF VM exit)",
    caps: (b) => withAllowed(b, { proc: C.PROC_MONITOR_TRAP_FLAG }), mutate: (f) => f.inject({ type: OTHER, vector: 0 }),
  },
  {
    name: "other event with vector 1 (capability added)", section: EN, expected: fail("injection-other-event-vector"),
    sdm: "If the interruption type is other event, the vector is 0 (pending MTF VM exit)",
    caps: (b) => withAllowed(b, { proc: C.PROC_MONITOR_TRAP_FLAG }), mutate: (f) => f.inject({ type: OTHER, vector: 1 }),
  },
  {
    name: "NMI with vector 3", section: EN, expected: fail("injection-nmi-vector"),
    sdm: "If the interruption type is non-maskable interrupt (NMI), the vector is 2", mutate: (f) => f.inject({ type: NMI, vector: 3 }),
  },
  {
    name: "hardware exception with vector 32", section: EN, expected: fail("injection-exception-vector"),
    sdm: "If the interruption type is hardware exception, the vector is at most 31", mutate: (f) => f.inject({ type: HW_EXC, vector: 32 }),
  },
  {
    name: "#GP without its error code", section: EN, expected: fail("injection-deliver-error-code"),
    sdm: "The deliver-error-code bit (bit 11) is 1 if and only if ... the interruption type is hardware exception and the vector would normally deliver an error code (8, 10-14, 17)",
    mutate: (f) => f.inject({ type: HW_EXC, vector: 13 }),
  },
  {
    name: "#DF without its error code", section: EN, expected: fail("injection-deliver-error-code"),
    sdm: "The deliver-error-code bit is 1 if and only if ... vector 8 = #DF", mutate: (f) => f.inject({ type: HW_EXC, vector: 8 }),
  },
  {
    name: "#AC without its error code", section: EN, expected: fail("injection-deliver-error-code"),
    sdm: "The deliver-error-code bit is 1 if and only if ... vector 17 = #AC", mutate: (f) => f.inject({ type: HW_EXC, vector: 17 }),
  },
  {
    name: "#UD with an error code", section: EN, expected: fail("injection-deliver-error-code"),
    sdm: "The deliver-error-code bit is 1 if and only if ... (#UD delivers none)", mutate: (f) => f.inject({ type: HW_EXC, vector: 6, errorCode: 0 }),
  },
  {
    name: "software exception #BP with an error code", section: EN, expected: fail("injection-deliver-error-code"),
    sdm: "The deliver-error-code bit is 1 if and only if ... (2) the interruption type is hardware exception",
    mutate: (f) => f.inject({ type: SW_EXC, vector: 3, errorCode: 0, length: 1 }),
  },
  {
    name: "external interrupt 0DH with an error code", section: EN, expected: fail("injection-deliver-error-code"),
    sdm: "The deliver-error-code bit is 1 if and only if ... the interruption type is hardware exception",
    mutate: (f) => { f.setBits(VmcsField.GUEST_RFLAGS, 1 << 9); f.inject({ type: EXT_INT, vector: 13, errorCode: 0 }); },
  },
  {
    name: "#GP without error code into an unrestricted real-mode guest", section: EN, expected: OK,
    sdm: "The deliver-error-code bit is 1 if and only if (1) 'unrestricted guest' is 0 or CR0.PE is 1 ...",
    applies: has2(C.PROC2_UNRESTRICTED_GUEST), mutate: (f) => f.realModeGuest().inject({ type: HW_EXC, vector: 13 }),
  },
  {
    name: "#GP with error code into an unrestricted real-mode guest", section: EN, expected: fail("injection-deliver-error-code"),
    sdm: "The deliver-error-code bit is 1 if and only if (1) 'unrestricted guest' is 0 or CR0.PE is 1 ...",
    applies: has2(C.PROC2_UNRESTRICTED_GUEST), mutate: (f) => f.realModeGuest().inject({ type: HW_EXC, vector: 13, errorCode: 0 }),
  },
  {
    name: "#GP with error code into an unrestricted protected-mode guest", section: EN, expected: OK,
    sdm: "The deliver-error-code bit is 1 if and only if (1) ... CR0.PE is 1 ...",
    applies: has2(C.PROC2_UNRESTRICTED_GUEST), mutate: (f) => f.useUnrestrictedGuest().inject({ type: HW_EXC, vector: 13, errorCode: 0 }),
  },
  {
    name: "interruption-information bit 12 set", section: EN, expected: fail("injection-reserved-bits"),
    sdm: "Reserved bits in the field (30:12) are 0",
    mutate: (f) => f.write(VmcsField.VM_ENTRY_INTERRUPTION_INFORMATION, 0x80000000 | (1 << 12) | (NMI << 8) | 2),
  },
  {
    name: "interruption-information bit 30 set", section: EN, expected: fail("injection-reserved-bits"),
    sdm: "Reserved bits in the field (30:12) are 0",
    mutate: (f) => f.write(VmcsField.VM_ENTRY_INTERRUPTION_INFORMATION, 0xc0000000 | (NMI << 8) | 2),
  },
  {
    name: "error code 10000H", section: EN, expected: fail("injection-error-code-bits-31-16"),
    sdm: "If the deliver-error-code bit (bit 11) is 1, bits 31:16 of the VM-entry exception error-code field are 0",
    mutate: (f) => f.inject({ type: HW_EXC, vector: 13, errorCode: 0x10000 }),
  },
  {
    name: "error-code field ignored without deliver-error-code", section: EN, expected: OK,
    sdm: "If the deliver-error-code bit (bit 11) is 1, bits 31:16 ... are 0 (no check otherwise)",
    mutate: (f) => { f.inject({ type: HW_EXC, vector: 6 }); f.write(VmcsField.VM_ENTRY_EXCEPTION_ERROR_CODE, 0xffffffff); },
  },
  {
    name: "software interrupt with instruction length 16", section: EN, expected: fail("injection-instruction-length"),
    sdm: "If the interruption type is software interrupt, software exception, or privileged software exception, the VM-entry instruction-length field is in the range 0-15",
    mutate: (f) => f.inject({ type: SW_INT, vector: 0x80, length: 16 }),
  },
  {
    name: "software exception with instruction length 0 (IA32_VMX_MISC[30] = 0)", section: EN,
    expected: fail("injection-instruction-length"),
    sdm: "A VM-entry instruction length of 0 is allowed only if IA32_VMX_MISC[30] is read as 1",
    applies: (c) => !lengthZeroOk(c), mutate: (f) => f.inject({ type: SW_EXC, vector: 3, length: 0 }),
  },
  {
    name: "privileged software exception with instruction length 0 (IA32_VMX_MISC[30] = 0)", section: EN,
    expected: fail("injection-instruction-length"),
    sdm: "A VM-entry instruction length of 0 is allowed only if IA32_VMX_MISC[30] is read as 1",
    applies: (c) => !lengthZeroOk(c), mutate: (f) => f.inject({ type: PRIV_SW_EXC, vector: 1, length: 0 }),
  },
  {
    name: "software interrupt with instruction length 0 (IA32_VMX_MISC[30] = 1)", section: EN, expected: OK,
    sdm: "A VM-entry instruction length of 0 is allowed only if IA32_VMX_MISC[30] is read as 1 (Skylake)",
    applies: lengthZeroOk, mutate: (f) => f.inject({ type: SW_INT, vector: 0x80, length: 0 }),
  },
  {
    name: "instruction length not checked for a hardware exception", section: EN, expected: OK,
    sdm: "The instruction-length rule applies to software interrupts and software/privileged software exceptions",
    mutate: (f) => f.inject({ type: HW_EXC, vector: 6, length: 0x1000 }),
  },
  ...msrAreaRows("entry-msr-load-address", EN, VmcsField.VM_ENTRY_MSR_LOAD_ADDRESS, "VM-entry MSR-load"),
];

const ROWS = [...EXECUTION_ROWS, ...EXIT_ROWS, ...ENTRY_ROWS];

describe("VM-entry control checks (SDM 26.2.1), VMfailValid(7)", () => {
  describe("26.2.1.1 VM-execution control fields", () => runRows(EXECUTION_ROWS));
  describe("26.2.1.2 VM-exit control fields", () => runRows(EXIT_ROWS));
  describe("26.2.1.3 VM-entry control fields", () => runRows(ENTRY_ROWS));
  it("every control rule has a failing row", () => expectRulesCovered(CONTROL_RULES, ROWS));
});
