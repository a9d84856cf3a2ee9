/**
 * Handler templates: hot instruction forms (ALU op x operand size x register/memory/immediate) are
 * compiled from small source templates into distinct JavaScript functions, so each gets its own type
 * feedback and is optimised on its own instead of sharing one polymorphic closure. Generated functions
 * are cached by source, so identical forms share one function. Only this file uses `new Function`.
 */
import type { ExecFn } from "../insn.ts";
import { getCF, condition } from "../flags.ts";
import { checkTarget, ea, offsetOf } from "./operands.ts";

const cache = new Map<string, ExecFn>();

/** Helpers that templates may call by name. */
const HELPERS = { getCF, condition, ea, offsetOf, checkTarget };
const HELPER_NAMES = Object.keys(HELPERS);
const HELPER_VALUES = Object.values(HELPERS);

export function compile(name: string, body: string): ExecFn {
  const key = name + "\n" + body;
  let f = cache.get(key);
  if (f === undefined) {
    const safe = name.replace(/[^A-Za-z0-9_]/g, "_");
    f = new Function(...HELPER_NAMES, `"use strict"; return function ${safe}(c, i) {\n${body}\n};`)(
      ...HELPER_VALUES,
    ) as ExecFn;
    cache.set(key, f);
  }
  return f;
}

/** Source for reading register `n` (an expression) at a size. */
export function regRead(size: number, n: string): string {
  if (size === 4) return `c.regs[${n}]`;
  if (size === 2) return `(c.regs[${n}] & 0xffff)`;
  return `c.getReg(${n}, 1)`;
}

/** Source for writing value expression `v` to register `n` at a size. */
export function regWrite(size: number, n: string, v: string): string {
  if (size === 4) return `c.regs[${n}] = ${v};`;
  if (size === 2) return `c.regs[${n}] = (c.regs[${n}] & -65536) | (${v} & 0xffff);`;
  return `c.setReg(${n}, 1, ${v});`;
}

export function memRead(size: number, lin = "lin"): string {
  return size === 4 ? `c.read32(${lin})` : size === 2 ? `c.read16(${lin})` : `c.read8(${lin})`;
}

export function memWrite(size: number, v: string, lin = "lin"): string {
  return size === 4 ? `c.write32(${lin}, ${v});` : size === 2 ? `c.write16(${lin}, ${v});` : `c.write8(${lin}, ${v});`;
}

/** Lazy-flag size fields for an operation size. */
export function flagSize(size: number): string {
  return size === 4 ? "c.fmask = -1; c.fsign = -2147483648;" : size === 2 ? "c.fmask = 0xffff; c.fsign = 0x8000;" : "c.fmask = 0xff; c.fsign = 0x80;";
}
