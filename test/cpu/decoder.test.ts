/**
 * Decoder: prefixes, ModRM/SIB addressing forms, immediates and the #UD / #GP cases.
 * Reference: Intel SDM Vol. 2 chapter 2 (Tables 2-1 16-bit and 2-2/2-3 32-bit addressing forms,
 * 2.1.1 prefixes, 2.3.11 the 15-byte limit) and the opcode map of Appendix A; expected values are
 * written out from those tables, not computed by the code under test.
 */
import { describe, expect, it } from "vitest";
import { CoreState } from "../../src/cpu/core-state.ts";
import { Decoder } from "../../src/cpu/decoder.ts";
import type { Insn } from "../../src/cpu/insn.ts";
import { Seg, ZERO_REG } from "../../src/cpu/registers.ts";

const MARK = () => {};
const decoder = new Decoder(() => MARK);

function dec(bytes: number[], code32 = true): Insn {
  const ram = new Uint8Array(0x2000);
  ram.set(bytes, 0x1000);
  const c = new CoreState({ ram });
  return decoder.decode(c, 0, 0x1000, code32);
}

const N = ZERO_REG;
const [EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI] = [0, 1, 2, 3, 4, 5, 6, 7];

describe("decoder: 32-bit ModRM/SIB forms (SDM Vol. 2 Tables 2-2, 2-3)", () => {
  const cases: [string, number[], Partial<Insn>][] = [
    ["mov eax,[ebx]", [0x8b, 0x03], { base: EBX, index: N, disp: 0, seg: Seg.DS, len: 2 }],
    ["mov eax,[disp32] (mod 00 rm 101)", [0x8b, 0x05, 0x78, 0x56, 0x34, 0x12], { base: N, index: N, disp: 0x12345678, len: 6 }],
    ["mov eax,[ebp-4] defaults to SS", [0x8b, 0x45, 0xfc], { base: EBP, disp: -4, seg: Seg.SS, len: 3 }],
    ["mov eax,[esp+8] SIB, SS", [0x8b, 0x44, 0x24, 0x08], { base: ESP, index: N, disp: 8, seg: Seg.SS, len: 4 }],
    ["mov eax,[ecx*4+0x1000] SIB base 101 mod 00", [0x8b, 0x04, 0x8d, 0, 0x10, 0, 0], { base: N, index: ECX, scale: 2, disp: 0x1000, len: 7 }],
    ["mov eax,[esi+edi*8+0x100] disp32", [0x8b, 0x84, 0xfe, 0, 1, 0, 0], { base: ESI, index: EDI, scale: 3, disp: 0x100, len: 7 }],
    ["mov eax,[eax+esp*1] index 100 = none", [0x8b, 0x04, 0x20], { base: EAX, index: N, scale: 0, len: 3 }],
    ["mov eax,[ebp+edx*2+0] mod 01 base ebp uses SS", [0x8b, 0x44, 0x55, 0x00], { base: EBP, index: EDX, scale: 1, seg: Seg.SS, len: 4 }],
    ["cs: override", [0x2e, 0x8b, 0x03], { seg: Seg.CS, segOverride: true, len: 3 }],
    ["fs: override beats the SS default", [0x64, 0x8b, 0x45, 0x00], { seg: Seg.FS, len: 4 }],
    ["register form mod 11", [0x01, 0xd8], { rm: EAX, reg: EBX, len: 2 }],
  ];
  for (const [name, bytes, want] of cases) {
    it(name, () => expect(dec(bytes)).toMatchObject(want));
  }
});

