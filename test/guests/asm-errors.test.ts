/**
 * Assembler errors: each names the problem and the TypeScript source line of the call that emitted
 * the faulty item, even when the problem is found only at build time (undefined label, rel8 out of
 * range, org going backwards). Reference for what is an error: NASM 2.x rejects the same inputs
 * ("invalid combination of opcode and operands", "operation size not specified", "symbol not defined");
 * the line is checked against the stack frame of the call itself.
 */
import { describe, expect, it } from "vitest";
import {
  Asm, AsmError, al, ax, bl, cr0, dword, ebx, eax, esp, far, ptr, si, word,
} from "../../src/guests/asm/index.ts";

let marked = 0;
/** Record the caller's line: the same line as the assembler call written right after it. */
function mark(): void {
  const frame = new Error().stack!.split("\n")[2];
  marked = Number(/:(\d+):\d+\)?$/.exec(frame)![1]);
}

type Case = [name: string, program: (a: Asm, m: () => void) => unknown, message: RegExp];

const CASES: Case[] = [
  ["operand size mismatch", (a, m) => { m(); a.mov(eax, bl); }, /mov: operand size mismatch \(eax, bl\)/],
  ["immediate too large for a byte", (a, m) => { m(); a.add(al, 1000); }, /add: immediate 1000 out of range for 8 bits/],
  ["memory operand without a size", (a, m) => { m(); a.mov(ptr(ebx), 5); }, /mov: operation size not specified/],
  ["ambiguous MOVZX source size", (a, m) => { m(); a.movzx(eax, ptr(ebx)); }, /movzx: operation size not specified/],
  ["unknown mnemonic", (a, m) => { m(); a.insn("frob", eax); }, /frob: unknown mnemonic/],
  ["no row takes the operands", (a, m) => { m(); a.mov(cr0, 5); }, /mov: invalid operands \(cr0, 5\)/],
  ["wrong operand count", (a, m) => { m(); a.add(eax); }, /add: takes 2 operand\(s\), got 1/],
  ["non-integer immediate", (a, m) => { m(); a.mov(eax, 1.5); }, /mov: immediate 1.5 is not an integer/],
  ["ESP as a scaled index", (a, m) => { m(); a.mov(eax, dword({ index: esp, scale: 2 })); }, /mov: esp cannot be an index register/],
  ["mixed address sizes", (a, m) => { m(); a.mov(eax, dword({ base: ebx, index: si })); }, /mov: mixed 16- and 32-bit address registers/],
  ["LOCK on a non-lockable instruction", (a, m) => { m(); a.lock().mov(dword(ebx), eax); }, /mov: LOCK needs a lockable instruction/],
  ["LOCK with a register destination", (a, m) => { m(); a.lock().add(eax, ebx); }, /add: LOCK needs/],
  ["REP on a non-string instruction", (a, m) => { m(); a.rep().add(eax, 1); }, /add: REP is not meaningful/],
  ["REPNE on MOVS", (a, m) => { m(); a.repne().movsb(); }, /movsb: REPNE is not meaningful/],
  ["a prefix not followed by an instruction", (a, m) => { a.rep(); m(); a.label("x"); }, /label: a prefix must be followed by an instruction/],
  ["far offset beyond 16 bits in 16-bit code", (a, m) => { a.bits(16); m(); a.jmp(far(8, 0x12345)); },
    /jmp: far offset 74565 out of range for 16 bits \(use o32\(\)\)/],
  ["db value out of range", (a, m) => { m(); a.db(256); }, /db: value 256 out of range for 8 bits/],
  ["duplicate label", (a, m) => { a.label("x"); m(); a.label("x"); }, /label: duplicate label 'x'/],
  // Found only when building: the line is still that of the emitting call.
  ["undefined label", (a, m) => { m(); a.jmp("nowhere"); a.nop(); }, /jmp: undefined label 'nowhere'/],
  ["undefined label in data", (a, m) => { m(); a.dd("nowhere"); }, /data: undefined label 'nowhere'/],
  ["LOOP target out of rel8 range", (a, m) => { a.label("L").times(200); m(); a.loop("L"); }, /loop: jump target out of rel8 range \(-202\)/],
  ["org going backwards", (a, m) => { a.times(16); m(); a.org(8); }, /org: already at 0x10, past 0x8/],
  ["16-bit address of a label above 64 KiB", (a, m) => { a.bits(16).times(0x10000); m(); a.mov(ax, word("x")); a.label("x"); },
    /mov: (address|displacement) x = 655\d\d out of range for 16 bits/],
];

describe("assembler errors name the problem and the source line", () => {
  it.each(CASES)("%s", (_, program, message) => {
    let err: unknown;
    try {
      const a = new Asm();
      program(a, mark);
      a.build();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AsmError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toMatch(new RegExp(`^asm-errors\\.test\\.ts:${marked}: `));
  });

  it("reports nothing for a correct program", () => {
    expect(() => new Asm().mov(eax, ebx).build()).not.toThrow();
  });
});
