/**
 * Read-modify-write instructions built for atomic use: XADD, CMPXCHG, CMPXCHG8B (SDM Vol. 2 instruction
 * pages). XADD and CMPXCHG record their flags lazily as ADD and CMP (SUB) do, compiled per size and form.
 *
 * As the SDM's Operation sections say, CMPXCHG and CMPXCHG8B with a memory destination write it back
 * with its own value when the comparison fails, so a read-only or absent page faults either way. Every
 * memory form stores before it changes a register or the flags, so a faulting store changes nothing.
 * LOCK needs no modelling beyond that: one core executes one instruction at a time.
 */
import type { CoreState } from "../core-state.ts";
import type { ExecFn, Insn } from "../insn.ts";
import type { ExecTable } from "./registry.ts";
import { compile, flagSize, memRead, memWrite, regRead, regWrite } from "./codegen.ts";
import { setArith } from "../flags.ts";
import { Eflags, Reg } from "../registers.ts";
import { ea } from "./operands.ts";

/** XADD: TEMP = SRC + DEST; SRC = DEST; DEST = TEMP (DEST last: XADD r,r with one register gives the sum). */
function xadd(i: Insn): ExecFn {
  const size = i.osize;
  const flags = `c.fop = 1; c.fa = a; c.fb = b; c.fres = r; ${flagSize(size)}`;
  if (i.rm >= 0) {
    return compile(`xadd${size * 8}_r`,
      `const a = ${regRead(size, "i.rm")}; const b = ${regRead(size, "i.reg")}; const r = (a + b) | 0; ` +
      `${regWrite(size, "i.reg", "a")} ${regWrite(size, "i.rm", "r")} ${flags}`);
  }
  return compile(`xadd${size * 8}_m`,
    `const lin = ea(c, i); const a = ${memRead(size)}; const b = ${regRead(size, "i.reg")}; const r = (a + b) | 0; ` +
    `${memWrite(size, "r")} ${regWrite(size, "i.reg", "a")} ${flags}`);
}

/**
 * CMPXCHG: flags of CMP accumulator, DEST. Equal: DEST = SRC. Not equal: accumulator = DEST (and a
 * memory DEST is rewritten with its value).
 */
function cmpxchg(i: Insn): ExecFn {
  const size = i.osize;
  const flags = `c.fop = 3; c.fa = acc; c.fb = d; c.fres = (acc - d) | 0; ${flagSize(size)}`;
  if (i.rm >= 0) {
    return compile(`cmpxchg${size * 8}_r`,
      `const d = ${regRead(size, "i.rm")}; const acc = ${regRead(size, "0")}; ` +
      `if (acc === d) { ${regWrite(size, "i.rm", regRead(size, "i.reg"))} } else { ${regWrite(size, "0", "d")} } ${flags}`);
  }
  return compile(`cmpxchg${size * 8}_m`,
    `const lin = ea(c, i); const d = ${memRead(size)}; const acc = ${regRead(size, "0")}; ` +
    `if (acc === d) { ${memWrite(size, regRead(size, "i.reg"))} } else { ${memWrite(size, "d")} ${regWrite(size, "0", "d")} } ${flags}`);
}

/** CMPXCHG8B m64: compare EDX:EAX with m64; equal: m64 = ECX:EBX, ZF = 1; else EDX:EAX = m64, ZF = 0. */
function cmpxchg8b(c: CoreState, i: Insn): void {
  const r = c.regs;
  const lin = ea(c, i);
  const lo = c.read32(lin);
  const hi = c.read32((lin + 4) | 0);
  if (lo === r[Reg.EAX] && hi === r[Reg.EDX]) {
    c.write32(lin, r[Reg.EBX]);
    c.write32((lin + 4) | 0, r[Reg.ECX]);
    setArith(c, Eflags.ZF, Eflags.ZF);
  } else {
    c.write32(lin, lo);
    c.write32((lin + 4) | 0, hi);
    r[Reg.EAX] = lo;
    r[Reg.EDX] = hi;
    setArith(c, Eflags.ZF, 0);
  }
}

export const ATOMIC_EXEC: ExecTable = {
  xadd: (i) => xadd(i),
  cmpxchg: (i) => cmpxchg(i),
  cmpxchg8b: () => cmpxchg8b,
};
