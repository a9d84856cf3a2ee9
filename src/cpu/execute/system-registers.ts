/**
 * Instructions on control and debug registers and the caches: MOV to/from CR0/CR2/CR3/CR4, SMSW, LMSW,
 * CLTS, MOV to/from DR0-DR7, INVD, WBINVD, INVLPG (SDM Vol. 2 instruction pages). Register semantics are
 * in control-registers.ts and debug-registers.ts.
 *
 * MOV CR/DR check in the order Bochs does (the reference for system behaviour): a register that
 * does not exist (CR1, CR5-7; DR4/DR5 with CR4.DE) is #UD, then DR7.GD is #DB (a fault: EIP stays on the
 * MOV), then CPL > 0 is #GP(0). The GPR operand is always 32 bits; ModRM.mod is ignored (decoder).
 * SMSW to a 32-bit register stores all of CR0 (P6 and later; the SDM calls the high half undefined), to
 * memory or a 16-bit register its low 16 bits. LMSW changes only PE, MP, EM, TS and cannot clear PE.
 *
 * INVD and WBINVD cost their serializing class plus what the core's cache model says (c.cacheFlush: write
 * back dirty lines and invalidate, or invalidate only; a core without a cache model has nothing to do).
 */
import * as vmx from "../vmx/nonroot-instructions.ts";
import { crReadValue } from "../vmx/cr-access.ts";
import type { CoreState } from "../core-state.ts";
import type { ExecFn } from "../insn.ts";
import type { ExecTable } from "./registry.ts";
import { fault, Vector } from "../exceptions.ts";
import { Cr0, Cr4, crExists, readCr, writeCr, writeCr0 } from "../control-registers.ts";
import { debugRegisters, DR6_BD, DR7_GD, readDr, writeDr } from "../debug-registers.ts";
import { ea } from "./operands.ts";

function requireCpl0(c: CoreState): void {
  if (c.protectedMode && c.cpl !== 0) fault(Vector.GP, 0);
}

const movFromCr: ExecFn = (c, i) => {
  if (!crExists(i.reg)) fault(Vector.UD);
  requireCpl0(c);
  const v = readCr(c, i.reg);
  c.regs[i.rm] = c.nonRoot ? vmx.movFromCr(c, i, v) : v;
};

const movToCr: ExecFn = (c, i) => {
  if (!crExists(i.reg)) fault(Vector.UD);
  requireCpl0(c);
  writeCr(c, i.reg, c.nonRoot ? vmx.movToCr(c, i, c.regs[i.rm]) : c.regs[i.rm]);
};

/** The DR number MOV DR really accesses (DR4/DR5 alias DR6/DR7), after its #UD, #DB and #GP checks. */
function debugRegisterOperand(c: CoreState, n: number): number {
  if (n === 4 || n === 5) {
    if ((c.cr4 & Cr4.DE) !== 0) fault(Vector.UD);
    n += 2;
  }
  const d = debugRegisters(c);
  if ((d[7] & DR7_GD) !== 0) {
    d[6] |= DR6_BD;
    d[7] &= ~DR7_GD;
    fault(Vector.DB);
  }
  requireCpl0(c);
  return n;
}

const movFromDr: ExecFn = (c, i) => {
  const n = debugRegisterOperand(c, i.reg);
  if (c.nonRoot) vmx.movDrExits(c, i, false);
  c.regs[i.rm] = readDr(c, n);
};

const movToDr: ExecFn = (c, i) => {
  const n = debugRegisterOperand(c, i.reg);
  if (c.nonRoot) vmx.movDrExits(c, i, true);
  writeDr(c, n, c.regs[i.rm]);
};

const smsw: ExecFn = (c, i) => {
  const cr0 = c.nonRoot ? crReadValue(c.cr0, c.vmx!.cr0Mask, c.vmx!.cr0Shadow) : c.cr0; // SDM Vol. 3C 25.3
  if (i.rm >= 0) c.setReg(i.rm, i.opsize, cr0);
  else c.write16(ea(c, i), cr0);
};

const LMSW_BITS = Cr0.PE | Cr0.MP | Cr0.EM | Cr0.TS;

const lmsw: ExecFn = (c, i) => {
  const lin = i.rm < 0 ? ea(c, i) : 0;
  const source = i.rm < 0 ? c.read16(lin) : c.getReg(i.rm, 2);
  if (c.nonRoot) {
    writeCr0(c, vmx.lmsw(c, i, source, lin));
    return;
  }
  let msw = source & LMSW_BITS;
  msw |= c.cr0 & Cr0.PE; // cannot clear PE
  writeCr0(c, (c.cr0 & ~LMSW_BITS) | msw);
};

const clts: ExecFn = (c) => {
  c.cr0 = c.nonRoot ? vmx.clts(c) : (c.cr0 & ~Cr0.TS) >>> 0;
};


/** INVLPG m: drop the TLB entry for the page holding m's linear address (SDM Vol. 2 INVLPG). The operand
 * is not accessed, so no segment check applies beyond the privilege check the row declares. */
const invlpg: ExecFn = (c, i) => {
  requireCpl0(c);
  const lin = ea(c, i);
  if (c.nonRoot) vmx.invlpgExits(c, lin);
  c.invalidatePage(lin);
};

export const REGISTER_EXEC: ExecTable = {
  movFromCr: () => movFromCr,
  movToCr: () => movToCr,
  movFromDr: () => movFromDr,
  movToDr: () => movToDr,
  smsw: () => smsw,
  lmsw: () => lmsw,
  clts: () => clts,
  invd: () => (c: CoreState) => {
    if (c.nonRoot) vmx.unconditionalExit(13); // SDM Vol. 3C 25.1.2
    c.cycles += c.cacheFlush(false);
  },
  wbinvd: () => (c: CoreState) => {
    if (c.nonRoot) vmx.wbinvdExits(c);
    c.cycles += c.cacheFlush(true);
  },
  invlpg: () => invlpg,
};
