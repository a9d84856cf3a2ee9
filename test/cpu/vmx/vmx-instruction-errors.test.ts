/**
 * The VMX instructions' faults and VMfail results, executed as x86 code on the core (issue 5, "Tests": every
 * VM-instruction error number the model can produce, each with its triggering case), in the style of
 * kvm-unit-tests x86/vmx.c (test_vmx_feature_control, test_vmxon, test_vmclear, test_vmptrld, test_vmptrst,
 * test_vmxoff, test_vmwrite_vmread, test_vmcs_high, test_vmcs_lifecycle) and x86/vmx_tests.c
 * (vmentry_movss_shadow_test, invvpid_test, vmx_controls_test).
 *
 * Each row is {name, sdm, kut, boot, setup, prep, insn, expected}: a fresh machine is booted (vmx-cases-harness),
 * `setup` prepares regions and VMX state (through VmxApi, the operations' one implementation), then the host
 * runs `prep`, sets every arithmetic status flag (POPFD 8D7H), executes `insn` and stores RFLAGS and, after a
 * VMfailValid, the VM-instruction error field read with an x86 VMREAD. The references are the instructions'
 * Operation sections of SDM Vol. 3C 30.3 (check order: #UD, VM exit, #GP, VMfailInvalid, VMfailValid), the
 * flag conventions of 30.2 (VMsucceed clears CF PF AF ZF SF OF; VMfailInvalid sets CF only; VMfailValid sets ZF
 * only and writes the error), the error numbers of Table 30-1 and, where the SDM says so, 23.7-23.8 (enabling
 * VMX operation) and 24.11.2 (field encodings).
 *
 * Assembler note: every VMX form used here (m64 operands of VMXON/VMCLEAR/VMPTRLD/VMPTRST as qword(...),
 * VMREAD/VMWRITE register and memory forms, INVEPT/INVVPID with an m128 written as ptr(...)) is encoded by
 * src/guests/asm; no data-directive bytes were needed.
 */
import { describe, expect, it } from "vitest";
import { VmcsField as F } from "../../../src/cpu/vmx/vmcs-fields.ts";
import { Asm, eax, ebx, ecx, edx, ss, cr0, cr4, dword, qword, ptr } from "../../../src/guests/asm/index.ts";
import {
  VmxCase, type BootOptions, slot, hSaveFlags, hSetFlags, hToRing3, hVmwrite, hVmread,
  VMXON_REGION, VMCS_REGION, VMCS2_REGION, KDATA, RES,
} from "./vmx-cases-harness.ts";

const UD = 6, GP = 13;
const CF = 0x01, ZF = 0x40, DF = 0x400;
const STATUS = 0x8d5; // CF PF AF ZF SF OF (SDM 30.2)
/** 64-bit pointer operands (m64) and INVEPT/INVVPID descriptors (m128) live here. */
const PTR = RES + 0x300, PTR2 = RES + 0x308, DESC = RES + 0x320;
/** MAXPHYADDR of the model (36): bit 37 of an address is beyond it (kvm-unit-tests uses 1 << (width + 1)). */
const BEYOND_HI = 1 << (37 - 32);

type Expected =
  | { fault: number; errorCode?: number }
  | { status: "succeed" | "invalid" }
  | { status: "valid"; error: number };

interface InsnCase {
  name: string;
  /** The SDM rule the row checks. */
  sdm: string;
  /** The kvm-unit-tests (or XTF) function the row mirrors; "-" if none. */
  kut: string;
  boot?: BootOptions;
  setup?: (h: VmxCase) => void;
  prep?: (a: Asm) => void;
  insn: (a: Asm) => void;
  expected: Expected;
  /** Further checks after the run (state the set-up's own instructions left). */
  check?: (h: VmxCase) => void;
  /** A known model bug: the row is expected to fail (it.fails), with where and why. */
  bug?: string;
}

// ---- set-ups ----
const ptrTo = (h: VmxCase, lo: number, hi = 0, at = PTR) => {
  h.w32(at, lo);
  h.w32(at + 4, hi);
};
/** Regions initialised, pointer operands at PTR (VMXON region) and PTR2 (VMCS region); not in VMX operation. */
const regions = (h: VmxCase) => {
  h.initRegion(VMXON_REGION);
  h.initRegion(VMCS_REGION);
  h.initRegion(VMCS2_REGION);
  ptrTo(h, VMXON_REGION);
  ptrTo(h, VMCS_REGION, 0, PTR2);
};
/** In VMX root operation, no current VMCS. */
const vmxOn = (h: VmxCase) => {
  regions(h);
  expect(h.api.vmxon(VMXON_REGION)).toEqual({ ok: true });
};
/** In VMX root operation with a complete, valid current VMCS (guest: VMCALL). */
const withVmcs = (h: VmxCase) => {
  regions(h);
  h.vm();
};

