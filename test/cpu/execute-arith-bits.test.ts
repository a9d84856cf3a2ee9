/**
 * BT BTS BTR BTC, BSF BSR. Expected values are written out from SDM Vol. 2A "BT—Bit Test" (bit-string
 * addressing, Table 3-2: a register offset into memory ranges over -2^31..2^31-1 (32-bit) or
 * -2^15..2^15-1 (16-bit) and selects the word at EA + size * (offset DIV width); an immediate offset is
 * taken modulo the width), "BTS", "BTR", "BTC" (CF = the old bit; ZF unaffected) and "BSF"/"BSR"
 * (ZF = 1 and destination unchanged for a zero source — "undefined" in the Intel text, documented as
 * unchanged by AMD and relied on by software; ZF = 0 and the index otherwise).
 */
import { describe } from "vitest";
import { ARITH, DATA, F, checkRows } from "./arith-harness.ts";

const { CF, OF, ZF, SF, PF, AF } = F;



const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const M = DATA + 0x10;
const CZ = CF | ZF;

describe("BT BTS BTR BTC on registers: offset modulo the width (SDM Vol. 2A BT, Table 3-2)", () => {
  checkRows([
    { name: "bt eax,3: CF = bit 3, ZF untouched", code: [0x0f, 0xba, 0xe0, 0x03], regs: { eax: 0x08 }, flags: ZF, want: { eax: 0x08 }, wantFlags: CF | ZF, mask: CZ },
    { name: "bt eax,3: clear bit clears CF", code: [0x0f, 0xba, 0xe0, 0x03], regs: { eax: 0xf7 }, flags: CF, want: { eax: 0xf7 }, wantFlags: 0, mask: CZ },
    { name: "bt eax,35: immediate taken mod 32", code: [0x0f, 0xba, 0xe0, 0x23], regs: { eax: 0x08 }, wantFlags: CF, mask: CZ },
    { name: "bts eax,ecx with ECX=33: register offset mod 32", code: [0x0f, 0xab, 0xc8], regs: { eax: 0, ecx: 33 }, want: { eax: 0x02 }, wantFlags: 0, mask: CZ },
    { name: "btr ax,cx with CX=17: mod 16, EAX[31:16] kept", code: [0x66, 0x0f, 0xb3, 0xc8], regs: { eax: 0xffffffff, ecx: 0x11 }, want: { eax: 0xfffffffd }, wantFlags: CF, mask: CZ },
    { name: "btc eax,31: 0 -> 0x80000000", code: [0x0f, 0xba, 0xf8, 0x1f], regs: { eax: 0 }, want: { eax: 0x80000000 }, wantFlags: 0, mask: CZ },
    { name: "btc eax,31: 0x80000000 -> 0", code: [0x0f, 0xba, 0xf8, 0x1f], regs: { eax: 0x80000000 }, want: { eax: 0 }, wantFlags: CF, mask: CZ },
    { name: "bts ax,15 (16-bit immediate form)", code: [0x66, 0x0f, 0xba, 0xe8, 0x0f], regs: { eax: 0x12340000 }, want: { eax: 0x12348000 }, wantFlags: 0, mask: CZ },
  ]);
});

describe("bit-string addressing: a register offset into memory is signed and unbounded", () => {
  checkRows([
    { name: "bt dword [M],ecx with ECX=-1: bit 31 of the dword at M-4", code: [0x0f, 0xa3, 0x0d, ...le32(M)], regs: { ecx: 0xffffffff }, mem: { [M - 4]: [0, 0, 0, 0x80], [M]: [0, 0, 0, 0] }, wantFlags: CF, mask: CF },
    { name: "bts dword [M],ecx with ECX=100: bit 4 of the dword at M+12", code: [0x0f, 0xab, 0x0d, ...le32(M)], regs: { ecx: 100 }, mem: { [M]: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }, wantMem: { [M]: [0, 0, 0, 0], [M + 12]: [0x10, 0, 0, 0] }, wantFlags: 0, mask: CF },
    { name: "bts word [M],cx with CX=-16 (ECX[31:16] ignored): bit 0 of the word at M-2", code: [0x66, 0x0f, 0xab, 0x0d, ...le32(M)], regs: { ecx: 0x7ffffff0 }, mem: { [M - 2]: [0, 0, 0, 0] }, wantMem: { [M - 2]: [0x01, 0, 0, 0] }, wantFlags: 0, mask: CF },
    { name: "btr dword [ebx],eax with EAX=33: bit 1 of the dword at EBX+4", code: [0x0f, 0xb3, 0x03], regs: { ebx: M, eax: 33 }, mem: { [M]: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] }, wantMem: { [M]: [0xff, 0xff, 0xff, 0xff, 0xfd, 0xff, 0xff, 0xff] }, wantFlags: CF, mask: CF },
    { name: "btc dword [M],ecx with ECX=-33: bit 31 of the dword at M-8", code: [0x0f, 0xbb, 0x0d, ...le32(M)], regs: { ecx: 0xffffffdf }, mem: { [M - 8]: [0, 0, 0, 0x80, 0, 0, 0, 0] }, wantMem: { [M - 8]: [0, 0, 0, 0, 0, 0, 0, 0] }, wantFlags: CF, mask: CF },
    { name: "bt dword [M],35: an immediate offset stays within the dword at M", code: [0x0f, 0xba, 0x25, ...le32(M), 0x23], mem: { [M]: [0x08, 0, 0, 0, 0, 0, 0, 0] }, wantFlags: CF, mask: CF },
    { name: "bt dword [M],ecx with ECX=32773: bit 5 of the dword at M+4096", code: [0x0f, 0xa3, 0x0d, ...le32(M)], regs: { ecx: 32773 }, mem: { [M]: [0, 0, 0, 0], [M + 4096]: [0x20, 0, 0, 0] }, wantFlags: CF, mask: CF },
  ]);
});

