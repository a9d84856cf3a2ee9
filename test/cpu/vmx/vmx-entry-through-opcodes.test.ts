/**
 * VM entry through the VMLAUNCH opcode (issue 5, "Tests": VM-entry checks one row per group, through the
 * instruction): the checks on VMX controls give VMfailValid(7), those on the host-state area VMfailValid(8)
 * (SDM Vol. 3C 26.2.1, 26.2.2-26.2.4; Table 30-1), those on the guest-state area a VM-entry failure, exit reason
 * 33 | 80000000H with exit qualification 0, 3 or 4 (26.3.1, 26.7; Appendix C), and a failing VM-entry MSR-load
 * entry exit reason 34 | 80000000H with the entry's 1-based number as qualification (26.4). The rule-by-rule
 * tables on VMCS images are entry-checks*.test.ts; here each row goes VMWRITE (VmxApi) -> x86 VMLAUNCH -> the
 * host's x86 exit handler, and the row also checks the SDM section the model names for the failed check.
 *
 * Then what a successful entry and the following exit do (26.3.2 loading guest state, 26.4 MSR loading, 27.3
 * saving guest state, 27.4 MSR store, 27.5-27.6 loading host state and MSRs), after kvm-unit-tests
 * vmx_tests.c vmenter_main (VMLAUNCH, then VMRESUME keeps RSP and registers) and msr_switch_main /
 * msr_switch_exit_handler / msr_switch_entry_failure.
 */
import { describe, expect, it } from "vitest";
import { VmcsField as F } from "../../../src/cpu/vmx/vmcs-fields.ts";
import * as C from "../../../src/cpu/vmx/vmx-controls.ts";
import { readMsr } from "../../../src/cpu/msr.ts";
import { eax, ecx, edx, esp, dword, cr3, ds } from "../../../src/guests/asm/index.ts";
import {
  VmxCase, type VmOptions, EXIT_HOST_FLAGS, GREGS, GUEST_DATA, GUEST_STACK_TOP, HOST_STACK_TOP, MSR_AREA, PD,
  KDATA, KCODE, TSS_SEL, MSR_BITMAP,
} from "./vmx-cases-harness.ts";

const ENTRY_FAILURE = 0x80000000;
const SYSENTER_CS = 0x174;

interface EntryCase {
  name: string;
  /** SDM section of the rule (the model's EntryFailure.section must start with it). */
  sdm: string;
  kut: string;
  profile?: string;
  vm: VmOptions;
  setup?: (h: VmxCase) => void;
  expected: { vmfail: 7 | 8 } | { reason: 33 | 34; qualification: number };
}

const fields = (...f: [number, number][]): VmOptions => ({ fields: f });
/** A VM-entry MSR-load list at MSR_AREA: [index, data] entries (bits 63:32 of the first qword in `hi`). */
function msrList(h: VmxCase, at: number, entries: readonly (readonly [number, number, number?])[]): void {
  entries.forEach(([index, data, hi], k) => {
    h.w32(at + 16 * k, index);
    h.w32(at + 16 * k + 4, hi ?? 0);
    h.w32(at + 16 * k + 8, data);
    h.w32(at + 16 * k + 12, 0);
  });
}

