/**
 * The VM-entry checks on the host-state area (src/cpu/vmx/entry-checks-host.ts): one row per rule of SDM
 * Vol. 3C 26.2.2 (host CR0/CR4 against IA32_VMX_CR0/CR4_FIXED0/1, IA32_PAT and IA32_EFER when "load" on exit),
 * 26.2.3 (host selectors: RPL and TI 0; CS and TR not 0000H; SS not 0000H unless the host is 64-bit) and 26.2.4
 * (IA-32e controls on a processor without Intel 64), each failing with VMfailValid(8), with valid rows beside.
 *
 * References (not our code): the SDM sentences quoted per row; SDM Appendix A.7/A.8 (the fixed-bit MSRs; every
 * [VML] dump reports CR0_FIXED0 = 80000021H, CR4_FIXED0 = 2000H); Vol. 3A 11.12.2 (the PAT memory types 0, 1,
 * 4-7); kvm-unit-tests x86/vmx_tests.c vmx_host_state_area_test (test_host_ctl_regs, test_load_host_pat,
 * test_host_segment_regs: "selector fields RPL/TI must be 0", "CS/TR != 0", "SS != 0 if host address-space
 * size is 0"); Bochs cpu/vmx.cc VMenterLoadCheckHostState.
 */
import { describe, it } from "vitest";
import { VmcsField } from "../../../src/cpu/vmx/vmcs-fields.ts";
import * as C from "../../../src/cpu/vmx/vmx-controls.ts";
import { IA32_VMX_CR0_FIXED1, type VmxCapabilities } from "../../../src/cpu/vmx/vmx-capabilities.ts";
import { HOST_STATE_RULES } from "../../../src/cpu/vmx/entry-checks.ts";
import {
  allows, withAllowed, withMsr,
} from "./vmcs-fixture.ts";
import { expectRulesCovered, runRows, type EntryCheckRow } from "./entry-checks-rows.ts";

const CTRL = "26.2.2";
const SEG = "26.2.3";
const SIZE = "26.2.4";
const fail = (rule: string) => ({ kind: "vmfail" as const, error: 8 as const, rule });
const OK = { kind: "ok" as const };
const hasExit = (bits: number) => (c: VmxCapabilities) => allows(c, "exit", bits);

const CR_SDM = "The CR0 (CR4) field must not set any bit to a value not supported in VMX operation (IA32_VMX_CR0/CR4_FIXED0/1)";
const PAT_SDM = "If 'load IA32_PAT' (exit) is 1, each of the 8 bytes in the field must be 0 (UC), 1 (WC), 4 (WT), 5 (WP), 6 (WB) or 7 (UC-)";
const EFER_SDM = "If 'load IA32_EFER' (exit) is 1, bits reserved in IA32_EFER must be 0 in the field (the model has no EFER bits; LMA/LME must equal 'host address-space size' = 0)";

