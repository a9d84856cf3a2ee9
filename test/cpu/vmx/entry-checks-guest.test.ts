/**
 * The VM-entry checks on the guest-state area other than the segment registers (src/cpu/vmx/entry-checks-guest.ts
 * and entry-checks-guest-nonregister.ts): SDM Vol. 3C 26.3.1.1 (CR0/CR4 fixed bits with the unrestricted-guest
 * and NW/CD exceptions, IA32_DEBUGCTL, IA32_PAT, IA32_EFER), 26.3.1.3 (GDTR/IDTR limits), 26.3.1.4 (RFLAGS),
 * 26.3.1.5 (activity state, interruptibility state, pending debug exceptions, VMCS link pointer). Each failing
 * row is a VM-entry failure (exit reason 33) with the exit qualification of SDM 26.7 (0; 3 for an NMI injected
 * under blocking by STI; 4 for the VMCS link pointer), next to rows that must enter.
 *
 * References (not our code): the SDM sentences quoted per row; SDM Tables 24-3 (interruptibility state) and 24-4
 * (pending debug exceptions), Vol. 4 Table 2-2 (IA32_DEBUGCTL reserved bits 5:2, 63:16); kvm-unit-tests
 * x86/vmx_tests.c vmx_guest_state_area_test (test_guest_dr7/debugctl, test_load_guest_pat, test_guest_rflags,
 * test_guest_gdtr_idtr, the VMCS-link-pointer and activity-state cases) and its ENTRY_FAIL_* qualifications
 * (0, 2 PDPTE, 3 NMI, 4 VMCS link pointer); Bochs cpu/vmx.cc VMenterLoadCheckGuestState (pending debug
 * exceptions mask FFFFAFF0H, activity/interruptibility rules, VMENTER_ERR_GUEST_STATE_LINK_POINTER = 4).
 */
import { describe, it } from "vitest";
import { VmcsField } from "../../../src/cpu/vmx/vmcs-fields.ts";
import * as C from "../../../src/cpu/vmx/vmx-controls.ts";
import { IA32_VMX_CR0_FIXED1, IA32_VMX_MISC, type VmxCapabilities } from "../../../src/cpu/vmx/vmx-capabilities.ts";
import { GUEST_STATE_RULES } from "../../../src/cpu/vmx/entry-checks.ts";
import {
  ADDR, allows, withAllowed, withMsr, type VmcsFixture, EXT_INT, NMI, HW_EXC, SW_INT, OTHER,
} from "./vmcs-fixture.ts";
import { expectRulesCovered, runRows, type EntryCheckRow } from "./entry-checks-rows.ts";

const REGS = "26.3.1.1";
const DTR = "26.3.1.3";
const RF = "26.3.1.4";
const NR = "26.3.1.5";
const fail = (rule: string, qualification = 0) => ({ kind: "guest-state" as const, rule, qualification });
const OK = { kind: "ok" as const };
const ug = (c: VmxCapabilities) => allows(c, "proc2", C.PROC2_UNRESTRICTED_GUEST);
const hasEntry = (bits: number) => (c: VmxCapabilities) => allows(c, "entry", bits);
/** "load debug controls" may be 0 (the TRUE entry MSR, Nehalem and later). */
const debugControlsOptional = (c: VmxCapabilities) => (c.controls.entry[0] & C.ENTRY_LOAD_DEBUG_CONTROLS) === 0;

const CR0_SDM = "The CR0 field must not set any bit to a value not supported in VMX operation; PE and PG are not checked with 'unrestricted guest', NW and CD are never checked";
const CR4_SDM = "The CR4 field must not set any bit to a value not supported in VMX operation";
const DEBUGCTL_SDM = "If the 'load debug controls' VM-entry control is 1, bits reserved in the IA32_DEBUGCTL MSR must be 0 in the field for that register";
const PAT_SDM = "If 'load IA32_PAT' is 1, the value of the field for IA32_PAT must be one that could be written by WRMSR without fault at CPL 0";
const EFER_SDM = "If 'load IA32_EFER' is 1, bits reserved in IA32_EFER must be 0 (all of them in the model); LMA must equal 'IA-32e mode guest'";