// ---- x86 snippets ----
const vmxon = (a: Asm, at = PTR) => a.insn("vmxon", qword(at));
const vmclear = (a: Asm, at = PTR2) => a.insn("vmclear", qword(at));
const vmptrld = (a: Asm, at = PTR2) => a.insn("vmptrld", qword(at));
const vmreadRip = (a: Asm) => a.mov(edx, F.GUEST_RIP).insn("vmread", eax, edx);
/** Point HOST_RIP at `label` and VMLAUNCH; the guest's VMCALL exits there (the VMCS is then launched). */
const launchAndReturn = (a: Asm, label: string) => {
  hVmwrite(a, F.HOST_RIP, label);
  a.insn("vmlaunch").label(label);
};

const ud = { fault: UD } as const;
const gp0 = { fault: GP, errorCode: 0 } as const;
const succeed = { status: "succeed" } as const;
const invalid = { status: "invalid" } as const;
const valid = (error: number) => ({ status: "valid", error }) as const;

/** VMX instructions other than VMXON, each as one x86 snippet with its operands. */
const VMX_INSNS: readonly [string, (a: Asm) => void][] = [
  ["VMCLEAR", (a) => vmclear(a)],
  ["VMPTRLD", (a) => vmptrld(a)],
  ["VMPTRST", (a) => a.insn("vmptrst", qword(PTR))],
  ["VMREAD", vmreadRip],
  ["VMWRITE", (a) => a.mov(edx, F.GUEST_RIP).insn("vmwrite", edx, eax)],
  ["VMLAUNCH", (a) => a.insn("vmlaunch")],
  ["VMRESUME", (a) => a.insn("vmresume")],
  ["VMXOFF", (a) => a.insn("vmxoff")],
  ["VMCALL", (a) => a.insn("vmcall")],
];

