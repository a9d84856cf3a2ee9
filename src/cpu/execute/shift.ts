/**
 * ROL ROR RCL RCR SHL/SAL SHR SAR (by 1, CL, imm8) and SHLD/SHRD (SDM Vol. 2B "RCL/RCR/ROL/ROR",
 * "SAL/SAR/SHL/SHR", "SHLD", "SHRD").
 *
 * The count is masked to 5 bits first; a masked count of 0 changes nothing, flags included. RCL/RCR
 * then rotate by count mod 9 / mod 17 for 8/16-bit operands; ROL/ROR by count mod 8/16, but a
 * non-zero masked count still updates CF and OF even when the rotation is a whole turn.
 *
 * Undefined cases, chosen to match Intel hardware as modelled by Bochs and QEMU:
 * - OF after a count > 1 is computed with the count-1 formula (SHL/RCL/ROL: CF xor MSB(result);
 *   SHR/SHRD/RCR/ROR: MSB xor next bit of the result; SAR: 0).
 * - AF is cleared by shifts (not touched by rotates, which leave SF ZF AF PF unchanged).
 * - SHL/SHR of an 8/16-bit operand by more than its width gives 0 and CF = 0 (SHL by exactly the width
 *   leaves CF = old bit 0).
 * - 16-bit SHLD/SHRD with a count of 17..31 shift the 48-bit value dest:src:dest (QEMU's "Intel
 *   behaviour"); CF is the last bit shifted out of that value.
 * Memory operands are read even for a count of 0 (the access faults as on hardware) but written only
 * for a non-zero count.
 */
import type { IsaRow } from "../isa/types.ts";
import type { ExecFn, Insn } from "../insn.ts";
import type { CoreState } from "../core-state.ts";
import type { ExecTable } from "./registry.ts";
import { ShiftOp } from "../isa/table-arith.ts";
import { getCF, setArith, szp } from "../flags.ts";
import { ea } from "./operands.ts";
import { setAllArith as setAll } from "./eager-flags.ts";

const CF_OF = 0x801;

/**
 * One shift or rotate on a value zero-extended from `size` bytes (any 32-bit value for size 4) by a
 * masked count n in 1..31; sets the flags and returns the result (only its low `size` bytes matter).
 */
type ShiftFn = (c: CoreState, v: number, n: number, size: number) => number;

const MASK = [0, 0xff, 0xffff, 0, -1];
const SIGN = [0, 0x80, 0x8000, 0, 0x80000000 | 0];

/** OF as MSB(r) xor the bit below it (right shifts and rotates), as an EFLAGS.OF bit. */
function ofRight(r: number, size: number): number {
  return ((r ^ (r << 1)) & SIGN[size]) !== 0 ? 0x800 : 0;
}

function rol(c: CoreState, v: number, n: number, size: number): number {
  const w = size << 3;
  const k = n & (w - 1);
  const r = k === 0 ? v : ((v << k) | ((v & MASK[size]) >>> (w - k))) & MASK[size];
  const cf = r & 1;
  setArith(c, CF_OF, cf | ((r & SIGN[size]) !== 0 ? cf ^ 1 : cf) << 11);
  return r;
}

function ror(c: CoreState, v: number, n: number, size: number): number {
  const w = size << 3;
  const k = n & (w - 1);
  const u = v & MASK[size];
  const r = k === 0 ? u : ((u >>> k) | (u << (w - k))) & MASK[size];
  setArith(c, CF_OF, ((r & SIGN[size]) !== 0 ? 1 : 0) | ofRight(r, size));
  return r;
}

function rcl(c: CoreState, v: number, n: number, size: number): number {
  const w = size << 3;
  const k = size === 4 ? n : n % (w + 1);
  if (k === 0) return v; // a whole turn through CF: nothing changes
  const u = (v & MASK[size]) >>> 0;
  const r = ((u << k) | (getCF(c) << (k - 1)) | (k === 1 ? 0 : u >>> (w + 1 - k))) & MASK[size];
  const cf = (u >>> (w - k)) & 1;
  setArith(c, CF_OF, cf | (((r & SIGN[size]) !== 0 ? cf ^ 1 : cf) << 11));
  return r;
}

