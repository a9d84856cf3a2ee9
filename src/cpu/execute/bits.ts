/**
 * BT BTS BTR BTC and BSF BSR (SDM Vol. 2A "BT", "BTS", "BTR", "BTC", "BSF", "BSR"; bit-string
 * addressing in Vol. 1 3.6.2 / Vol. 2A Table 3-2 "Range of Bit Positions Specified by Bit Offset
 * Operands").
 *
 * A register bit offset into a memory operand is a signed bit-string index: the operand-size word at
 * EA + size * (offset DIV width) is accessed (floor division, so negative offsets reach below EA) and
 * the address wraps to the address size. An immediate offset, or any offset into a register, is taken
 * modulo the operand width.
 *
 * Flags: BT* define only CF and leave the others unchanged (what Bochs and the P6 column of sandpile.org
 * record for hardware; the SDM lists OF SF AF PF as undefined and ZF as unaffected). BSF/BSR with a zero
 * source set ZF, leave the destination and the other flags unchanged (Intel and AMD documented
 * behaviour for the destination); with a non-zero source they give the flags of a logical operation on
 * the index (ZF = 0, PF = its parity, CF OF SF AF = 0), as Bochs does.
 */
import type { IsaRow } from "../isa/types.ts";
import type { ExecFn, Insn } from "../insn.ts";
import type { CoreState } from "../core-state.ts";
import type { ExecTable } from "./registry.ts";
import { PARITY as PAR, setArith } from "../flags.ts";
import { ea, offsetOf } from "./operands.ts";
import { setAllArith as setAll } from "./eager-flags.ts";

/** New value of the operand after BT (0), BTS (1), BTR (2) or BTC (3) of `bit` (a one-bit mask). */
function apply(op: number, v: number, bit: number): number {
  return op === 1 ? v | bit : op === 2 ? v & ~bit : v ^ bit;
}

function btExec(i: Insn, row: IsaRow): ExecFn {
  const op = i.param & 3;
  const size = i.osize;
  const bits = size << 3;
  const byImm = row.operands[1] !== "Gv";
  const immBit = i.imm & (bits - 1);
  if (i.rm >= 0) {
    return (c, i) => {
      const v = c.getReg(i.rm, size);
      const b = byImm ? immBit : c.regs[i.reg] & (bits - 1);
      setArith(c, 1, (v >>> b) & 1);
      if (op !== 0) c.setReg(i.rm, size, apply(op, v, 1 << b));
    };
  }
  if (byImm) {
    return (c, i) => {
      const lin = ea(c, i);
      const v = c.readN(lin, size);
      setArith(c, 1, (v >>> immBit) & 1);
      if (op !== 0) c.writeN(lin, size, apply(op, v, 1 << immBit));
    };
  }
  const shift = size === 4 ? 5 : 4;
  return (c, i) => {
    const off = size === 4 ? c.regs[i.reg] : (c.regs[i.reg] << 16) >> 16;
    // Offset DIV width is an arithmetic shift; the byte displacement is size * that.
    let a = offsetOf(c, i) + (off >> shift) * size;
    a = i.a16 ? a & 0xffff : a | 0;
    c.checkSegment(i.seg, a, size, op !== 0);
    const lin = (c.segBase[i.seg] + a) | 0;
    const v = c.readN(lin, size);
    const b = off & (bits - 1);
    setArith(c, 1, (v >>> b) & 1);
    if (op !== 0) c.writeN(lin, size, apply(op, v, 1 << b));
  };
}

/** Read the r/m source of BSF/BSR, zero-extended to the operand size. */
function srcOf(i: Insn, size: number): (c: CoreState, i: Insn) => number {
  if (i.rm >= 0) return (c, i) => c.getReg(i.rm, size);
  return (c, i) => c.readN(ea(c, i), size);
}

function scanExec(i: Insn, reverse: boolean): ExecFn {
  const size = i.osize;
  const mask = size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
  const src = srcOf(i, size);
  return (c, i) => {
    const v = src(c, i) & mask;
    if (v === 0) {
      setArith(c, 0x40, 0x40);
      return;
    }
    const idx = reverse ? 31 - Math.clz32(v) : 31 - Math.clz32(v & -v);
    c.setReg(i.reg, size, idx);
    setAll(c, PAR[idx] << 2);
  };
}

export const BIT_EXEC: ExecTable = {
  bt: btExec,
  bsf: (i) => scanExec(i, false),
  bsr: (i) => scanExec(i, true),
};
