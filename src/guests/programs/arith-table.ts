/**
 * A bare-metal guest, packaged as a Multiboot ELF32 kernel (flags bit 16 clear: loaded by its program
 * header), that runs integer instructions on edge values and prints, for each case, the result
 * registers and EFLAGS masked to the flags the SDM defines for that instruction (Vol. 2 instruction
 * pages, "Flags Affected"), so that any two correct implementations print the same table. Covers
 * ADD/ADC/SUB/SBB/CMP/AND/OR/XOR/TEST/IMUL in 8/16/32 bits, NEG/NOT/INC/DEC, shifts and rotates by CL
 * (counts 0, 1, 4, 31, 33), SHLD/SHRD, MUL/IMUL/DIV/IDIV, BSF/BSR, BT/BTS/BTR/BTC, BSWAP, DAA/DAS/AAA/
 * AAS/AAM/AAD, XADD and all 16 SETcc conditions after CMP. Exits through isa-debug-exit with
 * ARITH_TABLE_EXIT_VALUE. Used to compare vmxsim with qemu-system-i386 byte for byte.
 *
 * Leaves out: undefined flags and undefined results (BSF/BSR of 0), #DE cases (see the differential
 * tests against the host CPU for exceptions).
 */
import {
  al, ax, Asm, bl, bx, byte, cl, dword, eax, ebx, ecx, edx, esp, lbl, type RegOperand,
} from "../asm/index.ts";
import { writeElf32 } from "../image/elf32-writer.ts";
import { cstr, DEBUG_EXIT_PORT, emitConsoleLib, putc, puts } from "./console-lib.ts";

export const ARITH_TABLE_EXIT_VALUE = 0x30;
const LOAD_ADDR = 0x100000;
const MB_MAGIC = 0x1badb002;
const MB_FLAGS = 0x00000002; // memory information; no address fields: the loader reads the ELF

const CF = 0x001, PF = 0x004, AF = 0x010, ZF = 0x040, SF = 0x080, OF = 0x800;
const ALL = CF | PF | AF | ZF | SF | OF;

const VALUES = [
  0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0x12345678, 0xfedcba98,
];
const COUNTS = [0, 1, 4, 31, 33];

interface Case {
  title: string;
  /** EFLAGS before the instruction (so "unchanged" flags are known). */
  flagsIn: number;
  eax: number;
  ebx: number;
  ecx?: number;
  edx?: number;
  emit: (a: Asm) => void;
  show: ("eax" | "ebx" | "ecx" | "edx")[];
  mask: number;
}

const h = (v: number) => "0x" + (v >>> 0).toString(16).toUpperCase().padStart(8, "0");

/** Pairs (a, b) of edge values: each value against a few others and itself. */
function pairs(): [number, number][] {
  const n = VALUES.length;
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    for (const j of [i, (i * 5 + 3) % n, (i * 7 + 1) % n]) out.push([VALUES[i], VALUES[j]]);
  }
  return out;
}

