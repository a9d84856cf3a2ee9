/**
 * What the Intel SDM says each line of the VMX conformance program (vmx.asm) must show, independently of
 * any emulator: one row per case with the prefix of its output line and the SDM section that fixes it.
 * The test checks these rows against Bochs's golden output (so that a wrong reference is caught) and
 * against vmxsim's output.
 *
 * Sources: Intel SDM Vol. 3C 30.2 (VMsucceed: CF = ZF = 0; VMfailInvalid: CF = 1; VMfailValid: ZF = 1
 * and the VM-instruction error), Table 30-1 (error numbers), 30.3 (each instruction's Operation section:
 * #UD/#GP before VMfail, the order of the pointer checks), 24.11.2 (VMREAD/VMWRITE widths), 26.2/26.3
 * (VM-entry checks: 7, 8, exit reason 80000021H), Appendix C (basic exit reasons), 27.2.1 Tables 27-1
 * (INVLPG and VMX-instruction qualifications: linear address, displacement), 27-3 (control-register
 * accesses), 27-5 (I/O), 27-7 (EPT violations), 27.2.2 (interruption information), 27.2.5 Tables 27-13 and
 * 27-14 (instruction information), 25.1-25.6 (what exits, and where RIP is then), 26.6 (event injection).
 * The instruction encodings (lengths, ModR/M registers) are NASM's for the instructions in vmx-guest.inc.
 *
 * Leaves out: lines whose values the SDM leaves to the processor (capability-dependent "n/a" lines are
 * expected to be real results on the compared models, see harness.ts), the "bench:" line.
 */

const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, "0");
const OK = "CF=0 ZF=0";
const INVALID = "CF=1 ZF=0";
const valid = (n: number): string => `CF=0 ZF=1 err=${n}`;

/** Table 27-3: CR number 3:0, access type 5:4 (0 MOV to CR, 1 MOV from CR, 2 CLTS, 3 LMSW), GPR 11:8,
 * LMSW source data 31:16. */
function crQual(cr: number, type: number, gpr: number, lmswSource = 0): number {
  return cr | (type << 4) | (gpr << 8) | (lmswSource << 16);
}

/** Table 27-5: size - 1 in 2:0, IN in 3, string 4, REP 5, immediate operand 6, port 31:16. */
function ioQual(size: 1 | 2 | 4, isIn: boolean, port: number, o: { string?: boolean; rep?: boolean; imm?: boolean } = {}): number {
  return (size - 1) | (isIn ? 8 : 0) | (o.string ? 16 : 0) | (o.rep ? 32 : 0) | (o.imm ? 64 : 0) | (port << 16);
}

/** 27.2.2: vector 7:0, type 10:8 (0 external interrupt, 3 hardware exception, 6 software exception),
 * error code valid 11, valid 31. */
function intInfo(vector: number, type: number, errorCode: boolean): number {
  return (vector | (type << 8) | (errorCode ? 1 << 11 : 0) | 0x80000000) >>> 0;
}

// Register numbers of the instruction-information fields (Tables 27-13/27-14): EAX 0 .. EDI 7;
// segment registers ES 0, CS 1, SS 2, DS 3.
const ECX = 1, EDX = 2, EBX = 3, EBP = 5, ESI = 6, EDI = 7;
const SS = 2, DS = 3;

/** Table 27-13 (VMCLEAR, VMPTRLD, VMPTRST, VMXON) and the INVEPT/INVVPID table: scaling 1:0, address
 * size 9:7 (1 = 32-bit), segment 17:15, index 21:18, base 26:23, reg2 31:28 (INVEPT/INVVPID type). */
function memInsnInfo(scale: number, seg: number, index: number, base: number, reg2 = 0): number {
  return (scale | (1 << 7) | (seg << 15) | (index << 18) | (base << 23) | (reg2 << 28)) >>> 0;
}

/** Table 27-14 (VMREAD, VMWRITE) with register operands: reg1 6:3, register form 10, reg2 31:28. */
function regInsnInfo(reg1: number, reg2: number): number {
  return ((reg1 << 3) | (1 << 10) | (reg2 << 28)) >>> 0;
}

/** Table 27-7: read 0, write 1, fetch 2, readable 3, writable 4, executable 5, linear-address valid 7,
 * translation of that address 8. */
function eptQual(access: "read" | "write", r: boolean, w: boolean, x: boolean): number {
  return (access === "read" ? 1 : 2) | (r ? 8 : 0) | (w ? 16 : 0) | (x ? 32 : 0) | 0x80 | 0x100;
}

