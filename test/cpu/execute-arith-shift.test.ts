/**
 * Shifts, rotates, SHLD/SHRD. Expected values are written out from the Operation pseudo-code of SDM
 * Vol. 2B "RCL/RCR/ROL/ROR—Rotate", "SAL/SAR/SHL/SHR—Shift", "SHLD", "SHRD": count masked to 5 bits
 * (then mod 9 / mod 17 for 8/16-bit RCL/RCR, mod 8 / 16 for ROL/ROR), a masked count of 0 changes no
 * flag, rotates leave SF ZF AF PF unaffected, OF is defined only for 1-bit counts, CF is undefined for
 * SHL/SHR counts >= the operand width. Each row checks flags only under the mask the SDM defines for
 * its count; the undefined-flag choices of shift.ts are checked separately, with their references.
 */
import { describe } from "vitest";
import { ARITH, DATA, F, checkRows } from "./arith-harness.ts";

const { CF, OF, ZF, SF, PF, AF } = F;
/** Defined flags of a shift by 1, by more than 1, by >= the width (SHL/SHR), and of rotates. */
const SH1 = CF | OF | SF | ZF | PF;
const SHN = CF | SF | ZF | PF;
const SHW = SF | ZF | PF;
const ROT1 = ARITH;
const ROTN = ARITH & ~OF;



const A = [DATA & 0xff, (DATA >>> 8) & 0xff, (DATA >>> 16) & 0xff, DATA >>> 24];

describe("SHL/SAL SHR SAR (SDM Vol. 2B SAL/SAR/SHL/SHR)", () => {
  checkRows([
    { name: "shl al,1: 0x81 -> 0x02, CF = old MSB, OF = MSB xor CF", code: [0xd0, 0xe0], regs: { eax: 0x81 }, want: { eax: 0x02 }, wantFlags: CF | OF, mask: SH1 },
    { name: "shl al,1: 0x40 -> 0x80 sets OF and SF", code: [0xd0, 0xe0], regs: { eax: 0x40 }, want: { eax: 0x80 }, wantFlags: OF | SF, mask: SH1 },
    { name: "shl al,1: 0xC0 -> 0x80, top two bits equal: OF = 0", code: [0xd0, 0xe0], regs: { eax: 0xc0 }, flags: ARITH, want: { eax: 0x80 }, wantFlags: CF | SF, mask: SH1 },
    { name: "sal al,1 (/6 alias) = shl", code: [0xd0, 0xf0], regs: { eax: 0x81 }, want: { eax: 0x02 }, wantFlags: CF | OF, mask: SH1 },
    { name: "shr al,1: 0x81 -> 0x40, OF = original MSB", code: [0xd0, 0xe8], regs: { eax: 0x81 }, want: { eax: 0x40 }, wantFlags: CF | OF, mask: SH1 },
    { name: "sar al,1: 0x81 -> 0xC0, OF = 0", code: [0xd0, 0xf8], regs: { eax: 0x81 }, flags: OF, want: { eax: 0xc0 }, wantFlags: CF | SF | PF, mask: SH1 },
    { name: "shl eax,cl with CL=0: nothing changes", code: [0xd3, 0xe0], regs: { eax: 0x12345678, ecx: 0 }, flags: ARITH, want: { eax: 0x12345678 }, wantFlags: ARITH, mask: ARITH },
    { name: "shl al,cl with CL=0: nothing changes (8-bit)", code: [0xd2, 0xe0], regs: { eax: 0x81, ecx: 0 }, flags: ZF | AF, want: { eax: 0x81 }, wantFlags: ZF | AF, mask: ARITH },
    { name: "shl eax,cl with CL=32: masked to 0, nothing changes", code: [0xd3, 0xe0], regs: { eax: 0x12345678, ecx: 32 }, flags: CF | ZF, want: { eax: 0x12345678 }, wantFlags: CF | ZF, mask: ARITH },
    { name: "shl eax,cl with CL=33: masked to 1", code: [0xd3, 0xe0], regs: { eax: 0x80000001, ecx: 33 }, want: { eax: 2 }, wantFlags: CF | OF, mask: SH1 },
    { name: "shr eax,31: 0x80000000 -> 1, CF = bit 30", code: [0xc1, 0xe8, 0x1f], regs: { eax: 0x80000000 }, flags: ARITH, want: { eax: 1 }, wantFlags: 0, mask: SHN },
    { name: "sar eax,31: 0x80000000 -> -1", code: [0xc1, 0xf8, 0x1f], regs: { eax: 0x80000000 }, want: { eax: 0xffffffff }, wantFlags: SF | PF, mask: SHN },
    { name: "shl al,8: all bits out, result 0, EAX[31:8] kept", code: [0xc0, 0xe0, 0x08], regs: { eax: 0x123456ff }, want: { eax: 0x12345600 }, wantFlags: ZF | PF, mask: SHW },
    { name: "shl ax,17: count above 16 is not masked to 4 bits", code: [0x66, 0xc1, 0xe0, 0x11], regs: { eax: 0xabcdffff }, want: { eax: 0xabcd0000 }, wantFlags: ZF | PF, mask: SHW },
    { name: "shr al,cl with CL=9: result 0", code: [0xd2, 0xe8], regs: { eax: 0xff, ecx: 9 }, want: { eax: 0 }, wantFlags: ZF | PF, mask: SHW },
    { name: "sar al,9: fills with the sign, CF = sign", code: [0xc0, 0xf8, 0x09], regs: { eax: 0x80 }, want: { eax: 0xff }, wantFlags: CF | SF | PF, mask: SHN },
    { name: "sar ax,cl with CL=31: positive -> 0, CF = 0", code: [0x66, 0xd3, 0xf8], regs: { eax: 0x7fff, ecx: 31 }, flags: CF, want: { eax: 0 }, wantFlags: ZF | PF, mask: SHN },
    { name: "shr bh,1 shifts the high byte register", code: [0xd0, 0xef], regs: { ebx: 0x8100 }, want: { ebx: 0x4000 }, wantFlags: CF | OF, mask: SH1 },
    { name: "shl dword [DATA],1: memory operand", code: [0xd1, 0x25, ...A], mem: { [DATA]: [1, 0, 0, 0x80] }, wantMem: { [DATA]: [2, 0, 0, 0] }, wantFlags: CF | OF, mask: SH1 },
    { name: "shl byte [DATA],cl with CL=0: memory and flags unchanged", code: [0xd2, 0x25, ...A], regs: { ecx: 0 }, flags: SF | PF, mem: { [DATA]: [0x81] }, wantMem: { [DATA]: [0x81] }, wantFlags: SF | PF, mask: ARITH },
  ]);
});

