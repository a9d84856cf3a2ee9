/**
 * DAA DAS AAA AAS AAM AAD. Expected values are worked through the Operation pseudo-code of the SDM
 * Vol. 2A pages by hand; the DAA and DAS rows marked "SDM example" are the worked examples printed on
 * those pages (ADD 79H+35H then DAA gives 14H with CF=1; SUB 35H-47H then DAS gives 88H with CF=1).
 * Flags are checked under the masks the SDM defines (DAA/DAS: CF AF SF ZF PF; AAA/AAS: CF AF;
 * AAM/AAD: SF ZF PF); the undefined-flag choices of bcd.ts are checked separately.
 */
import { describe, expect, it } from "vitest";
import { ARITH, CODE, F, hex, reg, run, checkRows } from "./arith-harness.ts";

const { CF, OF, ZF, SF, PF, AF } = F;
const DAAF = CF | AF | SF | ZF | PF;
const AAAF = CF | AF;
const AAMF = SF | ZF | PF;



const ADD_AL_BL = [0x00, 0xd8];
const SUB_AL_BL = [0x28, 0xd8];

describe("DAA (SDM Vol. 2A DAA)", () => {
  checkRows([
    { name: "SDM example: 79H + 35H = AEH, DAA -> 14H, CF=1 AF=1", code: [...ADD_AL_BL, 0x27], regs: { eax: 0x79, ebx: 0x35 }, want: { eax: 0x14 }, wantFlags: CF | AF | PF, mask: DAAF, count: 2 },
    { name: "09H + 09H = 12H with AF, DAA -> 18H", code: [...ADD_AL_BL, 0x27], regs: { eax: 0x09, ebx: 0x09 }, want: { eax: 0x18 }, wantFlags: AF | PF, mask: DAAF, count: 2 },
    { name: "38H + 45H = 7DH, DAA -> 83H", code: [...ADD_AL_BL, 0x27], regs: { eax: 0x38, ebx: 0x45 }, want: { eax: 0x83 }, wantFlags: AF | SF, mask: DAAF, count: 2 },
    { name: "AL = 9AH: both adjustments wrap to 00H", code: [0x27], regs: { eax: 0x9a }, want: { eax: 0 }, wantFlags: CF | AF | ZF | PF, mask: DAAF },
    { name: "AL = 99H with CF and AF set: both adjustments -> FFH", code: [0x27], regs: { eax: 0x99 }, flags: CF | AF, want: { eax: 0xff }, wantFlags: CF | AF | SF | PF, mask: DAAF },
    { name: "AL = 99H with CF and AF clear stays 99H", code: [0x27], regs: { eax: 0x1299 }, want: { eax: 0x1299 }, wantFlags: SF | PF, mask: DAAF },
  ]);
});

describe("DAS (SDM Vol. 2A DAS)", () => {
  checkRows([
    { name: "SDM example: 35H - 47H = EEH, DAS -> 88H, CF=1 AF=1", code: [...SUB_AL_BL, 0x2f], regs: { eax: 0x35, ebx: 0x47 }, want: { eax: 0x88 }, wantFlags: CF | AF | SF | PF, mask: DAAF, count: 2 },
    { name: "AL = 03H with AF: the borrow of AL - 6 sets CF and is kept", code: [0x2f], regs: { eax: 0x03 }, flags: AF, want: { eax: 0xfd }, wantFlags: CF | AF | SF, mask: DAAF },
    { name: "AL = 9AH: both adjustments -> 34H", code: [0x2f], regs: { eax: 0x9a }, want: { eax: 0x34 }, wantFlags: CF | AF, mask: DAAF },
    { name: "AL = 66H, no flags: unchanged", code: [0x2f], regs: { eax: 0x66 }, want: { eax: 0x66 }, wantFlags: PF, mask: DAAF },
  ]);
});

