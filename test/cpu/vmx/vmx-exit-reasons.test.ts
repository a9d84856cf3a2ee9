/**
 * Each exit reason the model produces, caused by a guest and observed by the x86 host's exit handler, which
 * VMREADs the exit fields (issue 5, "Tests": each exit reason with its qualification). A row is
 * {name, sdm, kut, vm: {controls, guest, fields}, setup, expected}: the guest is assembled at GUEST_CODE,
 * the host executes VMLAUNCH, and the first VM exit's record must match `expected` (a string names the
 * guest label the saved RIP must point at). References: SDM Vol. 3C 25.1-25.2 (what exits), 27.2 (exit
 * information: Table 27-3 control-register accesses, Table 27-4 MOV DR, Table 27-5 I/O instructions, the
 * instruction-information tables for VMCLEAR/VMPTRLD/VMPTRST/VMXON, VMREAD/VMWRITE, INVEPT/INVVPID and
 * INS/OUTS), 24.9.2 / Table 24-15 (interruption information), Appendix C (basic exit reasons); the
 * kvm-unit-tests function a row mirrors is named in it (x86/vmx_tests.c: insn_intercept / insn_table,
 * cr_shadowing_main, iobmp_main, msr_bmp_init, preemption_timer_main, vmx_preemption_timer_zero_test,
 * vmx_exception_test, interrupt_main, vmx_nmi_window_test, vmx_intr_window_test, vmx_init_signal_test,
 * vmx_store_tsc_test).
 *
 * Also here: event injection (26.6) reaching the guest's IDT, IDT-vectoring information when the delivery of
 * an injected event causes an exit (27.2.4), TSC offsetting (25.3) and the VMX-preemption timer (25.5.1).
 * Exit reasons 33 and 34 (VM-entry failures) are in vmx-entry-through-opcodes.test.ts; 44/56 (APIC access)
 * and 48/49 (EPT) are tested where those mechanisms are: test/vmm/vmx-apicv.test.ts (44, 56) and test/cpu/vmx/ept-core.test.ts (48, 49), and in the bare-metal program test/system/vmx (48).
 */
import { describe, expect, it } from "vitest";
import { VmcsField as F } from "../../../src/cpu/vmx/vmcs-fields.ts";
import * as C from "../../../src/cpu/vmx/vmx-controls.ts";
import { readMsr } from "../../../src/cpu/msr.ts";
import {
  Asm, eax, ebx, ecx, edx, esi, esp, ax, al, dx, ds, dword, qword, ptr, cr0, cr2, cr3, cr4, dr6, dr7,
} from "../../../src/guests/asm/index.ts";
import {
  VmxCase, type ExitRecord, type VmOptions, GUEST_CODE, GUEST_DATA, GUEST_IDT, GUEST_PD, GUEST_UNMAPPED, IO_BITMAP_A,
  IO_BITMAP_B, MSR_BITMAP, MSR_AREA, KCODE, VMXON_REGION,
} from "./vmx-cases-harness.ts";

const D = GUEST_DATA;
const APIC = 0xfee00000;
/** Exit-qualification / interruption-information values are unsigned 32-bit. */
const u = (v: number) => v >>> 0;
/** Interruption information (Table 24-15): valid | error-code valid | type << 8 | vector. */
const intr = (vector: number, type: number, errorCode = false) => u(0x80000000 | (errorCode ? 0x800 : 0) | (type << 8) | vector);

interface ExitCase {
  name: string;
  sdm: string;
  kut: string;
  profile?: string;
  vm: VmOptions;
  setup?: (h: VmxCase) => void;
  /** Fields of the first exit's record; a string is a guest label (for rip). */
  expected: Partial<Record<keyof ExitRecord, number | string>>;
  /** The VM-exit instruction-information field: [value, mask of the bits the SDM defines for this form]. */
  insnInfo?: readonly [number, number];
  check?: (h: VmxCase, e: ExitRecord) => void;
  /** A known model bug (it.fails), with where and why. */
  bug?: string;
}

// ---- guest snippets ----
const loop = (a: Asm) => {
  const l = a.here();
  return a.jmp(l);
};
const enableApic = (a: Asm) => a.mov(dword(APIC + 0xf0), 0x1ff);
/** ICR: destination APIC ID 0 (this core), delivery mode, vector; level assert (bit 14). */
const ipiToSelf = (a: Asm, mode: number, vector = 0) =>
  a.mov(dword(APIC + 0x310), 0).mov(dword(APIC + 0x300), 0x4000 | (mode << 8) | vector);
const selfIpiShorthand = (a: Asm, vector: number) => a.mov(dword(APIC + 0x300), 0x40000 | vector);
const at = (label: string, body: (a: Asm) => void) => (a: Asm) => {
  a.label(label);
  body(a);
};
const withMsrBitmap = (proc = 0): VmOptions["controls"] => ({ proc: proc | C.PROC_USE_MSR_BITMAPS });

// Table 27-13 (VMCLEAR, VMPTRLD, VMPTRST, VMXON): scaling 1:0, address size 9:7 (1 = 32-bit), bit 10 cleared,
// segment 17:15, index 21:18, index invalid 22, base 26:23, base invalid 27; undefined bits masked out.
function memInfo(o: { scale?: number; seg?: number; index?: number; base?: number }): readonly [number, number] {
  let v = (1 << 7) | ((o.seg ?? 3) << 15);
  let mask = 0x380 | 0x400 | 0x38000 | (1 << 22) | (1 << 27);
  if (o.index === undefined) v |= 1 << 22;
  else {
    v |= (o.scale ?? 0) | (o.index << 18);
    mask |= 0x3 | (0xf << 18);
  }
  if (o.base === undefined) v |= 1 << 27;
  else {
    v |= o.base << 23;
    mask |= 0xf << 23;
  }
  return [u(v), u(mask)];
}
/** Table 27-14 (VMREAD/VMWRITE) register form: reg1 6:3, bit 10 = 1, reg2 31:28. */
const regRegInfo = (reg1: number, reg2: number): readonly [number, number] => [u((reg1 << 3) | 0x400 | (reg2 << 28)), u(0x78 | 0x400 | 0xf0000000)];
/** Table 27-14 memory form / INVEPT-INVVPID table: the memory operand plus reg2 31:28. */
const memRegInfo = (m: Parameters<typeof memInfo>[0], reg2: number): readonly [number, number] => {
  const [v, mask] = memInfo(m);
  return [u(v | (reg2 << 28)), u(mask | 0xf0000000)];
};

const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, ESI = 6;
const DS = 3, SS = 2;
const CR0_TS = 8, CR0_MP = 2, CR4_TSD = 4, CR4_DE = 8;