const CONTROL_REGISTER_ROWS: EntryCheckRow[] = [
  { name: "host CR0.NE cleared", section: CTRL, sdm: CR_SDM, expected: fail("host-cr0-fixed-bits"),
    mutate: (f) => f.write(VmcsField.HOST_CR0, 0x80000011) },
  { name: "host CR0.PG cleared", section: CTRL, sdm: CR_SDM, expected: fail("host-cr0-fixed-bits"),
    mutate: (f) => f.write(VmcsField.HOST_CR0, 0x00000031) },
  { name: "host CR0.PE cleared", section: CTRL, sdm: CR_SDM, expected: fail("host-cr0-fixed-bits"),
    mutate: (f) => f.write(VmcsField.HOST_CR0, 0x80000030) },
  { name: "host CR0 with WP, AM, CD, NW (FIXED1 allows all)", section: CTRL, sdm: CR_SDM, expected: OK,
    mutate: (f) => f.write(VmcsField.HOST_CR0, 0xe0050031) },
  {
    name: "host CR0.CD where CR0_FIXED1 has CD as 0 (capability changed)", section: CTRL, sdm: CR_SDM,
    expected: fail("host-cr0-fixed-bits"), caps: (b) => withMsr(b, IA32_VMX_CR0_FIXED1, [0xbfffffff, 0]),
    mutate: (f) => f.write(VmcsField.HOST_CR0, 0xc0000031),
  },
  { name: "host CR4.VMXE cleared", section: CTRL, sdm: CR_SDM, expected: fail("host-cr4-fixed-bits"),
    mutate: (f) => f.write(VmcsField.HOST_CR4, 0) },
  { name: "host CR4.PAE (not implemented: CR4_FIXED1 bit 5 is 0)", section: CTRL, sdm: CR_SDM, expected: fail("host-cr4-fixed-bits"),
    mutate: (f) => f.write(VmcsField.HOST_CR4, 0x2020) },
  { name: "host CR4 with PSE, PGE, DE, TSD", section: CTRL, sdm: CR_SDM, expected: OK,
    mutate: (f) => f.write(VmcsField.HOST_CR4, 0x2000 | 0x80 | 0x10 | 0x8 | 0x4) },
  {
    name: "host PAT with the power-up value", section: CTRL, sdm: PAT_SDM, expected: OK,
    applies: hasExit(C.EXIT_LOAD_IA32_PAT),
    mutate: (f) => { f.exit(C.EXIT_LOAD_IA32_PAT); f.write64(VmcsField.HOST_IA32_PAT, 0x00070406, 0x00070406); },
  },
  {
    name: "host PAT with every valid type", section: CTRL, sdm: PAT_SDM, expected: OK, applies: hasExit(C.EXIT_LOAD_IA32_PAT),
    mutate: (f) => { f.exit(C.EXIT_LOAD_IA32_PAT); f.write64(VmcsField.HOST_IA32_PAT, 0x05040100, 0x00070706); },
  },
  {
    name: "host PAT byte 0 = 2", section: CTRL, sdm: PAT_SDM, expected: fail("host-pat"), applies: hasExit(C.EXIT_LOAD_IA32_PAT),
    mutate: (f) => { f.exit(C.EXIT_LOAD_IA32_PAT); f.write64(VmcsField.HOST_IA32_PAT, 0x00070402, 0x00070406); },
  },
  {
    name: "host PAT byte 7 = 8", section: CTRL, sdm: PAT_SDM, expected: fail("host-pat"), applies: hasExit(C.EXIT_LOAD_IA32_PAT),
    mutate: (f) => { f.exit(C.EXIT_LOAD_IA32_PAT); f.write64(VmcsField.HOST_IA32_PAT, 0x00070406, 0x08070406); },
  },
  {
    name: "host PAT not checked without 'load IA32_PAT'", section: CTRL, sdm: PAT_SDM, expected: OK,
    applies: hasExit(C.EXIT_LOAD_IA32_PAT), mutate: (f) => f.write64(VmcsField.HOST_IA32_PAT, 0x03030303, 0),
  },
  {
    name: "host EFER 0", section: CTRL, sdm: EFER_SDM, expected: OK, applies: hasExit(C.EXIT_LOAD_IA32_EFER),
    mutate: (f) => { f.exit(C.EXIT_LOAD_IA32_EFER); f.write64(VmcsField.HOST_IA32_EFER, 0, 0); },
  },
  {
    name: "host EFER.LME", section: CTRL, sdm: EFER_SDM, expected: fail("host-efer-reserved-bits"),
    applies: hasExit(C.EXIT_LOAD_IA32_EFER),
    mutate: (f) => { f.exit(C.EXIT_LOAD_IA32_EFER); f.write64(VmcsField.HOST_IA32_EFER, 0x100, 0); },
  },
  {
    name: "host EFER bit 32", section: CTRL, sdm: EFER_SDM, expected: fail("host-efer-reserved-bits"),
    applies: hasExit(C.EXIT_LOAD_IA32_EFER),
    mutate: (f) => { f.exit(C.EXIT_LOAD_IA32_EFER); f.write64(VmcsField.HOST_IA32_EFER, 0, 1); },
  },
  {
    name: "host EFER not checked without 'load IA32_EFER'", section: CTRL, sdm: EFER_SDM, expected: OK,
    applies: hasExit(C.EXIT_LOAD_IA32_EFER), mutate: (f) => f.write64(VmcsField.HOST_IA32_EFER, 0x501, 0),
  },
];

const SEL_SDM = "In the selector field for each of CS, SS, DS, ES, FS, GS and TR, the RPL (bits 1:0) and the TI flag (bit 2) must be 0";
const SELECTORS = [
  ["cs", VmcsField.HOST_CS_SELECTOR, 0x08], ["ss", VmcsField.HOST_SS_SELECTOR, 0x10], ["ds", VmcsField.HOST_DS_SELECTOR, 0x10],
  ["es", VmcsField.HOST_ES_SELECTOR, 0x10], ["fs", VmcsField.HOST_FS_SELECTOR, 0x10], ["gs", VmcsField.HOST_GS_SELECTOR, 0x10],
  ["tr", VmcsField.HOST_TR_SELECTOR, 0x18],
] as const;