function rcr(c: CoreState, v: number, n: number, size: number): number {
  const w = size << 3;
  const k = size === 4 ? n : n % (w + 1);
  if (k === 0) return v;
  const u = (v & MASK[size]) >>> 0;
  const r = ((u >>> k) | (getCF(c) << (w - k)) | (k === 1 ? 0 : u << (w + 1 - k))) & MASK[size];
  setArith(c, CF_OF, ((u >>> (k - 1)) & 1) | ofRight(r, size));
  return r;
}

function shl(c: CoreState, v: number, n: number, size: number): number {
  const w = size << 3;
  let r = 0;
  let cf = 0;
  if (n <= w) {
    r = n === 32 ? 0 : (v << n) & MASK[size];
    cf = (v >>> (w - n)) & 1;
  }
  setAll(c, cf | szp(r, size) | (((r & SIGN[size]) !== 0 ? cf ^ 1 : cf) << 11));
  return r;
}

function shr(c: CoreState, v: number, n: number, size: number): number {
  const u = (v & MASK[size]) >>> 0;
  const r = u >>> n;
  setAll(c, ((u >>> (n - 1)) & 1) | szp(r, size) | ofRight(r, size));
  return r;
}

function sar(c: CoreState, v: number, n: number, size: number): number {
  const s = size === 4 ? v | 0 : size === 2 ? (v << 16) >> 16 : (v << 24) >> 24;
  const r = (s >> n) & MASK[size];
  setAll(c, ((s >> (n - 1)) & 1) | szp(r, size));
  return r;
}

/** Indexed by ShiftOp (the ModRM.reg digit); SAL (6) is SHL. */
const SHIFT_FNS: readonly ShiftFn[] = [rol, ror, rcl, rcr, shl, shr, shl, sar];

/**
 * The handler for one decoded shift: the count source (1, CL or imm8) and register vs memory are
 * fixed per instruction, so a constant count is masked once here.
 */
function shiftExec(i: Insn, row: IsaRow): ExecFn {
  const f = SHIFT_FNS[i.param & 7];
  const size = i.osize;
  const countSpec = row.operands[1];
  const byCl = countSpec === "CL";
  const k = countSpec === "1" ? 1 : i.imm & 0x1f;
  if (i.rm < 0) {
    if (byCl) {
      return (c, i) => {
        const lin = ea(c, i);
        const v = c.readN(lin, size);
        const n = c.regs[1] & 0x1f;
        if (n !== 0) c.writeN(lin, size, f(c, v, n, size));
      };
    }
    if (k === 0) return (c, i) => void c.readN(ea(c, i), size);
    return (c, i) => {
      const lin = ea(c, i);
      c.writeN(lin, size, f(c, c.readN(lin, size), k, size));
    };
  }
  if (size === 4) return byCl || k !== 0 ? reg32(i.param & 7, byCl, k) : () => {};
  if (byCl) {
    return (c, i) => {
      const n = c.regs[1] & 0x1f;
      if (n !== 0) c.setReg(i.rm, size, f(c, c.getReg(i.rm, size), n, size));
    };
  }
  if (k === 0) return () => {};
  return (c, i) => c.setReg(i.rm, size, f(c, c.getReg(i.rm, size), k, size));
}

/**
 * 32-bit register forms, the common case: one function literal per operation, so that each literal's
 * call is monomorphic and V8 inlines the operation (one shared literal calling `f` would not).
 */