const CASES: ExitCase[] = [
  // ---------------- 0: exceptions and NMIs (25.2, 27.2.2) ----------------
  {
    name: "#UD from UD2 with exception-bitmap bit 6: interruption info 80000306H", sdm: "25.2; 27.2.2; Table 24-15",
    kut: "vmx_exception_test", vm: { fields: [[F.EXCEPTION_BITMAP, 1 << 6]], guest: at("x", (a) => a.ud2()) },
    expected: { reason: 0, intrInfo: 0x80000306, rip: "x" },
  },
  {
    name: "#UD with exception-bitmap bit 6 clear reaches the guest's IDT", sdm: "25.2", kut: "vmx_exception_test",
    vm: { guest: at("x", (a) => a.ud2()) }, expected: { reason: 18 },
    check: (h) => expect(h.guestEvent()).toMatchObject({ count: 1, vector: 6, errorCode: -1, eip: h.g("x") }),
  },
  {
    name: "#PF (PFEC mask = match = 0): qualification = linear address, error code, CR2 unchanged",
    sdm: "25.2 (#PF and PFEC_MASK/MATCH); 27.1 (CR2 not written); 27.2.1", kut: "-",
    vm: {
      guestCr3: GUEST_PD, fields: [[F.EXCEPTION_BITMAP, 1 << 14]],
      guest: (a) => a.mov(eax, 0x1234).mov(cr2, eax).label("x").mov(dword(GUEST_UNMAPPED + 0x10), 1),
    },
    expected: { reason: 0, qualification: GUEST_UNMAPPED + 0x10, intrInfo: intr(14, 3, true), intrError: 2, rip: "x" },
    check: (h) => expect(h.c.cr2 >>> 0).toBe(0x1234),
  },
  {
    name: "#PF with PFEC_MASK = PFEC_MATCH = 2 (W): a read fault (PFEC 0) does not match and reaches the guest",
    sdm: "25.2: PFEC & MASK != MATCH inverts bit 14", kut: "-",
    vm: {
      guestCr3: GUEST_PD, fields: [[F.EXCEPTION_BITMAP, 1 << 14], [F.PAGE_FAULT_ERROR_CODE_MASK, 2], [F.PAGE_FAULT_ERROR_CODE_MATCH, 2]],
      guest: at("x", (a) => a.mov(eax, dword(GUEST_UNMAPPED))),
    },
    expected: { reason: 18 },
    check: (h) => {
      expect(h.guestEvent()).toMatchObject({ vector: 14, errorCode: 0, eip: h.g("x") });
      expect(h.c.cr2 >>> 0).toBe(GUEST_UNMAPPED); // delivered to the guest: CR2 written
    },
  },
  {
    name: "#PF with PFEC_MASK = PFEC_MATCH = 2 (W): a write fault matches and exits", sdm: "25.2", kut: "-",
    vm: {
      guestCr3: GUEST_PD, fields: [[F.EXCEPTION_BITMAP, 1 << 14], [F.PAGE_FAULT_ERROR_CODE_MASK, 2], [F.PAGE_FAULT_ERROR_CODE_MATCH, 2]],
      guest: at("x", (a) => a.mov(dword(GUEST_UNMAPPED), eax)),
    },
    expected: { reason: 0, qualification: GUEST_UNMAPPED, intrInfo: intr(14, 3, true), intrError: 2, rip: "x" },
  },
  {
    name: "#PF with bitmap bit 14 clear, PFEC_MASK = 2, MATCH = 0: a write fault does not match, so it exits",
    sdm: "25.2: mismatch -> exit when bit 14 is 0", kut: "-",
    vm: {
      guestCr3: GUEST_PD, fields: [[F.PAGE_FAULT_ERROR_CODE_MASK, 2], [F.PAGE_FAULT_ERROR_CODE_MATCH, 0]],
      guest: at("x", (a) => a.mov(dword(GUEST_UNMAPPED), eax)),
    },
    expected: { reason: 0, intrInfo: intr(14, 3, true), intrError: 2, rip: "x" },
  },
  {
    name: "INT3 with bitmap bit 3: software exception (type 6), instruction length 1", sdm: "25.2; 27.2.2 (type 6); 27.2.5",
    kut: "vmx_exception_test", vm: { fields: [[F.EXCEPTION_BITMAP, 1 << 3]], guest: at("x", (a) => a.insn("int3")) },
    expected: { reason: 0, intrInfo: intr(3, 6), length: 1, rip: "x" },
  },
  {
    name: "#GP with bitmap bit 13: error code of the faulting selector", sdm: "25.2; 27.2.2 (error code valid)",
    kut: "vmx_exception_test (vmx_gp_test_guest)",
    vm: { fields: [[F.EXCEPTION_BITMAP, 1 << 13]], guest: (a) => a.mov(eax, 0x33).label("x").mov(ds, eax) },
    expected: { reason: 0, intrInfo: intr(13, 3, true), intrError: 0x30, rip: "x" },
  },
  {
    name: "NMI with NMI exiting: exit 0, interruption info 80000202H (type 2)", sdm: "25.2; 24.6.1; Table 24-15",
    kut: "vmx_tests.c nmi_hlt_main", vm: { controls: { pin: C.PIN_NMI_EXITING }, guest: (a) => (ipiToSelf(a, 4), loop(a)) },
    expected: { reason: 0, intrInfo: 0x80000202 },
  },
  // ---------------- 1: external interrupt ----------------
  {
    name: "external interrupt with acknowledge-on-exit: interruption info = vector (type 0)", sdm: "25.2; 27.2.2; 24.7.1",
    kut: "vmx_tests.c interrupt_main",
    vm: {
      controls: { pin: C.PIN_EXTERNAL_INTERRUPT_EXITING, exit: C.EXIT_ACKNOWLEDGE_INTERRUPT_ON_EXIT },
      guest: (a) => (enableApic(a), selfIpiShorthand(a, 0x41), loop(a)),
    },
    expected: { reason: 1, intrInfo: intr(0x41, 0), qualification: 0 },
    check: (h) => expect(h.c.lapic!.mmioRead(0x100 + 0x10 * (0x41 >>> 5), 4) & (1 << (0x41 & 31))).not.toBe(0), // ISR: acknowledged
  },
  {
    name: "external interrupt without acknowledge-on-exit: interruption info not valid, interrupt still pending",
    sdm: "27.2.2 (valid bit 0 without ack)", kut: "vmx_tests.c interrupt_main",
    vm: { controls: { pin: C.PIN_EXTERNAL_INTERRUPT_EXITING }, guest: (a) => (enableApic(a), selfIpiShorthand(a, 0x41), loop(a)) },
    expected: { reason: 1, intrInfo: 0 },
    check: (h) => expect(h.c.lapic!.mmioRead(0x200 + 0x10 * (0x41 >>> 5), 4) & (1 << (0x41 & 31))).not.toBe(0), // IRR
  },
  {
    name: "external interrupt without external-interrupt exiting is delivered through the guest's IDT (IF = 1)",
    sdm: "25.3 (IF governs delivery)", kut: "vmx_tests.c interrupt_main",
    vm: { rflags: 0x202, guest: (a) => (enableApic(a), selfIpiShorthand(a, 0x41), loop(a)) },
    expected: { reason: 18 }, check: (h) => expect(h.guestEvent()).toMatchObject({ vector: 0x41, errorCode: -1 }),
  },
  // ---------------- 2, 3, 4 ----------------
  {
    name: "triple fault (IDT limit 0, UD2): exit 2", sdm: "25.2", kut: "-",
    vm: { fields: [[F.GUEST_IDTR_LIMIT, 0]], guest: at("x", (a) => a.ud2()) }, expected: { reason: 2 },
  },
  {
    name: "INIT signal (INIT IPI to itself): exit 3, qualification 0", sdm: "25.2 (INIT causes a VM exit)",
    kut: "vmx_tests.c vmx_init_signal_test", vm: { guest: (a) => (ipiToSelf(a, 5), loop(a)) },
    expected: { reason: 3, qualification: 0 },
  },
  {
    name: "SIPI in the wait-for-SIPI activity state: exit 4, qualification = vector", sdm: "25.2; 27.2.1 (SIPI qualification)",
    kut: "vmx_tests.c vmx_sipi_signal_test", vm: { fields: [[F.GUEST_ACTIVITY_STATE, 3]] },
    setup: (h) => h.m.clock.at(h.m.now + 200_000, () => h.c.startup(0x12)), expected: { reason: 4, qualification: 0x12 },
  },
  // ---------------- 7, 8: windows ----------------
  {
    name: "interrupt window after STI: exit 7 once the STI shadow has passed", sdm: "25.2; 24.6.2 (interrupt-window exiting)",
    kut: "vmx_tests.c vmx_intr_window_test",
    vm: { controls: { proc: C.PROC_INTERRUPT_WINDOW_EXITING }, guest: (a) => a.nop().insn("sti").nop().label("x").hlt() },
    expected: { reason: 7, rip: "x", interruptibility: 0 },
  },
  {
    name: "interrupt window with RFLAGS.IF = 1 at entry: exit 7 before the first instruction", sdm: "25.2",
    kut: "vmx_tests.c vmx_intr_window_test",
    vm: { rflags: 0x202, controls: { proc: C.PROC_INTERRUPT_WINDOW_EXITING }, guest: at("x", (a) => a.nop().hlt()) },
    expected: { reason: 7, rip: "x" },
  },
  {
    name: "NMI window without virtual-NMI blocking: exit 8 before the first instruction", sdm: "25.2; 24.6.2 (NMI-window exiting)",
    kut: "vmx_tests.c vmx_nmi_window_test",
    vm: {
      controls: { pin: C.PIN_NMI_EXITING | C.PIN_VIRTUAL_NMIS, proc: C.PROC_NMI_WINDOW_EXITING },
      guest: at("x", (a) => a.nop().hlt()),
    },
    expected: { reason: 8, rip: "x" },
  },
  {
    name: "NMI window opens when IRET ends virtual-NMI blocking: exit 8 after the IRET", sdm: "25.3 (IRET removes virtual-NMI blocking); 25.2",
    kut: "vmx_tests.c vmx_nmi_window_test",
    vm: {
      controls: { pin: C.PIN_NMI_EXITING | C.PIN_VIRTUAL_NMIS, proc: C.PROC_NMI_WINDOW_EXITING },
      fields: [[F.GUEST_INTERRUPTIBILITY_STATE, 8]],
      guest: (a) => a.pushfd().push(KCODE).push("x").iretd().label("x").nop().hlt(),
    },
    expected: { reason: 8, rip: "x" },
  },
  {
    name: "with NMI exiting (no virtual NMIs) IRET leaves NMI blocking alone: still blocked at the next exit",
    sdm: "25.3 (IRET: NMI exiting = 1 -> no effect on NMI blocking); 24.4.2 interruptibility bit 3", kut: "-",
    vm: {
      controls: { pin: C.PIN_NMI_EXITING }, fields: [[F.GUEST_INTERRUPTIBILITY_STATE, 8]],
      guest: (a) => a.pushfd().push(KCODE).push("x").iretd().label("x").insn("vmcall"),
    },
    expected: { reason: 18, rip: "x", interruptibility: 8 },
  },
  // ---------------- instructions that exit unconditionally or by control (25.1.2, 25.1.3) ----------------
  {
    name: "CPUID: exit 10, length 2, registers untouched", sdm: "25.1.2", kut: "vmexit.c cpuid / vmx_tests.c insn_intercept",
    vm: { regs: { eax: 0x1234 }, guest: at("x", (a) => a.insn("cpuid")) }, expected: { reason: 10, length: 2, rip: "x" },
    check: (_h, e) => expect(e.regs.eax).toBe(0x1234),
  },
  {
    name: "HLT with HLT exiting: exit 12, length 1, activity state active", sdm: "25.1.3; 27.3.4", kut: "insn_intercept (HLT)",
    vm: { controls: { proc: C.PROC_HLT_EXITING }, guest: at("x", (a) => a.hlt()) },
    expected: { reason: 12, length: 1, rip: "x", activity: 0 },
  },
  {
    name: "INVD: exit 13 unconditionally, length 2", sdm: "25.1.2", kut: "-",
    vm: { guest: at("x", (a) => a.insn("invd")) }, expected: { reason: 13, length: 2, rip: "x" },
  },
  {
    name: "INVLPG [disp32] with INVLPG exiting: exit 14, qualification = linear address, length 7",
    sdm: "25.1.3; 27.2.1 (INVLPG: linear-address operand)", kut: "insn_intercept (INVLPG)",
    vm: { controls: { proc: C.PROC_INVLPG_EXITING }, guest: at("x", (a) => a.invlpg(ptr(0x12345678))) },
    expected: { reason: 14, qualification: 0x12345678, length: 7, rip: "x" },
  },
  {
    name: "INVLPG [ebx+8]: qualification = the computed linear address", sdm: "27.2.1", kut: "insn_intercept (INVLPG)",
    vm: { controls: { proc: C.PROC_INVLPG_EXITING }, regs: { ebx: 0x401000 }, guest: at("x", (a) => a.invlpg(ptr(ebx, 8))) },
    expected: { reason: 14, qualification: 0x401008, length: 4 },
  },
  {
    name: "RDPMC with RDPMC exiting: exit 15, length 2", sdm: "25.1.3", kut: "insn_intercept (RDPMC)",
    vm: { controls: { proc: C.PROC_RDPMC_EXITING }, guest: at("x", (a) => a.rdpmc()) }, expected: { reason: 15, length: 2, rip: "x" },
  },
  {
    name: "RDTSC with RDTSC exiting: exit 16, length 2", sdm: "25.1.3", kut: "insn_intercept (RDTSC)",
    vm: { controls: { proc: C.PROC_RDTSC_EXITING }, guest: at("x", (a) => a.rdtsc()) }, expected: { reason: 16, length: 2, rip: "x" },
  },
  {
    name: "PAUSE with PAUSE exiting: exit 40, length 2", sdm: "25.1.3", kut: "insn_intercept (PAUSE)",
    vm: { controls: { proc: C.PROC_PAUSE_EXITING }, guest: at("x", (a) => a.pause()) }, expected: { reason: 40, length: 2, rip: "x" },
  },
  {
    name: "WBINVD with WBINVD exiting (secondary, skylake): exit 54, length 2", sdm: "25.1.3; 24.6.2", kut: "insn_intercept (WBINVD)",
    vm: { controls: { proc2: C.PROC2_WBINVD_EXITING }, guest: at("x", (a) => a.wbinvd()) }, expected: { reason: 54, length: 2, rip: "x" },
  },
  {
    name: "WBINVD with WBINVD exiting (haswell): exit 54", sdm: "25.1.3", kut: "insn_intercept (WBINVD)", profile: "haswell",
    vm: { controls: { proc2: C.PROC2_WBINVD_EXITING }, guest: at("x", (a) => a.wbinvd()) }, expected: { reason: 54, length: 2, rip: "x" },
  },
  {
    name: "WBINVD without WBINVD exiting executes in the guest", sdm: "25.1.3", kut: "insn_intercept (WBINVD)",
    vm: { guest: (a) => a.wbinvd().label("x").insn("vmcall") }, expected: { reason: 18, rip: "x" },
  },
  // ---------------- 18-27, 50, 53: VMX instructions in non-root operation ----------------
  {
    name: "VMCALL: exit 18, length 3", sdm: "25.1.2", kut: "vmx_tests.c vmenter_main",
    vm: { guest: at("x", (a) => a.insn("vmcall")) }, expected: { reason: 18, length: 3, rip: "x" },
  },
  {
    name: "VMCLEAR [ebx+10H]: exit 19, qualification = displacement, instruction information (Table 27-13)",
    sdm: "25.1.2; 27.2.1; 27.2.5", kut: "-", vm: { guest: at("x", (a) => a.insn("vmclear", qword(ebx, 0x10))) },
    expected: { reason: 19, qualification: 0x10, length: 5, rip: "x" }, insnInfo: memInfo({ base: EBX }),
  },
  {
    name: "VMLAUNCH: exit 20", sdm: "25.1.2", kut: "-", vm: { guest: at("x", (a) => a.insn("vmlaunch")) },
    expected: { reason: 20, length: 3, rip: "x" },
  },
  {
    name: "VMPTRLD [eax*4+100H]: exit 21, scaled index without base", sdm: "25.1.2; 27.2.5 (Table 27-13)", kut: "-",
    vm: { guest: at("x", (a) => a.insn("vmptrld", qword({ index: eax, scale: 4, disp: 0x100 }))) },
    expected: { reason: 21, qualification: 0x100, rip: "x" }, insnInfo: memInfo({ index: EAX, scale: 2 }),
  },
  {
    name: "VMPTRST [esp+4]: exit 22, segment SS", sdm: "25.1.2; 27.2.5 (Table 27-13)", kut: "-",
    vm: { guest: at("x", (a) => a.insn("vmptrst", qword(esp, 4))) },
    expected: { reason: 22, qualification: 4, rip: "x" }, insnInfo: memInfo({ base: ESP, seg: SS }),
  },
  {
    name: "VMREAD eax, ebx: exit 23, register form (Table 27-14)", sdm: "25.1.2; 27.2.5", kut: "-",
    vm: { guest: at("x", (a) => a.insn("vmread", eax, ebx)) }, expected: { reason: 23, length: 3, rip: "x" },
    insnInfo: regRegInfo(EAX, EBX),
  },
  {
    name: "VMREAD [ebx+20H], ecx: exit 23, memory form, qualification = displacement", sdm: "25.1.2; 27.2.1; 27.2.5", kut: "-",
    vm: { guest: at("x", (a) => a.insn("vmread", dword(ebx, 0x20), ecx)) },
    expected: { reason: 23, qualification: 0x20, rip: "x" }, insnInfo: memRegInfo({ base: EBX }, ECX),
  },
  {
    name: "VMRESUME: exit 24", sdm: "25.1.2", kut: "-", vm: { guest: at("x", (a) => a.insn("vmresume")) },
    expected: { reason: 24, length: 3, rip: "x" },
  },
  {
    name: "VMWRITE edx, esi: exit 25, register form (reg2 = the field operand)", sdm: "25.1.2; 27.2.5 (Table 27-14)", kut: "-",
    vm: { guest: at("x", (a) => a.insn("vmwrite", edx, esi)) }, expected: { reason: 25, rip: "x" },
    insnInfo: regRegInfo(ESI, EDX),
  },
  {
    name: "VMXOFF: exit 26", sdm: "25.1.2", kut: "-", vm: { guest: at("x", (a) => a.insn("vmxoff")) },
    expected: { reason: 26, length: 3, rip: "x" },
  },
  {
    name: "VMXON [disp32]: exit 27, no base and no index", sdm: "25.1.2; 27.2.5 (Table 27-13)", kut: "-",
    vm: { guest: at("x", (a) => a.insn("vmxon", qword(VMXON_REGION))) },
    expected: { reason: 27, qualification: VMXON_REGION, length: 8, rip: "x" }, insnInfo: memInfo({}),
  },
  {
    name: "INVEPT ecx, [ebx]: exit 50 (skylake)", sdm: "25.1.2; 27.2.5 (INVEPT/INVPCID/INVVPID table)", kut: "-",
    vm: { guest: at("x", (a) => a.insn("invept", ecx, ptr(ebx))) }, expected: { reason: 50, qualification: 0, rip: "x" },
    insnInfo: memRegInfo({ base: EBX }, ECX),
  },
  {
    name: "INVVPID edx, [esi+8]: exit 53 (skylake)", sdm: "25.1.2; 27.2.5", kut: "-",
    vm: { guest: at("x", (a) => a.insn("invvpid", edx, ptr(esi, 8))) }, expected: { reason: 53, qualification: 8, rip: "x" },
    insnInfo: memRegInfo({ base: ESI }, EDX),
  },
  // ---------------- 28: control-register accesses (25.1.3, 25.3, Table 27-3) ----------------
  {
    name: "MOV to CR0 changing a masked bit (TS) against the shadow: exit 28, qualification 600H (mov cr0, esi)",
    sdm: "25.1.3; Table 27-3", kut: "cr_shadowing_main (stage 8)",
    vm: {
      fields: [[F.CR0_GUEST_HOST_MASK, CR0_TS | CR0_MP], [F.CR0_READ_SHADOW, 0]],
      guest: (a) => a.mov(esi, cr0).or(esi, CR0_TS).label("x").mov(cr0, esi),
    },
    expected: { reason: 28, qualification: 0x600, length: 3, rip: "x" },
  },
  {
    name: "MOV to CR4 changing a masked bit (TSD): exit 28, qualification 604H (mov cr4, esi)", sdm: "25.1.3; Table 27-3",
    kut: "cr_shadowing_main (stage 10)",
    vm: {
      fields: [[F.CR4_GUEST_HOST_MASK, CR4_TSD | CR4_DE], [F.CR4_READ_SHADOW, 0]],
      guest: (a) => a.mov(esi, cr4).or(esi, CR4_TSD).label("x").mov(cr4, esi),
    },
    expected: { reason: 28, qualification: 0x604, rip: "x" },
  },
  {
    name: "MOV from CR0 returns the read shadow in masked bits, the real CR0 elsewhere; CR4 with mask 0 reads the real CR4",
    sdm: "25.3 (MOV from CR0/CR4)", kut: "cr_shadowing_main (Read shadowing CR0)",
    vm: {
      fields: [[F.CR0_GUEST_HOST_MASK, CR0_TS], [F.CR0_READ_SHADOW, CR0_TS]],
      guest: (a) => a.mov(eax, cr0).mov(dword(D), eax).mov(ebx, cr4).mov(dword(D + 4), ebx).insn("vmcall"),
    },
    expected: { reason: 18 },
    check: (h, e) => {
      expect(h.r32(D)).toBe(u(0x80000031 | CR0_TS)); // the shadow's TS over the real CR0
      expect(e.cr0 & CR0_TS).toBe(0); // the real TS is clear
      expect(h.r32(D + 4)).toBe(0x2010); // PSE | VMXE: mask 0, so the shadow (PSE) is not used
    },
  },
  {
    name: "MOV to CR0 with the shadow's value in masked bits does not exit; masked bits keep the real value",
    sdm: "25.1.3; 25.3 (MOV to CR0)", kut: "cr_shadowing_main (Write shadowing CR0, same value)",
    vm: {
      fields: [[F.CR0_GUEST_HOST_MASK, CR0_TS], [F.CR0_READ_SHADOW, CR0_TS]],
      guest: (a) => a.mov(eax, cr0).mov(cr0, eax).label("x").insn("vmcall"),
    },
    expected: { reason: 18, rip: "x" }, check: (_h, e) => expect(e.cr0 & CR0_TS).toBe(0),
  },
  {
    name: "MOV to CR0 with mask 0 writes through (MP set in the real CR0)", sdm: "25.3 (MOV to CR0)",
    kut: "cr_shadowing_main (Write through CR0)",
    vm: { guest: (a) => a.mov(eax, cr0).or(eax, CR0_MP).mov(cr0, eax).label("x").insn("vmcall") },
    expected: { reason: 18, rip: "x" }, check: (_h, e) => expect(e.cr0 & CR0_MP).toBe(CR0_MP),
  },
  {
    name: "MOV from CR3 with CR3-store exiting: exit 28, qualification 313H (mov ebx, cr3)", sdm: "25.1.3; Table 27-3",
    kut: "insn_intercept (CR3 store)", vm: { controls: { proc: C.PROC_CR3_STORE_EXITING }, guest: at("x", (a) => a.mov(ebx, cr3)) },
    expected: { reason: 28, qualification: 0x313, rip: "x" },
  },
  {
    name: "MOV to CR3 with CR3-load exiting and no target: exit 28, qualification 3 (mov cr3, eax)", sdm: "25.1.3; Table 27-3",
    kut: "insn_intercept (CR3 load)",
    vm: { controls: { proc: C.PROC_CR3_LOAD_EXITING }, guest: (a) => a.mov(eax, cr3).label("x").mov(cr3, eax) },
    expected: { reason: 28, qualification: 3, rip: "x" },
  },
  {
    name: "MOV to CR3 of a CR3-target value does not exit", sdm: "25.1.3 (CR3-target values)", kut: "insn_intercept (CR3 load)",
    vm: {
      controls: { proc: C.PROC_CR3_LOAD_EXITING }, fields: [[F.CR3_TARGET_COUNT, 1], [F.CR3_TARGET_VALUE_0, 0x2000]],
      guest: (a) => a.mov(eax, cr3).mov(cr3, eax).label("x").insn("vmcall"),
    },
    expected: { reason: 18, rip: "x" },
  },
  {
    name: "CLTS with TS masked and set in the shadow: exit 28, qualification 20H", sdm: "25.1.3; Table 27-3 (access type 2)",
    kut: "-", vm: { fields: [[F.CR0_GUEST_HOST_MASK, CR0_TS], [F.CR0_READ_SHADOW, 0x80000031 | CR0_TS]], guest: at("x", (a) => a.clts()) },
    expected: { reason: 28, qualification: 0x20, length: 2, rip: "x" },
  },
  {
    name: "CLTS with TS masked and clear in the shadow does not exit and leaves TS", sdm: "25.1.3; 25.3", kut: "-",
    vm: { fields: [[F.CR0_GUEST_HOST_MASK, CR0_TS], [F.GUEST_CR0, 0x80000031 | CR0_TS]], guest: (a) => a.clts().insn("vmcall") },
    expected: { reason: 18 }, check: (_h, e) => expect(e.cr0 & CR0_TS).toBe(CR0_TS),
  },
  {
    name: "LMSW ax setting masked MP against the shadow: exit 28, qualification 000B0030H", sdm: "25.1.3; Table 27-3 (LMSW, source data 31:16)",
    kut: "-",
    vm: { fields: [[F.CR0_GUEST_HOST_MASK, CR0_MP], [F.CR0_READ_SHADOW, 0]], guest: (a) => a.mov(eax, 0x000b).label("x").lmsw(ax) },
    expected: { reason: 28, qualification: 0x000b0030, rip: "x" },
  },
  {
    name: "LMSW [mem]: qualification bit 6 (memory operand), guest-linear address of the operand", sdm: "Table 27-3; 27.2.1",
    kut: "-",
    vm: {
      fields: [[F.CR0_GUEST_HOST_MASK, CR0_MP], [F.CR0_READ_SHADOW, 0]],
      guest: (a) => a.mov(dword(D), 0x0003).label("x").lmsw(ptr(D)),
    },
    expected: { reason: 28, qualification: 0x00030070, guestLinear: D, rip: "x" },
  },
  // ---------------- 29: MOV DR (Table 27-4) ----------------
  {
    name: "MOV to DR7 with MOV-DR exiting: exit 29, qualification 7", sdm: "25.1.3; Table 27-4", kut: "-",
    vm: { controls: { proc: C.PROC_MOV_DR_EXITING }, guest: (a) => a.mov(eax, 0x400).label("x").mov(dr7, eax) },
    expected: { reason: 29, qualification: 7, length: 3, rip: "x" },
  },
  {
    name: "MOV from DR6 to EBX: exit 29, qualification 316H", sdm: "25.1.3; Table 27-4", kut: "-",
    vm: { controls: { proc: C.PROC_MOV_DR_EXITING }, guest: at("x", (a) => a.mov(ebx, dr6)) },
    expected: { reason: 29, qualification: 0x316, rip: "x" },
  },
  // ---------------- 30: I/O (25.1.3, Table 27-5) ----------------
  {
    name: "OUT 80H, AL with unconditional I/O exiting: qualification 00800040H", sdm: "25.1.3; Table 27-5", kut: "iobmp_main",
    vm: { controls: { proc: C.PROC_UNCONDITIONAL_IO_EXITING }, guest: at("x", (a) => a.out(0x80, al)) },
    expected: { reason: 30, qualification: 0x00800040, length: 2, rip: "x" },
  },
  {
    name: "IN EAX, DX (3F8H): qualification 03F8000BH", sdm: "Table 27-5", kut: "iobmp_main",
    vm: { controls: { proc: C.PROC_UNCONDITIONAL_IO_EXITING }, regs: { edx: 0x3f8 }, guest: at("x", (a) => a.in(eax, dx)) },
    expected: { reason: 30, qualification: 0x03f8000b, length: 1, rip: "x" },
  },
  {
    name: "REP OUTSB (DX 1234H): string and REP bits, guest-linear address DS:ESI, instruction information",
    sdm: "Table 27-5; 27.2.1 (guest-linear address); 27.2.5 (INS/OUTS table, BASIC[54])", kut: "-",
    vm: {
      controls: { proc: C.PROC_UNCONDITIONAL_IO_EXITING }, regs: { edx: 0x1234, esi: D, ecx: 4 },
      guest: at("x", (a) => a.rep().outsb()),
    },
    expected: { reason: 30, qualification: 0x12340030, length: 2, guestLinear: D, rip: "x" },
    insnInfo: [u((1 << 7) | (DS << 15)), u(0x380 | 0x38000)],
  },
  {
    name: "I/O bitmap A bit for port 5000H set: IN AL, DX exits", sdm: "25.1.3; 24.6.4", kut: "iobmp_main",
    vm: { controls: { proc: C.PROC_USE_IO_BITMAPS }, fields: [[F.IO_BITMAP_A, IO_BITMAP_A], [F.IO_BITMAP_B, IO_BITMAP_B]],
      regs: { edx: 0x5000 }, guest: at("x", (a) => a.in(al, dx)) },
    setup: (h) => h.w32(IO_BITMAP_A + (0x5000 >>> 3), 1), expected: { reason: 30, qualification: 0x50000008, rip: "x" },
  },
  {
    name: "I/O bitmap bit clear: IN AL, DX (5001H) does not exit", sdm: "25.1.3", kut: "iobmp_main (I/O pass)",
    vm: { controls: { proc: C.PROC_USE_IO_BITMAPS }, fields: [[F.IO_BITMAP_A, IO_BITMAP_A], [F.IO_BITMAP_B, IO_BITMAP_B]],
      regs: { edx: 0x5001 }, guest: (a) => a.in(al, dx).label("x").insn("vmcall") },
    setup: (h) => h.w32(IO_BITMAP_A + (0x5000 >>> 3), 1), expected: { reason: 18, rip: "x" },
  },
  {
    name: "I/O bitmaps: a 2-byte access at 7FFFH exits on bitmap B's bit for 8000H", sdm: "25.1.3 (any byte of the access)",
    kut: "iobmp_main (width)",
    vm: { controls: { proc: C.PROC_USE_IO_BITMAPS }, fields: [[F.IO_BITMAP_A, IO_BITMAP_A], [F.IO_BITMAP_B, IO_BITMAP_B]],
      regs: { edx: 0x7fff }, guest: at("x", (a) => a.in(ax, dx)) },
    setup: (h) => h.w32(IO_BITMAP_B, 1), expected: { reason: 30, qualification: 0x7fff0009, rip: "x" },
  },
  // ---------------- 31/32: RDMSR/WRMSR and the MSR bitmaps (24.6.9, 25.1.3) ----------------
  {
    name: "RDMSR 174H with its read-low bit set: exit 31, length 2", sdm: "25.1.3; 24.6.9 (read bitmap for low MSRs)",
    kut: "msr_bmp_init", vm: { controls: withMsrBitmap(), fields: [[F.MSR_BITMAPS, MSR_BITMAP]], regs: { ecx: 0x174 }, guest: at("x", (a) => a.rdmsr()) },
    setup: (h) => h.w32(MSR_BITMAP + (0x174 >>> 3), 1 << (0x174 & 7)), expected: { reason: 31, length: 2, rip: "x" },
  },
  {
    name: "RDMSR 175H with its read-low bit clear does not exit", sdm: "25.1.3", kut: "msr_bmp_init",
    vm: { controls: withMsrBitmap(), fields: [[F.MSR_BITMAPS, MSR_BITMAP]], regs: { ecx: 0x175 }, guest: (a) => a.rdmsr().label("x").insn("vmcall") },
    setup: (h) => h.w32(MSR_BITMAP + (0x174 >>> 3), 1 << (0x174 & 7)), expected: { reason: 18, rip: "x" },
  },
  {
    name: "RDMSR C0000081H with its read-high bit set: exit 31", sdm: "24.6.9 (read bitmap for high MSRs at +400H)",
    kut: "msr_bmp_init", vm: { controls: withMsrBitmap(), fields: [[F.MSR_BITMAPS, MSR_BITMAP]], regs: { ecx: 0xc0000081 }, guest: at("x", (a) => a.rdmsr()) },
    setup: (h) => h.w32(MSR_BITMAP + 0x400 + (0x81 >>> 3), 1 << (0x81 & 7)), expected: { reason: 31, rip: "x" },
  },
  {
    name: "WRMSR 174H with its write-low bit set: exit 32", sdm: "24.6.9 (write bitmap for low MSRs at +800H)", kut: "msr_bmp_init",
    vm: { controls: withMsrBitmap(), fields: [[F.MSR_BITMAPS, MSR_BITMAP]], regs: { ecx: 0x174 }, guest: at("x", (a) => a.wrmsr()) },
    setup: (h) => h.w32(MSR_BITMAP + 0x800 + (0x174 >>> 3), 1 << (0x174 & 7)), expected: { reason: 32, length: 2, rip: "x" },
  },
  {
    name: "WRMSR C0000080H with its write-high bit set: exit 32", sdm: "24.6.9 (write bitmap for high MSRs at +C00H)", kut: "msr_bmp_init",
    vm: { controls: withMsrBitmap(), fields: [[F.MSR_BITMAPS, MSR_BITMAP]], regs: { ecx: 0xc0000080 }, guest: at("x", (a) => a.wrmsr()) },
    setup: (h) => h.w32(MSR_BITMAP + 0xc00 + (0x80 >>> 3), 1 << (0x80 & 7)), expected: { reason: 32, rip: "x" },
  },
  {
    name: "RDMSR outside both bitmap ranges (40000000H) always exits", sdm: "25.1.3", kut: "-",
    vm: { controls: withMsrBitmap(), fields: [[F.MSR_BITMAPS, MSR_BITMAP]], regs: { ecx: 0x40000000 }, guest: at("x", (a) => a.rdmsr()) },
    expected: { reason: 31, rip: "x" },
  },
  {
    name: "RDMSR without MSR bitmaps always exits", sdm: "25.1.3 (use MSR bitmaps = 0)", kut: "-",
    vm: { regs: { ecx: 0x175 }, guest: at("x", (a) => a.rdmsr()) }, expected: { reason: 31, rip: "x" },
  },
  // ---------------- 52: VMX-preemption timer (25.5.1) ----------------
  {
    name: "preemption timer value 0: exit 52 before the first guest instruction", sdm: "25.5.1; 26.7.? (timer 0 at entry)",
    kut: "vmx_preemption_timer_zero_test; preemption_timer_exit_handler (stage 4)",
    vm: {
      controls: { pin: C.PIN_ACTIVATE_PREEMPTION_TIMER }, fields: [[F.VMX_PREEMPTION_TIMER_VALUE, 0]],
      guest: at("x", (a) => a.mov(dword(D), 1).insn("vmcall")),
    },
    expected: { reason: 52, rip: "x" }, check: (h) => expect(h.r32(D)).toBe(0),
  },
  {
    name: "preemption timer during HLT: exit 52 with activity state HLT", sdm: "25.5.1; 27.3.4",
    kut: "preemption_timer_exit_handler (preemption timer during hlt)",
    vm: { controls: { pin: C.PIN_ACTIVATE_PREEMPTION_TIMER }, fields: [[F.VMX_PREEMPTION_TIMER_VALUE, 50]], guest: (a) => a.hlt() },
    expected: { reason: 52, activity: 1 },
  },
  {
    name: "save VMX-preemption timer value: a VMCALL exit stores a smaller, non-zero value", sdm: "27.3.4 (save preemption timer)",
    kut: "preemption_timer_exit_handler (Save preemption value)",
    vm: {
      controls: { pin: C.PIN_ACTIVATE_PREEMPTION_TIMER, exit: C.EXIT_SAVE_PREEMPTION_TIMER_VALUE },
      // Busy work first (as preemption_timer_main does), so that the timer has counted down (rate 7: 128 cycles).
      fields: [[F.VMX_PREEMPTION_TIMER_VALUE, 1_000_000]], guest: (a) => a.mov(ecx, 2000).label("l").loop("l").insn("vmcall"),
    },
    expected: { reason: 18 },
    check: (_h, e) => {
      expect(e.preemptionTimer).toBeLessThan(1_000_000);
      expect(e.preemptionTimer).toBeGreaterThan(1_000_000 - 1000);
    },
  },
  {
    name: "without \"save VMX-preemption timer value\" the field keeps its value", sdm: "27.3.4",
    kut: "preemption_timer_exit_handler (Keep preemption value)",
    vm: { controls: { pin: C.PIN_ACTIVATE_PREEMPTION_TIMER }, fields: [[F.VMX_PREEMPTION_TIMER_VALUE, 1_000_000]], guest: (a) => a.insn("vmcall") },
    expected: { reason: 18, preemptionTimer: 1_000_000 },
  },
];