const debugctl = (f: VmcsFixture, lo: number, hi = 0) => {
  f.entry(C.ENTRY_LOAD_DEBUG_CONTROLS);
  f.write64(VmcsField.GUEST_IA32_DEBUGCTL, lo, hi);
};

const REGISTER_ROWS: EntryCheckRow[] = [
  { name: "CR0.NE cleared", section: REGS, sdm: CR0_SDM, expected: fail("guest-cr0-fixed-bits"),
    mutate: (f) => f.write(VmcsField.GUEST_CR0, 0x80000011) },
  { name: "CR0.PG cleared", section: REGS, sdm: CR0_SDM, expected: fail("guest-cr0-fixed-bits"),
    mutate: (f) => f.write(VmcsField.GUEST_CR0, 0x31) },
  { name: "CR0.PE and CR0.PG cleared", section: REGS, sdm: CR0_SDM, expected: fail("guest-cr0-fixed-bits"),
    mutate: (f) => f.write(VmcsField.GUEST_CR0, 0x30) },
  { name: "CR0.PE and CR0.PG cleared with unrestricted guest", section: REGS, sdm: CR0_SDM, expected: OK, applies: ug,
    mutate: (f) => f.realModeGuest() },
  { name: "CR0.PG cleared, PE set with unrestricted guest", section: REGS, sdm: CR0_SDM, expected: OK, applies: ug,
    mutate: (f) => { f.useUnrestrictedGuest(); f.write(VmcsField.GUEST_CR0, 0x31); } },
  { name: "CR0.NE cleared with unrestricted guest", section: REGS, sdm: CR0_SDM, expected: fail("guest-cr0-fixed-bits"), applies: ug,
    mutate: (f) => { f.useUnrestrictedGuest(); f.write(VmcsField.GUEST_CR0, 0x80000011); } },
  { name: "CR0.PG without CR0.PE (unrestricted guest)", section: REGS, expected: fail("guest-cr0-pg-without-pe"), applies: ug,
    sdm: "If bit 31 in the CR0 field (corresponding to PG) is 1, bit 0 in that field (PE) must also be 1",
    mutate: (f) => { f.useUnrestrictedGuest(); f.write(VmcsField.GUEST_CR0, 0x80000030); } },
  { name: "CR0.NW without CR0.CD", section: REGS, sdm: CR0_SDM, expected: OK,
    mutate: (f) => f.write(VmcsField.GUEST_CR0, 0xa0000031) },
  { name: "CR0.CD where CR0_FIXED1 has CD as 0 (never checked)", section: REGS, sdm: CR0_SDM, expected: OK,
    caps: (b) => withMsr(b, IA32_VMX_CR0_FIXED1, [0x9fffffff, 0]), mutate: (f) => f.write(VmcsField.GUEST_CR0, 0xe0000031) },
  { name: "CR0.WP where CR0_FIXED1 has WP as 0 (capability changed)", section: REGS, sdm: CR0_SDM,
    expected: fail("guest-cr0-fixed-bits"), caps: (b) => withMsr(b, IA32_VMX_CR0_FIXED1, [0xfffeffff, 0]),
    mutate: (f) => f.write(VmcsField.GUEST_CR0, 0x80010031) },
  { name: "CR4.VMXE cleared", section: REGS, sdm: CR4_SDM, expected: fail("guest-cr4-fixed-bits"),
    mutate: (f) => f.write(VmcsField.GUEST_CR4, 0) },
  { name: "CR4.PAE (not in CR4_FIXED1)", section: REGS, sdm: CR4_SDM, expected: fail("guest-cr4-fixed-bits"),
    mutate: (f) => f.write(VmcsField.GUEST_CR4, 0x2020) },
  { name: "CR4 with PSE, PGE, PCE, TSD", section: REGS, sdm: CR4_SDM, expected: OK,
    mutate: (f) => f.write(VmcsField.GUEST_CR4, 0x2000 | 0x100 | 0x80 | 0x10 | 0x4) },
  { name: "IA32_DEBUGCTL LBR and BTF", section: REGS, sdm: DEBUGCTL_SDM, expected: OK, mutate: (f) => debugctl(f, 3) },
  { name: "IA32_DEBUGCTL bit 2", section: REGS, sdm: DEBUGCTL_SDM, expected: fail("guest-debugctl-reserved-bits"),
    mutate: (f) => debugctl(f, 4) },
  { name: "IA32_DEBUGCTL bit 16", section: REGS, sdm: DEBUGCTL_SDM, expected: fail("guest-debugctl-reserved-bits"),
    mutate: (f) => debugctl(f, 0x10000) },
  { name: "IA32_DEBUGCTL bit 32", section: REGS, sdm: DEBUGCTL_SDM, expected: fail("guest-debugctl-reserved-bits"),
    mutate: (f) => debugctl(f, 0, 1) },
  { name: "IA32_DEBUGCTL not checked without 'load debug controls'", section: REGS, sdm: DEBUGCTL_SDM, expected: OK,
    applies: debugControlsOptional, mutate: (f) => f.write64(VmcsField.GUEST_IA32_DEBUGCTL, 0xffffffff, 1) },
  { name: "IA32_PAT with every valid type", section: REGS, sdm: PAT_SDM, expected: OK, applies: hasEntry(C.ENTRY_LOAD_IA32_PAT),
    mutate: (f) => { f.entry(C.ENTRY_LOAD_IA32_PAT); f.write64(VmcsField.GUEST_IA32_PAT, 0x07060504, 0x01000706); } },
  { name: "IA32_PAT byte 4 = 3", section: REGS, sdm: PAT_SDM, expected: fail("guest-pat"), applies: hasEntry(C.ENTRY_LOAD_IA32_PAT),
    mutate: (f) => { f.entry(C.ENTRY_LOAD_IA32_PAT); f.write64(VmcsField.GUEST_IA32_PAT, 0x00070406, 0x00070403); } },
  { name: "IA32_PAT not checked without 'load IA32_PAT'", section: REGS, sdm: PAT_SDM, expected: OK,
    applies: hasEntry(C.ENTRY_LOAD_IA32_PAT), mutate: (f) => f.write64(VmcsField.GUEST_IA32_PAT, 0x02020202, 0) },
  { name: "IA32_EFER 0", section: REGS, sdm: EFER_SDM, expected: OK, applies: hasEntry(C.ENTRY_LOAD_IA32_EFER),
    mutate: (f) => { f.entry(C.ENTRY_LOAD_IA32_EFER); f.write64(VmcsField.GUEST_IA32_EFER, 0, 0); } },
  { name: "IA32_EFER.NXE (no execute-disable in the model)", section: REGS, sdm: EFER_SDM, expected: fail("guest-efer-reserved-bits"),
    applies: hasEntry(C.ENTRY_LOAD_IA32_EFER),
    mutate: (f) => { f.entry(C.ENTRY_LOAD_IA32_EFER); f.write64(VmcsField.GUEST_IA32_EFER, 0x800, 0); } },
  { name: "IA32_EFER.LMA without 'IA-32e mode guest'", section: REGS, sdm: EFER_SDM, expected: fail("guest-efer-reserved-bits"),
    applies: hasEntry(C.ENTRY_LOAD_IA32_EFER),
    mutate: (f) => { f.entry(C.ENTRY_LOAD_IA32_EFER); f.write64(VmcsField.GUEST_IA32_EFER, 0x400, 0); } },
  { name: "CR3, DR7 and SYSENTER fields anywhere in 32 bits", section: REGS, expected: OK,
    sdm: "The CR3, DR7 (bits 63:32) and SYSENTER canonical checks apply only with Intel 64",
    mutate: (f) => {
      for (const e of [VmcsField.GUEST_CR3, VmcsField.GUEST_DR7, VmcsField.GUEST_IA32_SYSENTER_ESP, VmcsField.GUEST_IA32_SYSENTER_EIP]) {
        f.write(e, 0xfffff000);
      }
    } },
];