describe("AAA and AAS adjust AX (SDM Vol. 2A AAA, AAS: AX := AX + 106H / AX - 6, AH - 1)", () => {
  checkRows([
    { name: "aaa: 8 + 7 = 0FH -> AX = 0105H", code: [...ADD_AL_BL, 0x37], regs: { eax: 0x08, ebx: 0x07 }, want: { eax: 0x0105 }, wantFlags: CF | AF, mask: AAAF, count: 2 },
    { name: "aaa: AL = 09H, AF clear: only the high nibble is cleared", code: [0x37], regs: { eax: 0x0039 }, flags: CF, want: { eax: 0x0009 }, wantFlags: 0, mask: AAAF },
    { name: "aaa: AL = FAH carries into AH through AX (0200H, not 0100H)", code: [0x37], regs: { eax: 0x00fa }, want: { eax: 0x0200 }, wantFlags: CF | AF, mask: AAAF },
    { name: "aaa: AF set adjusts a valid digit", code: [0x37], regs: { eax: 0x0100 }, flags: AF, want: { eax: 0x0206 }, wantFlags: CF | AF, mask: AAAF },
    { name: "aaa keeps EAX[31:16]", code: [0x37], regs: { eax: 0xabcd000f }, want: { eax: 0xabcd0105 }, wantFlags: CF | AF, mask: AAAF },
    { name: "aas: 3 - 5 = FEH with AF -> AX = FF08H (-1, 8)", code: [...SUB_AL_BL, 0x3f], regs: { eax: 0x03, ebx: 0x05 }, want: { eax: 0xff08 }, wantFlags: CF | AF, mask: AAAF, count: 2 },
    { name: "aas: AX = 020FH -> 0109H", code: [0x3f], regs: { eax: 0x020f }, want: { eax: 0x0109 }, wantFlags: CF | AF, mask: AAAF },
    { name: "aas: AL = 05H with AF borrows through AX -> FE0FH", code: [0x3f], regs: { eax: 0x0005 }, flags: AF, want: { eax: 0xfe0f }, wantFlags: CF | AF, mask: AAAF },
    { name: "aas: AX = 0100H, AF clear: no adjustment", code: [0x3f], regs: { eax: 0x0100 }, flags: CF, want: { eax: 0x0100 }, wantFlags: 0, mask: AAAF },
  ]);
});

describe("AAM and AAD (SDM Vol. 2A AAM, AAD; imm8 is the base)", () => {
  checkRows([
    { name: "aam: 79 -> AH=7 AL=9", code: [0xd4, 0x0a], regs: { eax: 0x4f }, want: { eax: 0x0709 }, wantFlags: PF, mask: AAMF },
    { name: "aam ignores the old AH", code: [0xd4, 0x0a], regs: { eax: 0xff4f }, want: { eax: 0x0709 }, wantFlags: PF, mask: AAMF },
    { name: "aam: 0 -> ZF", code: [0xd4, 0x0a], regs: { eax: 0 }, want: { eax: 0 }, wantFlags: ZF | PF, mask: AAMF },
    { name: "aam 16: ABH -> 0A0BH", code: [0xd4, 0x10], regs: { eax: 0xab }, want: { eax: 0x0a0b }, wantFlags: 0, mask: AAMF },
    { name: "aam 3: 128 -> AH=42 AL=2", code: [0xd4, 0x03], regs: { eax: 0x80 }, want: { eax: 0x2a02 }, wantFlags: 0, mask: AAMF },
    { name: "aad: AH=7 AL=9 -> 79", code: [0xd5, 0x0a], regs: { eax: 0x0709 }, want: { eax: 0x004f }, wantFlags: 0, mask: AAMF },
    { name: "aad 16: 0A0BH -> ABH, SF from AL", code: [0xd5, 0x10], regs: { eax: 0x0a0b }, want: { eax: 0x00ab }, wantFlags: SF, mask: AAMF },
    { name: "aad: FFFFH -> 255*10+255 truncated to F5H", code: [0xd5, 0x0a], regs: { eax: 0x1234ffff }, want: { eax: 0x123400f5 }, wantFlags: SF | PF, mask: AAMF },
    { name: "aad 0: AL kept, AH cleared", code: [0xd5, 0x00], regs: { eax: 0x0503 }, want: { eax: 0x0003 }, wantFlags: PF, mask: AAMF },
    { name: "aad: 0 -> ZF", code: [0xd5, 0x0a], regs: { eax: 0 }, want: { eax: 0 }, wantFlags: ZF | PF, mask: AAMF },
  ]);

  it("aam 0 raises #DE at the AAM and leaves AX alone", () => {
    const o = run([0xd4, 0x00], { regs: { eax: 0x1234 } });
    expect(o.vector).toBe(0);
    expect(hex(o.frameEip)).toBe(hex(CODE));
    expect(hex(reg(o.c, "eax"))).toBe(hex(0x1234));
  });
});

describe("undefined flags: documented choices (bcd.ts header)", () => {
  checkRows([
    { name: "aaa: OF SF ZF PF as a logical op on the final AL", code: [0x37], regs: { eax: 0x000f }, flags: SF | ZF | OF, want: { eax: 0x0105 }, wantFlags: CF | AF | PF, mask: ARITH },
    { name: "aas: AL = 0 after adjusting gives ZF and PF", code: [0x3f], regs: { eax: 0x0016 }, flags: AF, want: { eax: 0xff00 }, wantFlags: CF | AF | ZF | PF, mask: ARITH },
    { name: "aam clears OF AF CF", code: [0xd4, 0x0a], regs: { eax: 0x4f }, flags: ARITH, want: { eax: 0x0709 }, wantFlags: PF, mask: ARITH },
    { name: "aad clears OF AF CF", code: [0xd5, 0x0a], regs: { eax: 0x0709 }, flags: ARITH, want: { eax: 0x004f }, wantFlags: 0, mask: ARITH },
    { name: "daa clears OF", code: [0x27], regs: { eax: 0x99 }, flags: OF, want: { eax: 0x99 }, wantFlags: SF | PF, mask: ARITH },
  ]);
});