const CASES: InsnCase[] = [
  // ---------------- #UD ----------------
  {
    name: "VMXON with CR4.VMXE = 0 is #UD", sdm: "30.3 VMXON: CR4.VMXE = 0 -> #UD; 23.7", kut: "XTF vvmx test_vmxon_novmxe",
    boot: { vmxe: false }, setup: regions, insn: (a) => vmxon(a), expected: ud,
  },
  ...VMX_INSNS.map(([n, insn]): InsnCase => ({
    name: `${n} outside VMX operation (CR4.VMXE = 1) is #UD`, sdm: `30.3 ${n}: not in VMX operation -> #UD`,
    kut: "vmx_tests.c invvpid_test_not_in_vmx_operation (same rule)", setup: regions, insn, expected: ud,
  })),
  {
    name: "INVEPT outside VMX operation is #UD (skylake)", sdm: "30.3 INVEPT: not in VMX operation -> #UD", kut: "-",
    setup: regions, insn: (a) => a.mov(ecx, 2).insn("invept", ecx, ptr(DESC)), expected: ud,
  },
  {
    name: "INVVPID outside VMX operation is #UD (skylake)", sdm: "30.3 INVVPID: not in VMX operation -> #UD",
    kut: "vmx_tests.c invvpid_test_not_in_vmx_operation", setup: regions,
    insn: (a) => a.mov(ecx, 2).insn("invvpid", ecx, ptr(DESC)), expected: ud,
  },
  {
    name: "VMXON in real-address mode is #UD", sdm: "30.3 VMXON: CR0.PE = 0 -> #UD", kut: "-",
    boot: { real: true }, setup: regions, insn: (a) => a.insn("vmxon", qword(PTR)), expected: ud,
  },
  {
    name: "VMCALL in real-address mode (not in VMX operation) is #UD", sdm: "30.3 VMCALL: not in VMX operation -> #UD",
    kut: "-", boot: { real: true }, insn: (a) => a.insn("vmcall"), expected: ud,
  },
  {
    name: "VMREAD after VMXOFF is #UD", sdm: "30.3 VMXOFF leaves VMX operation; VMREAD: not in VMX operation -> #UD",
    kut: "vmx.c test_vmxoff", setup: withVmcs, prep: (a) => a.insn("vmxoff"), insn: vmreadRip, expected: ud,
  },
  {
    name: "INVEPT on a processor without EPT (core2-q6600) is #UD", sdm: "30.3 INVEPT: EPT not supported -> #UD", kut: "-",
    boot: { profile: "core2-q6600" }, setup: vmxOn, insn: (a) => a.mov(ecx, 2).insn("invept", ecx, ptr(DESC)), expected: ud,
  },
  {
    name: "INVVPID on a processor without VPID (core2-q6600) is #UD", sdm: "30.3 INVVPID: VPID not supported -> #UD",
    kut: "-", boot: { profile: "core2-q6600" }, setup: vmxOn,
    insn: (a) => a.mov(ecx, 2).insn("invvpid", ecx, ptr(DESC)), expected: ud,
  },

  // ---------------- #GP(0) ----------------
  {
    name: "VMXON with IA32_FEATURE_CONTROL = 0 (unlocked) is #GP(0)", sdm: "30.3 VMXON: lock bit clear -> #GP(0); 23.7",
    kut: "vmx.c test_vmx_feature_control (FEATURE_CONTROL cleared)", boot: { featureControl: 0 }, setup: regions,
    insn: (a) => vmxon(a), expected: gp0,
  },
  {
    name: "VMXON with FEATURE_CONTROL enable-outside-SMX but unlocked is #GP(0)", sdm: "30.3 VMXON: lock bit clear -> #GP(0)",
    kut: "vmx.c test_vmx_feature_control (without lock)", boot: { featureControl: 4 }, setup: regions,
    insn: (a) => vmxon(a), expected: gp0,
  },
  {
    name: "VMXON with FEATURE_CONTROL locked but VMX outside SMX disabled is #GP(0)",
    sdm: "30.3 VMXON: outside SMX and bit 2 clear -> #GP(0)", kut: "-", boot: { featureControl: 1 }, setup: regions,
    insn: (a) => vmxon(a), expected: gp0,
  },
  {
    name: "VMXON at CPL 3 is #GP(0)", sdm: "30.3 VMXON: CPL > 0 -> #GP(0)", kut: "XTF vvmx test_vmxon_in_user",
    setup: regions, prep: hToRing3, insn: (a) => vmxon(a), expected: gp0,
  },
  {
    name: "VMXON with CR0.NE = 0 (CR0 not supported in VMX operation) is #GP(0)",
    sdm: "30.3 VMXON: CR0 not allowed by IA32_VMX_CR0_FIXED0 -> #GP(0); 23.8", kut: "-", setup: regions,
    prep: (a) => a.mov(eax, cr0).and(eax, ~0x20).mov(cr0, eax), insn: (a) => vmxon(a), expected: gp0,
  },
  {
    name: "VMXON in VMX root operation at CPL 3 is #GP(0)", sdm: "30.3 VMXON: in VMX operation, CPL > 0 -> #GP(0)",
    kut: "-", setup: vmxOn, prep: hToRing3, insn: (a) => vmxon(a), expected: gp0,
  },
  {
    name: "VMREAD at CPL 3 in VMX root operation is #GP(0)", sdm: "30.3 VMREAD: CPL > 0 -> #GP(0)", kut: "-",
    setup: withVmcs, prep: hToRing3, insn: vmreadRip, expected: gp0,
  },
  {
    name: "VMLAUNCH at CPL 3 is #GP(0)", sdm: "30.3 VMLAUNCH: CPL > 0 -> #GP(0)", kut: "-", setup: withVmcs,
    prep: hToRing3, insn: (a) => a.insn("vmlaunch"), expected: gp0,
  },
  {
    name: "VMCALL at CPL 3 in VMX root operation is #GP(0)", sdm: "30.3 VMCALL: root operation, CPL > 0 -> #GP(0)",
    kut: "-", setup: withVmcs, prep: hToRing3, insn: (a) => a.insn("vmcall"), expected: gp0,
  },
  {
    name: "MOV to CR4 clearing VMXE in VMX operation is #GP(0)", sdm: "23.8: CR4.VMXE cannot be cleared in VMX operation",
    kut: "-", setup: vmxOn, insn: (a) => a.mov(eax, cr4).and(eax, ~0x2000).mov(cr4, eax), expected: gp0,
  },

  // ---------------- VMfailInvalid ----------------
  {
    name: "VMXON with an unaligned region is VMfailInvalid", sdm: "30.3 VMXON: addr not 4-KByte aligned -> VMfailInvalid",
    kut: "vmx.c test_vmxon (unaligned)", setup: (h) => (regions(h), ptrTo(h, VMXON_REGION + 1)), insn: (a) => vmxon(a),
    expected: invalid,
  },
  {
    name: "VMXON with address bits beyond MAXPHYADDR is VMfailInvalid", sdm: "30.3 VMXON: bits beyond physical-address width -> VMfailInvalid",
    kut: "vmx.c test_vmxon (beyond physical address width)", setup: (h) => (regions(h), ptrTo(h, VMXON_REGION, BEYOND_HI)),
    insn: (a) => vmxon(a), expected: invalid,
  },
  {
    name: "VMXON with a wrong revision identifier is VMfailInvalid", sdm: "30.3 VMXON: rev[30:0] != IA32_VMX_BASIC[30:0] -> VMfailInvalid",
    kut: "vmx.c test_vmxon (invalid revision identifier 0xba9da9)", setup: (h) => (regions(h), h.initRegion(VMXON_REGION, 0xba9da9)),
    insn: (a) => vmxon(a), expected: invalid,
  },
  {
    name: "VMXON with revision bit 31 set is VMfailInvalid", sdm: "30.3 VMXON: rev[31] = 1 -> VMfailInvalid", kut: "-",
    setup: (h) => (regions(h), h.initRegion(VMXON_REGION, (h.c.vmx!.revision | 0x80000000) >>> 0)),
    insn: (a) => vmxon(a), expected: invalid,
  },
  {
    name: "VMXON with a valid region succeeds (status flags cleared)", sdm: "30.3 VMXON: VMsucceed; 30.2",
    kut: "vmx.c test_vmxon (valid vmxon region)", setup: regions, insn: (a) => vmxon(a), expected: succeed,
  },
  {
    name: "VMREAD without a current VMCS is VMfailInvalid", sdm: "30.3 VMREAD: current-VMCS pointer not valid -> VMfailInvalid",
    kut: "-", setup: vmxOn, insn: vmreadRip, expected: invalid,
  },
  {
    name: "VMWRITE without a current VMCS is VMfailInvalid", sdm: "30.3 VMWRITE: current-VMCS pointer not valid -> VMfailInvalid",
    kut: "-", setup: vmxOn, insn: (a) => a.mov(edx, F.GUEST_RIP).insn("vmwrite", edx, eax), expected: invalid,
  },
  {
    name: "VMLAUNCH without a current VMCS is VMfailInvalid", sdm: "30.3 VMLAUNCH: current-VMCS pointer not valid -> VMfailInvalid",
    kut: "-", setup: vmxOn, insn: (a) => a.insn("vmlaunch"), expected: invalid,
  },
  {
    name: "VMRESUME without a current VMCS is VMfailInvalid", sdm: "30.3 VMRESUME: current-VMCS pointer not valid -> VMfailInvalid",
    kut: "-", setup: vmxOn, insn: (a) => a.insn("vmresume"), expected: invalid,
  },
  {
    name: "VMCLEAR unaligned without a current VMCS is VMfailInvalid (VMfail(2) with no current VMCS)",
    sdm: "30.3 VMCLEAR; 30.2 VMfail(n)", kut: "vmx.c test_vmclear (unaligned)",
    setup: (h) => (vmxOn(h), ptrTo(h, VMCS_REGION + 1, 0, PTR2)), insn: (a) => vmclear(a), expected: invalid,
  },
  {
    name: "VMPTRLD of the VMXON region without a current VMCS is VMfailInvalid", sdm: "30.3 VMPTRLD; 30.2 VMfail(n)",
    kut: "vmx.c test_vmptrld", setup: vmxOn, insn: (a) => vmptrld(a, PTR), expected: invalid,
  },
  {
    name: "VMCALL in VMX root operation without a current VMCS is VMfailInvalid", sdm: "30.3 VMCALL; 30.2 VMfail(n)",
    kut: "-", setup: vmxOn, insn: (a) => a.insn("vmcall"), expected: invalid,
  },
  {
    name: "VMCLEAR of the current VMCS invalidates the current-VMCS pointer (VMREAD is then VMfailInvalid)",
    sdm: "30.3 VMCLEAR: addr = current-VMCS pointer -> pointer FFFFFFFF_FFFFFFFFH", kut: "-", setup: withVmcs,
    prep: (a) => vmclear(a), insn: vmreadRip, expected: invalid,
  },

  // ---------------- VMfailValid(n), Table 30-1 ----------------
  {
    name: "error 1: VMCALL in VMX root operation", sdm: "30.3 VMCALL; Table 30-1 #1", kut: "-", setup: withVmcs,
    insn: (a) => a.insn("vmcall"), expected: valid(1),
  },
  {
    name: "error 2: VMCLEAR with an unaligned address", sdm: "30.3 VMCLEAR; Table 30-1 #2", kut: "vmx.c test_vmclear (unaligned)",
    setup: (h) => (withVmcs(h), ptrTo(h, VMCS2_REGION + 1, 0, PTR2)), insn: (a) => vmclear(a), expected: valid(2),
  },
  {
    name: "error 2: VMCLEAR with address bits beyond MAXPHYADDR", sdm: "30.3 VMCLEAR; Table 30-1 #2",
    kut: "vmx.c test_vmclear (beyond physical address width)", setup: (h) => (withVmcs(h), ptrTo(h, VMCS2_REGION, BEYOND_HI, PTR2)),
    insn: (a) => vmclear(a), expected: valid(2),
  },
  {
    name: "error 3: VMCLEAR with the VMXON pointer", sdm: "30.3 VMCLEAR; Table 30-1 #3", kut: "vmx.c test_vmclear (vmxon region)",
    setup: withVmcs, insn: (a) => vmclear(a, PTR), expected: valid(3),
  },
  {
    name: "error 4: VMLAUNCH of a launched VMCS", sdm: "30.3 VMLAUNCH: launch state not clear; Table 30-1 #4",
    kut: "vmx.c vmx_enter_guest (VMRESUME once launched)", setup: withVmcs, prep: (a) => launchAndReturn(a, "back"),
    insn: (a) => a.insn("vmlaunch"), expected: valid(4),
  },
  {
    name: "error 5: VMRESUME of a clear VMCS", sdm: "30.3 VMRESUME: launch state not launched; Table 30-1 #5", kut: "-",
    setup: withVmcs, insn: (a) => a.insn("vmresume"), expected: valid(5),
  },
  {
    name: "error 6: VMRESUME after VMXOFF and VMXON without VMCLEAR (the model's reading, vm-entry.ts)",
    sdm: "Table 30-1 #6", kut: "-", setup: withVmcs,
    prep: (a) => (launchAndReturn(a, "back"), a.insn("vmxoff"), vmxon(a), vmptrld(a)),
    insn: (a) => a.insn("vmresume"), expected: valid(6),
  },
  {
    name: "error 4: VMLAUNCH after VMXOFF and VMXON without VMCLEAR (the region is not clear)",
    sdm: "30.3 VMLAUNCH; Table 30-1 #4", kut: "-", setup: withVmcs,
    prep: (a) => (launchAndReturn(a, "back"), a.insn("vmxoff"), vmxon(a), vmptrld(a)),
    insn: (a) => a.insn("vmlaunch"), expected: valid(4),
  },
  {
    name: "VMCLEAR after VMXOFF/VMXON makes the VMCS launchable again", sdm: "30.3 VMCLEAR: launch state clear", kut: "-",
    setup: withVmcs, prep: (a) => (launchAndReturn(a, "back"), a.insn("vmxoff"), vmxon(a), vmclear(a), vmptrld(a),
      hVmwrite(a, F.HOST_RIP, "back2"), a.insn("vmlaunch").label("back2"), hVmread(a, F.EXIT_REASON, slot(2))),
    insn: (a) => a.insn("vmlaunch"), expected: valid(4),
    check: (h) => expect(h.slot(2)).toBe(18), // the second VMLAUNCH entered the guest, whose VMCALL exited
  },
  {
    name: "error 7: VMLAUNCH with pin-based must-be-1 bits cleared", sdm: "26.2.1.1 (pin-based allowed-0); Table 30-1 #7",
    kut: "vmx_tests.c vmx_controls_test (test_pin_based_ctls)", setup: withVmcs,
    prep: (a) => hVmwrite(a, F.PIN_BASED_VM_EXECUTION_CONTROLS, 0), insn: (a) => a.insn("vmlaunch"), expected: valid(7),
  },
  {
    name: "error 8: VMLAUNCH with HOST_CR4.VMXE = 0", sdm: "26.2.2 (host CR4 fixed bits); Table 30-1 #8",
    kut: "vmx_tests.c vmx_host_state_area_test (test_host_ctl_regs)", setup: withVmcs,
    prep: (a) => hVmwrite(a, F.HOST_CR4, 0x10), insn: (a) => a.insn("vmlaunch"), expected: valid(8),
  },
  {
    name: "error 9: VMPTRLD with an unaligned address", sdm: "30.3 VMPTRLD; Table 30-1 #9", kut: "vmx.c test_vmptrld (unaligned)",
    setup: (h) => (withVmcs(h), ptrTo(h, VMCS2_REGION + 1, 0, PTR2)), insn: (a) => vmptrld(a), expected: valid(9),
  },
  {
    name: "error 9: VMPTRLD with address bits beyond MAXPHYADDR", sdm: "30.3 VMPTRLD; Table 30-1 #9",
    kut: "vmx.c test_vmptrld (beyond physical address width)", setup: (h) => (withVmcs(h), ptrTo(h, VMCS2_REGION, BEYOND_HI, PTR2)),
    insn: (a) => vmptrld(a), expected: valid(9),
  },
  {
    name: "error 10: VMPTRLD with the VMXON pointer", sdm: "30.3 VMPTRLD; Table 30-1 #10", kut: "vmx.c test_vmptrld (vmxon region)",
    setup: withVmcs, insn: (a) => vmptrld(a, PTR), expected: valid(10),
  },
  {
    name: "error 11: VMPTRLD of a region with a wrong revision identifier", sdm: "30.3 VMPTRLD; Table 30-1 #11", kut: "-",
    setup: (h) => (withVmcs(h), h.initRegion(VMCS2_REGION, 0xba9da9), ptrTo(h, VMCS2_REGION, 0, PTR2)),
    insn: (a) => vmptrld(a), expected: valid(11),
  },
  {
    name: "error 11: VMPTRLD of a region with the shadow-VMCS bit set (no VMCS shadowing)", sdm: "30.3 VMPTRLD; 24.2; Table 30-1 #11",
    kut: "-", setup: (h) => (withVmcs(h), h.initRegion(VMCS2_REGION, (h.c.vmx!.revision | 0x80000000) >>> 0), ptrTo(h, VMCS2_REGION, 0, PTR2)),
    insn: (a) => vmptrld(a), expected: valid(11),
  },
  ...([
    ["an unsupported field (EPTP index, 0004H)", 0x0004],
    ["an encoding with bit 12 set", F.GUEST_RIP | 0x1000],
    ["an encoding with bits 31:15 set", (F.GUEST_RIP | 0x10000) >>> 0],
    ["the HIGH access type of a 32-bit field", F.PIN_BASED_VM_EXECUTION_CONTROLS | 1],
    ["the HIGH access type of a natural-width field", F.GUEST_RIP | 1],
  ] as const).flatMap(([what, enc]): InsnCase[] => [
    {
      name: `error 12: VMREAD of ${what}`, sdm: "30.3 VMREAD; 24.11.2; Table 30-1 #12", kut: "vmx.c find_vmcs_max_index (ZF for unsupported)",
      setup: withVmcs, insn: (a) => a.mov(edx, enc).insn("vmread", eax, edx), expected: valid(12),
    },
    {
      name: `error 12: VMWRITE of ${what}`, sdm: "30.3 VMWRITE; 24.11.2; Table 30-1 #12", kut: "-",
      setup: withVmcs, insn: (a) => a.mov(edx, enc).insn("vmwrite", edx, eax), expected: valid(12),
    },
  ]),
  {
    name: "error 13: VMWRITE to a read-only field (EXIT_REASON) where IA32_VMX_MISC[29] = 0 (nehalem)",
    sdm: "30.3 VMWRITE; A.6 MISC[29]; Table 30-1 #13", kut: "vmx.c vmcs_field_readonly", boot: { profile: "nehalem" },
    setup: withVmcs, insn: (a) => a.mov(edx, F.EXIT_REASON).mov(eax, 1).insn("vmwrite", edx, eax), expected: valid(13),
  },
  {
    name: "VMWRITE to a read-only field succeeds where IA32_VMX_MISC[29] = 1 (skylake)", sdm: "30.3 VMWRITE; A.6 MISC[29]",
    kut: "vmx.c vmcs_field_readonly", setup: withVmcs,
    insn: (a) => a.mov(edx, F.EXIT_REASON).mov(eax, 1).insn("vmwrite", edx, eax), expected: succeed,
  },
  {
    name: "error 15: VMXON in VMX root operation", sdm: "30.3 VMXON: in VMX root operation -> VMfail; Table 30-1 #15", kut: "-",
    setup: withVmcs, insn: (a) => vmxon(a), expected: valid(15),
  },
  {
    name: "VMXON in VMX root operation without a current VMCS is VMfailInvalid", sdm: "30.3 VMXON; 30.2 VMfail(n)", kut: "-",
    setup: vmxOn, insn: (a) => vmxon(a), expected: invalid,
  },
  {
    name: "error 26: VMLAUNCH right after MOV SS", sdm: "30.3 VMLAUNCH: events blocked by MOV SS; Table 30-1 #26",
    kut: "vmx_tests.c vmentry_movss_shadow_test", setup: withVmcs, prep: (a) => a.mov(eax, KDATA),
    insn: (a) => a.mov(ss, eax).insn("vmlaunch"), expected: valid(26),
  },
  {
    name: "error 26: VMRESUME right after POP SS", sdm: "30.3 VMRESUME: events blocked by MOV SS; Table 30-1 #26",
    kut: "vmx_tests.c vmentry_movss_shadow_test", setup: withVmcs,
    // The resumed guest's exit (if the VMRESUME wrongly enters) lands at "done": one round, not a loop.
    prep: (a) => (launchAndReturn(a, "back"), hVmwrite(a, F.HOST_RIP, "done"), a.push(KDATA)),
    insn: (a) => a.pop(ss).insn("vmresume"), expected: valid(26),
  },
  ...([0, 3, 4] as const).map((type): InsnCase => ({
    name: `error 28: INVEPT with type ${type} (not reported by IA32_VMX_EPT_VPID_CAP)`, sdm: "30.3 INVEPT; A.10; Table 30-1 #28",
    kut: "vmx_tests.c invept_test", setup: withVmcs, insn: (a) => a.mov(ecx, type).insn("invept", ecx, ptr(DESC)),
    expected: valid(28),
  })),
  {
    name: "error 28: INVEPT with type 0 on haswell", sdm: "30.3 INVEPT; A.10; Table 30-1 #28", kut: "vmx_tests.c invept_test",
    boot: { profile: "haswell" }, setup: withVmcs, insn: (a) => a.mov(ecx, 0).insn("invept", ecx, ptr(DESC)), expected: valid(28),
  },
  {
    name: "error 28: INVVPID single context with VPID 0 on haswell", sdm: "30.3 INVVPID; Table 30-1 #28", kut: "vmx_tests.c invvpid_test",
    boot: { profile: "haswell" }, setup: (h) => (withVmcs(h), h.w32(DESC, 0)),
    insn: (a) => a.mov(ecx, 1).insn("invvpid", ecx, ptr(DESC)), expected: valid(28),
  },
  {
    name: "INVEPT all-context (type 2) succeeds", sdm: "30.3 INVEPT; A.10 (bit 26)", kut: "vmx_tests.c invept_test",
    setup: withVmcs, insn: (a) => a.mov(ecx, 2).insn("invept", ecx, ptr(DESC)), expected: succeed,
  },
  ...([
    ["type 4 (undefined)", 4, 1],
    ["type 1 (single context) with VPID 0", 1, 0],
    ["type 0 (individual address) with VPID 0", 0, 0],
    ["type 3 (single context retaining globals) with VPID 0", 3, 0],
    ["descriptor bits 63:16 set", 1, 0x10001],
  ] as const).map(([what, type, d0]): InsnCase => ({
    name: `error 28: INVVPID ${what}`, sdm: "30.3 INVVPID; Table 30-1 #28", kut: "vmx_tests.c invvpid_test",
    setup: (h) => (withVmcs(h), h.w32(DESC, d0), h.w32(DESC + 4, 0)),
    insn: (a) => a.mov(ecx, type).insn("invvpid", ecx, ptr(DESC)), expected: valid(28),
  })),
  {
    name: "INVVPID all contexts (type 2) with VPID 0 succeeds", sdm: "30.3 INVVPID: the VPID check excludes type 2",
    kut: "vmx_tests.c invvpid_test", setup: (h) => (withVmcs(h), h.w32(DESC, 0)),
    insn: (a) => a.mov(ecx, 2).insn("invvpid", ecx, ptr(DESC)), expected: succeed,
  },

  // ---------------- VMsucceed ----------------
  {
    name: "VMCLEAR of a valid region succeeds", sdm: "30.3 VMCLEAR; 30.2 VMsucceed", kut: "vmx.c test_vmclear (valid vmcs region)",
    setup: vmxOn, insn: (a) => vmclear(a), expected: succeed,
  },
  {
    name: "VMPTRLD of a valid region succeeds", sdm: "30.3 VMPTRLD; 30.2", kut: "vmx.c test_vmptrld (valid vmcs region)",
    setup: vmxOn, insn: (a) => vmptrld(a), expected: succeed,
  },
  {
    name: "VMXOFF succeeds", sdm: "30.3 VMXOFF; 30.2", kut: "vmx.c test_vmxoff", setup: withVmcs,
    insn: (a) => a.insn("vmxoff"), expected: succeed,
  },
  {
    name: "VMPTRST without a current VMCS succeeds", sdm: "30.3 VMPTRST; 30.2", kut: "vmx.c test_vmptrst", setup: vmxOn,
    insn: (a) => a.insn("vmptrst", qword(PTR)), expected: succeed,
  },
];