const DTR_ROWS: EntryCheckRow[] = [
  { name: "GDTR limit 10000H", section: DTR, expected: fail("guest-gdtr-limit"), sdm: "Bits 31:16 of each limit field must be 0",
    mutate: (f) => f.write(VmcsField.GUEST_GDTR_LIMIT, 0x10000) },
  { name: "IDTR limit 80000000H", section: DTR, expected: fail("guest-idtr-limit"), sdm: "Bits 31:16 of each limit field must be 0",
    mutate: (f) => f.write(VmcsField.GUEST_IDTR_LIMIT, 0x80000000) },
  { name: "GDTR and IDTR limits FFFFH", section: DTR, expected: OK, sdm: "Bits 31:16 of each limit field must be 0",
    mutate: (f) => { f.write(VmcsField.GUEST_GDTR_LIMIT, 0xffff); f.write(VmcsField.GUEST_IDTR_LIMIT, 0xffff); } },
];

const RFLAGS_SDM = "RFLAGS: reserved bits 31:22, bit 15, bit 5 and bit 3 must be 0 in the field, and reserved bit 1 must be 1";
const RFLAGS_ROWS: EntryCheckRow[] = [
  ...[3, 5, 15, 22, 31].map((b): EntryCheckRow => ({
    name: `RFLAGS bit ${b}`, section: RF, sdm: RFLAGS_SDM, expected: fail("guest-rflags-reserved-bits"),
    mutate: (f) => f.write(VmcsField.GUEST_RFLAGS, (2 | (1 << b)) >>> 0),
  })),
  { name: "RFLAGS bit 1 clear", section: RF, sdm: RFLAGS_SDM, expected: fail("guest-rflags-bit-1"),
    mutate: (f) => f.write(VmcsField.GUEST_RFLAGS, 0x200) },
  { name: "RFLAGS with every other flag but VM", section: RF, sdm: RFLAGS_SDM, expected: OK,
    mutate: (f) => f.write(VmcsField.GUEST_RFLAGS, 0x3d7fd7) },
  { name: "RFLAGS.VM with CR0.PE = 0 (unrestricted guest)", section: RF, expected: fail("guest-rflags-vm"), applies: ug,
    sdm: "The VM flag (bit 17) must be 0 either if 'IA-32e mode guest' is 1 or if bit 0 in the CR0 field (CR0.PE) is 0",
    mutate: (f) => f.realModeGuest().v86Guest() },
  { name: "RFLAGS.IF = 0 while injecting an external interrupt", section: RF, expected: fail("guest-rflags-if-for-external-interrupt"),
    sdm: "The IF flag must be 1 if the valid bit in the VM-entry interruption-information field is 1 and the interruption type is external interrupt",
    mutate: (f) => f.inject({ type: EXT_INT, vector: 0x30 }) },
  { name: "RFLAGS.IF = 0 while injecting an NMI", section: RF, expected: OK,
    sdm: "The IF rule concerns external interrupts only", mutate: (f) => f.inject({ type: NMI, vector: 2 }) },
];