function cases(): Case[] {
  const out: Case[] = [];
  const sizes: [string, RegOperand, RegOperand][] = [["32", eax, ebx], ["16", ax, bx], ["8", al, bl]];
  const binary: [string, number][] = [
    ["add", ALL], ["adc", ALL], ["sub", ALL], ["sbb", ALL], ["cmp", ALL],
    ["and", ALL & ~AF], ["or", ALL & ~AF], ["xor", ALL & ~AF], ["test", ALL & ~AF],
  ];
  let k = 0;
  for (const [x, y] of pairs()) {
    for (const [op, mask] of binary) {
      for (const [bits, r1, r2] of sizes) {
        const flagsIn = k++ % 2 ? 0x2 | CF : 0x2; // alternate CF for ADC/SBB
        out.push({ title: `${op}${bits} ${h(x)},${h(y)} cf=${flagsIn & 1}`, flagsIn, eax: x, ebx: y,
          emit: (a) => a.insn(op, r1, r2), show: ["eax"], mask });
      }
    }
    out.push({ title: `imul32 ${h(x)},${h(y)}`, flagsIn: 0x2, eax: x, ebx: y, emit: (a) => a.imul(eax, ebx), show: ["eax"], mask: CF | OF });
    out.push({ title: `imul16 ${h(x)},${h(y)},-3`, flagsIn: 0x2, eax: x, ebx: y, emit: (a) => a.imul(ax, bx, -3), show: ["eax"], mask: CF | OF });
    out.push({ title: `mul32 ${h(x)},${h(y)}`, flagsIn: 0x2, eax: x, ebx: y, edx: 0, emit: (a) => a.mul(ebx), show: ["eax", "edx"], mask: CF | OF });
    out.push({ title: `imul32 1op ${h(x)},${h(y)}`, flagsIn: 0x2, eax: x, ebx: y, edx: 0, emit: (a) => a.imul(ebx), show: ["eax", "edx"], mask: CF | OF });
    out.push({ title: `mul8 ${h(x)},${h(y)}`, flagsIn: 0x2, eax: x, ebx: y, emit: (a) => a.mul(bl), show: ["eax"], mask: CF | OF });
    if (y !== 0) {
      out.push({ title: `div32 0:${h(x)}/${h(y)}`, flagsIn: 0x2, eax: x, ebx: y, edx: 0, emit: (a) => a.div(ebx), show: ["eax", "edx"], mask: 0 });
      const sy = y | 0, sx = x | 0;
      if (!(sx === -0x80000000 && sy === -1)) {
        out.push({ title: `idiv32 ${h(x)}/${h(y)}`, flagsIn: 0x2, eax: x, ebx: y, emit: (a) => { a.cdq(); a.idiv(ebx); }, show: ["eax", "edx"], mask: 0 });
      }
      out.push({ title: `bsf ${h(y)}`, flagsIn: 0x2, eax: x, ebx: y, emit: (a) => a.bsf(eax, ebx), show: ["eax"], mask: ZF });
      out.push({ title: `bsr ${h(y)}`, flagsIn: 0x2, eax: x, ebx: y, emit: (a) => a.bsr(eax, ebx), show: ["eax"], mask: ZF });
    }
    for (const op of ["bt", "bts", "btr", "btc"]) {
      out.push({ title: `${op} ${h(x)},${y & 31}`, flagsIn: 0x2, eax: x, ebx: y & 31, emit: (a) => a.insn(op, eax, ebx), show: ["eax"], mask: CF });
    }
    out.push({ title: `xadd ${h(x)},${h(y)}`, flagsIn: 0x2, eax: x, ebx: y, emit: (a) => a.xadd(eax, ebx), show: ["eax", "ebx"], mask: ALL });
    out.push({ title: `setcc after cmp ${h(x)},${h(y)}`, flagsIn: 0x2, eax: x, ebx: y, emit: (a) => setccAll(a), show: [], mask: 0 });
  }
  for (const x of VALUES) {
    for (const [op, mask] of [["neg", ALL], ["not", 0], ["inc", ALL], ["dec", ALL], ["bswap", 0]] as const) {
      for (const cf of [0, 1]) {
        if (cf && op !== "inc" && op !== "dec") continue; // INC/DEC leave CF unchanged: show that
        out.push({ title: `${op} ${h(x)} cf=${cf}`, flagsIn: 0x2 | cf, eax: x, ebx: 0, emit: (a) => a.insn(op, eax), show: ["eax"], mask });
      }
    }
    for (const c of COUNTS) {
      const n = c & 31;
      for (const op of ["shl", "shr", "sar"]) {
        const mask = n === 0 ? ALL : n === 1 ? ALL & ~AF : ALL & ~AF & ~OF;
        out.push({ title: `${op} ${h(x)},${c}`, flagsIn: 0x2 | CF | OF, eax: x, ebx: 0, ecx: c, emit: (a) => a.insn(op, eax, cl), show: ["eax"], mask });
      }
      for (const op of ["rol", "ror", "rcl", "rcr"]) {
        const mask = n === 0 ? ALL : n === 1 ? CF | OF : CF;
        out.push({ title: `${op} ${h(x)},${c}`, flagsIn: 0x2 | CF, eax: x, ebx: 0, ecx: c, emit: (a) => a.insn(op, eax, cl), show: ["eax"], mask });
      }
      for (const op of ["shld", "shrd"]) {
        const mask = n === 0 ? ALL : n === 1 ? ALL & ~AF : ALL & ~AF & ~OF;
        out.push({ title: `${op} ${h(x)},0x9ABCDEF0,${c}`, flagsIn: 0x2, eax: x, ebx: 0x9abcdef0, ecx: c, emit: (a) => a.insn(op, eax, ebx, cl), show: ["eax"], mask });
      }
      for (const op of ["shl", "sar", "rcr"]) {
        const m8 = c % 32 === 0 ? ALL : c % 32 === 1 ? (op === "rcr" ? CF | OF : ALL & ~AF) : op === "rcr" ? CF : ALL & ~AF & ~OF;
        // 8-bit shifts of counts above 8 leave undefined flags/results on some parts: keep counts small.
        if (c > 8) continue;
        out.push({ title: `${op}8 ${h(x & 0xff)},${c}`, flagsIn: 0x2 | CF, eax: x & 0xff, ebx: 0, ecx: c, emit: (a) => a.insn(op, al, cl), show: ["eax"], mask: m8 });
      }
    }
  }
  for (const x of [0x00, 0x09, 0x0a, 0x0f, 0x19, 0x4f, 0x99, 0x9a, 0xa0, 0xff]) {
    for (const af of [0, AF]) {
      for (const cf of [0, CF]) {
        const f = 0x2 | af | cf;
        out.push({ title: `daa ${h(x)} af=${af ? 1 : 0} cf=${cf}`, flagsIn: f, eax: x, ebx: 0, emit: (a) => a.daa(), show: ["eax"], mask: CF | AF | SF | ZF | PF });
        out.push({ title: `das ${h(x)} af=${af ? 1 : 0} cf=${cf}`, flagsIn: f, eax: x, ebx: 0, emit: (a) => a.das(), show: ["eax"], mask: CF | AF | SF | ZF | PF });
        out.push({ title: `aaa ${h(x)} af=${af ? 1 : 0}`, flagsIn: f, eax: x, ebx: 0, emit: (a) => a.aaa(), show: ["eax"], mask: CF | AF });
        out.push({ title: `aas ${h(x)} af=${af ? 1 : 0}`, flagsIn: f, eax: x, ebx: 0, emit: (a) => a.aas(), show: ["eax"], mask: CF | AF });
      }
    }
    out.push({ title: `aam ${h(x)}`, flagsIn: 0x2, eax: x, ebx: 0, emit: (a) => a.aam(), show: ["eax"], mask: SF | ZF | PF });
    out.push({ title: `aad ${h(x | 0x0300)}`, flagsIn: 0x2, eax: x | 0x0300, ebx: 0, emit: (a) => a.aad(), show: ["eax"], mask: SF | ZF | PF });
  }
  return out;
}

