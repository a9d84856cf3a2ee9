/**
 * MUL, IMUL (all three forms), DIV, IDIV. Expected values are written out from the Operation sections
 * of the SDM Vol. 2 pages (MUL: Vol. 2B 4-"MUL"; IMUL/DIV/IDIV: Vol. 2A 3-"IMUL", "DIV", "IDIV"), with
 * 64-bit products and quotients computed by hand / Python integers, and from published hardware
 * observations where cited. Flags are checked under the mask the SDM defines (CF, OF for multiplies);
 * undefined-flag choices are checked separately against the references named in mul-div.ts.
 */
import { describe, expect, it } from "vitest";
import { ARITH, CODE, DATA, F, hex, reg, run, type Regs, checkRows } from "./arith-harness.ts";

const { CF, OF, ZF, SF, PF, AF } = F;
const CO = CF | OF;



describe("MUL: unsigned, CF = OF = (upper half != 0) (SDM Vol. 2B MUL)", () => {
  checkRows([
    { name: "mul bl: 0x80 * 2 = 0x100 sets CF/OF", code: [0xf6, 0xe3], regs: { eax: 0x80, ebx: 2 }, want: { eax: 0x100 }, wantFlags: CO },
    { name: "mul bl: 0x0F * 0x11 = 0xFF clears CF/OF and keeps EAX[31:16]", code: [0xf6, 0xe3], regs: { eax: 0x1234560f, ebx: 0x11 }, flags: CO, want: { eax: 0x123400ff }, wantFlags: 0 },
    { name: "mul bh (AH=1 ignored): AL * BH", code: [0xf6, 0xe7], regs: { eax: 0x0105, ebx: 0x0300 }, want: { eax: 0x000f }, wantFlags: 0 },
    { name: "mul bx: 0xFFFF^2 -> DX:AX = FFFE:0001, upper halves kept", code: [0x66, 0xf7, 0xe3], regs: { eax: 0xabcdffff, ebx: 0xffff, edx: 0x55550000 }, want: { eax: 0xabcd0001, edx: 0x5555fffe }, wantFlags: CO },
    { name: "mul bx: 0x100 * 0xFF fits in AX, DX = 0", code: [0x66, 0xf7, 0xe3], regs: { eax: 0x100, ebx: 0xff, edx: 0xffffffff }, want: { eax: 0xff00, edx: 0xffff0000 }, wantFlags: 0 },
    { name: "mul ebx: 0xFFFFFFFF^2 = 0xFFFFFFFE_00000001", code: [0xf7, 0xe3], regs: { eax: 0xffffffff, ebx: 0xffffffff }, want: { eax: 1, edx: 0xfffffffe }, wantFlags: CO },
    { name: "mul ebx: 0x10000^2 = 2^32 exactly", code: [0xf7, 0xe3], regs: { eax: 0x10000, ebx: 0x10000 }, want: { eax: 0, edx: 1 }, wantFlags: CO },
    { name: "mul ebx: 0x12345678 * 0x9ABCDEF0 = 0x0B00EA4E_242D2080", code: [0xf7, 0xe3], regs: { eax: 0x12345678, ebx: 0x9abcdef0 }, want: { eax: 0x242d2080, edx: 0x0b00ea4e }, wantFlags: CO },
    { name: "mul ebx: 3 * 5 = 15, EDX cleared, CF/OF clear", code: [0xf7, 0xe3], regs: { eax: 3, ebx: 5, edx: 0x77 }, flags: CO, want: { eax: 15, edx: 0 }, wantFlags: 0 },
    { name: "mul dword [DATA]: memory source", code: [0xf7, 0x25, ...le32(DATA)], regs: { eax: 0x80000000 }, mem: { [DATA]: [2, 0, 0, 0] }, want: { eax: 0, edx: 1 }, wantFlags: CO },
  ], CO);
});

