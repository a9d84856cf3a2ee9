/**
 * The VM-exit instruction-information field (SDM Vol. 3C 27.2.5).
 *
 * References (not our code): the SDM tables "Format of the VM-Exit Instruction-Information Field as Used
 * for ..." (numbers of the 2016 edition, xem.github.io/minix86 copy): INS and OUTS (27-8: address size 9:7,
 * segment 17:15, undefined for INS), INVEPT/INVPCID/INVVPID (27-9: scaling 1:0, address size 9:7, bit 10
 * cleared, segment 17:15, index 21:18 / invalid 22, base 26:23 / invalid 27, Reg2 31:28), LIDT/LGDT/SIDT/SGDT
 * (27-10: the same memory fields, operand size 11, identity 29:28 with 0 SGDT, 1 SIDT, 2 LGDT, 3 LIDT),
 * LLDT/LTR/SLDT/STR (27-11: Reg1 6:3 and bit 10 for a register operand, identity 0 SLDT, 1 STR, 2 LLDT,
 * 3 LTR), VMCLEAR/VMPTRLD/VMPTRST/VMXON (27-13: memory fields, bit 10 cleared, 31:28 undefined) and
 * VMREAD/VMWRITE (27-14: Reg1 6:3 and Mem/Reg 10, memory fields, Reg2 31:28); SDM Vol. 2 Tables 2-1..2-3
 * and the VMREAD/VMWRITE/INVEPT pages for which operand is ModRM.reg; segment and register numbers of
 * 27.2.5 (ES 0 .. GS 5, EAX 0 .. EDI 7).
 * Bochs cpu/vmexit.cc gen_instruction_info is the reference for the bits the SDM leaves undefined (written
 * 0; for INS's undefined segment we write 0 = ES where Bochs writes DS) and for 16-bit [SI]/[DI] being
 * reported as a base register (Bochs Resolve16BaseReg).
 * Each instruction is decoded by the project's decoder from NASM's bytes (the VMX ones with their opcode
 * replaced by MOV's 8B, which decodes ModRM/SIB/displacement identically: see exit-info-ram.ts); the
 * listings are re-checked against nasm when it is installed. Expected values are hand-computed field by
 * field in the comments.
 */
import { describe, expect, it } from "vitest";
import {
  DescriptorTableIdentity,
  LdtrTrIdentity,
  descriptorTableInstructionInfo,
  insOutsInstructionInfo,
  invInstructionInfo,
  ldtrTrInstructionInfo,
  memOperandInfo,
  vmreadVmwriteInstructionInfo,
  vmxPointerInstructionInfo,
} from "../../../src/cpu/vmx/exit-qualification.ts";
import { ZERO_REG } from "../../../src/cpu/registers.ts";
import { haveTool, nasm } from "../../guests/asm-harness.ts";
import { decode, decodeOperandsAsMov } from "./exit-info-ram.ts";

// Field values (27.2.5): address size 32 = 1 << 7; segments ES 0, SS 2 << 15, DS 3 << 15, FS 4 << 15;
// index r << 18, index invalid 1 << 22, base r << 23, base invalid 1 << 27, Reg2 r << 28, Reg1 r << 3.
const A32 = 0x80;
const SS = 0x10000, DS = 0x18000, FS = 0x20000;
const NO_INDEX = 0x400000, NO_BASE = 0x8000000;
const idx = (r: number) => r << 18;
const base = (r: number) => r << 23;
const reg2 = (r: number) => (r << 28) >>> 0;
const REG_FORM = 0x400;
const [EAX, ECX, EDX, EBX, ESP, , ESI, EDI] = [0, 1, 2, 3, 4, 5, 6, 7]; // EBP (5) appears in literal rows

type Row = [src: string, bits: 16 | 32, bytes: number[], opcodeLength: number, want: number];

const LISTINGS: [string, 16 | 32, number[]][] = [];
/** Records a listing for the NASM check; a trailing " (note)" in the row name is not assembler source. */
function listed(src: string, bits: 16 | 32, bytes: number[]): number[] {
  LISTINGS.push([src.replace(/ \(.*\)$/, ""), bits, bytes]);
  return bytes;
}