describe("ROL ROR RCL RCR (SDM Vol. 2B RCL/RCR/ROL/ROR): only CF and OF change", () => {
  checkRows([
    { name: "rol al,1: 0x81 -> 0x03, OF = MSB xor CF; SF ZF AF PF untouched", code: [0xd0, 0xc0], regs: { eax: 0x81 }, flags: SF | ZF | AF | PF, want: { eax: 0x03 }, wantFlags: CF | OF | SF | ZF | AF | PF, mask: ROT1 },
    { name: "ror al,1: 0x81 -> 0xC0, CF = new MSB, OF = two top bits differ", code: [0xd0, 0xc8], regs: { eax: 0x81 }, want: { eax: 0xc0 }, wantFlags: CF, mask: ROT1 },
    { name: "ror al,1: 0x01 -> 0x80 sets OF", code: [0xd0, 0xc8], regs: { eax: 0x01 }, want: { eax: 0x80 }, wantFlags: CF | OF, mask: ROT1 },
    { name: "rol al,8: a whole turn still sets CF = LSB", code: [0xc0, 0xc0, 0x08], regs: { eax: 0x01 }, want: { eax: 0x01 }, wantFlags: CF, mask: ROTN },
    { name: "ror ax,16: a whole turn still sets CF = MSB", code: [0x66, 0xc1, 0xc8, 0x10], regs: { eax: 0x8000 }, want: { eax: 0x8000 }, wantFlags: CF, mask: ROTN },
    { name: "rol eax,4: 0x12345678 -> 0x23456781", code: [0xc1, 0xc0, 0x04], regs: { eax: 0x12345678 }, flags: ZF | PF, want: { eax: 0x23456781 }, wantFlags: CF | ZF | PF, mask: ROTN },
    { name: "ror eax,cl with CL=36: masked to 4", code: [0xd3, 0xc8], regs: { eax: 0x12345678, ecx: 36 }, want: { eax: 0x81234567 }, wantFlags: CF, mask: ROTN },
    { name: "rcl al,1: 0x80 with CF=0 -> 0 and CF=1; ZF stays clear", code: [0xd0, 0xd0], regs: { eax: 0x80 }, flags: SF, want: { eax: 0 }, wantFlags: CF | OF | SF, mask: ROT1 },
    { name: "rcr al,1: 0x01 with CF=1 -> 0x80, OF = MSB(dest) xor CF", code: [0xd0, 0xd8], regs: { eax: 0x01 }, flags: CF, want: { eax: 0x80 }, wantFlags: CF | OF, mask: ROT1 },
    { name: "rcl al,9: 9 mod 9 = 0, nothing rotates, CF kept", code: [0xc0, 0xd0, 0x09], regs: { eax: 0x55 }, flags: CF | ZF, want: { eax: 0x55 }, wantFlags: CF | ZF, mask: ROTN },
    { name: "rcl al,8 through CF=1: 0x01 -> 0x80, CF=1", code: [0xc0, 0xd0, 0x08], regs: { eax: 0x01 }, flags: CF, want: { eax: 0x80 }, wantFlags: CF, mask: ROTN },
    { name: "rcl al,cl with CL=41: masked to 9 first, then mod 9 = 0", code: [0xd2, 0xd0], regs: { eax: 0x55, ecx: 41 }, want: { eax: 0x55 }, wantFlags: 0, mask: ROTN },
    { name: "rcl al,cl with CL=42: masked to 10, mod 9 = 1", code: [0xd2, 0xd0], regs: { eax: 0x81, ecx: 42 }, want: { eax: 0x02 }, wantFlags: CF, mask: ROTN },
    { name: "rcr ax,17: 17 mod 17 = 0, nothing changes", code: [0x66, 0xc1, 0xd8, 0x11], regs: { eax: 0x1234 }, want: { eax: 0x1234 }, wantFlags: 0, mask: ROTN },
    { name: "rcr ax,16 through CF=1: 0x0001 -> 0x0003, CF = 0", code: [0x66, 0xc1, 0xd8, 0x10], regs: { eax: 0x0001 }, flags: CF, want: { eax: 0x0003 }, wantFlags: 0, mask: ROTN },
    { name: "rcl eax,31: 2 with CF=0 -> 0, CF=1, ZF untouched", code: [0xc1, 0xd0, 0x1f], regs: { eax: 2 }, want: { eax: 0 }, wantFlags: CF, mask: ROTN },
    { name: "rcr eax,1: 0 with CF=1 -> 0x80000000, OF = 0 xor 1", code: [0xd1, 0xd8], regs: { eax: 0 }, flags: CF, want: { eax: 0x80000000 }, wantFlags: OF, mask: ROT1 },
    { name: "rcr eax,cl with CL=32: masked to 0, nothing changes", code: [0xd3, 0xd8], regs: { eax: 5, ecx: 32 }, flags: CF | OF, want: { eax: 5 }, wantFlags: CF | OF, mask: ARITH },
    { name: "rcr ax,cl with CL=32: masked to 0, nothing changes (16-bit)", code: [0x66, 0xd3, 0xd8], regs: { eax: 0x8001, ecx: 32 }, flags: OF, want: { eax: 0x8001 }, wantFlags: OF, mask: ARITH },
    { name: "rol byte [DATA],cl: 0x81 by 3 -> 0x0C", code: [0xd2, 0x05, ...A], regs: { ecx: 3 }, flags: CF, mem: { [DATA]: [0x81] }, wantMem: { [DATA]: [0x0c] }, wantFlags: 0, mask: ROTN },
  ]);
});

