/**
 * Exit-qualification encodings (SDM Vol. 3C 27.2.1) and the interruption-information format (24.8.3,
 * 24.9.2-3, 27.2.2-3).
 *
 * References (not our code):
 * - SDM Tables 27-1 (debug exceptions: B3-B0 in 3:0, BD 13, BS 14), 27-2 (task switch: selector 15:0, source
 *   31:30 with 0 CALL, 1 IRET, 2 JMP, 3 IDT task gate), 27-3 (control-register accesses: CR 3:0, access type
 *   5:4 with 0 MOV to, 1 MOV from, 2 CLTS, 3 LMSW, LMSW operand type 6, register 11:8, LMSW source 31:16),
 *   27-4 (MOV DR: DR 2:0, direction 4, register 11:8), 27-5 (I/O: size-1 2:0, IN 3, string 4, REP 5,
 *   immediate 6, port 31:16); 27.2.1 text for #PF, SIPI, INVLPG and the displacement of VMX/descriptor-table
 *   instructions (sign-extended, 0 for a register operand); Tables 24-13/24-15/24-16 for interruption
 *   information; SDM Vol. 3A Table 6-1 for which exceptions push an error code;
 * - kvm-unit-tests x86/vmx_tests.c: cr_shadowing_exit_handler ("0x600 encodes mov %esi, %cr0", 0x604 for
 *   CR4), insn_table (INVLPG 0x12345678 -> qualification 0x12345678, CR3 load 0x3, CR3 store 0x13, CR8 load
 *   0x8, CR8 store 0x18), iobmp_exit_handler (size field byte/word/long = 0/1/3, VMX_IO_IN, port in 31:16),
 *   and x86/vmx.h VMX_IO_* / INTR_INFO_* / INTR_TYPE_* constants (vmx.md §3a, §3c);
 * - Bochs cpu/vmexit.cc (VMexit_IO, VMexit_CLTS/LMSW/CR*_Write/Read, VMexit_DR_Access, VMexit_TaskSwitch,
 *   VMexit_Event) for the same encodings.
 * The instructions are decoded by the project's decoder from bytes NASM assembles (the listing is in each
 * row; the last block re-assembles them when nasm is installed), so the Insn fields the encoders read are
 * the real ones. Expected values are computed by hand from the tables.
 */
import { describe, expect, it } from "vitest";
import {
  CrAccessType,
  InterruptionType,
  TaskSwitchSource,
  cltsQualification,
  crAccessQualification,
  debugExceptionQualification,
  decodeInterruptionInfo,
  displacementQualification,
  exceptionHasErrorCode,
  interruptionInfo,
  invlpgQualification,
  ioInsnQualification,
  ioQualification,
  lmswQualification,
  movFromCrQualification,
  movFromDrQualification,
  movToCrQualification,
  movToDrQualification,
  mwaitQualification,
  pageFaultQualification,
  sipiQualification,
  taskSwitchQualification,
} from "../../../src/cpu/vmx/exit-qualification.ts";
import { haveTool, nasm } from "../../guests/asm-harness.ts";
import { decode, decodeOperandsAsMov } from "./exit-info-ram.ts";

/** [NASM source, bits, bytes as NASM assembles them]. */
type Listing = [string, 16 | 32, number[]];
const LISTINGS: Listing[] = [];
function listed(src: string, bits: 16 | 32, bytes: number[]): number[] {
  LISTINGS.push([src, bits, bytes]);
  return bytes;
}