describe("VMREAD/VMWRITE (Table 27-14)", () => {
  const rows: Row[] = [
    // scale 2 (4), index ESI, base EBX, DS, Reg2 = EAX (the field-encoding register)
    ["vmread [ebx+esi*4+0x10], eax", 32, [0x0f, 0x78, 0x44, 0xb3, 0x10], 2, 0x01998082], // 2 | 80H | 18000H | 180000H | 1800000H
    // register form: Reg1 = EAX (destination), Reg2 = ECX (field encoding)
    ["vmread eax, ecx", 32, [0x0f, 0x78, 0xc8], 2, REG_FORM | (EAX << 3) | reg2(ECX)],
    // register form: Reg1 = EDX (value source), Reg2 = ECX (field encoding)
    ["vmwrite ecx, edx", 32, [0x0f, 0x79, 0xca], 2, REG_FORM | (EDX << 3) | reg2(ECX)],
    ["vmwrite edx, [ebx]", 32, [0x0f, 0x79, 0x13], 2, A32 | DS | NO_INDEX | base(EBX) | reg2(EDX)],
    ["vmread [bx-2], eax", 16, [0x0f, 0x78, 0x47, 0xfe], 2, DS | NO_INDEX | base(EBX) | reg2(EAX)],
  ];
  for (const [src, bits, bytes, opLen, want] of rows) {
    it(`${src} -> ${want.toString(16)}H`, () => {
      expect(vmreadVmwriteInstructionInfo(decodeOperandsAsMov(listed(src, bits, bytes), opLen, bits === 32))).toBe(want >>> 0);
    });
  }
});

describe("VMCLEAR/VMPTRLD/VMPTRST/VMXON (Table 27-13)", () => {
  const rows: Row[] = [
    ["vmptrld [eax]", 32, [0x0f, 0xc7, 0x30], 2, A32 | DS | NO_INDEX | base(EAX)],
    ["vmclear [0x1000]", 32, [0x66, 0x0f, 0xc7, 0x35, 0x00, 0x10, 0x00, 0x00], 2, A32 | DS | NO_INDEX | NO_BASE],
    ["vmxon [ebp+8] (SS by default)", 32, [0xf3, 0x0f, 0xc7, 0x75, 0x08], 2, 0x02c10080], // 80H | 10000H | 400000H | 2800000H
    // SIB with no base (mod 00, base 101): scale 3, index EDI, base invalid, ES override
    ["vmptrst [es:edi*8]", 32, [0x26, 0x0f, 0xc7, 0x3c, 0xfd, 0, 0, 0, 0], 2, 3 | A32 | idx(EDI) | NO_BASE],
    ["vmptrld [fs:ecx-8]", 32, [0x64, 0x0f, 0xc7, 0x71, 0xf8], 2, A32 | FS | NO_INDEX | base(ECX)],
    ["vmptrld [esp] (SIB, no index)", 32, [0x0f, 0xc7, 0x34, 0x24], 2, A32 | SS | NO_INDEX | base(ESP)],
    // 16-bit addressing: address size 0
    ["vmptrld [bx+0x8000] (67 prefix)", 32, [0x67, 0x0f, 0xc7, 0xb7, 0x00, 0x80], 2, DS | NO_INDEX | base(EBX)],
    ["vmptrld [bx+si]", 16, [0x0f, 0xc7, 0x30], 2, DS | idx(ESI) | base(EBX)],
    ["vmptrld [bp+di+4] (SS by default)", 16, [0x0f, 0xc7, 0x73, 0x04], 2, 0x029d0000], // 10000H | 1C0000H | 2800000H
    ["vmptrld [si] (SI as the base, as Bochs)", 16, [0x0f, 0xc7, 0x34], 2, DS | NO_INDEX | base(ESI)],
    ["vmptrld [0x1234]", 16, [0x0f, 0xc7, 0x36, 0x34, 0x12], 2, DS | NO_INDEX | NO_BASE],
  ];
  for (const [src, bits, bytes, opLen, want] of rows) {
    it(`${src} -> ${want.toString(16)}H`, () => {
      expect(vmxPointerInstructionInfo(decodeOperandsAsMov(listed(src, bits, bytes), opLen, bits === 32))).toBe(want >>> 0);
    });
  }
});

