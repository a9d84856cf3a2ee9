/**
 * Descriptor-table registers: LGDT LIDT SGDT SIDT (GDTR, IDTR), LLDT SLDT (LDTR), LTR STR (TR)
 * (SDM Vol. 2 instruction pages; Vol. 3A 2.4 "Memory-Management Registers", 3.5.1, 7.2.4).
 *
 * LGDT/LIDT read a 6-byte pseudo-descriptor (16-bit limit, 32-bit base); with a 16-bit operand size only
 * 24 bits of the base are used and the top byte of the register is zero. SGDT/SIDT always store the
 * 32-bit base. LLDT loads an LDT descriptor from the GDT (a null selector marks LDTR unusable: base and
 * limit 0, so any LDT reference faults); LTR loads an available TSS descriptor and marks it busy in the
 * GDT. SLDT/STR store the selector; a 32-bit register destination is zero-extended (P6 and later).
 * Privilege and mode checks (#UD in real mode, #GP(0) at CPL > 0) come from the rows (system.ts).
 *
 * LLDT (SDM Vol. 2 LLDT): null -> LDTR unusable; TI = 1 or beyond the GDT limit -> #GP(sel); not an LDT
 * descriptor -> #GP(sel); not present -> #NP(sel). LTR (SDM Vol. 2 LTR): null -> #GP(0); TI = 1 or
 * beyond the GDT limit -> #GP(sel); not an available 16/32-bit TSS -> #GP(sel); not present -> #NP(sel);
 * then the busy bit is set in the GDT and the TSS type recorded (tss.ts). Descriptors are read and the
 * busy bit written with implicit supervisor accesses (c.readSys32/writeSys8, SDM Vol. 3A 4.6).
 *
 * Leaves out: the locked read-modify-write of the busy bit (single memory model), UMIP, and VM exits on
 * descriptor-table instructions (VT-x issue).
 */
import type { CoreState } from "../core-state.ts";
import type { ExecFn, Insn } from "../insn.ts";
import type { ExecTable } from "./registry.ts";
import { fault, Vector } from "../exceptions.ts";
import { fetchDescriptor } from "../descriptors.ts";
import { ea, readE } from "./operands.ts";

/** System-descriptor types (SDM Vol. 3A Table 3-2). */
const LDT_TYPE = 0x2;
const TSS16_AVAILABLE = 0x1;
const TSS32_AVAILABLE = 0x9;
/** Type bit that marks a TSS busy. */
const TSS_BUSY = 0x2;
/** Access-byte bits: S (code/data when set) and P. */
const ATTR_S = 0x10;
const ATTR_P = 0x80;

/** Base of the pseudo-descriptor at lin: 24 bits with a 16-bit operand size (SDM LGDT/LIDT). */
function pseudoBase(c: CoreState, i: Insn, lin: number): number {
  const base = c.read32(lin + 2);
  return i.opsize === 2 ? base & 0x00ffffff : base;
}

function writePseudoDescriptor(c: CoreState, i: Insn, limit: number, base: number): void {
  const lin = ea(c, i);
  c.write16(lin, limit);
  c.write32(lin + 2, base);
}

/** Store a 16-bit selector to Ew; a 32-bit register destination gets it zero-extended. */
function storeSelector(c: CoreState, i: Insn, sel: number): void {
  if (i.rm >= 0) c.setReg(i.rm, i.opsize, sel & 0xffff);
  else c.write16(ea(c, i), sel);
}

const lgdt: ExecFn = (c, i) => {
  const lin = ea(c, i);
  const limit = c.read16(lin);
  c.gdtBase = pseudoBase(c, i, lin);
  c.gdtLimit = limit;
};

const lidt: ExecFn = (c, i) => {
  const lin = ea(c, i);
  const limit = c.read16(lin);
  c.idtBase = pseudoBase(c, i, lin);
  c.idtLimit = limit;
};

/** LLDT (SDM Vol. 2 LLDT, Operation and Protected Mode Exceptions). */
const lldt: ExecFn = (c, i) => {
  const sel = readE(c, i, 2) & 0xffff;
  if ((sel & 0xfffc) === 0) {
    c.ldtrSel = sel;
    c.ldtrBase = 0;
    c.ldtrLimit = 0;
    return;
  }
  if ((sel & 4) !== 0) fault(Vector.GP, sel & 0xfffc); // must name the GDT
  const d = fetchDescriptor(c, sel, Vector.GP); // #GP(selector) beyond the GDT limit
  if ((d.attr & ATTR_S) !== 0 || (d.attr & 0xf) !== LDT_TYPE) fault(Vector.GP, sel & 0xfffc);
  if ((d.attr & ATTR_P) === 0) fault(Vector.NP, sel & 0xfffc);
  c.ldtrSel = sel;
  c.ldtrBase = d.base;
  c.ldtrLimit = d.limit;
};

/** LTR (SDM Vol. 2 LTR): null selector #GP(0); not an available TSS #GP(sel); not present #NP(sel). */
const ltr: ExecFn = (c, i) => {
  const sel = readE(c, i, 2) & 0xffff;
  if ((sel & 0xfffc) === 0) fault(Vector.GP, 0);
  if ((sel & 4) !== 0) fault(Vector.GP, sel & 0xfffc);
  const d = fetchDescriptor(c, sel, Vector.GP);
  const type = d.attr & 0xf;
  if ((d.attr & ATTR_S) !== 0 || (type !== TSS16_AVAILABLE && type !== TSS32_AVAILABLE)) {
    fault(Vector.GP, sel & 0xfffc);
  }
  if ((d.attr & ATTR_P) === 0) fault(Vector.NP, sel & 0xfffc);
  c.writeSys8((d.addr + 5) | 0, (d.attr | TSS_BUSY) & 0xff); // access byte = byte 5 of the descriptor
  c.trType = type | TSS_BUSY;
  c.trSel = sel;
  c.trBase = d.base;
  c.trLimit = d.limit;
};

export const TABLE_EXEC: ExecTable = {
  lgdt: () => lgdt,
  lidt: () => lidt,
  sgdt: () => (c, i) => writePseudoDescriptor(c, i, c.gdtLimit, c.gdtBase),
  sidt: () => (c, i) => writePseudoDescriptor(c, i, c.idtLimit, c.idtBase),
  lldt: () => lldt,
  sldt: () => (c, i) => storeSelector(c, i, c.ldtrSel),
  ltr: () => ltr,
  str: () => (c, i) => storeSelector(c, i, c.trSel),
};