describe("decoder: 16-bit ModRM forms (SDM Vol. 2 Table 2-1)", () => {
  const cases: [string, number[], boolean, Partial<Insn>][] = [
    ["[bx+si]", [0x8b, 0x00], false, { base: EBX, index: ESI, seg: Seg.DS, a16: true, len: 2 }],
    ["[bx+di+disp8]", [0x8b, 0x41, 0x10], false, { base: EBX, index: EDI, disp: 0x10, len: 3 }],
    ["[bp+si] uses SS", [0x8b, 0x02], false, { base: EBP, index: ESI, seg: Seg.SS }],
    ["[bp+di+disp16]", [0x8b, 0x83, 0x34, 0x12], false, { base: EBP, index: EDI, disp: 0x1234, seg: Seg.SS, len: 4 }],
    ["[disp16] (mod 00 rm 110)", [0x8b, 0x06, 0x34, 0x12], false, { base: N, index: N, disp: 0x1234, seg: Seg.DS, len: 4 }],
    ["[bp+disp8] uses SS", [0x8b, 0x46, 0xfe], false, { base: EBP, index: N, disp: -2, seg: Seg.SS }],
    ["[bx]", [0x8b, 0x07], false, { base: EBX, index: N }],
    ["67 prefix selects 16-bit addressing in 32-bit code", [0x67, 0x8b, 0x00], true, { base: EBX, index: ESI, a16: true, len: 3 }],
    ["67 prefix selects 32-bit addressing in 16-bit code", [0x67, 0x8b, 0x04, 0x8d, 0, 0x10, 0, 0], false, { index: ECX, scale: 2, disp: 0x1000, a16: false, len: 8 }],
  ];
  for (const [name, bytes, code32, want] of cases) {
    it(name, () => expect(dec(bytes, code32)).toMatchObject(want));
  }
});

describe("decoder: operand size, immediates, opcode map", () => {
  const cases: [string, number[], boolean, Partial<Insn>, string][] = [
    ["mov eax, imm32", [0xb8, 0x78, 0x56, 0x34, 0x12], true, { imm: 0x12345678, osize: 4, len: 5 }, "mov"],
    ["66: mov ax, imm16", [0x66, 0xb8, 0x34, 0x12], true, { imm: 0x1234, osize: 2, len: 4 }, "mov"],
    ["16-bit code: mov ax, imm16", [0xb8, 0x34, 0x12], false, { imm: 0x1234, osize: 2, len: 3 }, "mov"],
    ["16-bit code + 66: mov eax, imm32", [0x66, 0xb8, 1, 2, 3, 4], false, { imm: 0x04030201, osize: 4, len: 6 }, "mov"],
    ["mov bh, imm8 (B0+7)", [0xb7, 0x12], true, { reg: 7, imm: 0x12, osize: 1 }, "mov"],
    ["83 /0 sign-extends imm8", [0x83, 0xc0, 0xff], true, { imm: -1, rm: EAX, osize: 4 }, "add"],
    ["imul eax, ebx, imm32", [0x69, 0xc3, 0, 1, 0, 0], true, { imm: 0x100, reg: EAX, rm: EBX, len: 6 }, "imul"],
    ["enter imm16, imm8", [0xc8, 0x10, 0x00, 0x02], true, { imm: 16, imm2: 2, len: 4 }, "enter"],
    ["jmp far ptr16:32", [0xea, 0x78, 0x56, 0x34, 0x12, 0x08, 0x00], true, { imm: 0x12345678, imm2: 8, len: 7 }, "jmp"],
    ["mov eax, moffs32", [0xa1, 0x78, 0x56, 0x34, 0x12], true, { disp: 0x12345678, base: N, index: N, rm: -1 }, "mov"],
    ["jne rel8 becomes an absolute target", [0x75, 0xfe], true, { imm: 0x1000, len: 2 }, "jne"],
    ["jmp rel32", [0xe9, 0x10, 0, 0, 0], true, { imm: 0x1015, len: 5 }, "jmp"],
    ["16-bit call rel16 wraps IP", [0xe8, 0x00, 0xf0], false, { imm: (0x1003 + 0xf000) & 0xffff }, "call"],
    ["bt eax, imm8 (0F BA /4)", [0x0f, 0xba, 0xe0, 0x05], true, { imm: 5, rm: EAX }, "bt"],
    ["F3 90 is PAUSE", [0xf3, 0x90], true, { rep: 0, len: 2 }, "pause"],
    ["90 is NOP", [0x90], true, { len: 1 }, "nop"],
    ["0F 01 F9 is RDTSCP", [0x0f, 0x01, 0xf9], true, { len: 3 }, "rdtscp"],
    ["E3 is JECXZ with 32-bit addressing", [0xe3, 0x00], true, {}, "jecxz"],
    ["67 E3 is JCXZ", [0x67, 0xe3, 0x00], true, {}, "jcxz"],
    ["98 is CWDE in 32-bit code", [0x98], true, {}, "cwde"],
    ["66 98 is CBW in 32-bit code", [0x66, 0x98], true, {}, "cbw"],
    ["A5 is MOVSD, element 4", [0xa5], true, { osize: 4 }, "movsd"],
    ["66 A5 is MOVSW, element 2", [0x66, 0xa5], true, { osize: 2 }, "movsw"],
    ["F3 A4 is REP MOVSB", [0xf3, 0xa4], true, { rep: 1, osize: 1 }, "movsb"],
    ["0F 1F /0 is multi-byte NOP", [0x0f, 0x1f, 0x44, 0x00, 0x00], true, { len: 5 }, "nop"],
    ["LOCK ADD [ebx], eax is valid", [0xf0, 0x01, 0x03], true, { lock: true }, "add"],
    ["movzx eax, byte [ebx]: op size 4", [0x0f, 0xb6, 0x03], true, { osize: 4 }, "movzx"],
    ["out dx, al: op size 1", [0xee], true, { osize: 1 }, "out"],
    ["in eax, imm8: op size 4", [0xe5, 0x60], true, { osize: 4, imm: 0x60 }, "in"],
    ["shl byte [ebx], cl: op size 1", [0xd2, 0x23], true, { osize: 1 }, "shl"],
  ];
  for (const [name, bytes, code32, want, mnem] of cases) {
    it(name, () => {
      const i = dec(bytes, code32);
      expect(i).toMatchObject(want);
      expect(i.row?.mnemonic).toBe(mnem);
      expect(i.exec).toBe(MARK);
    });
  }
});

