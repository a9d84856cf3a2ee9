/**
 * MUL, IMUL (one-, two- and three-operand forms), DIV, IDIV (SDM Vol. 2A/2B instruction pages).
 *
 * 64-bit products and dividends are handled with exact double arithmetic on 16/32-bit pieces instead of
 * BigInt (several times faster, and allocation-free): every intermediate stays below 2^53.
 *
 * Undefined flags, chosen to match hardware where the sources agree (Bochs, validated against P6-family
 * parts; sandpile.org "undefined integer FLAGS behavior", P4 column):
 * - MUL/IMUL: SF ZF PF from the low half of the product (the stored result for 2/3-operand IMUL), AF = 0.
 * - DIV/IDIV: all six flags unchanged (libx86emu's hardware experiments, Bochs).
 * Leaves out: nothing architectural; #DE is raised for a zero divisor and for a quotient overflow.
 */
import type { IsaRow } from "../isa/types.ts";
import type { ExecFn, Insn } from "../insn.ts";
import type { CoreState } from "../core-state.ts";
import type { ExecTable } from "./registry.ts";
import { szp } from "../flags.ts";
import { fault, Vector } from "../exceptions.ts";
import { ea } from "./operands.ts";
import { setAllArith as setAll } from "./eager-flags.ts";

const CF_OF = 0x801;

/** Source operand reader for r/m forms, chosen once per decoded instruction. */
type Src = (c: CoreState, i: Insn) => number;

function srcOf(i: Insn, size: number): Src {
  if (i.rm >= 0) {
    if (size === 4) return (c, i) => c.regs[i.rm];
    if (size === 2) return (c, i) => c.regs[i.rm] & 0xffff;
    return (c, i) => c.getReg(i.rm, 1);
  }
  if (size === 4) return (c, i) => c.read32(ea(c, i));
  if (size === 2) return (c, i) => c.read16(ea(c, i));
  return (c, i) => c.read8(ea(c, i));
}

// ---- 32 x 32 -> 64 products --------------------------------------------------------------------------

/** High 32 bits (unsigned, as a number) of the unsigned product of two 32-bit values. */
export function mulHighU32(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const lh = al * bh, hl = ah * bl;
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + Math.floor(lh / 65536) + Math.floor(hl / 65536) + Math.floor(mid / 65536)) >>> 0;
}

/** High 32 bits (as int32) of the signed product of two int32 values. */
export function mulHighS32(a: number, b: number): number {
  // Signed high half = unsigned high half - (a < 0 ? b : 0) - (b < 0 ? a : 0), modulo 2^32.
  let h = mulHighU32(a, b);
  if (a < 0) h -= b >>> 0;
  if (b < 0) h -= a >>> 0;
  return h | 0;
}

// ---- 64 / 32 division ---------------------------------------------------------------------------------

/** Remainder of the last udiv64() call (module scratch: no allocation per division). */
let udivRem = 0;

/**
 * Unsigned (hi:lo) / d for hi < d (so the quotient fits in 32 bits), by two 16-bit long-division steps.
 * Each partial dividend is below d * 2^16 <= 2^48, so the quotients are exact: floor(t / d) of a correctly
 * rounded t / d cannot round up to the next integer because the distance 1/d exceeds half an ulp.
 */
function udiv64(hi: number, lo: number, d: number): number {
  let t = hi * 65536 + (lo >>> 16);
  const q1 = Math.floor(t / d);
  t = (t - q1 * d) * 65536 + (lo & 0xffff);
  const q0 = Math.floor(t / d);
  udivRem = t - q0 * d;
  return q1 * 65536 + q0;
}

// ---- MUL ----------------------------------------------------------------------------------------------

function mul(i: Insn): ExecFn {
  const size = i.osize;
  const src = srcOf(i, size);
  if (size === 1) {
    return (c, i) => {
      const p = (c.regs[0] & 0xff) * src(c, i);
      c.regs[0] = (c.regs[0] & -65536) | p;
      setAll(c, (p > 0xff ? CF_OF : 0) | szp(p, 1));
    };
  }
  if (size === 2) {
    return (c, i) => {
      const p = (c.regs[0] & 0xffff) * src(c, i);
      const hi = p >>> 16;
      c.regs[0] = (c.regs[0] & -65536) | (p & 0xffff);
      c.regs[2] = (c.regs[2] & -65536) | hi;
      setAll(c, (hi !== 0 ? CF_OF : 0) | szp(p, 2));
    };
  }
  return (c, i) => {
    const a = c.regs[0];
    const b = src(c, i);
    const hi = mulHighU32(a, b);
    const lo = Math.imul(a, b);
    c.regs[0] = lo;
    c.regs[2] = hi;
    setAll(c, (hi !== 0 ? CF_OF : 0) | szp(lo, 4));
  };
}

/** One-operand IMUL: AX = AL * r/m8, DX:AX = AX * r/m16, EDX:EAX = EAX * r/m32, all signed. */
function imul1(i: Insn): ExecFn {
  const size = i.osize;
  const src = srcOf(i, size);
  if (size === 1) {
    return (c, i) => {
      const p = ((c.regs[0] << 24) >> 24) * ((src(c, i) << 24) >> 24);
      c.regs[0] = (c.regs[0] & -65536) | (p & 0xffff);
      setAll(c, (((p << 24) >> 24) !== p ? CF_OF : 0) | szp(p, 1));
    };
  }
  if (size === 2) {
    return (c, i) => {
      const p = ((c.regs[0] << 16) >> 16) * ((src(c, i) << 16) >> 16);
      c.regs[0] = (c.regs[0] & -65536) | (p & 0xffff);
      c.regs[2] = (c.regs[2] & -65536) | ((p >> 16) & 0xffff);
      setAll(c, (((p << 16) >> 16) !== p ? CF_OF : 0) | szp(p, 2));
    };
  }
  return (c, i) => {
    const a = c.regs[0];
    const b = src(c, i);
    const hi = mulHighS32(a, b);
    const lo = Math.imul(a, b);
    c.regs[0] = lo;
    c.regs[2] = hi;
    setAll(c, (hi !== lo >> 31 ? CF_OF : 0) | szp(lo, 4));
  };
}