describe("INVEPT/INVVPID (Table 27-9): Reg2 is the type register", () => {
  const rows: Row[] = [
    ["invept ecx, [edx]", 32, [0x66, 0x0f, 0x38, 0x80, 0x0a], 3, A32 | DS | NO_INDEX | base(EDX) | reg2(ECX)],
    // SIB: scale 1 (2), index ECX, base ESP (SS), Reg2 EDI
    ["invvpid edi, [esp+ecx*2]", 32, [0x66, 0x0f, 0x38, 0x81, 0x3c, 0x4c], 3, 0x72050081], // 1 | 80H | 10000H | 40000H | 2000000H | 70000000H
  ];
  for (const [src, bits, bytes, opLen, want] of rows) {
    it(`${src} -> ${want.toString(16)}H`, () => {
      expect(invInstructionInfo(decodeOperandsAsMov(listed(src, bits, bytes), opLen, bits === 32))).toBe(want >>> 0);
    });
  }
});

describe("LGDT/LIDT/SGDT/SIDT (Table 27-10) and LLDT/LTR/SLDT/STR (Table 27-11), decoded directly", () => {
  it("lgdt [eax]: operand size 32 (bit 11), identity LGDT", () => {
    const i = decode(listed("lgdt [eax]", 32, [0x0f, 0x01, 0x10]));
    expect(descriptorTableInstructionInfo(i, DescriptorTableIdentity.LGDT)).toBe(
      A32 | DS | NO_INDEX | base(EAX) | (1 << 11) | (2 << 28),
    );
  });
  it("o16 sidt [ebx]: operand size 16, identity SIDT", () => {
    const i = decode(listed("o16 sidt [ebx]", 32, [0x66, 0x0f, 0x01, 0x0b]));
    expect(descriptorTableInstructionInfo(i, DescriptorTableIdentity.SIDT)).toBe(A32 | DS | NO_INDEX | base(EBX) | (1 << 28));
  });
  it("sldt ax: register form, Reg1 = AX", () => {
    const i = decode(listed("sldt ax", 32, [0x66, 0x0f, 0x00, 0xc0]));
    expect(ldtrTrInstructionInfo(i, LdtrTrIdentity.SLDT)).toBe(REG_FORM);
  });
  it("str edx: register form, Reg1 = EDX, identity STR", () => {
    const i = decode(listed("str edx", 32, [0x0f, 0x00, 0xca]));
    expect(ldtrTrInstructionInfo(i, LdtrTrIdentity.STR)).toBe(REG_FORM | (EDX << 3) | (1 << 28));
  });
  it("ltr [ecx]: memory form, identity LTR", () => {
    const i = decode(listed("ltr [ecx]", 32, [0x0f, 0x00, 0x19]));
    expect(ldtrTrInstructionInfo(i, LdtrTrIdentity.LTR)).toBe((A32 | DS | NO_INDEX | base(ECX) | (3 << 28)) >>> 0);
  });
});

describe("INS/OUTS (Table 27-8): address size, and the segment of OUTS", () => {
  const rows: [string, 16 | 32, number[], boolean, number][] = [
    ["rep insb (segment undefined: 0)", 32, [0xf3, 0x6c], true, A32],
    ["fs insb (INS ignores the override)", 32, [0x64, 0x6c], true, A32],
    ["outsd (DS)", 32, [0x6f], false, A32 | DS],
    ["fs outsb", 32, [0x64, 0x6e], false, A32 | FS],
    ["a16 outsb", 32, [0x67, 0x6e], false, DS],
    ["outsb (in 16-bit code)", 16, [0x6e], false, DS],
  ];
  for (const [src, bits, bytes, isIns, want] of rows) {
    it(`${src} -> ${want.toString(16)}H`, () => {
      expect(insOutsInstructionInfo(decode(listed(src, bits, bytes), bits === 32), isIns)).toBe(want);
    });
  }
});

describe("memory-operand fields from plain Insn-shaped objects", () => {
  it("every segment register lands in 17:15", () => {
    for (let seg = 0; seg < 6; seg++) {
      const v = memOperandInfo({ rm: -1, base: EAX, index: ZERO_REG, scale: 0, seg, a16: false });
      expect((v >>> 15) & 7).toBe(seg);
    }
  });
  it("scaling is written only with an index (Bochs: 0 when the index is invalid)", () => {
    expect(memOperandInfo({ rm: -1, base: EBX, index: ZERO_REG, scale: 3, seg: 3, a16: false })).toBe(A32 | DS | NO_INDEX | base(EBX));
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
if (!haveTool("nasm")) console.log("exit-info-instruction-info: nasm not installed (apt-get install nasm); byte listings not re-checked");