const CONDITIONS = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"];

/** CMP EAX, EBX then all 16 SETcc into a byte buffer, printed as 0/1 characters. */
function setccAll(a: Asm): void {
  a.cmp(eax, ebx);
  CONDITIONS.forEach((cc, k) => a.insn(`set${cc}`, byte(lbl("setcc_buf", k))));
  for (let k = 0; k < 16; k += 4) a.or(dword(lbl("setcc_buf", k)), 0x30303030);
  puts(a, "setcc_buf");
}

/** The kernel: a Multiboot header (no address fields), then code, in one ELF PT_LOAD segment. */
export function buildArithTable(): Uint8Array {
  const a = new Asm({ bits: 32, origin: LOAD_ADDR });
  a.dd(MB_MAGIC, MB_FLAGS, (-(MB_MAGIC + MB_FLAGS)) >>> 0);
  a.label("start");
  a.mov(esp, "stack_top");
  a.cld();
  puts(a, "title");
  const list = cases();
  list.forEach((c, k) => {
    puts(a, `c${k}`);
    a.push(c.flagsIn);
    a.popfd();
    a.mov(eax, c.eax);
    a.mov(ebx, c.ebx);
    a.mov(ecx, c.ecx ?? 0);
    a.mov(edx, c.edx ?? 0);
    c.emit(a);
    if (c.show.length || c.mask) a.call("show");
    if (c.show.includes("eax")) a.call("show_eax");
    if (c.show.includes("ebx")) a.call("show_ebx");
    if (c.show.includes("edx")) a.call("show_edx");
    if (c.mask) {
      a.mov(eax, c.mask);
      a.call("show_flags");
    }
    if (c.show.length || c.mask) a.add(esp, 40); // the snapshot and the spent return address
    putc(a, "\n");
  });
  puts(a, "bye");
  a.mov(al, ARITH_TABLE_EXIT_VALUE);
  a.out(DEBUG_EXIT_PORT, al);
  a.cli();
  a.hlt();

  // show: snapshot PUSHFD + PUSHAD under the return address; the show_* helpers print from it.
  // Frame seen by show_*: [esp+4] = return into the case, then EDI ESI EBP ESP EBX EDX ECX EAX EFLAGS.
  a.label("show");
  a.pushfd();
  a.pushad();
  a.push(dword(esp, 36)); // the return address, below the snapshot
  a.ret();
  const field = (name: string, slot: number, label: string) => {
    a.label(name);
    puts(a, label);
    a.mov(eax, dword(esp, 4 + slot));
    a.call("print_hex");
    a.ret();
  };
  field("show_eax", 28, "s_eax");
  field("show_ebx", 16, "s_ebx");
  field("show_edx", 20, "s_edx");
  a.label("show_flags"); // EAX = mask
  puts(a, "s_flags");
  a.and(eax, dword(esp, 4 + 32));
  a.call("print_hex");
  a.ret();

  emitConsoleLib(a);
  cstr(a, "title", "integer instruction table: result registers and defined flags\n");
  cstr(a, "bye", "done; exit through isa-debug-exit\n");
  cstr(a, "s_eax", " eax=");
  cstr(a, "s_ebx", " ebx=");
  cstr(a, "s_edx", " edx=");
  cstr(a, "s_flags", " flags=");
  list.forEach((c, k) => cstr(a, `c${k}`, c.title + ":"));
  a.align(4096); // written data on pages of their own, away from the code
  a.label("setcc_buf");
  a.times(4096, 0);
  a.label("stack_top");
  const img = a.build();
  return writeElf32({ entry: img.symbols.start, segments: [{ paddr: LOAD_ADDR, bytes: img.bytes }] });
}
