/**
 * Decimal adjusts DAA DAS AAA AAS AAM AAD, following the Operation pseudo-code of their SDM Vol. 2A
 * pages (32-bit protected mode: AAA/AAS adjust the whole of AX, "AX := AX + 106H").
 *
 * Undefined flags follow Bochs's model of P6-family hardware: the flags a logical operation on the final
 * AL would give (SF ZF PF from AL, OF = 0; for AAM/AAD also AF = CF = 0), with CF and AF then set as
 * the pseudo-code says where it defines them.
 * Leaves out: nothing; AAM 0 raises #DE.
 */
import type { ExecTable } from "./registry.ts";
import { getAF, getCF, szp } from "../flags.ts";
import { fault, Vector } from "../exceptions.ts";
import { setAllArith as setAll } from "./eager-flags.ts";

const CF = 0x01, AF = 0x10;

export const BCD_EXEC: ExecTable = {
  daa: () => (c) => {
    const oldAl = c.regs[0] & 0xff;
    const oldCf = getCF(c);
    let al = oldAl;
    let af = 0;
    if ((al & 0x0f) > 9 || getAF(c) !== 0) {
      al = (al + 6) & 0xff;
      af = AF;
    }
    // The carry out of AL + 6 the pseudo-code ORs into CF needs old AL >= FAH, so the second test
    // (old AL > 99H) decides CF alone.
    let cf = 0;
    if (oldAl > 0x99 || oldCf !== 0) {
      al = (al + 0x60) & 0xff;
      cf = CF;
    }
    c.regs[0] = (c.regs[0] & ~0xff) | al;
    setAll(c, szp(al, 1) | af | cf);
  },

  das: () => (c) => {
    const oldAl = c.regs[0] & 0xff;
    const oldCf = getCF(c);
    let al = oldAl;
    let af = 0;
    let cf = 0;
    if ((al & 0x0f) > 9 || getAF(c) !== 0) {
      cf = oldCf !== 0 || al < 6 ? CF : 0; // old CF or the borrow of AL - 6
      al = (al - 6) & 0xff;
      af = AF;
    }
    // Unlike DAA, DAS has no ELSE CF := 0 here: a borrow from AL - 6 survives.
    if (oldAl > 0x99 || oldCf !== 0) {
      al = (al - 0x60) & 0xff;
      cf = CF;
    }
    c.regs[0] = (c.regs[0] & ~0xff) | al;
    setAll(c, szp(al, 1) | af | cf);
  },

  aaa: () => (c) => {
    let ax = c.regs[0] & 0xffff;
    let adj = 0;
    if ((ax & 0x0f) > 9 || getAF(c) !== 0) {
      ax = (ax + 0x106) & 0xffff;
      adj = AF | CF;
    }
    ax &= 0xff0f;
    c.regs[0] = (c.regs[0] & -65536) | ax;
    setAll(c, szp(ax, 1) | adj);
  },

  aas: () => (c) => {
    let ax = c.regs[0] & 0xffff;
    let adj = 0;
    if ((ax & 0x0f) > 9 || getAF(c) !== 0) {
      ax = (ax - 0x106) & 0xffff; // AX := AX - 6; AH := AH - 1
      adj = AF | CF;
    }
    ax &= 0xff0f;
    c.regs[0] = (c.regs[0] & -65536) | ax;
    setAll(c, szp(ax, 1) | adj);
  },

  aam: (i) => {
    const base = i.imm & 0xff;
    return (c) => {
      if (base === 0) fault(Vector.DE);
      const al = c.regs[0] & 0xff;
      const r = al % base;
      c.regs[0] = (c.regs[0] & -65536) | (((al - r) / base) << 8) | r;
      setAll(c, szp(r, 1));
    };
  },

  aad: (i) => {
    const base = i.imm & 0xff;
    return (c) => {
      const ax = c.regs[0];
      const al = ((ax & 0xff) + ((ax >> 8) & 0xff) * base) & 0xff;
      c.regs[0] = (ax & -65536) | al;
      setAll(c, szp(al, 1));
    };
  },
};