const setIf = (f: VmcsFixture) => f.setBits(VmcsField.GUEST_RFLAGS, 1 << 9);
const activity = (f: VmcsFixture, s: number) => f.write(VmcsField.GUEST_ACTIVITY_STATE, s);
const blocking = (f: VmcsFixture, bits: number) => f.write(VmcsField.GUEST_INTERRUPTIBILITY_STATE, bits);
const pending = (f: VmcsFixture, bits: number) => f.write(VmcsField.GUEST_PENDING_DEBUG_EXCEPTIONS, bits);
const HLT = 1, SHUTDOWN = 2, WAIT_FOR_SIPI = 3;
const STI = 1, MOV_SS = 2;

const ACTIVITY_SDM = "The activity-state field must contain a value in the range 0-3, indicating an activity state supported by the implementation";
const INJECT_SDM = "An injected event must not be one that would normally be blocked in the activity state: HLT allows external interrupts, NMIs, #DB, #MC and pending MTF VM exits; shutdown NMIs and #MC; wait-for-SIPI none";

function injectionRow(state: number, stateName: string, name: string, inject: (f: VmcsFixture) => void, allowed: boolean,
  extra: Partial<EntryCheckRow> = {}): EntryCheckRow {
  return {
    name: `${stateName}: inject ${name}`, section: NR, sdm: INJECT_SDM,
    expected: allowed ? OK : fail("guest-activity-injection"),
    mutate: (f) => { activity(f, state); inject(f); }, ...extra,
  };
}