const CASES: EntryCase[] = [
  // ---- 26.2.1.1 VM-execution control fields: VMfailValid(7) ----
  {
    name: "pin-based controls with a must-be-1 bit cleared", sdm: "26.2.1.1", kut: "vmx_controls_test: test_pin_based_ctls",
    vm: fields([F.PIN_BASED_VM_EXECUTION_CONTROLS, 0]), expected: { vmfail: 7 },
  },
  {
    name: "primary processor-based controls with a must-be-1 bit cleared", sdm: "26.2.1.1",
    kut: "vmx_controls_test: test_primary_processor_based_ctls", vm: fields([F.PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, 0]),
    expected: { vmfail: 7 },
  },
  {
    name: "secondary controls with a bit the processor does not allow (descriptor-table exiting)", sdm: "26.2.1.1",
    kut: "vmx_controls_test: test_secondary_processor_based_ctls",
    vm: { controls: { proc2: C.PROC2_ENABLE_VPID }, fields: [[F.VPID, 1], [F.SECONDARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, C.PROC2_DESCRIPTOR_TABLE_EXITING]] },
    expected: { vmfail: 7 },
  },
  {
    name: "CR3-target count above 4", sdm: "26.2.1.1", kut: "vmx_controls_test: test_cr3_targets",
    vm: fields([F.CR3_TARGET_COUNT, 5]), expected: { vmfail: 7 },
  },
  {
    name: "I/O bitmap A not 4-KByte aligned", sdm: "26.2.1.1", kut: "vmx_controls_test: test_io_bitmaps",
    vm: { controls: { proc: C.PROC_USE_IO_BITMAPS }, fields: [[F.IO_BITMAP_A, 0xa001], [F.IO_BITMAP_B, 0xb000]] },
    expected: { vmfail: 7 },
  },
  {
    name: "MSR bitmap not 4-KByte aligned", sdm: "26.2.1.1", kut: "vmx_controls_test: test_msr_bitmap",
    vm: { controls: { proc: C.PROC_USE_MSR_BITMAPS }, fields: [[F.MSR_BITMAPS, 0xc800]] }, expected: { vmfail: 7 },
  },
  {
    name: "virtual NMIs without NMI exiting", sdm: "26.2.1.1", kut: "vmx_controls_test: test_nmi_ctrls",
    vm: fields([F.PIN_BASED_VM_EXECUTION_CONTROLS, 0x16 | C.PIN_VIRTUAL_NMIS]), expected: { vmfail: 7 },
  },
  {
    name: "NMI-window exiting without virtual NMIs", sdm: "26.2.1.1", kut: "vmx_controls_test: test_nmi_ctrls",
    vm: { controls: { proc: C.PROC_NMI_WINDOW_EXITING, pin: C.PIN_NMI_EXITING | C.PIN_VIRTUAL_NMIS }, fields: [[F.PIN_BASED_VM_EXECUTION_CONTROLS, 0x16 | C.PIN_NMI_EXITING]] },
    expected: { vmfail: 7 },
  },
  {
    name: "enable VPID with VPID 0", sdm: "26.2.1.1", kut: "vmx_controls_test: test_vpid",
    vm: { controls: { proc2: C.PROC2_ENABLE_VPID }, fields: [[F.VPID, 0]] }, expected: { vmfail: 7 },
  },
  {
    name: "activate VMX-preemption timer on a processor without it (core2-q6600)", sdm: "26.2.1.1",
    kut: "vmx_controls_test: test_vmx_preemption_timer", profile: "core2-q6600",
    vm: fields([F.PIN_BASED_VM_EXECUTION_CONTROLS, 0x16 | C.PIN_ACTIVATE_PREEMPTION_TIMER]), expected: { vmfail: 7 },
  },
  // ---- 26.2.1.2 VM-exit control fields ----
  {
    name: "save VMX-preemption timer value without activating the timer", sdm: "26.2.1.2",
    kut: "vmx_controls_test: test_vmx_preemption_timer",
    vm: { controls: { exit: C.EXIT_SAVE_PREEMPTION_TIMER_VALUE } }, expected: { vmfail: 7 },
  },
  {
    name: "VM-exit MSR-store address not 16-byte aligned", sdm: "26.2.1.2", kut: "vmx_controls_test: test_exit_msr_store",
    vm: fields([F.VM_EXIT_MSR_STORE_COUNT, 1], [F.VM_EXIT_MSR_STORE_ADDRESS, MSR_AREA + 8]), expected: { vmfail: 7 },
  },
  // ---- 26.2.1.3 VM-entry control fields ----
  {
    name: "event injection with the reserved interruption type 1", sdm: "26.2.1.3",
    kut: "vmx_controls_test: test_invalid_event_injection", vm: fields([F.VM_ENTRY_INTERRUPTION_INFORMATION, 0x80000120]),
    expected: { vmfail: 7 },
  },
  {
    name: "NMI injection with a vector other than 2", sdm: "26.2.1.3", kut: "vmx_controls_test: test_invalid_event_injection",
    vm: fields([F.VM_ENTRY_INTERRUPTION_INFORMATION, 0x80000203]), expected: { vmfail: 7 },
  },
  {
    name: "hardware exception injection with a vector above 31", sdm: "26.2.1.3",
    kut: "vmx_controls_test: test_invalid_event_injection", vm: fields([F.VM_ENTRY_INTERRUPTION_INFORMATION, 0x80000320]),
    expected: { vmfail: 7 },
  },
  {
    name: "deliver-error-code for #UD (no error code)", sdm: "26.2.1.3", kut: "vmx_controls_test: test_invalid_event_injection",
    vm: fields([F.VM_ENTRY_INTERRUPTION_INFORMATION, 0x80000b06]), expected: { vmfail: 7 },
  },
  {
    name: "#GP injection without deliver-error-code in protected mode", sdm: "26.2.1.3",
    kut: "vmx_controls_test: test_invalid_event_injection", vm: fields([F.VM_ENTRY_INTERRUPTION_INFORMATION, 0x8000030d]),
    expected: { vmfail: 7 },
  },
  {
    name: "software interrupt injection with instruction length 16", sdm: "26.2.1.3",
    kut: "vmx_controls_test: test_invalid_event_injection",
    vm: fields([F.VM_ENTRY_INTERRUPTION_INFORMATION, 0x80000430], [F.VM_ENTRY_INSTRUCTION_LENGTH, 16]), expected: { vmfail: 7 },
  },
  {
    name: "VM-entry MSR-load address not 16-byte aligned", sdm: "26.2.1.3", kut: "vmx_controls_test: test_entry_msr_load",
    vm: fields([F.VM_ENTRY_MSR_LOAD_COUNT, 1], [F.VM_ENTRY_MSR_LOAD_ADDRESS, MSR_AREA + 4]), expected: { vmfail: 7 },
  },
  // ---- 26.2.2-26.2.4 host state: VMfailValid(8) ----
  {
    name: "HOST_CR0 without PG (IA32_VMX_CR0_FIXED0)", sdm: "26.2.2", kut: "vmx_host_state_area_test: test_host_ctl_regs",
    vm: fields([F.HOST_CR0, 0x00000031]), expected: { vmfail: 8 },
  },
  {
    name: "HOST_CR4 without VMXE (IA32_VMX_CR4_FIXED0)", sdm: "26.2.2", kut: "vmx_host_state_area_test: test_host_ctl_regs",
    vm: fields([F.HOST_CR4, 0x10]), expected: { vmfail: 8 },
  },
  {
    name: "HOST_SS_SELECTOR with RPL 3", sdm: "26.2.3", kut: "vmx_host_state_area_test: test_host_segment_regs",
    vm: fields([F.HOST_SS_SELECTOR, KDATA | 3]), expected: { vmfail: 8 },
  },
  {
    name: "HOST_DS_SELECTOR with TI set", sdm: "26.2.3", kut: "vmx_host_state_area_test: test_host_segment_regs",
    vm: fields([F.HOST_DS_SELECTOR, KDATA | 4]), expected: { vmfail: 8 },
  },
  {
    name: "HOST_CS_SELECTOR null", sdm: "26.2.3", kut: "vmx_host_state_area_test: test_host_segment_regs",
    vm: fields([F.HOST_CS_SELECTOR, 0]), expected: { vmfail: 8 },
  },
  {
    name: "HOST_TR_SELECTOR null", sdm: "26.2.3", kut: "vmx_host_state_area_test: test_host_segment_regs",
    vm: fields([F.HOST_TR_SELECTOR, 0]), expected: { vmfail: 8 },
  },
  // ---- 26.3.1 guest state: VM-entry failure, reason 33 ----
  {
    name: "GUEST_CR0 with PG but not PE", sdm: "26.3.1.1", kut: "-",
    vm: fields([F.GUEST_CR0, 0x80000030]), expected: { reason: 33, qualification: 0 },
  },
  {
    name: "GUEST_CR4 without VMXE", sdm: "26.3.1.1", kut: "-", vm: fields([F.GUEST_CR4, 0x10]),
    expected: { reason: 33, qualification: 0 },
  },
  {
    name: "guest CS with a data-segment type", sdm: "26.3.1.2", kut: "-",
    vm: fields([F.GUEST_CS_ACCESS_RIGHTS, 0xc093]), expected: { reason: 33, qualification: 0 },
  },
  {
    name: "guest SS.DPL different from CS.DPL", sdm: "26.3.1.2", kut: "-",
    vm: fields([F.GUEST_SS_ACCESS_RIGHTS, 0xc0f3], [F.GUEST_SS_SELECTOR, KDATA | 3]), expected: { reason: 33, qualification: 0 },
  },
  {
    name: "guest TR an available (not busy) TSS", sdm: "26.3.1.2", kut: "-",
    vm: fields([F.GUEST_TR_ACCESS_RIGHTS, 0x89]), expected: { reason: 33, qualification: 0 },
  },
  {
    name: "guest GDTR limit above FFFFH", sdm: "26.3.1.3", kut: "-",
    vm: fields([F.GUEST_GDTR_LIMIT, 0x10000]), expected: { reason: 33, qualification: 0 },
  },
  {
    name: "guest RFLAGS with bit 1 clear", sdm: "26.3.1.4", kut: "-",
    vm: fields([F.GUEST_RFLAGS, 0]), expected: { reason: 33, qualification: 0 },
  },
  {
    name: "guest RFLAGS with reserved bit 15 set", sdm: "26.3.1.4", kut: "-",
    vm: fields([F.GUEST_RFLAGS, 0x8002]), expected: { reason: 33, qualification: 0 },
  },
  {
    name: "guest activity state 4 (undefined)", sdm: "26.3.1.5", kut: "-",
    vm: fields([F.GUEST_ACTIVITY_STATE, 4]), expected: { reason: 33, qualification: 0 },
  },
  {
    name: "guest interruptibility with blocking by STI and by MOV SS", sdm: "26.3.1.5", kut: "-",
    vm: fields([F.GUEST_RFLAGS, 0x202], [F.GUEST_INTERRUPTIBILITY_STATE, 3]), expected: { reason: 33, qualification: 0 },
  },
  {
    name: "guest blocking by STI with RFLAGS.IF = 0", sdm: "26.3.1.5", kut: "-",
    vm: fields([F.GUEST_INTERRUPTIBILITY_STATE, 1]), expected: { reason: 33, qualification: 0 },
  },
  {
    name: "guest pending debug BS = 0 with RFLAGS.TF = 1 in the HLT state", sdm: "26.3.1.5", kut: "-",
    vm: fields([F.GUEST_RFLAGS, 0x102], [F.GUEST_ACTIVITY_STATE, 1]), expected: { reason: 33, qualification: 0 },
  },
  {
    name: "NMI injection with blocking by STI: qualification 3", sdm: "26.3.1.5", kut: "-",
    vm: fields([F.GUEST_RFLAGS, 0x202], [F.GUEST_INTERRUPTIBILITY_STATE, 1], [F.VM_ENTRY_INTERRUPTION_INFORMATION, 0x80000202]),
    expected: { reason: 33, qualification: 3 },
  },
  {
    name: "VMCS link pointer not FFFFFFFF_FFFFFFFFH (0): qualification 4", sdm: "26.3.1.5",
    kut: "-", vm: fields([F.VMCS_LINK_POINTER, 0], [F.VMCS_LINK_POINTER_HIGH, 0]),
    expected: { reason: 33, qualification: 4 },
  },
  // ---- 26.4 VM-entry MSR loading: reason 34, qualification = the failing entry's 1-based number ----
  {
    name: "MSR-load entry 2 names IA32_FS_BASE: qualification 2", sdm: "26.4", kut: "vmx_tests.c msr_switch_entry_failure",
    vm: fields([F.VM_ENTRY_MSR_LOAD_COUNT, 2], [F.VM_ENTRY_MSR_LOAD_ADDRESS, MSR_AREA]),
    setup: (h) => msrList(h, MSR_AREA, [[SYSENTER_CS, 0x10], [0xc0000100, 0]]), expected: { reason: 34, qualification: 2 },
  },
  {
    name: "MSR-load entry 1 with reserved bits 63:32 set: qualification 1", sdm: "26.4", kut: "-",
    vm: fields([F.VM_ENTRY_MSR_LOAD_COUNT, 1], [F.VM_ENTRY_MSR_LOAD_ADDRESS, MSR_AREA]),
    setup: (h) => msrList(h, MSR_AREA, [[SYSENTER_CS, 0x10, 1]]), expected: { reason: 34, qualification: 1 },
  },
  {
    name: "MSR-load entry 3 names an x2APIC MSR (808H): qualification 3", sdm: "26.4", kut: "-",
    vm: fields([F.VM_ENTRY_MSR_LOAD_COUNT, 3], [F.VM_ENTRY_MSR_LOAD_ADDRESS, MSR_AREA]),
    setup: (h) => msrList(h, MSR_AREA, [[SYSENTER_CS, 0x10], [0x175, 0x1000], [0x808, 0]]), expected: { reason: 34, qualification: 3 },
  },
  {
    name: "MSR-load entry 1 names an MSR the processor does not have (WRMSR would #GP): qualification 1", sdm: "26.4",
    kut: "-", vm: fields([F.VM_ENTRY_MSR_LOAD_COUNT, 1], [F.VM_ENTRY_MSR_LOAD_ADDRESS, MSR_AREA]),
    setup: (h) => msrList(h, MSR_AREA, [[0x4b564d00, 1]]), expected: { reason: 34, qualification: 1 },
  },
];

