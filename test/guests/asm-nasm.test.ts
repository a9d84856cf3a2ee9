/**
 * The assembler's encoding choices checked against NASM (reference: `nasm -f bin`, default -Ox
 * multi-pass optimisation): the bytes must be IDENTICAL, which proves the short-form choices (imm8
 * sign-extended forms, AL/eAX forms, moffs, 40+r/50+r/90+r, rel8 jumps, disp8, SIB-only forms) and the
 * register-register ModRM direction are those of a real assembler. Covers a sample of every selectable
 * row in 32- and 16-bit code, every addressing form, edge immediates, and label programs that need
 * relaxation. Skipped, with a message, when nasm is not installed.
 */
import { describe, expect, it } from "vitest";
import {
  Asm, al, ax, bl, bx, cr0, cx, dword, dx, eax, ebp, ebx, ecx, edi, edx, esi, esp, ds, es, fs, si, di, bp,
  byte, word, fword, ptr, lbl, far,
} from "../../src/guests/asm/index.ts";
import { addressingSamples, samplesFor, type Sample } from "./asm-samples.ts";
import { assembleSample, haveTool, hexOf, nasm, SLOT, slotImage } from "./asm-harness.ts";
import { nasmLine, nasmMem } from "./asm-nasm-text.ts";

const HAVE = haveTool("nasm");
const title = HAVE ? "assembler vs NASM" : "assembler vs NASM (SKIPPED: nasm not installed; apt-get install nasm)";

/** NASM rejects MOVZX/MOVSX r16, r/m16 (the SDM lists no such form); the objdump test covers them. */
const nasmRejects = (s: Sample) =>
  s.os === 16 && s.row.operands.join() === "Gv,Ew" && (s.row.mnemonic === "movzx" || s.row.mnemonic === "movsx");

/** Slot k of both images, for every k whose bytes differ. */
function slotDiffs(ours: Uint8Array, theirs: Uint8Array, names: string[]): string[] {
  const bad: string[] = [];
  names.forEach((n, k) => {
    const a = hexOf(ours.subarray(k * SLOT, (k + 1) * SLOT));
    const b = hexOf(theirs.subarray(k * SLOT, (k + 1) * SLOT));
    if (a !== b) bad.push(`${n}: ours ${a} nasm ${b}`);
  });
  return bad;
}

function slotSource(bits: 16 | 32, lines: string[]): string {
  const src = [`bits ${bits}`];
  lines.forEach((l, k) => src.push(`times ${k * SLOT}-($-$$) db 0x90`, l));
  src.push(`times ${lines.length * SLOT}-($-$$) db 0x90`);
  return src.join("\n") + "\n";
}

describe.skipIf(!HAVE).each([32, 16] as const)(`${title}: %i-bit code`, (bits) => {
  it("encodes a sample of every selectable row byte for byte like NASM", () => {
    const samples = samplesFor(bits, (k) => k * SLOT).filter((s) => !nasmRejects(s));
    const ours = slotImage(samples.map((s, k) => assembleSample(s, k * SLOT)));
    const lines = samples.map(nasmLine);
    const theirs = nasm(slotSource(bits, lines));
    if (typeof theirs === "string") throw new Error(theirs);
    expect(slotDiffs(ours, theirs, lines)).toEqual([]);
    expect(samples.length).toBeGreaterThan(900);
  });

  it("encodes every addressing form byte for byte like NASM", () => {
    const samples = addressingSamples(bits);
    const reg = bits === 32 ? ecx : cx;
    const ours = slotImage(samples.map((s, k) => new Asm({ bits, origin: k * SLOT }).mov(reg, s.mem).build().bytes));
    const lines = samples.map((s) => `mov ${reg.name}, ${s.mem.size === 4 ? "dword" : "word"} ${nasmMem(s.mem)}`);
    const theirs = nasm(slotSource(bits, lines));
    if (typeof theirs === "string") throw new Error(theirs);
    expect(slotDiffs(ours, theirs, lines)).toEqual([]);
  });
});