const ACTIVITY_ROWS: EntryCheckRow[] = [
  { name: "activity state 4", section: NR, sdm: ACTIVITY_SDM, expected: fail("guest-activity-state"), mutate: (f) => activity(f, 4) },
  ...[HLT, SHUTDOWN, WAIT_FOR_SIPI].map((s): EntryCheckRow => ({
    name: `activity state ${s} (IA32_VMX_MISC bits 6-8 report it)`, section: NR, sdm: ACTIVITY_SDM, expected: OK, mutate: (f) => activity(f, s),
  })),
  { name: "HLT where IA32_VMX_MISC[6] is 0 (capability changed)", section: NR, sdm: ACTIVITY_SDM, expected: fail("guest-activity-state"),
    caps: (b) => { const m = b.msrs.get(IA32_VMX_MISC)!; return withMsr(b, IA32_VMX_MISC, [m[0] & ~0x40, m[1]]); },
    mutate: (f) => activity(f, HLT) },
  { name: "HLT with SS.DPL 3", section: NR, expected: fail("guest-activity-hlt-ss-dpl"),
    sdm: "The activity-state field must not indicate the HLT state if the DPL (bits 6:5) in the access-rights field for SS is not 0",
    mutate: (f) => { f.ring3Guest(); activity(f, HLT); } },
  { name: "HLT with blocking by STI", section: NR, expected: fail("guest-activity-blocking-not-active"),
    sdm: "The activity-state field must indicate the active state if the interruptibility-state field indicates blocking by either MOV-SS or by STI",
    mutate: (f) => { setIf(f); blocking(f, STI); activity(f, HLT); } },
  { name: "wait-for-SIPI with blocking by MOV SS", section: NR, expected: fail("guest-activity-blocking-not-active"),
    sdm: "The activity-state field must indicate the active state if ... blocking by either MOV-SS or by STI",
    mutate: (f) => { blocking(f, MOV_SS); activity(f, WAIT_FOR_SIPI); } },
  injectionRow(HLT, "HLT", "external interrupt", (f) => { setIf(f); f.inject({ type: EXT_INT, vector: 0x40 }); }, true),
  injectionRow(HLT, "HLT", "NMI", (f) => f.inject({ type: NMI, vector: 2 }), true),
  injectionRow(HLT, "HLT", "#DB", (f) => f.inject({ type: HW_EXC, vector: 1 }), true),
  injectionRow(HLT, "HLT", "#MC", (f) => f.inject({ type: HW_EXC, vector: 18 }), true),
  injectionRow(HLT, "HLT", "#GP", (f) => f.inject({ type: HW_EXC, vector: 13, errorCode: 0 }), false),
  injectionRow(HLT, "HLT", "INT 80H", (f) => f.inject({ type: SW_INT, vector: 0x80, length: 2 }), false),
  injectionRow(HLT, "HLT", "pending MTF VM exit (capability added)", (f) => f.inject({ type: OTHER, vector: 0 }), true,
    { caps: (b) => withAllowed(b, { proc: C.PROC_MONITOR_TRAP_FLAG }) }),
  injectionRow(SHUTDOWN, "shutdown", "NMI", (f) => f.inject({ type: NMI, vector: 2 }), true),
  injectionRow(SHUTDOWN, "shutdown", "#MC", (f) => f.inject({ type: HW_EXC, vector: 18 }), true),
  injectionRow(SHUTDOWN, "shutdown", "external interrupt", (f) => { setIf(f); f.inject({ type: EXT_INT, vector: 0x40 }); }, false),
  injectionRow(SHUTDOWN, "shutdown", "#DB", (f) => f.inject({ type: HW_EXC, vector: 1 }), false),
  injectionRow(WAIT_FOR_SIPI, "wait-for-SIPI", "NMI", (f) => f.inject({ type: NMI, vector: 2 }), false),
  injectionRow(WAIT_FOR_SIPI, "wait-for-SIPI", "#MC", (f) => f.inject({ type: HW_EXC, vector: 18 }), false),
];