describe("Table 27-3, control-register accesses, from decoded MOV CR / CLTS / LMSW", () => {
  const movTo: [string, number[], number][] = [
    ["mov cr0, esi (kvm-unit-tests: 0x600)", listed("mov cr0, esi", 32, [0x0f, 0x22, 0xc6]), 0x600],
    ["mov cr4, esi (kvm-unit-tests: 0x604)", listed("mov cr4, esi", 32, [0x0f, 0x22, 0xe6]), 0x604],
    ["mov cr3, eax (insn_table 'CR3 load': 0x3)", listed("mov cr3, eax", 32, [0x0f, 0x22, 0xd8]), 0x3],
  ];
  for (const [name, bytes, want] of movTo) {
    it(name, () => expect(movToCrQualification(decode(bytes))).toBe(want));
  }
  const movFrom: [string, number[], number][] = [
    ["mov eax, cr3 (insn_table 'CR3 store': 0x13)", listed("mov eax, cr3", 32, [0x0f, 0x20, 0xd8]), 0x13],
    ["mov esi, cr0", listed("mov esi, cr0", 32, [0x0f, 0x20, 0xc6]), 0x610],
  ];
  for (const [name, bytes, want] of movFrom) {
    it(name, () => expect(movFromCrQualification(decode(bytes))).toBe(want));
  }
  it("CR8 load/store (64-bit only; insn_table 0x8 and 0x18) from plain Insn-shaped objects", () => {
    expect(movToCrQualification({ reg: 8, rm: 0 })).toBe(0x8);
    expect(movFromCrQualification({ reg: 8, rm: 0 })).toBe(0x18);
  });
  it("clts: access type 2, everything else 0", () => {
    expect(decode(listed("clts", 32, [0x0f, 0x06])).row?.mnemonic).toBe("clts");
    expect(cltsQualification()).toBe(0x20);
  });
  it("lmsw ax with AX = 000FH: type 3, register operand, source in 31:16", () => {
    expect(lmswQualification(decode(listed("lmsw ax", 32, [0x0f, 0x01, 0xf0])), 0x000f)).toBe(0x000f0030);
  });
  it("lmsw [ebx] with source 1234H: memory operand bit 6", () => {
    expect(lmswQualification(decode(listed("lmsw [ebx]", 32, [0x0f, 0x01, 0x33])), 0x1234)).toBe(0x12340070);
  });
  it("fields that do not apply to the access type are cleared", () => {
    expect(crAccessQualification(3, CrAccessType.CLTS, 7, true, 0xffff)).toBe(0x20);
    expect(crAccessQualification(3, CrAccessType.LMSW, 7, false, 0x1ffff)).toBe(0xffff0030);
    expect(crAccessQualification(4, CrAccessType.MOV_TO_CR, 2, true, 0xffff)).toBe(0x204);
  });
});

describe("Table 27-4, MOV DR, from decoded instructions", () => {
  it("mov dr7, eax -> DR 7, to DR, EAX", () => {
    expect(movToDrQualification(decode(listed("mov dr7, eax", 32, [0x0f, 0x23, 0xf8])))).toBe(0x007);
  });
  it("mov eax, dr6 -> DR 6, from DR (bit 4), EAX", () => {
    expect(movFromDrQualification(decode(listed("mov eax, dr6", 32, [0x0f, 0x21, 0xf0])))).toBe(0x016);
  });
  it("mov dr0, edi -> DR 0, EDI in 11:8", () => {
    expect(movToDrQualification(decode(listed("mov dr0, edi", 32, [0x0f, 0x23, 0xc7])))).toBe(0x700);
  });
});

