/**
 * Compiles a hot decoded block into one JavaScript function that calls each instruction's handler
 * directly (a template JIT, as v86 and QEMU's TCG-less interpreters do): every call site is
 * monomorphic, so V8 inlines the small handlers and the per-instruction dispatch disappears.
 *
 * Semantics are exactly the interpreter's (core.ts execBlock): EIP is set to the next instruction before
 * each handler; after an instruction that can stop the run (a store may hit code, I/O, HLT, segment
 * loads ...) the function returns the number of instructions executed; a fault records the index of
 * the faulting instruction in c.faultIndex and propagates.
 */
import type { Block } from "./block-cache.ts";
import type { CoreState } from "./core-state.ts";
import type { Insn } from "./insn.ts";

export type BlockFn = (c: CoreState & { faultIndex: number }) => number;

/** Executors whose register forms touch nothing but registers and flags, and never set c.brk. */
const REGISTER_ONLY = new Set([
  "alu", "test", "incdec", "not", "neg", "mov", "movzx", "movsx", "lea", "shift", "shld", "shrd", "bt",
  "bsf", "bsr", "cmov", "setcc", "bswap", "xchg", "cbw", "cwd", "flagOp", "nop", "mul", "imul", "imul1",
  "div", "idiv", "daa", "das", "aaa", "aas", "aam", "aad", "lahf", "sahf", "jcc", "jmp", "loop", "jcxz",
]);

const MEMORY_SPECS = /^(E|M|O|X|Y)/;

/** True when the instruction cannot set c.brk: a register-only form of a register-only executor. */
export function cannotBreak(i: Insn): boolean {
  const row = i.row;
  if (row === null || !REGISTER_ONLY.has(row.exec)) return false;
  return i.rm >= 0 || !row.operands.some((o) => MEMORY_SPECS.test(o));
}

export function compileBlock(b: Block): BlockFn {
  const insns = b.insns;
  const n = insns.length;
  const params: string[] = [];
  const args: unknown[] = [];
  let body = "let k = 0;\ntry {\n";
  for (let k = 0; k < n; k++) {
    const i = insns[k];
    params.push(`h${k}`, `i${k}`);
    args.push(i.exec, i);
    body += `c.eip = ${i.nextEip}; h${k}(c, i${k});`;
    if (k + 1 < n) {
      body += ` k = ${k + 1};`;
      if (!cannotBreak(i)) body += ` if (c.brk !== 0) return ${k + 1};`;
    }
    body += "\n";
  }
  body += `return ${n};\n} catch (e) { c.faultIndex = k; throw e; }`;
  return new Function(...params, `"use strict"; return function block_${b.pa.toString(16)}(c) {\n${body}\n};`)(
    ...args,
  ) as BlockFn;
}