describe("IMUL one operand: signed, CF = OF = (result != sign-extended lower half) (SDM Vol. 2A IMUL)", () => {
  checkRows([
    { name: "imul bl: -128 * -1 = +128 does not fit in AL", code: [0xf6, 0xeb], regs: { eax: 0x80, ebx: 0xff }, want: { eax: 0x0080 }, wantFlags: CO },
    { name: "imul bl: -2 * 3 = -6 (AX = 0xFFFA) fits", code: [0xf6, 0xeb], regs: { eax: 0xfe, ebx: 3 }, flags: CO, want: { eax: 0xfffa }, wantFlags: 0 },
    { name: "imul bx: 0x8000 * 0x8000 = 2^30", code: [0x66, 0xf7, 0xeb], regs: { eax: 0x8000, ebx: 0x8000 }, want: { eax: 0, edx: 0x4000 }, wantFlags: CO },
    { name: "imul bx: -1 * 5 = -5: DX = 0xFFFF, fits", code: [0x66, 0xf7, 0xeb], regs: { eax: 0xffff, ebx: 5, edx: 0x12340000 }, want: { eax: 0xfffb, edx: 0x1234ffff }, wantFlags: 0 },
    { name: "imul ebx: -1 * -1 = 1", code: [0xf7, 0xeb], regs: { eax: 0xffffffff, ebx: 0xffffffff }, flags: CO, want: { eax: 1, edx: 0 }, wantFlags: 0 },
    { name: "imul ebx: (-2^31)^2 = 2^62", code: [0xf7, 0xeb], regs: { eax: 0x80000000, ebx: 0x80000000 }, want: { eax: 0, edx: 0x40000000 }, wantFlags: CO },
    // Reported against an emulator that got it wrong (carlosrafaelgn/Asm86 #14): hardware sets CF/OF.
    { name: "imul ebx: 2 * 0x7FFFFFFF = 0xFFFFFFFE overflows the signed low half", code: [0xf7, 0xeb], regs: { eax: 2, ebx: 0x7fffffff }, want: { eax: 0xfffffffe, edx: 0 }, wantFlags: CO },
    { name: "imul ebx: -2 * 2^30 = -2^31 fits exactly", code: [0xf7, 0xeb], regs: { eax: 0xfffffffe, ebx: 0x40000000 }, flags: CO, want: { eax: 0x80000000, edx: 0xffffffff }, wantFlags: 0 },
    { name: "imul ebx: 0x12345678 * -0x65432110 = 0xF8CC93D6_242D2080", code: [0xf7, 0xeb], regs: { eax: 0x12345678, ebx: 0x9abcdef0 }, want: { eax: 0x242d2080, edx: 0xf8cc93d6 }, wantFlags: CO },
  ], CO);
});