describe("Table 27-5, I/O instructions, from decoded IN/OUT/INS/OUTS", () => {
  // [source, bytes, port, qualification]
  const rows: [string, number[], number, number][] = [
    ["in al, 0x60", [0xe4, 0x60], 0x60, 0x00600048],
    ["out dx, ax", [0x66, 0xef], 0x3f8, 0x03f80001],
    ["in eax, dx", [0xed], 0x4fff, 0x4fff000b],
    ["out 0x80, al", [0xe6, 0x80], 0x80, 0x00800040],
    ["rep insb", [0xf3, 0x6c], 0x1f0, 0x01f00038],
    ["outsd", [0x6f], 0x80, 0x00800013],
    ["repne outsw", [0xf2, 0x66, 0x6f], 0xe9, 0x00e90031],
    ["rep in al, dx", [0xf3, 0xec], 0x70, 0x00700008],
    ["in eax, dx", [0xed], 0xffff, 0xffff000b],
  ];
  for (const [src, bytes, port, want] of rows) {
    it(`${src} at port ${port.toString(16)}H -> ${want.toString(16)}H`, () => {
      expect(ioInsnQualification(decode(listed(src, 32, bytes)), port)).toBe(want);
    });
  }
  it("kvm-unit-tests iobmp_exit_handler fields: inb 0 byte+IN, outw 0 word+OUT, inl 0 long", () => {
    const SIZE_MASK = 7, IN = 8, PORT_SHIFT = 16;
    const inb = ioQualification(0, 1, true, false, false, true);
    const outw = ioQualification(0, 2, false, false, false, true);
    const inl = ioQualification(0, 4, true, false, false, true);
    expect([inb & SIZE_MASK, inb & IN, outw & SIZE_MASK, outw & IN, inl & SIZE_MASK]).toEqual([0, IN, 1, 0, 3]);
    for (const port of [0x5000, 0x9000, 0x4fff, 0xffff]) {
      expect(ioQualification(port, 1, true, false, false, false) >>> PORT_SHIFT).toBe(port);
    }
  });
});

describe("other qualifications (27.2.1, Tables 27-1 and 27-2)", () => {
  it("debug exception: B3-B0, BD and BS from DR6; BT and the reserved-1 bits are not reported", () => {
    expect(debugExceptionQualification(0xffff4ff1)).toBe(0x4001); // single step after a B0 match
    expect(debugExceptionQualification(0xffff2ff0)).toBe(0x2000); // BD
    expect(debugExceptionQualification(0xffff8ff0)).toBe(0); // BT
    expect(debugExceptionQualification(0xffff0fff)).toBe(0xf);
  });
  it("task switch: selector and source", () => {
    expect(taskSwitchQualification(0x28, TaskSwitchSource.JMP)).toBe(0x80000028);
    expect(taskSwitchQualification(0x30, TaskSwitchSource.IDT_TASK_GATE)).toBe(0xc0000030);
    expect(taskSwitchQualification(0x18, TaskSwitchSource.CALL)).toBe(0x18);
    expect(taskSwitchQualification(0xffff, TaskSwitchSource.IRET)).toBe(0x4000ffff);
  });
  it("#PF: the linear address; SIPI: the vector in 7:0; INVLPG: the operand (insn_table 0x12345678); MWAIT", () => {
    expect(pageFaultQualification(0xc0001234 | 0)).toBe(0xc0001234);
    expect(sipiQualification(0x19a)).toBe(0x9a);
    expect(invlpgQualification(0x12345678)).toBe(0x12345678);
    expect([mwaitQualification(false), mwaitQualification(true)]).toEqual([0, 1]);
  });
});

describe("displacement qualification of VMX instructions (27.2.1), from decoded operands", () => {
  // [source, bits, bytes, opcode length, qualification]
  const rows: [string, 16 | 32, number[], number, number][] = [
    ["vmread [ebx+esi*4+0x10], eax", 32, [0x0f, 0x78, 0x44, 0xb3, 0x10], 2, 0x10],
    ["vmread eax, ecx", 32, [0x0f, 0x78, 0xc8], 2, 0],
    ["vmptrld [eax]", 32, [0x0f, 0xc7, 0x30], 2, 0],
    ["vmclear [0x1000]", 32, [0x66, 0x0f, 0xc7, 0x35, 0x00, 0x10, 0x00, 0x00], 2, 0x1000],
    ["vmptrld [fs:ecx-8]", 32, [0x64, 0x0f, 0xc7, 0x71, 0xf8], 2, 0xfffffff8],
    ["vmptrld [bx+0x8000]", 32, [0x67, 0x0f, 0xc7, 0xb7, 0x00, 0x80], 2, 0xffff8000],
    ["vmptrld [0x1234]", 16, [0x0f, 0xc7, 0x36, 0x34, 0x12], 2, 0x1234],
    ["vmread [bx-2], eax", 16, [0x0f, 0x78, 0x47, 0xfe], 2, 0xfffffffe],
    ["invept ecx, [edx+0x7fffffff]", 32, [0x66, 0x0f, 0x38, 0x80, 0x8a, 0xff, 0xff, 0xff, 0x7f], 3, 0x7fffffff],
  ];
  for (const [src, bits, bytes, opLen, want] of rows) {
    it(`${src} -> ${want.toString(16)}H`, () => {
      expect(displacementQualification(decodeOperandsAsMov(listed(src, bits, bytes), opLen, bits === 32))).toBe(want);
    });
  }
});

