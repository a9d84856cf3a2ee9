/**
 * Data movement without the stack: XCHG (86/87 and 91-97), BSWAP, CMOVcc, SETcc, XLAT, LAHF, SAHF,
 * CBW/CWDE, CWD/CDQ (SDM Vol. 2 instruction pages). The frequent forms (XCHG, CMOVcc, SETcc) are
 * compiled per condition, size and operand form (codegen.ts).
 *
 * Undefined results, chosen to match hardware: BSWAP with a 16-bit operand size clears the low word and
 * keeps the upper one (SDM BSWAP calls it undefined; measured on the AMD EPYC host, and Bochs does the
 * same for Intel). Memory XCHG is implicitly locked; one core executes one instruction at a time here,
 * so it is atomic as is. Its bus-lock cost is the timing profile's (class "xchg").
 */
import type { CoreState } from "../core-state.ts";
import type { ExecFn, Insn } from "../insn.ts";
import type { ExecTable } from "./registry.ts";
import { compile, memRead, memWrite, regRead, regWrite } from "./codegen.ts";
import { setArith } from "../flags.ts";
import { Eflags, Reg } from "../registers.ts";

const rm = (i: Insn) => (i.rm >= 0 ? "r" : "m");

function xchg(i: Insn, operands: readonly string[]): ExecFn {
  const size = i.osize;
  if (operands[0] === "eAX") {
    return compile(`xchg${size * 8}_acc`,
      `const a = ${regRead(size, "0")}; const b = ${regRead(size, "i.reg")}; ${regWrite(size, "0", "b")} ${regWrite(size, "i.reg", "a")}`);
  }
  if (i.rm >= 0) {
    return compile(`xchg${size * 8}_r`,
      `const a = ${regRead(size, "i.rm")}; const b = ${regRead(size, "i.reg")}; ${regWrite(size, "i.rm", "b")} ${regWrite(size, "i.reg", "a")}`);
  }
  // The memory write comes first so that a faulting store leaves the register unchanged.
  return compile(`xchg${size * 8}_m`,
    `const lin = ea(c, i); const a = ${memRead(size)}; const b = ${regRead(size, "i.reg")}; ${memWrite(size, "b")} ${regWrite(size, "i.reg", "a")}`);
}

function bswap32(c: CoreState, i: Insn): void {
  const v = c.regs[i.reg];
  c.regs[i.reg] = (v << 24) | ((v << 8) & 0xff0000) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

function bswap16(c: CoreState, i: Insn): void {
  c.regs[i.reg] &= ~0xffff;
}

/** CMOVcc: a memory source is read whatever the condition (it may fault), SDM CMOVcc Operation. */
function cmov(i: Insn): ExecFn {
  const size = i.osize;
  const src = i.rm >= 0 ? regRead(size, "i.rm") : memRead(size, "ea(c, i)");
  return compile(`cmov${i.param}_${size * 8}${rm(i)}`,
    `const v = ${src}; if (condition(c, ${i.param})) { ${regWrite(size, "i.reg", "v")} }`);
}

function setcc(i: Insn): ExecFn {
  const store = i.rm >= 0 ? regWrite(1, "i.rm", "v") : memWrite(1, "v", "ea(c, i)");
  return compile(`set${i.param}_${rm(i)}`, `const v = condition(c, ${i.param}) ? 1 : 0; ${store}`);
}

/** XLAT: AL = [seg:(E)BX + zero-extended AL], the sum wrapped to the address size. */
function xlat32(c: CoreState, i: Insn): void {
  const r = c.regs;
  const off = (r[Reg.EBX] + (r[Reg.EAX] & 0xff)) | 0;
  c.checkSegment(i.seg, off, 1, false);
  c.setReg(Reg.EAX, 1, c.read8((c.segBase[i.seg] + off) | 0));
}

function xlat16(c: CoreState, i: Insn): void {
  const r = c.regs;
  const off = (r[Reg.EBX] + (r[Reg.EAX] & 0xff)) & 0xffff;
  c.checkSegment(i.seg, off, 1, false);
  c.setReg(Reg.EAX, 1, c.read8((c.segBase[i.seg] + off) | 0));
}

const SAHF_FLAGS = Eflags.SF | Eflags.ZF | Eflags.AF | Eflags.PF | Eflags.CF;

/** LAHF: AH = SF:ZF:0:AF:0:PF:1:CF (SDM LAHF). */
function lahf(c: CoreState): void {
  c.setReg(4, 1, (c.getEflags() & SAHF_FLAGS) | Eflags.FIXED1);
}

/** SAHF: SF ZF AF PF CF from AH bits 7 6 4 2 0; OF and bit 1 untouched (SDM SAHF). */
function sahf(c: CoreState): void {
  setArith(c, SAHF_FLAGS, c.regs[Reg.EAX] >> 8);
}

function cbw(c: CoreState): void {
  const r = c.regs;
  r[Reg.EAX] = (r[Reg.EAX] & ~0xffff) | (((r[Reg.EAX] << 24) >> 24) & 0xffff);
}

function cwde(c: CoreState): void {
  const r = c.regs;
  r[Reg.EAX] = (r[Reg.EAX] << 16) >> 16;
}

function cwd(c: CoreState): void {
  const r = c.regs;
  r[Reg.EDX] = (r[Reg.EDX] & ~0xffff) | (((r[Reg.EAX] << 16) >> 31) & 0xffff);
}

function cdq(c: CoreState): void {
  const r = c.regs;
  r[Reg.EDX] = r[Reg.EAX] >> 31;
}

export const DATA_EXEC: ExecTable = {
  xchg: (i, row) => xchg(i, row.operands),
  bswap: (i) => (i.opsize === 4 ? bswap32 : bswap16),
  cmov: (i) => cmov(i),
  setcc: (i) => setcc(i),
  xlat: (i) => (i.a16 ? xlat16 : xlat32),
  lahf: () => lahf,
  sahf: () => sahf,
  cbw: (i) => (i.opsize === 4 ? cwde : cbw),
  cwd: (i) => (i.opsize === 4 ? cdq : cwd),
};