function runExitCase(row: ExitCase): { h: VmxCase; e: ExitRecord } {
  const h = new VmxCase({ profile: row.profile });
  h.vm(row.vm);
  row.setup?.(h);
  return { h, e: h.launchExit() };
}

describe("VM exits by reason, with qualification and exit fields (SDM 25, 27.2, Appendix C)", () => {
  for (const row of CASES) {
    const title = `${row.name} [SDM ${row.sdm}; kvm-unit-tests ${row.kut}]${row.bug ? ` (known bug: ${row.bug})` : ""}`;
    (row.bug ? it.fails : it)(title, () => {
      const { h, e } = runExitCase(row);
      for (const [k, v] of Object.entries(row.expected)) {
        const want = typeof v === "string" ? h.g(v) : v;
        expect(e[k as keyof ExitRecord], k).toBe(want);
      }
      if (row.insnInfo) expect(u(e.insnInfo & row.insnInfo[1]), "instruction information").toBe(u(row.insnInfo[0] & row.insnInfo[1]));
      row.check?.(h, e);
    });
  }

  it("preemption timer value N exits after about N << IA32_VMX_MISC[4:0] TSC cycles [SDM 25.5.1; kvm-unit-tests preemption_timer_main]", () => {
    const N = 100;
    const h = new VmxCase();
    const rate = readMsr(h.c, 0x485)[0] & 0x1f;
    h.vm({
      controls: { pin: C.PIN_ACTIVATE_PREEMPTION_TIMER }, fields: [[F.VMX_PREEMPTION_TIMER_VALUE, N]],
      guest: (a) => a.rdtsc().mov(dword(D), eax).mov(dword(D + 4), edx).label("l").inc(esi).jmp("l"),
    });
    const e = h.launchExit();
    expect(e.reason).toBe(52);
    const guestStart = h.r32(D + 4) * 2 ** 32 + h.r32(D);
    const elapsed = e.hostTsc - guestStart;
    expect(rate).toBe(7); // skylake's IA32_VMX_MISC (vmx.md 1a)
    expect(elapsed).toBeGreaterThanOrEqual((N - 1) << rate);
    expect(elapsed).toBeLessThan(((N + 1) << rate) + 5000); // + the exit and the handler's VMREADs before its RDTSC
    expect(e.regs.esi).toBeGreaterThan(100); // the guest really ran
  });
});

