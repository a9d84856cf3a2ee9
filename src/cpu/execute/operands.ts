/**
 * Operand access shared by the instruction handlers: effective-address calculation (SDM Vol. 1 3.7.5,
 * Vol. 2 2.1.5) and generic reads/writes of ModRM r/m and reg operands by operation size.
 * Handlers on the hot path specialise instead of calling these (see alu.ts); the rest use them.
 */
import type { CoreState } from "../core-state.ts";
import type { Insn } from "../insn.ts";
import { checkSegmentAccess } from "../segment-checks.ts";
import { fault } from "../exceptions.ts";

/** Offset (effective address) of the memory operand, wrapped to the address size. */
export function offsetOf(c: CoreState, i: Insn): number {
  const r = c.regs;
  const a = r[i.base] + (r[i.index] << i.scale) + i.disp;
  return i.a16 ? a & 0xffff : a | 0;
}

/**
 * Linear address of the memory operand (segment base + effective address), after the segment checks
 * for the access the decoder recorded (i.msize bytes, written when i.mwrite; segment-checks.ts). The
 * check is one byte load for a flat segment.
 */
export function ea(c: CoreState, i: Insn): number {
  const r = c.regs;
  let a = r[i.base] + (r[i.index] << i.scale) + i.disp;
  if (i.a16) a &= 0xffff;
  const s = i.seg;
  if (c.segCheck[s] !== 0) checkSegmentAccess(c, s, a, i.msize, i.mwrite);
  return (c.segBase[s] + a) | 0;
}

export function readE(c: CoreState, i: Insn, size: number = i.osize): number {
  if (i.rm >= 0) return c.getReg(i.rm, size);
  return c.readN(ea(c, i), size);
}

export function writeE(c: CoreState, i: Insn, v: number, size: number = i.osize): void {
  if (i.rm >= 0) c.setReg(i.rm, size, v);
  else c.writeN(ea(c, i), size, v);
}

export function readG(c: CoreState, i: Insn, size: number = i.osize): number {
  return c.getReg(i.reg, size);
}

export function writeG(c: CoreState, i: Insn, v: number, size: number = i.osize): void {
  c.setReg(i.reg, size, v);
}

/** Zero-extend a value of the given size to an unsigned number. */
export function zx(v: number, size: number): number {
  return size === 4 ? v >>> 0 : size === 2 ? v & 0xffff : v & 0xff;
}

/** Sign-extend a value of the given size to int32. */
export function sx(v: number, size: number): number {
  return size === 4 ? v | 0 : size === 2 ? (v << 16) >> 16 : (v << 24) >> 24;
}

/** A near branch target (already wrapped to the operand size) must lie within the CS limit, else #GP(0)
 * at the branch (SDM Vol. 2 JMP, CALL, RET). */
export function checkTarget(c: CoreState, target: number): void {
  if (target >>> 0 > c.segLimit[1] >>> 0) fault(13, 0);
}

/** Set EIP to a branch target, wrapping to 16 bits for a 16-bit operand size. */
export function jumpTo(c: CoreState, i: Insn, target: number): void {
  const t = i.opsize === 2 ? target & 0xffff : target | 0;
  checkTarget(c, t);
  c.eip = t;
}