describe("IMUL two and three operands: truncated to the destination, CF = OF = lost significance", () => {
  checkRows([
    { name: "imul eax,ebx: 0x10000^2 truncates to 0", code: [0x0f, 0xaf, 0xc3], regs: { eax: 0x10000, ebx: 0x10000, edx: 0x99 }, want: { eax: 0, edx: 0x99 }, wantFlags: CO },
    { name: "imul eax,ebx: -3 * 7 = -21", code: [0x0f, 0xaf, 0xc3], regs: { eax: 0xfffffffd, ebx: 7 }, flags: CO, want: { eax: 0xffffffeb }, wantFlags: 0 },
    { name: "imul ax,bx: 0x100^2 truncates, EAX[31:16] kept", code: [0x66, 0x0f, 0xaf, 0xc3], regs: { eax: 0x77770100, ebx: 0x100 }, want: { eax: 0x77770000 }, wantFlags: CO },
    { name: "imul ecx,ebx,-2 (6B): 2^30 * -2 = -2^31 fits", code: [0x6b, 0xcb, 0xfe], regs: { ebx: 0x40000000 }, flags: CO, want: { ecx: 0x80000000 }, wantFlags: 0 },
    { name: "imul ecx,ebx,2 (6B): 2^30 * 2 = 2^31 overflows", code: [0x6b, 0xcb, 0x02], regs: { ebx: 0x40000000 }, want: { ecx: 0x80000000 }, wantFlags: CO },
    { name: "imul cx,bx,0x1234 (69 iw): 0x10 * 0x1234 = 0x12340 truncates", code: [0x66, 0x69, 0xcb, 0x34, 0x12], regs: { ebx: 0x10, ecx: 0xabcd0000 }, want: { ecx: 0xabcd2340 }, wantFlags: CO },
    { name: "imul cx,bx,-1 (6B, imm8 sign-extended to 16 bits)", code: [0x66, 0x6b, 0xcb, 0xff], regs: { ebx: 0x8000 }, want: { ecx: 0x8000 }, wantFlags: CO },
    { name: "imul ecx,ebx,0x12345678 (69 id): truncates", code: [0x69, 0xcb, 0x78, 0x56, 0x34, 0x12], regs: { ebx: 0x10 }, want: { ecx: 0x23456780 }, wantFlags: CO },
    { name: "imul ecx,[DATA]: 3 * -1 = -3 from memory", code: [0x0f, 0xaf, 0x0d, ...le32(DATA)], regs: { ecx: 3 }, mem: { [DATA]: [0xff, 0xff, 0xff, 0xff] }, flags: CO, want: { ecx: 0xfffffffd }, wantFlags: 0 },
  ], CO);
});

describe("DIV: unsigned, quotient and remainder (SDM Vol. 2A DIV Table 3-15)", () => {
  checkRows([
    { name: "div bl: 256 / 16 = 16 r 0", code: [0xf6, 0xf3], regs: { eax: 0x0100, ebx: 0x10 }, want: { eax: 0x0010 } },
    { name: "div bl: 255 / 16 = 15 r 15, EAX[31:16] kept", code: [0xf6, 0xf3], regs: { eax: 0x123400ff, ebx: 0x10 }, want: { eax: 0x12340f0f } },
    { name: "div bx: DX:AX = 0x10000 / 0x100 = 0x100 r 0", code: [0x66, 0xf7, 0xf3], regs: { eax: 0, edx: 1, ebx: 0x100 }, want: { eax: 0x100, edx: 0 } },
    { name: "div bx: 0xFFFEFFFF / 0xFFFF = 0xFFFF r 0xFFFE (largest quotient)", code: [0x66, 0xf7, 0xf3], regs: { eax: 0xffff, edx: 0xfffe, ebx: 0xffff }, want: { eax: 0xffff, edx: 0xfffe } },
    { name: "div ebx: 2^32 / 2 = 0x80000000", code: [0xf7, 0xf3], regs: { eax: 0, edx: 1, ebx: 2 }, want: { eax: 0x80000000, edx: 0 } },
    { name: "div ebx: 0xFFFFFFFE_FFFFFFFF / 0xFFFFFFFF = 0xFFFFFFFF r 0xFFFFFFFE", code: [0xf7, 0xf3], regs: { eax: 0xffffffff, edx: 0xfffffffe, ebx: 0xffffffff }, want: { eax: 0xffffffff, edx: 0xfffffffe } },
    { name: "div ebx: 0x12345678_9ABCDEF0 / 0x87654321", code: [0xf7, 0xf3], regs: { eax: 0x9abcdef0, edx: 0x12345678, ebx: 0x87654321 }, want: { eax: 0x226b9022, edx: 0x38bc648e } },
    { name: "div dword [DATA]: memory divisor", code: [0xf7, 0x35, ...le32(DATA)], regs: { eax: 100, edx: 0 }, mem: { [DATA]: [7, 0, 0, 0] }, want: { eax: 14, edx: 2 } },
  ], CO);
});