describe("the same exit on every profile (the harness and the opcode path on each generation)", () => {
  for (const profile of ["core2-q6600", "nehalem", "sandybridge", "haswell", "skylake"]) {
    it(`${profile}: CPUID exits with reason 10 and length 2, HLT with HLT exiting with 12 [SDM 25.1.2, 25.1.3]`, () => {
      const h = new VmxCase({ profile });
      h.vm({ controls: { proc: C.PROC_HLT_EXITING }, guest: (a) => a.label("c").insn("cpuid").label("x").hlt() });
      const e = h.launchExit();
      expect([e.reason, e.length, e.rip]).toEqual([10, 2, h.g("c")]);
      const e2 = h.resumeExit({ skip: true });
      expect([e2.reason, e2.length, e2.rip]).toEqual([12, 1, h.g("x")]);
    });
  }
});

describe("event injection (SDM 26.6) and IDT-vectoring information (27.2.4)", () => {
  const inject = (info: number, extra: [number, number][] = [], rflags = 2): VmOptions => ({
    rflags, fields: [[F.VM_ENTRY_INTERRUPTION_INFORMATION, info], ...extra], guest: (a) => a.nop().hlt(),
  });
  const rows: { name: string; vm: VmOptions; vector: number; errorCode: number; eipDelta: number; extra?: (e: ExitRecord) => void }[] = [
    // An external interrupt can be injected only with RFLAGS.IF = 1 (26.3.1.5; else the entry fails with reason 33).
    { name: "external interrupt 30H (type 0)", vm: inject(intr(0x30, 0), [], 0x202), vector: 0x30, errorCode: -1, eipDelta: 0 },
    {
      name: "NMI (type 2): delivered through vector 2, NMIs blocked in the handler", vm: inject(intr(2, 2)), vector: 2, errorCode: -1,
      eipDelta: 0, extra: (e) => expect(e.interruptibility & 8).toBe(8),
    },
    {
      name: "hardware exception #GP with error code 1234H (type 3)", vm: inject(intr(13, 3, true), [[F.VM_ENTRY_EXCEPTION_ERROR_CODE, 0x1234]]),
      vector: 13, errorCode: 0x1234, eipDelta: 0,
    },
    {
      name: "software interrupt INT 80H (type 4): the saved EIP is RIP + instruction length 2",
      vm: inject(intr(0x80, 4), [[F.VM_ENTRY_INSTRUCTION_LENGTH, 2]]), vector: 0x80, errorCode: -1, eipDelta: 2,
    },
    {
      name: "software exception #BP (type 6): the saved EIP is RIP + instruction length 1",
      vm: inject(intr(3, 6), [[F.VM_ENTRY_INSTRUCTION_LENGTH, 1]]), vector: 3, errorCode: -1, eipDelta: 1,
    },
    {
      name: "external interrupt into a guest in the HLT activity state wakes it",
      vm: { ...inject(intr(0x31, 0), [[F.GUEST_ACTIVITY_STATE, 1]], 0x202) },
      vector: 0x31, errorCode: -1, eipDelta: 0,
    },
  ];
  for (const r of rows) {
    it(`${r.name} reaches the guest's IDT handler [SDM 26.6; kvm-unit-tests vmx_tests.c test_invalid_event_injection (its valid cases)]`, () => {
      const h = new VmxCase();
      h.vm(r.vm);
      const e = h.launchExit();
      expect(e.reason).toBe(18); // the handler's VMCALL
      expect(h.guestEvent()).toEqual({ count: 1, vector: r.vector, errorCode: r.errorCode, eip: GUEST_CODE + r.eipDelta });
      expect(e.entryIntrInfo & 0x80000000).toBe(0); // 24.8.3: a VM exit clears the valid bit
      r.extra?.(e);
    });
  }

  it("an injected interrupt whose IDT gate is not present exits with #NP (bitmap bit 11) and IDT-vectoring information [27.2.4; Vol. 3A 6.13 (EXT, IDT bits)]", () => {
    const h = new VmxCase();
    h.vm(inject(intr(0x30, 0), [[F.EXCEPTION_BITMAP, 1 << 11]], 0x202));
    h.w32(GUEST_IDT + 8 * 0x30 + 4, h.r32(GUEST_IDT + 8 * 0x30 + 4) & ~0x8000); // gate 30H not present
    const e = h.launchExit();
    expect(e.reason).toBe(0);
    expect(e.intrInfo).toBe(intr(11, 3, true));
    expect(e.intrError).toBe((0x30 << 3) | 2 | 1); // IDT | EXT
    expect(e.idtInfo).toBe(intr(0x30, 0));
    expect(e.rip).toBe(GUEST_CODE);
  });
});