function reg32(op: number, byCl: boolean, k: number): ExecFn {
  switch (op) {
    case ShiftOp.ROL:
      return (c, i) => {
        const n = byCl ? c.regs[1] & 0x1f : k;
        if (n !== 0) c.regs[i.rm] = rol(c, c.regs[i.rm], n, 4);
      };
    case ShiftOp.ROR:
      return (c, i) => {
        const n = byCl ? c.regs[1] & 0x1f : k;
        if (n !== 0) c.regs[i.rm] = ror(c, c.regs[i.rm], n, 4);
      };
    case ShiftOp.RCL:
      return (c, i) => {
        const n = byCl ? c.regs[1] & 0x1f : k;
        if (n !== 0) c.regs[i.rm] = rcl(c, c.regs[i.rm], n, 4);
      };
    case ShiftOp.RCR:
      return (c, i) => {
        const n = byCl ? c.regs[1] & 0x1f : k;
        if (n !== 0) c.regs[i.rm] = rcr(c, c.regs[i.rm], n, 4);
      };
    case ShiftOp.SHR:
      return (c, i) => {
        const n = byCl ? c.regs[1] & 0x1f : k;
        if (n !== 0) c.regs[i.rm] = shr(c, c.regs[i.rm], n, 4);
      };
    case ShiftOp.SAR:
      return (c, i) => {
        const n = byCl ? c.regs[1] & 0x1f : k;
        if (n !== 0) c.regs[i.rm] = sar(c, c.regs[i.rm], n, 4);
      };
    default: // SHL, SAL
      return (c, i) => {
        const n = byCl ? c.regs[1] & 0x1f : k;
        if (n !== 0) c.regs[i.rm] = shl(c, c.regs[i.rm], n, 4);
      };
  }
}

// ---- SHLD / SHRD --------------------------------------------------------------------------------------

/** dest shifted left by n (1..31), filling from src; sets flags. */
function shld(c: CoreState, d: number, s: number, n: number, size: number): number {
  let r: number;
  let cf: number;
  if (size === 4) {
    r = (d << n) | (s >>> (32 - n));
    cf = (d >>> (32 - n)) & 1;
  } else {
    d &= 0xffff;
    s &= 0xffff;
    if (n <= 16) {
      r = ((d << n) | (s >>> (16 - n))) & 0xffff;
      cf = (d >>> (16 - n)) & 1;
    } else {
      const k = n - 16; // dest:src:dest << n: src is now the top word, dest refills from below
      r = ((s << k) | (d >>> (16 - k))) & 0xffff;
      cf = (s >>> (16 - k)) & 1;
    }
  }
  setAll(c, cf | szp(r, size) | (((r & SIGN[size]) !== 0 ? cf ^ 1 : cf) << 11));
  return r;
}

/** dest shifted right by n (1..31), filling from src; sets flags. */
function shrd(c: CoreState, d: number, s: number, n: number, size: number): number {
  let r: number;
  let cf: number;
  if (size === 4) {
    r = (d >>> n) | (s << (32 - n));
    cf = (d >>> (n - 1)) & 1;
  } else {
    d &= 0xffff;
    s &= 0xffff;
    if (n <= 16) {
      r = ((d >>> n) | (s << (16 - n))) & 0xffff;
      cf = (d >>> (n - 1)) & 1;
    } else {
      const k = n - 16; // dest:src:dest >> n
      r = ((s >>> k) | (d << (16 - k))) & 0xffff;
      cf = (s >>> (k - 1)) & 1;
    }
  }
  setAll(c, cf | szp(r, size) | ofRight(r, size));
  return r;
}

function doubleShiftExec(i: Insn, row: IsaRow, f: typeof shld): ExecFn {
  const size = i.osize;
  const byCl = row.operands[2] === "CL";
  const k = i.imm & 0x1f;
  if (i.rm < 0) {
    return (c, i) => {
      const lin = ea(c, i);
      const d = c.readN(lin, size);
      const n = byCl ? c.regs[1] & 0x1f : k;
      if (n !== 0) c.writeN(lin, size, f(c, d, c.regs[i.reg], n, size));
    };
  }
  if (!byCl && k === 0) return () => {};
  if (size === 4) {
    return (c, i) => {
      const n = byCl ? c.regs[1] & 0x1f : k;
      if (n !== 0) c.regs[i.rm] = f(c, c.regs[i.rm], c.regs[i.reg], n, 4);
    };
  }
  return (c, i) => {
    const n = byCl ? c.regs[1] & 0x1f : k;
    if (n !== 0) c.setReg(i.rm, 2, f(c, c.regs[i.rm], c.regs[i.reg], n, 2));
  };
}

export const SHIFT_EXEC: ExecTable = {
  shift: shiftExec,
  shld: (i, row) => doubleShiftExec(i, row, shld),
  shrd: (i, row) => doubleShiftExec(i, row, shrd),
};