describe("SHLD and SHRD (SDM Vol. 2B SHLD, SHRD)", () => {
  checkRows([
    { name: "shld eax,ebx,4", code: [0x0f, 0xa4, 0xd8, 0x04], regs: { eax: 0x12345678, ebx: 0x9abcdef0 }, want: { eax: 0x23456789, ebx: 0x9abcdef0 }, wantFlags: CF, mask: SHN },
    { name: "shrd eax,ebx,4", code: [0x0f, 0xac, 0xd8, 0x04], regs: { eax: 0x01234567, ebx: 0x9abcdef1 }, want: { eax: 0x10123456 }, wantFlags: PF, mask: SHN },
    { name: "shld eax,ebx,1: sign change sets OF", code: [0x0f, 0xa4, 0xd8, 0x01], regs: { eax: 0x40000000, ebx: 0x80000000 }, want: { eax: 0x80000001 }, wantFlags: OF | SF, mask: SH1 },
    { name: "shrd eax,ebx,1: 1 -> 0, CF = 1", code: [0x0f, 0xac, 0xd8, 0x01], regs: { eax: 1, ebx: 0 }, want: { eax: 0 }, wantFlags: CF | ZF | PF, mask: SH1 },
    { name: "shld ax,bx,cl with CL=16: AX = BX, CF = old bit 0", code: [0x66, 0x0f, 0xa5, 0xd8], regs: { eax: 0x99991234, ebx: 0x5678, ecx: 16 }, want: { eax: 0x99995678 }, wantFlags: PF, mask: SHN },
    { name: "shrd ax,bx,16: AX = BX, CF = old bit 15", code: [0x66, 0x0f, 0xac, 0xd8, 0x10], regs: { eax: 0x8001, ebx: 0x1234 }, want: { eax: 0x1234 }, wantFlags: CF, mask: SHN },
    { name: "shld eax,ebx,cl with CL=0: nothing changes", code: [0x0f, 0xa5, 0xd8], regs: { eax: 7, ebx: 0xffffffff, ecx: 0 }, flags: OF | ZF, want: { eax: 7 }, wantFlags: OF | ZF, mask: ARITH },
    { name: "shrd eax,ebx,36: count masked to 4", code: [0x0f, 0xac, 0xd8, 0x24], regs: { eax: 0x01234567, ebx: 0x9abcdef1 }, want: { eax: 0x10123456 }, wantFlags: PF, mask: SHN },
    { name: "shld dword [DATA],ebx,8: memory destination", code: [0x0f, 0xa4, 0x1d, ...A, 0x08], regs: { ebx: 0xaabbccdd }, mem: { [DATA]: [0x44, 0x33, 0x22, 0x11] }, wantMem: { [DATA]: [0xaa, 0x44, 0x33, 0x22] }, wantFlags: CF | PF, mask: SHN },
  ]);
});