/** Written by the epilogue's last instruction: the host got past the instruction under test. */
const REACHED = 0x600d;

/** Boot, set up, run prep + flags + insn + epilogue; the fault or the status. */
function runCase(row: InsnCase) {
  const h = new VmxCase(row.boot);
  row.setup?.(h);
  const img = h.host((a) => {
    row.prep?.(a);
    if (!h.real) hSetFlags(a, STATUS | 2);
    a.label("insn");
    row.insn(a);
    if (h.real) return;
    hSaveFlags(a, slot(0));
    a.mov(dword(slot(1)), 0xffffffff).jnz("done");
    hVmread(a, F.VM_INSTRUCTION_ERROR, slot(1));
    a.label("done").mov(dword(slot(3)), REACHED);
  });
  return { h, img };
}

describe("VMX instruction faults and VMfail results, as x86 code (SDM 30.2, 30.3, Table 30-1)", () => {
  for (const row of CASES) {
    (row.bug !== undefined ? it.fails : it)(`${row.name} [SDM ${row.sdm}; ${row.kut}]${row.bug !== undefined ? " (known bug: " + row.bug + ")" : ""}`, () => {
      const { h, img } = runCase(row);
      const f = h.fault();
      const e = row.expected;
      expect(h.c.halted, "the host ran to a HLT (its end or a fault stub), not out of cycles").toBe(true);
      if ("fault" in e) {
        if (!h.real) expect(h.slot(3), "the epilogue after a faulting instruction").not.toBe(REACHED);
        expect(f, "fault").not.toBeNull();
        expect(f!.vector).toBe(e.fault);
        if (e.errorCode !== undefined) expect(f!.errorCode).toBe(e.errorCode);
        // A fault reports the faulting instruction's EIP (SDM Vol. 3A 6.5); the insn snippet may start with set-up.
        if (!h.real) expect(f!.eip).toBeGreaterThanOrEqual(img.symbols.insn);
        return;
      }
      expect(f, `unexpected host fault ${JSON.stringify(f)}`).toBeNull();
      expect(h.slot(3), "the host reached the end of its code").toBe(REACHED);
      const flags = h.slot(0) & STATUS;
      if (e.status !== "valid") expect(flags).toBe(e.status === "succeed" ? 0 : CF);
      else {
        expect(flags).toBe(ZF);
        expect(h.slot(1)).toBe(e.error);
      }
      row.check?.(h);
    });
  }
});

