/**
 * Memory operand -> ModRM.mod/rm, SIB and displacement, for 16- and 32-bit addressing.
 * Follows SDM Vol. 2 2.1.5, Tables 2-1 (16-bit), 2-2 and 2-3 (32-bit, SIB), and NASM's choices where
 * the SDM allows several encodings: no displacement for [reg] (EBP/BP take disp8 0), disp8 when it fits,
 * ESP only as base (an unscaled ESP index is swapped into the base), [r*1] becomes [r], [r*2] becomes
 * [r+r*1] (shorter than the disp32 SIB form), a label displacement is always full size.
 * Leaves out: 64-bit forms, RIP-relative, and NASM's "nosplit"/explicit "byte"/"dword" disp hints.
 */
import type { LabelRef, MemOperand, RegOperand } from "./operands.ts";

export interface MemEncoding {
  /** Address size the encoding uses (67 prefix when it differs from the section's bits). */
  as: 16 | 32;
  mod: number;
  rm: number;
  /** SIB byte, or -1. */
  sib: number;
  dispSize: 0 | 1 | 2 | 4;
  /** Displacement to emit: a number already reduced to dispSize, or a label resolved at build time. */
  disp: number | LabelRef;
}

const SEG_PREFIX = [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65] as const;

export function segPrefix(seg: RegOperand): number {
  return SEG_PREFIX[seg.num];
}

/** True when `v` is a valid value of a `bits`-wide field read either as signed or as unsigned. */
export function fitsBits(v: number, bits: number): boolean {
  return Number.isInteger(v) && v >= -(2 ** (bits - 1)) && v <= 2 ** bits - 1;
}

/** `v` (which fitsBits(v, bits)) seen as a signed `bits`-wide value. */
export function toSigned(v: number, bits: number): number {
  const m = 2 ** bits;
  const u = ((v % m) + m) % m;
  return u >= m / 2 ? u - m : u;
}

const fitsI8 = (v: number, bits: number) => {
  const s = toSigned(v, bits);
  return s >= -128 && s <= 127;
};

/** Encode a memory operand; returns an error message string when the form does not exist. */
export function encodeMem(m: MemOperand, bits: 16 | 32): MemEncoding | string {
  const regs = [m.base, m.index].filter((r): r is RegOperand => r !== undefined);
  for (const r of regs) if (r.type !== "r16" && r.type !== "r32") return `${r.name} cannot address memory`;
  if (regs.length === 2 && regs[0].type !== regs[1].type) return "mixed 16- and 32-bit address registers";
  const as: 16 | 32 = regs.length > 0 ? (regs[0].type === "r16" ? 16 : 32) : bits;
  if (typeof m.disp === "number" && !fitsBits(m.disp, as)) {
    return `displacement ${m.disp} out of range for ${as}-bit addressing`;
  }
  return as === 16 ? encode16(m) : encode32(m);
}

// SDM Table 2-1: rm for each register combination (names sorted so [si+bx] = [bx+si]).
const RM16: Record<string, number> = {
  "bx+si": 0, "bx+di": 1, "bp+si": 2, "bp+di": 3, si: 4, di: 5, bp: 6, bx: 7,
};

function encode16(m: MemOperand): MemEncoding | string {
  if (m.index && m.scale !== 1) return "16-bit addressing has no scaled index";
  const names = [m.base, m.index].filter((r) => r !== undefined).map((r) => r.name);
  names.sort((a, b) => (a[0] === "b" ? 0 : 1) - (b[0] === "b" ? 0 : 1));
  const disp = m.disp;
  if (names.length === 0) return { as: 16, mod: 0, rm: 6, sib: -1, dispSize: 2, disp: num(disp, 16) };
  const rm = RM16[names.join("+")];
  if (rm === undefined) return `[${names.join("+")}] is not a 16-bit addressing form`;
  if (typeof disp !== "number") return { as: 16, mod: 2, rm, sib: -1, dispSize: 2, disp };
  if (disp === 0 && rm !== 6) return { as: 16, mod: 0, rm, sib: -1, dispSize: 0, disp: 0 };
  if (fitsI8(disp, 16)) return { as: 16, mod: 1, rm, sib: -1, dispSize: 1, disp: toSigned(disp, 16) & 0xff };
  return { as: 16, mod: 2, rm, sib: -1, dispSize: 2, disp: num(disp, 16) };
}

function encode32(m: MemOperand): MemEncoding | string {
  let base = m.base;
  let index = m.index;
  let scale: number = m.scale;
  if (index && !base && scale === 1) [base, index] = [index, undefined];
  else if (index && !base && scale === 2) [base, scale] = [index, 1];
  if (index?.num === 4) {
    if (scale !== 1 || !base || base.num === 4) return "esp cannot be an index register";
    [base, index] = [index, base];
  }
  const disp = m.disp;
  const ss = [1, 2, 4, 8].indexOf(scale);
  if (!base) {
    // No base: disp32 alone (mod 00 rm 101), or SIB with base 101 when there is an index.
    if (!index) return { as: 32, mod: 0, rm: 5, sib: -1, dispSize: 4, disp: num(disp, 32) };
    return { as: 32, mod: 0, rm: 4, sib: (ss << 6) | (index.num << 3) | 5, dispSize: 4, disp: num(disp, 32) };
  }
  const needSib = index !== undefined || base.num === 4;
  const rm = needSib ? 4 : base.num;
  const sib = needSib ? (ss << 6) | ((index?.num ?? 4) << 3) | base.num : -1;
  if (typeof disp !== "number") return { as: 32, mod: 2, rm, sib, dispSize: 4, disp };
  if (disp === 0 && base.num !== 5) return { as: 32, mod: 0, rm, sib, dispSize: 0, disp: 0 };
  if (fitsI8(disp, 32)) return { as: 32, mod: 1, rm, sib, dispSize: 1, disp: toSigned(disp, 32) & 0xff };
  return { as: 32, mod: 2, rm, sib, dispSize: 4, disp: num(disp, 32) };
}

function num(disp: number | LabelRef, bits: number): number | LabelRef {
  return typeof disp === "number" ? toSigned(disp, bits) : disp;
}