describe("undefined cases: documented choices (shift.ts header)", () => {
  checkRows([
    { name: "OF after shl al,2 = CF xor MSB(result) (Bochs)", code: [0xc0, 0xe0, 0x02], regs: { eax: 0x20 }, want: { eax: 0x80 }, wantFlags: OF | SF, mask: ARITH },
    { name: "OF after rol al,4 = CF xor MSB(result)", code: [0xc0, 0xc0, 0x04], regs: { eax: 0x08 }, want: { eax: 0x80 }, wantFlags: OF, mask: ARITH },
    { name: "shifts clear AF", code: [0xd0, 0xe0], regs: { eax: 0x01 }, flags: AF, want: { eax: 0x02 }, wantFlags: 0, mask: ARITH },
    { name: "shl al,8: CF = old bit 0", code: [0xc0, 0xe0, 0x08], regs: { eax: 0x01 }, want: { eax: 0 }, wantFlags: CF | OF | ZF | PF, mask: ARITH },
    { name: "shl al,9: CF = 0", code: [0xc0, 0xe0, 0x09], regs: { eax: 0xff }, flags: CF, want: { eax: 0 }, wantFlags: ZF | PF, mask: ARITH },
    { name: "rcl al,9 leaves OF unchanged too", code: [0xc0, 0xd0, 0x09], regs: { eax: 0x80 }, flags: OF, want: { eax: 0x80 }, wantFlags: OF, mask: ARITH },
    // QEMU: "we implement the Intel behaviour for shift count > 16": shrdw shifts dest:src:dest.
    { name: "shrd ax,bx,20 shifts dest:src:dest (Intel)", code: [0x66, 0x0f, 0xac, 0xd8, 0x14], regs: { eax: 0x1234, ebx: 0x5678 }, want: { eax: 0x4567 }, wantFlags: CF, mask: CF },
    { name: "shld ax,bx,20 shifts dest:src:dest (Intel)", code: [0x66, 0x0f, 0xa4, 0xd8, 0x14], regs: { eax: 0x1234, ebx: 0x5678 }, want: { eax: 0x6781 }, wantFlags: CF, mask: CF },
  ]);
});