export interface SdmRow {
  /** The case name: the output line starts with `${name}:`. */
  name: string;
  /** What follows "name:" (a prefix of the rest of the line). */
  expect: string;
  /** Where the SDM fixes it. */
  ref: string;
}

const row = (name: string, expect: string, ref: string): SdmRow => ({ name, expect, ref });
const exit = (name: string, fields: string, ref: string): SdmRow => row(name, ` ${fields}`, ref);

export const SDM_ROWS: readonly SdmRow[] = [
  row("cpuid.1", "ecx.vmx=1", "23.6: CPUID.1:ECX.VMX[5] on a processor with VMX"),
  row("vmxon-cr4.vmxe=0", " EXC 06", "30.3 VMXON: CR4.VMXE = 0 -> #UD"),
  row("vmxon-feature-control=0", " EXC 0d err=00000000", "23.7, 30.3 VMXON: IA32_FEATURE_CONTROL lock = 0 -> #GP(0)"),
  row("vmxon-feature-control-unlocked", " EXC 0d err=00000000", "23.7: enable bit without the lock bit -> #GP(0)"),
  row("feature-control-locked", " value=00000005", "23.7: lock + enable VMX outside SMX"),
  row("wrmsr-feature-control-locked", " EXC 0d err=00000000", "23.7: WRMSR after the lock bit is set -> #GP(0)"),
  row("vmxon-cr0.ne=0", " EXC 0d err=00000000", "23.8, 30.3 VMXON: CR0 not within IA32_VMX_CR0_FIXED0/1 -> #GP(0)"),
  row("vmx-caps", " consistent", "A.1-A.8: the capability MSRs' invariants"),
  row("vmxon-unaligned", ` ${INVALID}`, "30.3 VMXON: address not 4-KByte aligned -> VMfailInvalid"),
  row("vmxon-beyond-maxphyaddr", ` ${INVALID}`, "30.3 VMXON: bits beyond MAXPHYADDR -> VMfailInvalid"),
  row("vmxon-bad-revision", ` ${INVALID}`, "30.3 VMXON: revision identifier != IA32_VMX_BASIC[30:0] -> VMfailInvalid"),
  row("vmxon", ` ${OK}`, "30.3 VMXON: VMsucceed"),
  row("vmptrst-none", ` ${OK} ptr=ffffffff_ffffffff`, "30.3 VMXON sets the current-VMCS pointer to FFFFFFFF_FFFFFFFFH"),
  row("vmread-no-current-vmcs", ` ${INVALID}`, "30.3 VMREAD: current-VMCS pointer not valid -> VMfailInvalid"),
  row("vmcall-in-root-no-current-vmcs", ` ${INVALID}`, "30.3 VMCALL in VMX root: VMfail(1) = VMfailInvalid without a current VMCS"),
  row("vmxon-in-root-no-current-vmcs", ` ${INVALID}`, "30.3 VMXON in VMX root: VMfail(15) = VMfailInvalid without a current VMCS"),
  row("vmclear", ` ${OK}`, "30.3 VMCLEAR"),
  row("vmptrld", ` ${OK}`, "30.3 VMPTRLD"),
  row("vmptrst", ` ${OK} ptr=00000000_00101000`, "30.3 VMPTRST stores the current-VMCS pointer"),
  row("vmxon-in-root", ` ${valid(15)}`, "Table 30-1: 15 VMXON executed in VMX root operation"),
  row("vmclear-unaligned", ` ${valid(2)}`, "Table 30-1: 2 VMCLEAR with invalid physical address"),
  row("vmclear-beyond-maxphyaddr", ` ${valid(2)}`, "Table 30-1: 2 VMCLEAR with invalid physical address"),
  row("vmclear-vmxon-ptr", ` ${valid(3)}`, "Table 30-1: 3 VMCLEAR with VMXON pointer"),
  row("vmptrld-unaligned", ` ${valid(9)}`, "Table 30-1: 9 VMPTRLD with invalid physical address"),
  row("vmptrld-beyond-maxphyaddr", ` ${valid(9)}`, "Table 30-1: 9 VMPTRLD with invalid physical address"),
  row("vmptrld-vmxon-ptr", ` ${valid(10)}`, "Table 30-1: 10 VMPTRLD with VMXON pointer"),
  row("vmptrld-bad-revision", ` ${valid(11)}`, "Table 30-1: 11 VMPTRLD with incorrect VMCS revision identifier"),
  row("vmptrst-after-failures", " ptr=00000000_00101000", "30.3 VMPTRLD: a failing VMPTRLD leaves the current VMCS"),
  row("vmwrite", ` ${OK}`, "30.3 VMWRITE"),
  row("vmread", ` ${OK} value=12345678`, "30.3 VMREAD"),
  row("vmread-memory-operand", ` ${OK} value=12345678`, "30.3 VMREAD to memory"),
  row("vmwrite-16bit-truncates", ` ${OK} value=00000010`, "24.11.2: a 16-bit field keeps bits 15:0 of the source"),
  row("vmwrite-full-read-high", ` ${OK} high=00000000 full=01234567`, "24.11.2: a FULL write outside 64-bit mode clears bits 63:32"),
  row("vmwrite-high-read-high", ` ${OK} high=76543210 full=01234567`, "24.11.2: the HIGH encoding accesses bits 63:32"),
  row("vmread-unsupported-field", ` ${valid(12)}`, "Table 30-1: 12 VMREAD from unsupported VMCS component"),
  row("vmwrite-unsupported-field", ` ${valid(12)}`, "Table 30-1: 12; encoding bit 12 reserved (Table 24-21)"),
  row("vmread-high-of-32bit-field", ` ${valid(12)}`, "24.11.2: HIGH access type only for 64-bit fields"),
  row("success-keeps-error-field", ` ${OK} err=12`, "30.2: VMsucceed does not modify the VM-instruction error field"),
  row("vmcs-b-current", " ptr=00102000 value=bbbb0002", "30.3 VMPTRLD/VMWRITE (kvm-unit-tests test_vmcs_lifecycle)"),
  row("vmptrld-a-again", ` ${OK} value=aaaa0001`, "24.11.1: VMCS data is kept per region"),
  row("vmptrld-current-keeps-writes", " value=aaaa0003", "30.3 VMPTRLD of the current VMCS"),
  row("vmclear-then-vmptrld", " ptr-after-vmclear=ffffffff value=aaaa0003", "30.3 VMCLEAR: the current VMCS becomes invalid; data written to the region"),
  row("vmclear-copy-vmptrld", ` ${OK} value=aaaa0003`, "30.3 VMCLEAR writes the VMCS data to its region (kvm-unit-tests test_vmclear_flushing)"),
  row("vmcs-b-kept", " value=bbbb0002", "24.11.1"),
  row("vmresume-clear-vmcs", ` ${valid(5)}`, "Table 30-1: 5 VMRESUME with non-launched VMCS"),
  row("entry-cr3-target-count-5", ` ${valid(7)}`, "26.2.1.1: CR3-target count <= 4"),
  row("entry-io-bitmap-unaligned", ` ${valid(7)}`, "26.2.1.1: I/O-bitmap addresses 4-KByte aligned"),
  row("entry-pin-reserved-bit", ` ${valid(7)}`, "26.2.1.1: reserved pin-based bits per the capability MSR"),
  row("entry-save-timer-without-timer", ` ${valid(7)}`, "26.2.1.2: save VMX-preemption timer value needs the timer"),
  row("entry-bad-injection-vector", ` ${valid(7)}`, "26.2.1.3: an NMI is injected with vector 2"),
  row("entry-host-tr-selector-0", ` ${valid(8)}`, "26.2.3: host TR selector not 0000H"),
  row("entry-host-ss-rpl-3", ` ${valid(8)}`, "26.2.3: host selectors with RPL 0 and TI 0"),
  row("entry-host-cr0-pg-0", ` ${valid(8)}`, "26.2.2: host CR0 within the fixed bits"),
  row("entry-host-cr4-vmxe-0", ` ${valid(8)}`, "26.2.2: host CR4 within the fixed bits"),
  exit("entry-guest-rflags-bit1-0", "reason=80000021 qual=00000000", "26.3.1.4 RFLAGS bit 1; 26.8: exit reason 33 | 80000000H, qualification 0"),
  exit("entry-guest-link-pointer-unaligned", "reason=80000021", "26.3.1.5 VMCS link pointer (qualification 4, not printed)"),
  exit("entry-guest-cr0-pg-0", "reason=80000021 qual=00000000", "26.3.1.1: guest CR0 within the fixed bits"),
  exit("entry-guest-tr-unusable", "reason=80000021 qual=00000000", "26.3.1.2: TR usable"),
  exit("entry-guest-activity-state-5", "reason=80000021 qual=00000000", "26.3.1.5: activity state supported"),
  exit("vmlaunch", "reason=18 qual=00000000", "30.3 VMLAUNCH; Appendix C 18 VMCALL"),
  row("vmlaunch-launched-vmcs", ` ${valid(4)}`, "Table 30-1: 4 VMLAUNCH with non-clear VMCS"),
  exit("vmresume", "reason=18 qual=00000000", "30.3 VMRESUME"),
  row("vmresume-mov-ss-blocking", ` ${valid(26)}`, "Table 30-1: 26 VM entry with events blocked by MOV SS"),
  exit("exit vmcall", "reason=18 len=3 qual=00000000", "Appendix C 18; 27.2.5 length"),
  exit("exit cpuid", "reason=10 len=2 qual=00000000", "25.1.2 CPUID exits unconditionally; Appendix C 10"),
  exit("exit invd", "reason=13 len=2 qual=00000000", "25.1.2 INVD; Appendix C 13"),
  exit("exit hlt", "reason=12 len=1 qual=00000000", "25.1.3 HLT exiting; Appendix C 12"),
  exit("exit invlpg", "reason=14 len=7 qual=12345678", "25.1.3 INVLPG exiting; Table 27-1: the linear address"),
  exit("exit rdtsc", "reason=16 len=2 qual=00000000", "25.1.3 RDTSC exiting"),
  exit("exit rdpmc", "reason=15 len=2 qual=00000000", "25.1.3 RDPMC exiting"),
  exit("exit pause", "reason=40 len=2 qual=00000000", "25.1.3 PAUSE exiting"),
  exit("exit monitor", "reason=39 len=3 qual=00000000", "25.1.3 MONITOR exiting"),
  exit("exit mwait", "reason=36 len=3", "25.1.3 MWAIT exiting"),
  exit("exit wbinvd", "reason=54 len=2 qual=00000000", "25.1.3 WBINVD exiting"),
  exit("rdtsc-offset", "reason=18 len=3 guest-tsc-bits63:62=00000001", "25.3: RDTSC returns TSC + TSC offset"),
  exit("exit vmlaunch", "reason=20 len=3 qual=00000000", "25.1.2; Appendix C 20"),
  exit("exit vmresume", "reason=24 len=3 qual=00000000", "25.1.2; Appendix C 24"),
  exit("exit vmxoff", "reason=26 len=3 qual=00000000", "25.1.2; Appendix C 26"),
  exit("exit vmptrst", `reason=22 len=5 qual=00000010 insn=${hex8(memInsnInfo(2, DS, ESI, EBX))}`, "Appendix C 22; Table 27-1 displacement; Table 27-13"),
  exit("exit vmclear", `reason=19 len=6 qual=00000020 insn=${hex8(memInsnInfo(1, DS, ESI, EBX))}`, "Appendix C 19; Table 27-13"),
  exit("exit vmptrld", `reason=21 len=5 qual=00000020 insn=${hex8(memInsnInfo(3, DS, EDI, EBX))}`, "Appendix C 21; Table 27-13"),
  exit("exit vmxon", `reason=27 len=6 qual=00000020 insn=${hex8(memInsnInfo(0, SS, ESI, EBP))}`, "Appendix C 27; Table 27-13 (EBP base: SS)"),
  exit("exit vmread", `reason=23 len=3 insn=${hex8(regInsnInfo(EDX, ECX))}`, "Appendix C 23; Table 27-14"),
  exit("exit vmwrite", `reason=25 len=3 insn=${hex8(regInsnInfo(EBX, ECX))}`, "Appendix C 25; Table 27-14"),
  exit("exit invept", `reason=50 len=7 qual=00000018 insn=${hex8(memInsnInfo(3, DS, ESI, EBX, EDX))}`, "Appendix C 50; INVEPT instruction information"),
  exit("exit invvpid", `reason=53 len=7 qual=00000018 insn=${hex8(memInsnInfo(3, DS, ESI, EBX, EDI))}`, "Appendix C 53"),
  exit("exit mov-cr0", `reason=28 len=3 qual=${hex8(crQual(0, 0, ECX))} guest-read-ts=00000008`, "25.1.3 mask vs shadow; Table 27-3; 25.3 read shadow"),
  exit("mov-cr0-matching-shadow", "reason=18 len=3 guest-cr0.ts=00000000", "25.1.3: no exit when masked bits equal the shadow; 25.3 host-owned bits unchanged"),
  exit("exit clts", `reason=28 len=2 qual=${hex8(crQual(0, 2, 0))}`, "25.1.3 CLTS with TS in mask and shadow; Table 27-3"),
  exit("exit lmsw", `reason=28 len=3 qual=${hex8(crQual(0, 3, 0, 0x0003))}`, "25.1.3 LMSW; Table 27-3 (source data 31:16)"),
  exit("exit mov-cr4", `reason=28 len=3 qual=${hex8(crQual(4, 0, EDX))} guest-read-vmxe=00000000 guest-cr4.vmxe=00000001`, "25.1.3, 25.3; Table 27-3"),
  exit("exit mov-from-cr3", `reason=28 len=3 qual=${hex8(crQual(3, 1, ESI))}`, "25.1.3 CR3-store exiting; Table 27-3"),
  exit("exit mov-to-cr3", `reason=28 len=3 qual=${hex8(crQual(3, 0, EDI))}`, "25.1.3 CR3-load exiting; Table 27-3"),
  exit("mov-to-cr3-target-value", "reason=18 len=3", "25.1.3: no exit for a CR3-target value"),
  exit("exit out-imm8", `reason=30 len=2 qual=${hex8(ioQual(1, false, 0x80, { imm: true }))}`, "25.1.3 unconditional I/O exiting; Table 27-5"),
  exit("exit in-dx-dword", `reason=30 len=1 qual=${hex8(ioQual(4, true, 0x5000))}`, "Table 27-5"),
  exit("exit rep-outsb", `reason=30 len=2 qual=${hex8(ioQual(1, false, 0xe9, { string: true, rep: true }))} gla=`, "Table 27-5; 27.2.1 guest-linear address of OUTS"),
  exit("exit io-bitmap-a", `reason=30 len=1 qual=${hex8(ioQual(1, true, 0x3f8))}`, "24.6.4, 25.1.3 I/O bitmap A"),
  exit("exit io-bitmap-b", `reason=30 len=2 qual=${hex8(ioQual(2, false, 0x9000))}`, "24.6.4 I/O bitmap B"),
  exit("exit io-bitmap-spanning-a-b", `reason=30 len=1 qual=${hex8(ioQual(4, true, 0x7fff))}`, "25.1.3: any byte's bit set"),
  exit("exit io-wrapping-ffff", `reason=30 len=1 qual=${hex8(ioQual(4, true, 0xffff))}`, "25.1.3: an access wrapping past FFFFH exits"),
  exit("io-bitmap-clear-port", "[guest wrote this to port e9] reason=18 len=3", "25.1.3: bitmaps decide, unconditional I/O exiting ignored"),
  exit("exit rdmsr", "reason=31 len=2 qual=00000000", "25.1.3 RDMSR without MSR bitmaps; Appendix C 31"),
  exit("exit rdmsr-bitmap", "reason=31 len=2 qual=00000000", "24.6.9 read bitmap for low MSRs"),
  exit("exit wrmsr-bitmap", "reason=32 len=2 qual=00000000", "24.6.9 write bitmap for low MSRs; Appendix C 32"),
  exit("exit rdmsr-outside-bitmap-ranges", "reason=31 len=2 qual=00000000", "25.1.3: ECX outside both ranges exits"),
  exit("rdmsr-bitmap-clear", "reason=18 len=3 guest-sysenter-eip=00c0ffee", "26.3.2.1: VM entry loads IA32_SYSENTER_EIP"),
  exit("exit ud2", `reason=0 qual=00000000 info=${hex8(intInfo(6, 3, false))} rip=+0`, "25.2 exception bitmap; 27.2.2; a fault leaves RIP"),
  exit("exit int3", `reason=0 len=1 qual=00000000 info=${hex8(intInfo(3, 6, false))} rip=+0`, "27.2.2: #BP from INT3 is a software exception; 27.2.5 length"),
  exit("exit gp", `reason=0 qual=00000000 info=${hex8(intInfo(13, 3, true))} err=00000ff8 rip=+4`, "27.2.2 error code"),
  exit("exit pf", `reason=0 qual=00c00004 info=${hex8(intInfo(14, 3, true))} err=00000000 rip=+0 cr2=11111111`, "27.2.1: #PF qualification = linear address; 27.1: CR2 not written"),
  exit("ud2-bitmap-bit-clear", "reason=18 len=3 guest-handled-vector=00000006", "25.2: bitmap bit clear -> delivered through the guest IDT"),
  exit("exit triple-fault", "reason=2 qual=00000000", "25.2, Appendix C 2"),
  exit("exit interrupt-window", "reason=7 qual=00000000 rip=+0", "25.2 interrupt-window exiting with IF = 1"),
  exit("exit interrupt-window-sti-shadow", "reason=7 qual=00000000 rip=+2", "25.2: the window opens after the STI shadow"),
  exit("exit external-interrupt", `reason=1 qual=00000000 info=${hex8(intInfo(0x50, 0, false))} rip=+0`, "25.2; 27.2.2 with acknowledge interrupt on exit"),
  exit("exit preemption-timer", "reason=52 qual=00000000 saved=00000000", "25.5.1; 27.3.2: saves 0 when the timer caused the exit"),
  exit("exit preemption-timer-zero", "reason=52 qual=00000000 rip=+0 guest-count=00000000", "25.5.1: timer 0 exits before any instruction"),
  exit("preemption-timer-saved-on-vmcall", "reason=18 len=3 saved-le-loaded=00000001 saved-nonzero=00000001", "27.3.2"),
  exit("inject-software-interrupt", "reason=18 len=3 vector=00000040 pushed-rip=+2 entry-info-valid=00000000", "26.6.1.3: RIP + instruction length pushed; 24.8.3"),
  exit("inject-ud", "reason=18 len=3 vector=00000006 pushed-rip=+0", "26.6: hardware exception pushes RIP"),
  exit("inject-gp-error-code", "reason=18 len=3 vector=0000000d error=00001234 pushed-rip=+0", "26.6: error code delivered"),
  exit("exit ept-violation-not-present", `reason=48 qual=${hex8(eptQual("read", false, false, false))} gpa=00000000_00201010 gla=00201010 rip=+0`, "28.2.3.2; Table 27-7"),
  exit("exit ept-violation-write", `reason=48 qual=${hex8(eptQual("write", true, false, false))} gpa=00000000_00201010 gla=00201010 rip=+10 guest-read=600df00d`, "Table 27-7: entry permissions in bits 5:3"),
  exit("ept-write-after-invept", "reason=18 len=3 memory=5a5a5a5a", "28.3.3.1 INVEPT"),
  row("invept-type-0", ` ${valid(28)}`, "Table 30-1: 28 invalid operand to INVEPT"),
  row("invept-type-3", ` ${valid(28)}`, "Table 30-1: 28"),
  row("invept-all-context", ` ${OK}`, "30.3 INVEPT"),
  row("invvpid-type-4", ` ${valid(28)}`, "Table 30-1: 28 invalid operand to INVVPID"),
  row("invvpid-single-context-vpid-0", ` ${valid(28)}`, "30.3 INVVPID: VPID 0 for a non-global type"),
  row("invvpid-all-context", ` ${OK}`, "30.3 INVVPID"),
  row("cr4.vmxe-clear-in-vmx-operation", " EXC 0d err=00000000", "23.8: CR4.VMXE cannot be cleared in VMX operation"),
  row("vmxoff", ` ${OK}`, "30.3 VMXOFF"),
  row("vmread-after-vmxoff", " EXC 06", "30.3 VMREAD outside VMX operation -> #UD"),
  row("vmxoff-outside-vmx-operation", " EXC 06", "30.3 VMXOFF outside VMX operation -> #UD"),
  row("vmxon-again", ` ${OK}`, "30.3 VMXON"),
  row("vmptrst-after-vmxon", " ptr=ffffffff_ffffffff", "30.3 VMXON: current-VMCS pointer invalid"),
  row("vmcs-kept-across-vmxoff", ` ${OK} value=cafe0001`, "24.11.1: a cleared VMCS region keeps its data"),
  row("cr4.vmxe-clear-after-vmxoff", " vmxe=00000000", "23.7: CR4.VMXE may be cleared outside VMX operation"),
];

/** The rows that fail on `output`: the line is missing, repeated, or does not start as the SDM says. */
export function checkSdmRows(output: string, rows: readonly SdmRow[] = SDM_ROWS): string[] {
  const lines = output.split("\n");
  const problems: string[] = [];
  for (const r of rows) {
    const hits = lines.filter((l) => l.startsWith(`${r.name}:`));
    if (hits.length !== 1) {
      problems.push(`${r.name}: ${hits.length} lines (want 1) [${r.ref}]`);
      continue;
    }
    const rest = hits[0].slice(r.name.length + 1);
    if (!rest.startsWith(r.expect)) problems.push(`${r.name}: got ${JSON.stringify(rest)}, SDM: ${JSON.stringify(r.expect)}... [${r.ref}]`);
  }
  return problems;
}