describe("IDIV: signed, truncating toward zero, remainder has the dividend's sign (SDM Vol. 2A IDIV)", () => {
  checkRows([
    { name: "idiv bl: -7 / 2 = -3 r -1", code: [0xf6, 0xfb], regs: { eax: 0xfff9, ebx: 2 }, want: { eax: 0xfffd } },
    { name: "idiv bl: 7 / -2 = -3 r 1", code: [0xf6, 0xfb], regs: { eax: 7, ebx: 0xfe }, want: { eax: 0x01fd } },
    { name: "idiv bl: 128 / -1 = -128 fits", code: [0xf6, 0xfb], regs: { eax: 0x0080, ebx: 0xff }, want: { eax: 0x0080 } },
    { name: "idiv bl: 256 / -2 = -128 fits", code: [0xf6, 0xfb], regs: { eax: 0x0100, ebx: 0xfe }, want: { eax: 0x0080 } },
    { name: "idiv bx: 65536 / -2 = -32768 fits", code: [0x66, 0xf7, 0xfb], regs: { eax: 0, edx: 1, ebx: 0xfffe }, want: { eax: 0x8000, edx: 0 } },
    { name: "idiv ebx: 2^32 / -2 = -2^31 fits", code: [0xf7, 0xfb], regs: { eax: 0, edx: 1, ebx: 0xfffffffe }, want: { eax: 0x80000000, edx: 0 } },
    { name: "idiv bx: -32768 / 1", code: [0x66, 0xf7, 0xfb], regs: { eax: 0x8000, edx: 0xffff, ebx: 1 }, want: { eax: 0x8000, edx: 0 } },
    { name: "idiv ebx: -2^31 / 1 fits", code: [0xf7, 0xfb], regs: { eax: 0x80000000, edx: 0xffffffff, ebx: 1 }, want: { eax: 0x80000000, edx: 0 } },
    { name: "idiv ebx: -7 / 2 = -3 r -1", code: [0xf7, 0xfb], regs: { eax: 0xfffffff9, edx: 0xffffffff, ebx: 2 }, want: { eax: 0xfffffffd, edx: 0xffffffff } },
    { name: "idiv ebx: 7 / -2 = -3 r 1", code: [0xf7, 0xfb], regs: { eax: 7, edx: 0, ebx: 0xfffffffe }, want: { eax: 0xfffffffd, edx: 1 } },
    { name: "idiv ebx: (-2^62 + 2^31) / -2^31 = 2^31 - 1", code: [0xf7, 0xfb], regs: { eax: 0x80000000, edx: 0xc0000000, ebx: 0x80000000 }, want: { eax: 0x7fffffff, edx: 0 } },
    { name: "idiv ebx: 2^62 / -2^31 = -2^31 fits", code: [0xf7, 0xfb], regs: { eax: 0, edx: 0x40000000, ebx: 0x80000000 }, want: { eax: 0x80000000, edx: 0 } },
  ], CO);
});