const SEGMENT_ROWS: EntryCheckRow[] = [
  ...SELECTORS.flatMap(([reg, enc, sel]): EntryCheckRow[] => [
    { name: `host ${reg} selector RPL 3`, section: SEG, sdm: SEL_SDM, expected: fail(`host-${reg}-selector-rpl-ti`),
      mutate: (f) => f.write(enc, sel | 3) },
    { name: `host ${reg} selector TI`, section: SEG, sdm: SEL_SDM, expected: fail(`host-${reg}-selector-rpl-ti`),
      mutate: (f) => f.write(enc, sel | 4) },
  ]),
  { name: "host CS selector 0000H", section: SEG, expected: fail("host-cs-selector-null"),
    sdm: "The selector fields for CS and TR cannot be 0000H", mutate: (f) => f.write(VmcsField.HOST_CS_SELECTOR, 0) },
  { name: "host TR selector 0000H", section: SEG, expected: fail("host-tr-selector-null"),
    sdm: "The selector fields for CS and TR cannot be 0000H", mutate: (f) => f.write(VmcsField.HOST_TR_SELECTOR, 0) },
  { name: "host SS selector 0000H with a 32-bit host", section: SEG, expected: fail("host-ss-selector-null"),
    sdm: "The selector field for SS cannot be 0000H if the 'host address-space size' VM-exit control is 0",
    mutate: (f) => f.write(VmcsField.HOST_SS_SELECTOR, 0) },
  {
    name: "host DS, ES, FS, GS selectors 0000H", section: SEG, expected: OK,
    sdm: "(only CS, TR and, for a 32-bit host, SS must not be null)",
    mutate: (f) => {
      for (const e of [VmcsField.HOST_DS_SELECTOR, VmcsField.HOST_ES_SELECTOR, VmcsField.HOST_FS_SELECTOR, VmcsField.HOST_GS_SELECTOR]) f.write(e, 0);
    },
  },
  {
    name: "host bases and SYSENTER fields anywhere in 32 bits", section: SEG, expected: OK,
    sdm: "The canonical-address checks on FS, GS, GDTR, IDTR, TR bases and SYSENTER_ESP/EIP apply only with Intel 64",
    mutate: (f) => {
      for (const e of [VmcsField.HOST_FS_BASE, VmcsField.HOST_GS_BASE, VmcsField.HOST_TR_BASE, VmcsField.HOST_GDTR_BASE,
        VmcsField.HOST_IDTR_BASE, VmcsField.HOST_IA32_SYSENTER_ESP, VmcsField.HOST_IA32_SYSENTER_EIP]) f.write(e, 0xfffffff0);
    },
  },
];

const SIZE_SDM = "On processors that do not support Intel 64 architecture, checks are performed to ensure that the 'IA-32e mode guest' VM-entry control and the 'host address-space size' VM-exit control are both 0";
const SIZE_ROWS: EntryCheckRow[] = [
  {
    name: "IA-32e mode guest (capability added)", section: SIZE, sdm: SIZE_SDM, expected: fail("ia32e-controls-without-intel64"),
    caps: (b) => withAllowed(b, { entry: C.ENTRY_IA32E_MODE_GUEST }), mutate: (f) => f.entry(C.ENTRY_IA32E_MODE_GUEST),
  },
  {
    name: "host address-space size (capability added)", section: SIZE, sdm: SIZE_SDM, expected: fail("ia32e-controls-without-intel64"),
    caps: (b) => withAllowed(b, { exit: C.EXIT_HOST_ADDRESS_SPACE_SIZE }), mutate: (f) => f.exit(C.EXIT_HOST_ADDRESS_SPACE_SIZE),
  },
];

const ROWS = [...CONTROL_REGISTER_ROWS, ...SEGMENT_ROWS, ...SIZE_ROWS];

describe("VM-entry host-state checks (SDM 26.2.2-26.2.4), VMfailValid(8)", () => {
  describe("26.2.2 host control registers and MSRs", () => runRows(CONTROL_REGISTER_ROWS));
  describe("26.2.3 host segment and descriptor-table registers", () => runRows(SEGMENT_ROWS));
  describe("26.2.4 address-space size", () => runRows(SIZE_ROWS));
  it("every host-state rule has a failing row", () => expectRulesCovered(HOST_STATE_RULES, ROWS));
});
