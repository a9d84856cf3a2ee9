/**
 * Segment-descriptor queries that never fault on the selector: LAR, LSL, VERR, VERW, and ARPL
 * (SDM Vol. 2 instruction pages; descriptor types from Vol. 3A Tables 3-1 and 3-2).
 *
 * ZF = 1 when the check passes; a null selector, one beyond the GDT/LDT limit, a type the instruction does
 * not accept, or DPL < max(CPL, RPL) (except for conforming code segments) give ZF = 0 and leave the
 * destination alone. The present bit is not checked. LAR returns the second descriptor dword masked by
 * 00FxFF00H (32-bit operand; the limit nibble x is kept, as Bochs does) or FF00H (16-bit); LSL returns
 * the byte-granular limit. Only ZF changes among the flags.
 *
 * Descriptors are read with implicit supervisor accesses (c.readSys32, SDM Vol. 3A 4.6).
 *
 * Leaves out: the locked (RMW) memory access of ARPL, and 64-bit descriptor forms.
 */
import type { CoreState } from "../core-state.ts";
import type { ExecFn } from "../insn.ts";
import type { ExecTable } from "./registry.ts";
import { setArith } from "../flags.ts";
import { Eflags } from "../registers.ts";
import { descriptorAddress } from "../descriptors.ts";
import { ea, readE } from "./operands.ts";

/** System types LAR accepts: 16/32-bit TSS (available, busy), LDT, call gates, task gate. */
const LAR_SYSTEM_TYPES = new Set([0x1, 0x2, 0x3, 0x4, 0x5, 0x9, 0xb, 0xc]);
/** System types LSL accepts: the ones with a limit (TSSs and the LDT). */
const LSL_SYSTEM_TYPES = new Set([0x1, 0x2, 0x3, 0x9, 0xb]);

/** Linear address of the descriptor `sel` names, or -1 for a null selector or one outside its table. */
function queryAddress(c: CoreState, sel: number): number {
  return (sel & 0xfffc) === 0 ? -1 : descriptorAddress(c, sel);
}

/** Fields of the descriptor's second dword. */
const isSegment = (hi: number) => (hi & 0x1000) !== 0;
const typeOf = (hi: number) => (hi >> 8) & 0xf;
const isConformingCode = (hi: number) => isSegment(hi) && (typeOf(hi) & 0xc) === 0xc;

function privilegeOk(c: CoreState, sel: number, hi: number): boolean {
  const dpl = (hi >> 13) & 3;
  return dpl >= c.cpl && dpl >= (sel & 3);
}

function setZF(c: CoreState, ok: boolean): void {
  setArith(c, Eflags.ZF, ok ? Eflags.ZF : 0);
}

const lar: ExecFn = (c, i) => {
  const sel = readE(c, i, 2) & 0xffff;
  const addr = queryAddress(c, sel);
  if (addr === -1) return setZF(c, false);
  const hi = c.readSys32((addr + 4) | 0);
  const ok = isSegment(hi)
    ? isConformingCode(hi) || privilegeOk(c, sel, hi)
    : LAR_SYSTEM_TYPES.has(typeOf(hi)) && privilegeOk(c, sel, hi);
  if (ok) c.setReg(i.reg, i.opsize, i.opsize === 4 ? hi & 0x00ffff00 : hi & 0xff00);
  setZF(c, ok);
};

const lsl: ExecFn = (c, i) => {
  const sel = readE(c, i, 2) & 0xffff;
  const addr = queryAddress(c, sel);
  if (addr === -1) return setZF(c, false);
  const lo = c.readSys32(addr);
  const hi = c.readSys32((addr + 4) | 0);
  const ok = isSegment(hi)
    ? isConformingCode(hi) || privilegeOk(c, sel, hi)
    : LSL_SYSTEM_TYPES.has(typeOf(hi)) && privilegeOk(c, sel, hi);
  if (ok) {
    let limit = (lo & 0xffff) | (hi & 0xf0000);
    if ((hi & 0x800000) !== 0) limit = (limit << 12) | 0xfff;
    c.setReg(i.reg, i.opsize, limit);
  }
  setZF(c, ok);
};

/** VERR/VERW (SDM Vol. 2 VERR/VERW Operation). */
function verify(write: boolean): ExecFn {
  return (c, i) => {
    const sel = readE(c, i, 2) & 0xffff;
    const addr = queryAddress(c, sel);
    if (addr === -1) return setZF(c, false);
    const hi = c.readSys32((addr + 4) | 0);
    if (!isSegment(hi)) return setZF(c, false);
    const type = typeOf(hi);
    const code = (type & 8) !== 0;
    let ok: boolean;
    if (write) ok = !code && (type & 2) !== 0 && privilegeOk(c, sel, hi);
    else if (code) ok = (type & 2) !== 0 && (isConformingCode(hi) || privilegeOk(c, sel, hi));
    else ok = privilegeOk(c, sel, hi);
    setZF(c, ok);
  };
}

const verr = verify(false);
const verw = verify(true);

/** ARPL (SDM Vol. 2 ARPL): raise the destination's RPL to the source's; ZF tells whether it changed. */
const arpl: ExecFn = (c, i) => {
  const src = c.getReg(i.reg, 2);
  const lin = i.rm >= 0 ? 0 : ea(c, i);
  const dst = i.rm >= 0 ? c.getReg(i.rm, 2) : c.read16(lin);
  if ((dst & 3) < (src & 3)) {
    const v = (dst & 0xfffc) | (src & 3);
    if (i.rm >= 0) c.setReg(i.rm, 2, v);
    else c.write16(lin, v);
    setZF(c, true);
  } else {
    setZF(c, false);
  }
};

export const SEGMENT_CHECK_EXEC: ExecTable = {
  lar: () => lar,
  lsl: () => lsl,
  verr: () => verr,
  verw: () => verw,
  arpl: () => arpl,
};