describe("VM entry through VMLAUNCH: one row per check group (SDM 26.2-26.4, Table 30-1, Appendix C)", () => {
  for (const row of CASES) {
    const what = "vmfail" in row.expected ? `VMfailValid(${row.expected.vmfail})` :
      `exit ${row.expected.reason}|80000000H, qualification ${row.expected.qualification}`;
    it(`${row.name} -> ${what} [SDM ${row.sdm}; kvm-unit-tests ${row.kut}]`, () => {
      const h = new VmxCase({ profile: row.profile });
      h.vm(row.vm);
      row.setup?.(h);
      const out = h.launch();
      const e = row.expected;
      if ("vmfail" in e) {
        expect(out.kind).toBe("vmfail");
        if (out.kind !== "vmfail") return;
        expect(out.flags & 0x8d5).toBe(0x40);
        expect(out.error).toBe(e.vmfail);
        expect(h.c.nonRoot).toBe(false);
      } else {
        expect(out.kind).toBe("exit");
        if (out.kind !== "exit") return;
        expect(out.exit.reason >>> 0).toBe((e.reason | ENTRY_FAILURE) >>> 0);
        expect(out.exit.qualification).toBe(e.qualification);
        // 26.7/26.8: the host state is loaded (RFLAGS = 2, RIP = HOST_RIP), and the VMCS is not launched.
        expect(h.r32(EXIT_HOST_FLAGS)).toBe(2);
        const again = h.resume();
        expect(again.kind === "vmfail" && again.error).toBe(5);
      }
      // The check that failed is the row's: the model names its SDM section (MSR loading is not a check of 26.2/26.3).
      if (!("reason" in e) || e.reason === 33) expect(h.c.vmx!.lastEntryFailure?.section).toMatch(new RegExp(`^${row.sdm.replace(/\./g, "\\.")}`));
    });
  }
});