describe("DIV and IDIV raise #DE on a zero divisor and on quotient overflow, before writing anything", () => {
  const rows: { name: string; code: number[]; regs: Regs }[] = [
    { name: "div bl by 0", code: [0xf6, 0xf3], regs: { eax: 0x1234, ebx: 0 } },
    { name: "div bl: 0x1000 / 0x10 = 0x100 > 0xFF", code: [0xf6, 0xf3], regs: { eax: 0x1000, ebx: 0x10 } },
    { name: "div bx: quotient 0x10000", code: [0x66, 0xf7, 0xf3], regs: { eax: 0, edx: 1, ebx: 1 } },
    { name: "div ebx by 0", code: [0xf7, 0xf3], regs: { eax: 5, edx: 0, ebx: 0 } },
    { name: "div ebx: EDX = divisor gives quotient >= 2^32", code: [0xf7, 0xf3], regs: { eax: 0, edx: 7, ebx: 7 } },
    { name: "idiv bl: -128 / -1 = +128", code: [0xf6, 0xfb], regs: { eax: 0xff80, ebx: 0xff } },
    { name: "idiv bl: 258 / -2 = -129", code: [0xf6, 0xfb], regs: { eax: 0x0102, ebx: 0xfe } },
    { name: "idiv bx: 65538 / -2 = -32769", code: [0x66, 0xf7, 0xfb], regs: { eax: 2, edx: 1, ebx: 0xfffe } },
    { name: "idiv ebx: (2^32 + 2) / -2 = -(2^31 + 1)", code: [0xf7, 0xfb], regs: { eax: 2, edx: 1, ebx: 0xfffffffe } },
    { name: "idiv bl by 0", code: [0xf6, 0xfb], regs: { eax: 1, ebx: 0x100 } },
    { name: "idiv bx: -32768 / -1", code: [0x66, 0xf7, 0xfb], regs: { eax: 0x8000, edx: 0xffff, ebx: 0xffff } },
    { name: "idiv ebx: -2^31 / -1", code: [0xf7, 0xfb], regs: { eax: 0x80000000, edx: 0xffffffff, ebx: 0xffffffff } },
    { name: "idiv ebx: (2^62 - 1) / (2^31 - 1) = 2^31 + 1 (high half below divisor)", code: [0xf7, 0xfb], regs: { eax: 0xffffffff, edx: 0x3fffffff, ebx: 0x7fffffff } },
    { name: "idiv ebx: -2^62 / -2^31 = +2^31", code: [0xf7, 0xfb], regs: { eax: 0, edx: 0xc0000000, ebx: 0x80000000 } },
    { name: "idiv ebx by 0", code: [0xf7, 0xfb], regs: { eax: 1, edx: 0, ebx: 0 } },
  ];
  for (const r of rows) {
    it(r.name, () => {
      const o = run(r.code, { regs: r.regs });
      expect(o.vector).toBe(0);
      expect(hex(o.frameEip), "fault reports the faulting instruction").toBe(hex(CODE));
      for (const n of ["eax", "edx"] as const) expect(hex(reg(o.c, n)), n).toBe(hex(r.regs[n] ?? 0));
    });
  }
});

describe("undefined flags: documented choices (mul-div.ts header)", () => {
  it("MUL sets SF ZF PF from the low half and clears AF (Bochs / sandpile P4 model)", () => {
    // 0x10000 * 0x10000: low half 0 -> ZF=1, PF=1, SF=0.
    const o = run([0xf7, 0xe3], { regs: { eax: 0x10000, ebx: 0x10000 }, flags: SF | AF });
    expect(hex(o.c.getEflags() & ARITH)).toBe(hex(CF | OF | ZF | PF));
  });
  it("IMUL r,rm,imm takes SF from the truncated result", () => {
    const o = run([0x6b, 0xcb, 0x02], { regs: { ebx: 0x40000000 }, flags: ZF | AF });
    expect(hex(o.c.getEflags() & ARITH)).toBe(hex(CF | OF | SF | PF));
  });
  it("DIV and IDIV leave every arithmetic flag unchanged", () => {
    for (const flags of [0, ARITH, CF | ZF | PF]) {
      expect(run([0xf7, 0xf3], { regs: { eax: 100, ebx: 7 }, flags }).c.getEflags() & ARITH).toBe(flags);
      expect(run([0xf6, 0xfb], { regs: { eax: 0xfff9, ebx: 2 }, flags }).c.getEflags() & ARITH).toBe(flags);
    }
  });
  it("MUL replaces a pending lazy ADD result: CF/OF come from MUL, not from the ADD", () => {
    // add ecx,ecx (0x80000000 + 0x80000000: CF=OF=ZF=1) ; mul ebx (3 * 5: CF=OF=0)
    const o = run([0x01, 0xc9, 0xf7, 0xe3], { regs: { ecx: 0x80000000, eax: 3, ebx: 5 } }, 2);
    expect(o.c.getEflags() & (CF | OF | ZF)).toBe(0);
  });
});

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
}