describe("interruption information (Tables 24-13, 24-15, 24-16; kvm-unit-tests vmx.h INTR_INFO_*)", () => {
  const T = InterruptionType;
  // [name, vector, type, error code valid, NMI unblocking, value]
  const rows: [string, number, number, boolean, boolean, number][] = [
    ["#GP hardware exception with error code", 13, T.HARDWARE_EXCEPTION, true, false, 0x80000b0d],
    ["#PF hardware exception with error code", 14, T.HARDWARE_EXCEPTION, true, false, 0x80000b0e],
    ["#UD hardware exception", 6, T.HARDWARE_EXCEPTION, false, false, 0x80000306],
    ["NMI", 2, T.NMI, false, false, 0x80000202],
    ["external interrupt 20H (acknowledge interrupt on exit)", 0x20, T.EXTERNAL_INTERRUPT, false, false, 0x80000020],
    ["INT3 software exception", 3, T.SOFTWARE_EXCEPTION, false, false, 0x80000603],
    ["INT1/ICEBP privileged software exception", 1, T.PRIVILEGED_SOFTWARE_EXCEPTION, false, false, 0x80000501],
    ["INT 80H software interrupt (IDT-vectoring)", 0x80, T.SOFTWARE_INTERRUPT, false, false, 0x80000480],
    ["#GP from IRET that unblocked NMIs (bit 12)", 13, T.HARDWARE_EXCEPTION, true, true, 0x80001b0d],
  ];
  for (const [name, vector, type, ev, nmiUnblock, want] of rows) {
    it(`${name} -> ${want.toString(16)}H and back`, () => {
      expect(interruptionInfo(vector, type, ev, nmiUnblock)).toBe(want);
      expect(decodeInterruptionInfo(want)).toEqual({
        vector, type, errorCodeValid: ev, nmiUnblocking: nmiUnblock, valid: true,
      });
    });
  }
  it("an invalid field decodes as not valid", () => {
    expect(decodeInterruptionInfo(0x0000030e).valid).toBe(false);
  });
  it("error codes: #DF, #TS, #NP, #SS, #GP, #PF, #AC in protected mode (SDM Vol. 3A Table 6-1), never in real mode", () => {
    const withCode: number[] = [];
    for (let v = 0; v <= 20; v++) if (exceptionHasErrorCode(v)) withCode.push(v);
    expect(withCode).toEqual([8, 10, 11, 12, 13, 14, 17]);
    expect(exceptionHasErrorCode(13, false)).toBe(false);
  });
});

describe.skipIf(!haveTool("nasm"))("the byte listings above are what NASM assembles", () => {
  it("every listed source assembles to the listed bytes", () => {
    const wrong: string[] = [];
    for (const [src, bits, bytes] of LISTINGS) {
      const out = nasm(`bits ${bits}\n${src}\n`);
      const got = typeof out === "string" ? out : [...out].map((b) => b.toString(16).padStart(2, "0")).join(" ");
      const want = bytes.map((b) => b.toString(16).padStart(2, "0")).join(" ");
      if (got !== want) wrong.push(`${src} (bits ${bits}): nasm ${got}, listed ${want}`);
    }
    expect(wrong).toEqual([]);
    expect(LISTINGS.length).toBeGreaterThan(20);
  });
});
if (!haveTool("nasm")) console.log("exit-info-qualification: nasm not installed (apt-get install nasm); byte listings not re-checked");