describe("VMX instruction results beyond the status (SDM 30.3, 24.11)", () => {
  it("VMPTRST without a current VMCS stores FFFFFFFF_FFFFFFFFH [30.3 VMPTRST]", () => {
    const h = new VmxCase();
    vmxOn(h);
    h.w32(slot(4), 0x1234);
    h.w32(slot(5), 0x5678);
    h.host((a) => a.insn("vmptrst", qword(slot(4))));
    expect([h.slot(4), h.slot(5)]).toEqual([0xffffffff, 0xffffffff]);
  });

  it("VMPTRST after VMPTRLD stores the region's address [30.3 VMPTRST; kvm-unit-tests test_vmptrst]", () => {
    const h = new VmxCase();
    vmxOn(h);
    h.host((a) => (vmclear(a), vmptrld(a), a.insn("vmptrst", qword(slot(4)))));
    expect([h.slot(4), h.slot(5)]).toEqual([VMCS_REGION, 0]);
    expect(h.fault()).toBeNull();
  });

  it("VMfail leaves DF and the other non-status flags alone, and the error stays readable [30.2]", () => {
    const h = new VmxCase();
    withVmcs(h);
    h.host((a) => {
      hSetFlags(a, STATUS | DF | 2);
      a.insn("vmcall");
      hSaveFlags(a, slot(0));
      hVmread(a, F.VM_INSTRUCTION_ERROR, slot(1));
      hSaveFlags(a, slot(2));
    });
    expect(h.slot(0) & (STATUS | DF)).toBe(ZF | DF);
    expect(h.slot(1)).toBe(1);
    expect(h.slot(2) & (STATUS | DF)).toBe(DF); // the VMREAD succeeded: status cleared, DF kept
  });

  it("a VMCS region keeps its data across VMCLEAR and VMPTRLD [24.11.1; kvm-unit-tests test_vmcs_lifecycle]", () => {
    const h = new VmxCase();
    vmxOn(h);
    ptrTo(h, VMCS2_REGION, 0, PTR);
    h.host((a) => {
      vmclear(a).insn("vmptrld", qword(PTR2));
      hVmwrite(a, F.CR3_TARGET_VALUE_0, 0x11111000);
      vmclear(a, PTR).insn("vmptrld", qword(PTR));
      hVmwrite(a, F.CR3_TARGET_VALUE_0, 0x22222000);
      vmclear(a); // VMCS 0 written back and cleared
      vmptrld(a);
      hVmread(a, F.CR3_TARGET_VALUE_0, slot(4));
      vmptrld(a, PTR); // VMCS 1 still active: its on-chip data
      hVmread(a, F.CR3_TARGET_VALUE_0, slot(5));
      vmclear(a, PTR).insn("vmptrld", qword(PTR)); // through memory again
      hVmread(a, F.CR3_TARGET_VALUE_0, slot(6));
    });
    expect(h.fault()).toBeNull();
    expect([h.slot(4), h.slot(5), h.slot(6)]).toEqual([0x11111000, 0x22222000, 0x22222000]);
  });

  it("VMWRITE of a 64-bit field's FULL half clears bits 63:32 outside 64-bit mode; HIGH keeps bits 31:0 [24.11.2; kvm-unit-tests test_vmcs_high]", () => {
    const h = new VmxCase();
    withVmcs(h);
    h.host((a) => {
      hVmwrite(a, F.TSC_OFFSET_HIGH, 0x01234567);
      hVmwrite(a, F.TSC_OFFSET, 0x89abcdef);
      hVmread(a, F.TSC_OFFSET_HIGH, slot(4));
      hVmwrite(a, F.TSC_OFFSET_HIGH, 0x76543210);
      hVmread(a, F.TSC_OFFSET, slot(5));
      hVmread(a, F.TSC_OFFSET_HIGH, slot(6));
    });
    expect(h.fault()).toBeNull();
    expect([h.slot(4), h.slot(5), h.slot(6)]).toEqual([0, 0x89abcdef, 0x76543210]);
  });

  it("VMREAD to memory and VMWRITE from memory move 32 bits [30.3 VMREAD/VMWRITE, Ed operands]", () => {
    const h = new VmxCase();
    withVmcs(h);
    h.w32(slot(8), 0x00abc000);
    h.host((a) => {
      a.mov(ebx, F.CR3_TARGET_VALUE_1).insn("vmwrite", ebx, dword(slot(8)));
      a.insn("vmread", dword(slot(9)), ebx);
      hSaveFlags(a, slot(0));
    });
    expect(h.fault()).toBeNull();
    expect(h.slot(9)).toBe(0x00abc000);
    expect(h.slot(0) & STATUS).toBe(0);
  });

  it("a failed VMLAUNCH falls through to the next instruction with the host's state [30.3 VMLAUNCH]", () => {
    const h = new VmxCase();
    withVmcs(h);
    h.host((a) => {
      hVmwrite(a, F.PIN_BASED_VM_EXECUTION_CONTROLS, 0);
      a.mov(ebx, 0x5a5a).insn("vmlaunch").mov(dword(slot(3)), ebx);
    });
    expect(h.c.nonRoot).toBe(false);
    expect(h.slot(3)).toBe(0x5a5a);
    expect(h.read(F.VM_INSTRUCTION_ERROR)).toBe(7);
  });
});