describe("a successful VM entry and the following exit (SDM 26.3.2, 26.4, 27.3-27.6)", () => {
  it("VMLAUNCH loads RSP/RFLAGS/CR3/selectors, VMRESUME keeps the guest's registers and RSP [26.3.2; kvm-unit-tests vmenter_main]", () => {
    const h = new VmxCase();
    const D = GUEST_DATA;
    h.vm({
      rflags: 0x8d7, // every status flag, and bit 1
      guest: (a) => {
        a.mov(dword(D), esp).pushfd().pop(dword(D + 4)).mov(eax, cr3).mov(dword(D + 8), eax);
        a.mov(eax, ds).mov(dword(D + 12), eax).mov(eax, 0xabcd).label("call1").insn("vmcall");
        a.mov(dword(D + 16), eax).mov(dword(D + 20), esp).label("call2").insn("vmcall");
      },
    });
    const first = h.launchExit();
    expect(first.reason).toBe(18);
    expect(first.rip).toBe(h.g("call1"));
    expect(first.regs.eax).toBe(0xabcd);
    expect([h.r32(D), h.r32(D + 4), h.r32(D + 8), h.r32(D + 12) & 0xffff]).toEqual([GUEST_STACK_TOP, 0x8d7, PD, KDATA]);
    // 27.5: the host state after the exit (what the x86 exit handler runs with).
    const c = h.c;
    expect(h.r32(EXIT_HOST_FLAGS)).toBe(2);
    expect(c.regs[4] >>> 0).toBe(HOST_STACK_TOP);
    expect([c.segSel[1], c.segSel[2], c.trSel, c.gdtLimit, c.idtLimit]).toEqual([KCODE, KDATA, TSS_SEL, 0xffff, 0xffff]);
    expect(c.cr3 >>> 0).toBe(PD);
    h.w32(GREGS, 0xffff); // guest EAX: the handler's answer, as vmenter_exit_handler sets regs.rax
    const second = h.resumeExit({ skip: true });
    expect(second.rip).toBe(h.g("call2"));
    expect(h.r32(D + 16)).toBe(0xffff);
    expect(h.r32(D + 20)).toBe(GUEST_STACK_TOP);
  });

  it("MSR lists: entry load, exit store, exit load of IA32_SYSENTER_CS [26.4, 27.4, 27.6; kvm-unit-tests msr_switch_main]", () => {
    const h = new VmxCase();
    const LOAD = MSR_AREA, STORE = MSR_AREA + 0x100, HOST_LOAD = MSR_AREA + 0x200;
    h.vm({
      // An all-zero MSR bitmap: without "use MSR bitmaps" every RDMSR/WRMSR exits (25.1.3).
      controls: { proc: C.PROC_USE_MSR_BITMAPS },
      fields: [
        [F.MSR_BITMAPS, MSR_BITMAP],
        [F.GUEST_IA32_SYSENTER_CS, 0x1111], // loaded first (26.3.2.1), then overridden by the list (26.4)
        [F.VM_ENTRY_MSR_LOAD_COUNT, 1], [F.VM_ENTRY_MSR_LOAD_ADDRESS, LOAD],
        [F.VM_EXIT_MSR_STORE_COUNT, 1], [F.VM_EXIT_MSR_STORE_ADDRESS, STORE],
        [F.VM_EXIT_MSR_LOAD_COUNT, 1], [F.VM_EXIT_MSR_LOAD_ADDRESS, HOST_LOAD],
        [F.HOST_IA32_SYSENTER_CS, 0x3333],
      ],
      guest: (a) => {
        a.mov(ecx, SYSENTER_CS).insn("rdmsr").mov(dword(GUEST_DATA), eax);
        a.mov(eax, 0x5678).mov(edx, 0).insn("wrmsr").insn("vmcall");
      },
    });
    msrList(h, LOAD, [[SYSENTER_CS, 0x1234]]);
    msrList(h, STORE, [[SYSENTER_CS, 0xdead]]);
    msrList(h, HOST_LOAD, [[SYSENTER_CS, 0x9abc]]);
    const e = h.launchExit();
    expect(e.reason).toBe(18);
    expect(h.r32(GUEST_DATA)).toBe(0x1234); // the guest saw the MSR-load list's value
    expect(h.r32(STORE + 8)).toBe(0x5678); // 27.4: the exit stored the guest's value
    expect(e.sysenterCs).toBe(0x5678); // 27.3.1: and saved it in the guest-state area
    expect(readMsr(h.c, SYSENTER_CS)[0]).toBe(0x9abc); // 27.6: the exit MSR-load list comes after HOST_IA32_SYSENTER_CS
  });
});