const INTERRUPTIBILITY_ROWS: EntryCheckRow[] = [
  { name: "interruptibility bit 5", section: NR, expected: fail("guest-interruptibility-reserved-bits"),
    sdm: "Interruptibility state: the reserved bits (bits 31:5) must be 0", mutate: (f) => blocking(f, 1 << 5) },
  { name: "interruptibility bit 31", section: NR, expected: fail("guest-interruptibility-reserved-bits"),
    sdm: "Interruptibility state: the reserved bits (bits 31:5) must be 0", mutate: (f) => blocking(f, 0x80000000) },
  { name: "blocking by STI (IF = 1)", section: NR, expected: OK, sdm: "STI blocking with IF = 1 is a valid state",
    mutate: (f) => { setIf(f); blocking(f, STI); } },
  { name: "blocking by MOV SS", section: NR, expected: OK, sdm: "MOV-SS blocking alone is a valid state", mutate: (f) => blocking(f, MOV_SS) },
  { name: "blocking by both STI and MOV SS", section: NR, expected: fail("guest-interruptibility-sti-and-mov-ss"),
    sdm: "The field cannot indicate blocking by both STI and MOV SS (bits 0 and 1 cannot both be 1)",
    mutate: (f) => { setIf(f); blocking(f, STI | MOV_SS); } },
  { name: "blocking by STI with IF = 0", section: NR, expected: fail("guest-interruptibility-sti-with-if-0"),
    sdm: "Bit 0 (blocking by STI) must be 0 if the IF flag (bit 9) is 0 in the RFLAGS field", mutate: (f) => blocking(f, STI) },
  { name: "external interrupt injected under blocking by STI", section: NR, expected: fail("guest-interruptibility-external-interrupt-blocked"),
    sdm: "Bit 0 (blocking by STI) and bit 1 (blocking by MOV-SS) must both be 0 if ... the interruption type is external interrupt",
    mutate: (f) => { setIf(f); blocking(f, STI); f.inject({ type: EXT_INT, vector: 0x40 }); } },
  { name: "external interrupt injected under blocking by MOV SS", section: NR, expected: fail("guest-interruptibility-external-interrupt-blocked"),
    sdm: "Bit 0 and bit 1 must both be 0 if ... the interruption type is external interrupt",
    mutate: (f) => { setIf(f); blocking(f, MOV_SS); f.inject({ type: EXT_INT, vector: 0x40 }); } },
  { name: "NMI injected under blocking by MOV SS", section: NR, expected: fail("guest-interruptibility-nmi-mov-ss"),
    sdm: "Bit 1 (blocking by MOV-SS) must be 0 if ... the interruption type is NMI",
    mutate: (f) => { blocking(f, MOV_SS); f.inject({ type: NMI, vector: 2 }); } },
  { name: "blocking by SMI outside SMM", section: NR, expected: fail("guest-interruptibility-smi-outside-smm"),
    sdm: "Bit 2 (blocking by SMI) must be 0 if the processor is not in SMM", mutate: (f) => blocking(f, 1 << 2) },
  { name: "NMI injected under blocking by STI", section: NR, expected: fail("guest-interruptibility-nmi-sti", 3),
    sdm: "A processor may require bit 0 (blocking by STI) to be 0 if ... NMI (SDM 26.7: exit qualification 3)",
    mutate: (f) => { setIf(f); blocking(f, STI); f.inject({ type: NMI, vector: 2 }); } },
  { name: "NMI injected with virtual-NMI blocking", section: NR, expected: fail("guest-interruptibility-virtual-nmi-blocking"),
    sdm: "Bit 3 (blocking by NMI) must be 0 if 'virtual NMIs' is 1 and the interruption type is NMI",
    applies: (c) => allows(c, "pin", C.PIN_VIRTUAL_NMIS),
    mutate: (f) => { f.useVirtualNmis(); blocking(f, 1 << 3); f.inject({ type: NMI, vector: 2 }); } },
  { name: "NMI injected with blocking by NMI, without virtual NMIs", section: NR, expected: OK,
    sdm: "If 'virtual NMIs' is 0, there is no requirement that bit 3 be 0 if ... the interruption type is NMI",
    mutate: (f) => { blocking(f, 1 << 3); f.inject({ type: NMI, vector: 2 }); } },
  { name: "virtual-NMI blocking without an injected NMI", section: NR, expected: OK,
    sdm: "Bit 3 must be 0 only when an NMI is being injected", applies: (c) => allows(c, "pin", C.PIN_VIRTUAL_NMIS),
    mutate: (f) => { f.useVirtualNmis(); blocking(f, 1 << 3); } },
  { name: "enclave interruption without SGX", section: NR, expected: fail("guest-interruptibility-enclave"),
    sdm: "If bit 4 (enclave interruption) is 1, ... the processor must support SGX", mutate: (f) => blocking(f, 1 << 4) },
];