type Case = [nasm: string, build: (a: Asm) => unknown];

/** Encoding choices where several forms exist: the shortest, as NASM picks it. */
const CHOICES: Record<16 | 32, Case[]> = {
  32: [
    ["add eax, ebx", (a) => a.add(eax, ebx)], ["mov eax, ebx", (a) => a.mov(eax, ebx)],
    ["cmp eax, ebx", (a) => a.cmp(eax, ebx)], ["test ebx, eax", (a) => a.test(ebx, eax)],
    ["add eax, 1", (a) => a.add(eax, 1)], ["add eax, 127", (a) => a.add(eax, 127)],
    ["add eax, 128", (a) => a.add(eax, 128)], ["add eax, -128", (a) => a.add(eax, -128)],
    ["add eax, -129", (a) => a.add(eax, -129)], ["add eax, 0xffffffff", (a) => a.add(eax, 0xffffffff)],
    ["add eax, 0xffffff80", (a) => a.add(eax, 0xffffff80)], ["add ebx, 0x80", (a) => a.add(ebx, 0x80)],
    ["sub ebx, 1000", (a) => a.sub(ebx, 1000)], ["add al, 5", (a) => a.add(al, 5)], ["add bl, 255", (a) => a.add(bl, 255)],
    ["add ax, 0xffff", (a) => a.add(ax, 0xffff)], ["and ax, 0x7fff", (a) => a.and(ax, 0x7fff)],
    ["test al, 5", (a) => a.test(al, 5)], ["test bl, 5", (a) => a.test(bl, 5)], ["test eax, 1", (a) => a.test(eax, 1)],
    ["mov al, [0x10]", (a) => a.mov(al, byte(0x10))], ["mov [0x10], eax", (a) => a.mov(dword(0x10), eax)],
    ["mov ax, [0x1234]", (a) => a.mov(ax, word(0x1234))], ["mov ebx, [0x10]", (a) => a.mov(ebx, dword(0x10))],
    ["mov al, [fs:0x10]", (a) => a.mov(al, byte({ seg: fs, disp: 0x10 }))],
    ["inc eax", (a) => a.inc(eax)], ["inc ax", (a) => a.inc(ax)], ["dec edi", (a) => a.dec(edi)], ["inc bl", (a) => a.inc(bl)],
    ["push eax", (a) => a.push(eax)], ["pop ebp", (a) => a.pop(ebp)], ["push 5", (a) => a.push(5)],
    ["push -1", (a) => a.push(-1)], ["push 0x80", (a) => a.push(0x80)], ["push 0xffffffff", (a) => a.push(0xffffffff)],
    ["push dword [ebx]", (a) => a.push(dword(ebx))], ["push es", (a) => a.push(es)],
    ["xchg eax, ebx", (a) => a.xchg(eax, ebx)], ["xchg ebx, eax", (a) => a.xchg(ebx, eax)],
    ["xchg ebx, ecx", (a) => a.xchg(ebx, ecx)], ["xchg eax, eax", (a) => a.xchg(eax, eax)],
    ["xchg ax, cx", (a) => a.xchg(ax, cx)], ["xchg ecx, [ebx]", (a) => a.xchg(ecx, dword(ebx))],
    ["shl eax, 1", (a) => a.shl(eax, 1)], ["shl eax, 2", (a) => a.shl(eax, 2)], ["sal eax, 3", (a) => a.sal(eax, 3)],
    ["imul eax, ebx, 5", (a) => a.imul(eax, ebx, 5)], ["imul eax, 5", (a) => a.imul(eax, 5)],
    ["imul eax, 1000", (a) => a.imul(eax, 1000)], ["imul eax, ebx", (a) => a.imul(eax, ebx)],
    ["ret", (a) => a.ret()], ["ret 8", (a) => a.ret(8)], ["int 3", (a) => a.int(3)], ["int3", (a) => a.int3()],
    ["in al, dx", (a) => a.in(al, dx)], ["out 0xe9, al", (a) => a.out(0xe9, al)], ["in eax, 0x60", (a) => a.in(eax, 0x60)],
    ["mov eax, 0", (a) => a.mov(eax, 0)], ["mov bl, -1", (a) => a.mov(bl, -1)], ["mov byte [ebx], 5", (a) => a.mov(byte(ebx), 5)],
    ["mov eax, ds", (a) => a.mov(eax, ds)], ["mov ax, ds", (a) => a.mov(ax, ds)], ["mov ds, ax", (a) => a.mov(ds, ax)],
    ["mov ds, eax", (a) => a.mov(ds, eax)], ["mov [ebx], ds", (a) => a.mov(word(ebx), ds)],
    ["lea eax, [ebx+ecx*2]", (a) => a.lea(eax, ptr({ base: ebx, index: ecx, scale: 2 }))],
    ["lea eax, [ecx*2]", (a) => a.lea(eax, ptr({ index: ecx, scale: 2 }))],
    ["lea eax, [ecx*8+4]", (a) => a.lea(eax, ptr({ index: ecx, scale: 8, disp: 4 }))],
    ["mov eax, [esp+4]", (a) => a.mov(eax, dword(esp, 4))], ["mov eax, [ebp-4]", (a) => a.mov(eax, dword(ebp, -4))],
    ["mov eax, [ebx+0xffffffff]", (a) => a.mov(eax, dword(ebx, 0xffffffff))],
    ["movzx eax, byte [ebx]", (a) => a.movzx(eax, byte(ebx))], ["movsx eax, bx", (a) => a.movsx(eax, bx)],
    ["bswap ecx", (a) => a.bswap(ecx)], ["mov cr0, eax", (a) => a.mov(cr0, eax)], ["mov eax, cr0", (a) => a.mov(eax, cr0)],
    ["jmp [ebx]", (a) => a.jmp(ptr(ebx))], ["call [ebx+4]", (a) => a.call(ptr(ebx, 4))], ["jmp eax", (a) => a.jmp(eax)],
    ["jmp 0x08:0x1000", (a) => a.jmp(far(8, 0x1000))], ["jmp far [ebx]", (a) => a.jmp(fword(ebx))],
    ["call far word [ebx]", (a) => a.o16().call(dword(ebx))],
    ["les eax, [ebx]", (a) => a.les(eax, ptr(ebx))], ["lgdt [eax]", (a) => a.lgdt(ptr(eax))],
    ["rep movsd", (a) => a.rep().movsd()], ["repne scasb", (a) => a.repne().scasb()], ["rep stosw", (a) => a.rep().stosw()],
    ["lock add [ebx], eax", (a) => a.lock().add(dword(ebx), eax)], ["lock xchg [ebx], eax", (a) => a.lock().xchg(dword(ebx), eax)],
    ["jcxz $", (a) => a.jcxz(a.here())], ["aam", (a) => a.aam()], ["pause", (a) => a.pause()], ["cwde", (a) => a.cwde()],
    ["nop", (a) => a.nop()], ["xlatb", (a) => a.xlat()], ["wait", (a) => a.wait()], ["setz al", (a) => a.setz(al)],
    ["cmovnae eax, [ebx]", (a) => a.cmovnae(eax, dword(ebx))], ["jz $", (a) => a.jz(a.here())],
  ],
  16: [
    ["mov ax, [bx+si]", (a) => a.mov(ax, word({ base: bx, index: si }))], ["mov ax, [bp]", (a) => a.mov(ax, word(bp))],
    ["mov ax, [bp+di+5]", (a) => a.mov(ax, word({ base: bp, index: di, disp: 5 }))],
    ["mov ax, [si+300]", (a) => a.mov(ax, word(si, 300))], ["mov ax, [0x1234]", (a) => a.mov(ax, word(0x1234))],
    ["mov eax, [ebx]", (a) => a.mov(eax, dword(ebx))], ["mov al, [si]", (a) => a.mov(al, byte(si))],
    ["mov eax, ebx", (a) => a.mov(eax, ebx)], ["add ax, -1", (a) => a.add(ax, -1)], ["add eax, 100000", (a) => a.add(eax, 100000)],
    ["push 5", (a) => a.push(5)], ["push 1000", (a) => a.push(1000)], ["pushad", (a) => a.pushad()], ["pushaw", (a) => a.pusha()],
    ["jcxz $", (a) => a.jcxz(a.here())], ["jecxz $", (a) => a.jecxz(a.here())], ["loop $", (a) => a.loop(a.here())],
    ["inc ax", (a) => a.inc(ax)], ["inc eax", (a) => a.inc(eax)], ["bswap ebp", (a) => a.bswap(ebp)],
    ["mov cr0, eax", (a) => a.mov(cr0, eax)], ["lgdt [bx]", (a) => a.lgdt(ptr(bx))], ["rep movsb", (a) => a.rep().movsb()],
    ["mov ax, [es:di]", (a) => a.mov(ax, word({ seg: es, base: di }))],
    ["jmp dword 0x08:0x12345", (a) => a.o32().jmp(far(8, 0x12345))], ["jmp 0x08:0x1234", (a) => a.jmp(far(8, 0x1234))],
    ["lea esi, [edx*4]", (a) => a.lea(esi, ptr({ index: edx, scale: 4 }))], ["in al, 0x60", (a) => a.in(al, 0x60)],
  ],
};