/**
 * Two- and three-operand IMUL: reg = reg * r/m (0F AF) or reg = r/m * imm (69, 6B), truncated to the
 * operand size; CF = OF = 1 when the full signed product does not fit.
 */
function imul(i: Insn, row: IsaRow): ExecFn {
  const size = i.osize;
  const src = srcOf(i, size);
  const three = row.operands.length === 3;
  if (size === 2) {
    const imm = (i.imm << 16) >> 16;
    return (c, i) => {
      const a = three ? imm : (c.regs[i.reg] << 16) >> 16;
      const p = a * ((src(c, i) << 16) >> 16);
      c.regs[i.reg] = (c.regs[i.reg] & -65536) | (p & 0xffff);
      setAll(c, (((p << 16) >> 16) !== p ? CF_OF : 0) | szp(p, 2));
    };
  }
  const imm = i.imm | 0;
  return (c, i) => {
    const a = three ? imm : c.regs[i.reg];
    const b = src(c, i);
    const r = Math.imul(a, b);
    c.regs[i.reg] = r;
    // The double product is exact when it fits in 32 bits, and rounds to a value outside the int32
    // range when it does not (rounding is monotonic and +-2^31 are representable), so it differs from r.
    setAll(c, (a * b !== r ? CF_OF : 0) | szp(r, 4));
  };
}

// ---- DIV / IDIV ---------------------------------------------------------------------------------------

function div(i: Insn): ExecFn {
  const size = i.osize;
  const src = srcOf(i, size);
  if (size === 1) {
    return (c, i) => {
      const d = src(c, i);
      if (d === 0) fault(Vector.DE);
      const n = c.regs[0] & 0xffff;
      const q = Math.floor(n / d);
      if (q > 0xff) fault(Vector.DE);
      c.regs[0] = (c.regs[0] & -65536) | ((n - q * d) << 8) | q;
    };
  }
  if (size === 2) {
    return (c, i) => {
      const d = src(c, i);
      if (d === 0) fault(Vector.DE);
      const n = (((c.regs[2] & 0xffff) << 16) | (c.regs[0] & 0xffff)) >>> 0;
      const q = Math.floor(n / d);
      if (q > 0xffff) fault(Vector.DE);
      c.regs[0] = (c.regs[0] & -65536) | q;
      c.regs[2] = (c.regs[2] & -65536) | (n - q * d);
    };
  }
  return (c, i) => {
    const d = src(c, i) >>> 0;
    const hi = c.regs[2] >>> 0;
    // hi >= d also covers d = 0; both raise #DE (SDM DIV: "IF SRC = 0 THEN #DE"; "IF temp > FFFFFFFFH").
    if (hi >= d) fault(Vector.DE);
    const q = udiv64(hi, c.regs[0], d);
    c.regs[0] = q | 0;
    c.regs[2] = udivRem | 0;
  };
}

function idiv(i: Insn): ExecFn {
  const size = i.osize;
  const src = srcOf(i, size);
  if (size === 1) {
    return (c, i) => {
      const d = (src(c, i) << 24) >> 24;
      if (d === 0) fault(Vector.DE);
      const n = (c.regs[0] << 16) >> 16;
      const q = Math.trunc(n / d);
      if (q > 127 || q < -128) fault(Vector.DE);
      c.regs[0] = (c.regs[0] & -65536) | (((n % d) & 0xff) << 8) | (q & 0xff);
    };
  }
  if (size === 2) {
    return (c, i) => {
      const d = (src(c, i) << 16) >> 16;
      if (d === 0) fault(Vector.DE);
      const n = (c.regs[2] << 16) | (c.regs[0] & 0xffff);
      const q = Math.trunc(n / d);
      if (q > 32767 || q < -32768) fault(Vector.DE);
      c.regs[0] = (c.regs[0] & -65536) | (q & 0xffff);
      c.regs[2] = (c.regs[2] & -65536) | ((n % d) & 0xffff);
    };
  }
  return (c, i) => {
    const d = src(c, i);
    if (d === 0) fault(Vector.DE);
    const hiS = c.regs[2];
    const loS = c.regs[0];
    const neg = hiS < 0;
    // Magnitude of the 64-bit dividend (two's-complement negate of EDX:EAX when negative).
    const lo = neg ? (0 - loS) >>> 0 : loS >>> 0;
    const hi = neg ? (~hiS + (loS === 0 ? 1 : 0)) >>> 0 : hiS >>> 0;
    const dm = d < 0 ? -d : d;
    // |quotient| >= 2^32 overflows whatever the signs.
    if (hi >= dm) fault(Vector.DE);
    const qm = udiv64(hi, lo, dm);
    const qneg = neg !== d < 0;
    if (qneg ? qm > 0x80000000 : qm > 0x7fffffff) fault(Vector.DE);
    c.regs[0] = qneg ? -qm | 0 : qm | 0;
    c.regs[2] = neg ? -udivRem | 0 : udivRem | 0;
  };
}

export const MUL_DIV_EXEC: ExecTable = {
  mul: (i) => mul(i),
  imul1: (i) => imul1(i),
  imul: (i, row) => imul(i, row),
  div: (i) => div(i),
  idiv: (i) => idiv(i),
};