describe("TSC offsetting (SDM 25.3, 24.6.5) and the TSC in the MSR-store list (27.4)", () => {
  for (const [name, lo, hi] of [["+2^32", 0, 1], ["-4096", 0xfffff000, 0xffffffff]] as const) {
    it(`guest RDTSC = host TSC + TSC offset (${name}) [SDM 25.3 RDTSC]`, () => {
      const h = new VmxCase();
      h.vm({
        controls: { proc: C.PROC_USE_TSC_OFFSETTING }, fields: [[F.TSC_OFFSET, lo], [F.TSC_OFFSET_HIGH, hi]],
        guest: (a) => a.rdtsc().mov(dword(D), eax).mov(dword(D + 4), edx).insn("vmcall"),
      });
      const e = h.launchExit();
      // The TSC is 64 bits and the offset is added modulo 2^64 (a negative offset may wrap a small TSC).
      const M = 1n << 64n;
      const offset = (BigInt(hi) << 32n) | BigInt(lo);
      const guestTsc = (BigInt(h.r32(D + 4)) << 32n) | BigInt(h.r32(D));
      const hostAtRdtsc = (((guestTsc - offset) % M) + M) % M;
      const gap = Number(BigInt(e.hostTsc) - hostAtRdtsc);
      expect(gap).toBeGreaterThan(0);
      expect(gap).toBeLessThan(5000); // one VMCALL exit plus the handler's VMREADs
    });
  }

  // The MSR-store list is processed in the guest's context (SDM 27.4; kvm-unit-tests vmx_store_tsc_test expects
  // host TSC + offset).
  it("the VM-exit MSR-store list stores the guest's TSC (with the offset) [SDM 27.4; kvm-unit-tests vmx_store_tsc_test]", () => {
    const h = new VmxCase();
    h.vm({
      controls: { proc: C.PROC_USE_TSC_OFFSETTING }, fields: [[F.TSC_OFFSET, 0], [F.TSC_OFFSET_HIGH, 1],
        [F.VM_EXIT_MSR_STORE_COUNT, 1], [F.VM_EXIT_MSR_STORE_ADDRESS, MSR_AREA]],
      guest: (a) => a.rdtsc().mov(dword(D), eax).mov(dword(D + 4), edx).insn("vmcall"),
    });
    h.w32(MSR_AREA, 0x10); // IA32_TIME_STAMP_COUNTER
    const e = h.launchExit();
    expect(e.reason).toBe(18);
    const stored = h.r32(MSR_AREA + 12) * 2 ** 32 + h.r32(MSR_AREA + 8);
    const guestTsc = h.r32(D + 4) * 2 ** 32 + h.r32(D);
    expect(stored).toBeGreaterThan(guestTsc);
    expect(stored - guestTsc).toBeLessThan(5000);
  });
});