const PENDING_SDM = "Pending debug exceptions: bits 11:4, bit 13, bit 15, and bits 31:17 must be 0";
const BS_SDM = "With blocking by STI or MOV SS, or the HLT state: BS (bit 14) must be 1 if RFLAGS.TF is 1 and IA32_DEBUGCTL.BTF is 0, and 0 if TF is 0 or BTF is 1";
const TF = 1 << 8, BS = 1 << 14;
const PENDING_ROWS: EntryCheckRow[] = [
  ...[4, 11, 13, 15, 17, 31].map((b): EntryCheckRow => ({
    name: `pending debug exceptions bit ${b}`, section: NR, sdm: PENDING_SDM, expected: fail("guest-pending-debug-reserved-bits"),
    mutate: (f) => pending(f, (1 << b) >>> 0),
  })),
  { name: "pending debug exceptions B0-B3 and enabled breakpoint", section: NR, sdm: PENDING_SDM, expected: OK,
    mutate: (f) => pending(f, 0x100f) },
  { name: "BS without TF, no blocking (not checked)", section: NR, sdm: BS_SDM, expected: OK, mutate: (f) => pending(f, BS) },
  { name: "TF without BS under blocking by STI", section: NR, sdm: BS_SDM, expected: fail("guest-pending-debug-bs"),
    mutate: (f) => { f.write(VmcsField.GUEST_RFLAGS, 0x202 | TF); blocking(f, STI); } },
  { name: "TF and BS under blocking by STI", section: NR, sdm: BS_SDM, expected: OK,
    mutate: (f) => { f.write(VmcsField.GUEST_RFLAGS, 0x202 | TF); blocking(f, STI); pending(f, BS); } },
  { name: "BS without TF under blocking by MOV SS", section: NR, sdm: BS_SDM, expected: fail("guest-pending-debug-bs"),
    mutate: (f) => { blocking(f, MOV_SS); pending(f, BS); } },
  { name: "TF, BTF and BS under blocking by MOV SS", section: NR, sdm: BS_SDM, expected: fail("guest-pending-debug-bs"),
    mutate: (f) => { f.write(VmcsField.GUEST_RFLAGS, 2 | TF); f.write64(VmcsField.GUEST_IA32_DEBUGCTL, 2, 0); blocking(f, MOV_SS); pending(f, BS); } },
  { name: "TF and BTF without BS under blocking by MOV SS", section: NR, sdm: BS_SDM, expected: OK,
    mutate: (f) => { f.write(VmcsField.GUEST_RFLAGS, 2 | TF); f.write64(VmcsField.GUEST_IA32_DEBUGCTL, 2, 0); blocking(f, MOV_SS); } },
  { name: "TF without BS in the HLT state", section: NR, sdm: BS_SDM, expected: fail("guest-pending-debug-bs"),
    mutate: (f) => { f.write(VmcsField.GUEST_RFLAGS, 2 | TF); activity(f, HLT); } },
  { name: "RTM bit without RTM", section: NR, expected: fail("guest-pending-debug-rtm"),
    sdm: "If bit 16 (RTM) is 1, the processor must support RTM", mutate: (f) => pending(f, 1 << 16) },
];