describe.skipIf(!HAVE).each([32, 16] as const)(`${title}: %i-bit shortest-form choices`, (bits) => {
  it("chooses NASM's encoding for each case", () => {
    const cases = CHOICES[bits];
    const ours = slotImage(cases.map(([, f], k) => {
      const a = new Asm({ bits, origin: k * SLOT });
      f(a);
      return a.build().bytes;
    }));
    const theirs = nasm(slotSource(bits, cases.map(([n]) => n)));
    if (typeof theirs === "string") throw new Error(theirs);
    expect(slotDiffs(ours, theirs, cases.map(([n]) => n))).toEqual([]);
  });
});

interface Program {
  name: string;
  bits: 16 | 32;
  origin: number;
  nasm: string;
  build: (a: Asm) => unknown;
}

const nops = (n: number) => `times ${n} nop`;

/** Whole programs with labels: relaxation at the rel8 boundaries, label operands, data, sections. */
const PROGRAMS: Program[] = [
  ...[16, 32].flatMap((bits) => [125, 126, 127, 128, 129].flatMap((n): Program[] => [
    { name: `jmp forward over ${n} bytes`, bits: bits as 16 | 32, origin: 0x1000, nasm: `jmp L\n${nops(n)}\nL: ret`,
      build: (a) => a.jmp("L").times(n, 0x90).label("L").ret() },
    { name: `jne backward over ${n} bytes`, bits: bits as 16 | 32, origin: 0x1000, nasm: `L: ${nops(n)}\njne L`,
      build: (a) => a.label("L").times(n, 0x90).jne("L") },
    { name: `jc forward over ${n} bytes`, bits: bits as 16 | 32, origin: 0x1000, nasm: `jc L\n${nops(n)}\nL:`,
      build: (a) => a.jc("L").times(n, 0x90).label("L") },
  ])),
  {
    // Growing the inner jump pushes the outer one out of rel8 range: needs a second pass.
    name: "cascading relaxation", bits: 32, origin: 0x100000,
    nasm: `jmp A\n${nops(123)}\nje B\nA: ${nops(100)}\njmp A\n${nops(100)}\nB: jmp B`,
    build: (a) => a.jmp("A").times(123, 0x90).je("B").label("A").times(100, 0x90).jmp("A").times(100, 0x90)
      .label("B").jmp("B"),
  },
  {
    name: "calls, loops and label operands", bits: 32, origin: 0x100000,
    nasm: ["start: call f", "mov eax, table", "push table", "mov eax, [table]", "mov ecx, [table]",
      "mov eax, [ebx+table]", "mov edx, [table+eax*4]", "lea esi, [table+4]", "cmp ebx, table", "add eax, table",
      "jmp [table+ecx*4]", "mov al, [msg]", "mov ecx, 10", "L: loop L", "jecxz start", "call start",
      "f: ret", "align 16, db 0", "table: dd f, start, table+8", "msg: db 'hi', 0", "dw 7"].join("\n"),
    build: (a) => a.label("start").call("f").mov(eax, "table").push("table").mov(eax, dword("table"))
      .mov(ecx, dword("table")).mov(eax, dword({ base: ebx, disp: "table" }))
      .mov(edx, dword({ index: eax, scale: 4, disp: "table" })).lea(esi, ptr(lbl("table", 4)))
      .cmp(ebx, "table").add(eax, "table").jmp(ptr({ index: ecx, scale: 4, disp: "table" })).mov(al, byte("msg"))
      .mov(ecx, 10).label("L").loop("L").jecxz("start").call("start").label("f").ret().align(16)
      .label("table").dd("f", "start", lbl("table", 8)).label("msg").db("hi", 0).dw(7),
  },
  {
    name: "real mode to protected mode switch (bits 16 then bits 32)", bits: 16, origin: 0x7c00,
    nasm: ["cli", "xor ax, ax", "mov ds, ax", "lgdt [gdtr]", "mov eax, cr0", "or eax, 1", "mov cr0, eax",
      "jmp dword 0x08:pm", "bits 32", "pm: mov ax, 0x10", "mov ds, ax", "mov esp, 0x7c00", "hlt", "align 8, db 0",
      "gdt: dd 0, 0, 0x0000ffff, 0x00cf9a00, 0x0000ffff, 0x00cf9200", "gdtr: dw 23", "dd gdt",
      "times 0x7dfe-0x7c00-($-$$) db 0", "dw 0xaa55"].join("\n"),
    build: (a) => a.cli().xor(ax, ax).mov(ds, ax).lgdt(ptr("gdtr")).mov(eax, cr0).or(eax, 1).mov(cr0, eax)
      .o32().jmp(far(8, "pm")).bits(32).label("pm").mov(ax, 0x10).mov(ds, ax).mov(esp, 0x7c00).hlt().align(8)
      .label("gdt").dd(0, 0, 0x0000ffff, 0x00cf9a00, 0x0000ffff, 0x00cf9200).label("gdtr").dw(23).dd("gdt")
      .org(0x7dfe).dw(0xaa55),
  },
  {
    name: "16-bit data and near calls", bits: 16, origin: 0x100,
    nasm: ["call f", "mov si, msg", "mov al, [msg+1]", "mov bx, [bx+msg]", "f: ret", "msg: db 'ab'", "dw f, msg"].join("\n"),
    build: (a) => a.call("f").mov(si, "msg").mov(al, byte(lbl("msg", 1))).mov(bx, word({ base: bx, disp: "msg" }))
      .label("f").ret().label("msg").db("ab").dw("f", "msg"),
  },
];

describe.skipIf(!HAVE)(`${title}: programs with labels`, () => {
  it.each(PROGRAMS.map((p) => [`${p.bits}-bit ${p.name}`, p] as const))("%s", (_, p) => {
    const a = new Asm({ bits: p.bits, origin: p.origin });
    p.build(a);
    const theirs = nasm(`bits ${p.bits}\norg ${p.origin}\n${p.nasm}\n`);
    if (typeof theirs === "string") throw new Error(theirs);
    expect(hexOf(a.build().bytes)).toBe(hexOf(theirs));
  });
});