describe("BSF and BSR (SDM Vol. 2A BSF, BSR)", () => {
  const Z = ZF;
  checkRows([
    { name: "bsf eax,ebx: lowest set bit 19", code: [0x0f, 0xbc, 0xc3], regs: { ebx: 0x00080000 }, flags: ZF, want: { eax: 19 }, wantFlags: 0, mask: Z },
    { name: "bsr eax,ebx: highest set bit 19", code: [0x0f, 0xbd, 0xc3], regs: { ebx: 0x00080001 }, flags: ZF, want: { eax: 19 }, wantFlags: 0, mask: Z },
    { name: "bsf eax,ebx: 0x80000000 -> 31", code: [0x0f, 0xbc, 0xc3], regs: { ebx: 0x80000000 }, want: { eax: 31 }, wantFlags: 0, mask: Z },
    { name: "bsr eax,ebx: 1 -> 0 (ZF = 0 although the index is 0)", code: [0x0f, 0xbd, 0xc3], regs: { eax: 0xff, ebx: 1 }, flags: ZF, want: { eax: 0 }, wantFlags: 0, mask: Z },
    { name: "bsf eax,ebx with EBX=0: ZF = 1, EAX unchanged", code: [0x0f, 0xbc, 0xc3], regs: { eax: 0xdeadbeef, ebx: 0 }, want: { eax: 0xdeadbeef }, wantFlags: ZF, mask: Z },
    { name: "bsr eax,ebx with EBX=0: ZF = 1, EAX unchanged", code: [0x0f, 0xbd, 0xc3], regs: { eax: 0x12345678, ebx: 0 }, want: { eax: 0x12345678 }, wantFlags: ZF, mask: Z },
    { name: "bsf ax,bx: 16-bit, EAX[31:16] kept", code: [0x66, 0x0f, 0xbc, 0xc3], regs: { eax: 0xaaaa5555, ebx: 0x12348000 }, want: { eax: 0xaaaa000f }, wantFlags: 0, mask: Z },
    { name: "bsr ax,bx: BX = 0 is zero even if EBX is not", code: [0x66, 0x0f, 0xbd, 0xc3], regs: { eax: 0x5555, ebx: 0xffff0000 }, want: { eax: 0x5555 }, wantFlags: ZF, mask: Z },
    { name: "bsf eax,[DATA]: memory source", code: [0x0f, 0xbc, 0x05, ...le32(DATA)], mem: { [DATA]: [0, 0, 0x10, 0] }, want: { eax: 20 }, wantFlags: 0, mask: Z },
  ]);
});

describe("undefined flags: documented choices (bits.ts header)", () => {
  checkRows([
    { name: "BT changes CF only", code: [0x0f, 0xba, 0xe0, 0x00], regs: { eax: 1 }, flags: ARITH & ~CF, wantFlags: ARITH, mask: ARITH },
    { name: "BTS changes CF only", code: [0x0f, 0xba, 0xe8, 0x00], regs: { eax: 0 }, flags: ARITH, want: { eax: 1 }, wantFlags: ARITH & ~CF, mask: ARITH },
    { name: "BSF with a non-zero source: flags of a logical op on the index (PF of 3)", code: [0x0f, 0xbc, 0xc3], regs: { ebx: 8 }, flags: ARITH, want: { eax: 3 }, wantFlags: PF, mask: ARITH },
    { name: "BSF with a zero source: only ZF changes", code: [0x0f, 0xbc, 0xc3], regs: { ebx: 0 }, flags: CF | SF | OF | AF, wantFlags: CF | SF | OF | AF | ZF, mask: ARITH },
    // add ecx,ecx (0x80000000 * 2: CF ZF OF PF set) ; bt eax,0 (bit clear): the ADD's other flags survive.
    { name: "BT after a lazy ADD keeps the ADD's ZF OF PF and replaces CF", code: [0x01, 0xc9, 0x0f, 0xba, 0xe0, 0x00], regs: { ecx: 0x80000000, eax: 0 }, wantFlags: ZF | OF | PF, mask: ARITH, count: 2 },
  ]);
});