const LINK_SDM = "VMCS link pointer, if not FFFFFFFF_FFFFFFFFH: bits 11:0 and bits beyond MAXPHYADDR 0; the 4 bytes it references hold the VMCS revision identifier with bit 31 = 'VMCS shadowing'; not the current-VMCS pointer (qualification 4)";
const link = (f: VmcsFixture, lo: number, hi = 0) => f.write64(VmcsField.VMCS_LINK_POINTER, lo, hi);
const LINK_ROWS: EntryCheckRow[] = [
  { name: "link pointer to another VMCS region", section: NR, sdm: LINK_SDM, expected: OK, mutate: (f) => link(f, ADDR.LINKED_VMCS) },
  { name: "link pointer 800H into a region", section: NR, sdm: LINK_SDM, expected: fail("vmcs-link-pointer-alignment", 4),
    mutate: (f) => link(f, ADDR.LINKED_VMCS + 0x800) },
  { name: "link pointer with bit 36", section: NR, sdm: LINK_SDM, expected: fail("vmcs-link-pointer-maxphyaddr", 4),
    mutate: (f) => link(f, ADDR.LINKED_VMCS, 0x10) },
  { name: "link pointer 0 (left unset)", section: NR, sdm: LINK_SDM, expected: fail("vmcs-link-pointer-revision", 4),
    mutate: (f) => link(f, 0) },
  { name: "link pointer above 4 GiB at a page without a VMCS", section: NR, sdm: LINK_SDM,
    expected: fail("vmcs-link-pointer-revision", 4), mutate: (f) => link(f, ADDR.LINKED_VMCS, 1) },
  { name: "link pointer to a shadow VMCS without VMCS shadowing", section: NR, sdm: LINK_SDM,
    expected: fail("vmcs-link-pointer-shadow-indicator", 4),
    mutate: (f) => { f.mem.write32(ADDR.LINKED_VMCS, (f.mem.read32(ADDR.LINKED_VMCS) | 0x80000000) >>> 0); link(f, ADDR.LINKED_VMCS); } },
  { name: "link pointer to the current VMCS", section: NR, sdm: LINK_SDM, expected: fail("vmcs-link-pointer-current-vmcs", 4),
    mutate: (f) => link(f, ADDR.VMCS) },
];

const ROWS = [...REGISTER_ROWS, ...DTR_ROWS, ...RFLAGS_ROWS, ...ACTIVITY_ROWS, ...INTERRUPTIBILITY_ROWS, ...PENDING_ROWS, ...LINK_ROWS];

describe("VM-entry guest-state checks (SDM 26.3.1.1, .3, .4, .5), VM-entry failure 33", () => {
  describe("26.3.1.1 control registers, debug registers, MSRs", () => runRows(REGISTER_ROWS));
  describe("26.3.1.3 descriptor-table registers", () => runRows(DTR_ROWS));
  describe("26.3.1.4 RIP and RFLAGS", () => runRows(RFLAGS_ROWS));
  describe("26.3.1.5 activity state", () => runRows(ACTIVITY_ROWS));
  describe("26.3.1.5 interruptibility state", () => runRows(INTERRUPTIBILITY_ROWS));
  describe("26.3.1.5 pending debug exceptions", () => runRows(PENDING_ROWS));
  describe("26.3.1.5 VMCS link pointer", () => runRows(LINK_ROWS));
  it("every guest-state rule outside 26.3.1.2 has a failing row", () =>
    expectRulesCovered(GUEST_STATE_RULES.filter((r) => r.section !== "26.3.1.2"), ROWS));
});