describe("decoder: invalid encodings raise #UD / #GP when executed (SDM Vol. 2 2.3.11, Vol. 3A 6.15)", () => {
  const ud: [string, number[]][] = [
    ["0F FF has no row", [0x0f, 0xff]],
    ["LEA with a register source", [0x8d, 0xc0]],
    ["LDS with a register source", [0xc5, 0xc0]],
    ["LOCK on a register destination", [0xf0, 0x01, 0xc3]],
    ["LOCK on MOV", [0xf0, 0x89, 0x03]],
    ["FE /2 is undefined", [0xfe, 0xd0]],
    ["CMPXCHG8B with a register operand", [0x0f, 0xc7, 0xc8]],
    ["MOV to a nonexistent segment register (Sreg 6)", [0x8e, 0xf0]],
  ];
  for (const [name, bytes] of ud) {
    it(name, () => {
      const i = dec(bytes);
      expect(i.exec).not.toBe(MARK);
      expect(() => i.exec(null as never, i)).toThrow(expect.objectContaining({ vector: 6 }));
    });
  }

  it("an instruction of 15 bytes decodes, one of 16 raises #GP(0)", () => {
    const ok = dec([...Array(14).fill(0x66), 0x90]);
    expect(ok.len).toBe(15);
    expect(ok.exec).toBe(MARK);
    const bad = dec([...Array(15).fill(0x66), 0x90]);
    expect(() => bad.exec(null as never, bad)).toThrow(expect.objectContaining({ vector: 13, errorCode: 0 }));
  });

  it("never throws while decoding arbitrary bytes", () => {
    // Deterministic pseudo-random byte soup (xorshift), every opcode start position.
    let s = 0x12345678;
    const rnd = () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), s & 0xff);
    for (let n = 0; n < 20000; n++) {
      const bytes = Array.from({ length: 16 }, rnd);
      expect(() => dec(bytes, (n & 1) === 0)).not.toThrow();
    }
  });
});
