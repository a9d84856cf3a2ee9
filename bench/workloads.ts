/**
 * Guest workloads for the interpreter benchmark, built with our assembler as flat 32-bit code that
 * loops forever (the benchmark runs a fixed instruction budget):
 *   (a) loadStoreLoop: a tight integer loop with loads and stores (6 instructions per iteration);
 *   (b) mixedKernel: calls and returns, REP string instructions, a jump table, many small basic blocks,
 *       multiplies, divides and stack traffic.
 * Code and written data sit on different pages, so no store ever lands on a line holding code.
 */
import {
  Asm, byte, dword, eax, ebx, ecx, edi, edx, esi, esp, al, type AsmImage,
} from "../src/guests/asm/index.ts";

export const ORIGIN = 0x100000;
const DATA = 0x200000; // 64 KiB of data, its own pages
const STACK_TOP = 0x300000;

export function loadStoreLoop(): AsmImage {
  const a = new Asm({ bits: 32, origin: ORIGIN });
  a.mov(ebx, DATA);
  a.xor(edx, edx);
  a.label("outer");
  a.mov(ecx, 1024);
  a.label("loop");
  a.mov(eax, dword({ base: ebx, index: ecx, scale: 4 }));
  a.add(eax, edx);
  a.mov(dword({ base: ebx, index: ecx, scale: 4, disp: 4096 }), eax);
  a.inc(edx);
  a.dec(ecx);
  a.jnz("loop");
  a.jmp("outer");
  return a.build();
}

export function mixedKernel(): AsmImage {
  const a = new Asm({ bits: 32, origin: ORIGIN });
  a.mov(esp, STACK_TOP);
  a.cld();
  a.xor(ebx, ebx);
  a.label("main");
  a.call("copy");
  a.call("fill_scan");
  a.call("dispatch");
  a.call("arith");
  a.call("branchy");
  a.inc(ebx);
  a.jmp("main");

  // REP MOVSD 64 bytes, then a byte-wise compare of 16 bytes.
  a.label("copy");
  a.mov(esi, DATA);
  a.mov(edi, DATA + 0x1000);
  a.mov(ecx, 16);
  a.rep().movsd();
  a.mov(esi, DATA);
  a.mov(edi, DATA + 0x1000);
  a.mov(ecx, 16);
  a.repe().cmpsb();
  a.ret();

  // REP STOSB 32 bytes with a marker, then REPNE SCASB to find it.
  a.label("fill_scan");
  a.mov(edi, DATA + 0x2000);
  a.mov(ecx, 32);
  a.mov(al, 0x20);
  a.rep().stosb();
  a.mov(byte(DATA + 0x2000 + 20), 0x21);
  a.mov(edi, DATA + 0x2000);
  a.mov(ecx, 32);
  a.mov(al, 0x21);
  a.repne().scasb();
  a.ret();

  // A jump table over 8 small blocks, indexed by the iteration count.
  a.label("dispatch");
  a.mov(eax, ebx);
  a.and(eax, 7);
  a.jmp(dword({ index: eax, scale: 4, disp: "table" }));
  for (let k = 0; k < 8; k++) {
    a.label(`case${k}`);
    a.add(dword(DATA + 0x3000 + 4 * k), k + 1);
    a.ret();
  }

  // Multiply, divide, push/pop.
  a.label("arith");
  a.push(ebx);
  a.mov(eax, ebx);
  a.imul(eax, eax, 2654435761 | 0);
  a.xor(edx, edx);
  a.mov(ecx, 1000003);
  a.div(ecx);
  a.mov(dword(DATA + 0x3100), edx);
  a.pop(ebx);
  a.ret();

  // A chain of small conditional blocks.
  a.label("branchy");
  a.mov(eax, ebx);
  for (let k = 0; k < 12; k++) {
    a.test(eax, 1 << k);
    a.jz(`b${k}`);
    a.add(dword(DATA + 0x3200), k);
    a.label(`b${k}`);
  }
  a.ret();

  a.align(4);
  a.label("table");
  for (let k = 0; k < 8; k++) a.dd(`case${k}`);
  return a.build();
}


