/**
 * String instructions MOVS CMPS STOS LODS SCAS INS OUTS and the REP / REPE / REPNE prefixes
 * (SDM Vol. 2 instruction pages and "REP/REPE/REPZ/REPNE/REPNZ"; Vol. 1 7.3.9).
 *
 * Source DS:eSI (segment overridable: i.seg), destination ES:eDI (never overridable); the address size
 * selects SI/DI/CX or ESI/EDI/ECX, EFLAGS.DF the direction. CMPS and SCAS set the flags like CMP (lazy
 * SUB record, flags.ts). F3 is REPE for CMPS/SCAS and REP for the others; F2 is REPNE for CMPS/SCAS and,
 * as on Intel processors, acts like REP on MOVS/STOS/LODS/INS/OUTS.
 *
 * A REP instruction ends its basic block and sets EIP itself: the next instruction when the count is
 * exhausted (or the REPE/REPNE condition ends it), its own address while elements remain. Every element
 * updates eCX/eSI/eDI before the next one starts, so a fault mid-way leaves the architectural state the
 * SDM requires for restarting. At most REP_CHUNK_ELEMENTS elements run per call, and the loop stops early
 * when the board asks the core to stop (an OUTS to a debug-exit port, an interrupt raised by a device), so
 * interrupts are taken between elements as on hardware. REP MOVS/STOS take the bulk path of
 * string-bulk.ts where it is unobservable.
 *
 * REP INS/OUTS check the I/O permission before looking at the count, so a denied port faults even with
 * a zero count (Bochs's order; the SDM's REP pseudo-code would skip the check).
 *
 * Cost: a call costs the row's static cost (added by the run loop) plus ELEMENT_CYCLES per element after
 * the first, whichever path moved the elements; a REP count of zero costs the row's cost only. Each chunk
 * of a long REP counts as one retired instruction in c.icount.
 *
 * Leaves out: segment limit checks and paging (string-bulk.ts bulkRange and the core's memory paths),
 * the write-probe before INS reads a port (needed once a store can fault), and the "fast string"
 * reordering of stores that Intel allows.
 */
import { ioExits } from "../vmx/nonroot-instructions.ts";
import type { CoreState } from "../core-state.ts";
import type { ExecFn, Insn } from "../insn.ts";
import type { ExecTable } from "./registry.ts";
import { fault, Vector } from "../exceptions.ts";
import { SIZE_MASK, SIZE_SIGN } from "../flags.ts";
import { costOf } from "../timing.ts";
import { ioPermitted } from "../io-permission.ts";
import { bulkCmpsb, bulkMovs, bulkScasb, bulkStos } from "./string-bulk.ts";
import { compile, flagSize, memRead, memWrite, regRead, regWrite } from "./codegen.ts";

// Register numbers, flag bits and the Brk bit as local constants: under tsx/esbuild an imported const
// enum member is read through the module namespace object on every use, which costs more than the
// element itself (SDM numbering: registers.ts Reg/Seg/Eflags, flags.ts FlagOp.SUB, core-state.ts Brk.SMC).
const EAX = 0, ECX = 1, EDX = 2, ESI = 6, EDI = 7, ES = 0;
const DF = 0x400;
const FLAG_OP_SUB = 3;
const BRK_SMC = 8;

/** Elements per call of a REP instruction before it yields to the run loop (EIP stays on it). */
export const REP_CHUNK_ELEMENTS = 1024;

/**
 * Cycles per element after the first, by operation. The order of the Pentium's REP costs (Intel Pentium
 * optimization manual / Agner Fog's P5 tables: REP MOVS and STOS about 1 per element, LODS 3, CMPS and
 * SCAS 4); INS/OUTS pay a port access per element.
 */
export const ELEMENT_CYCLES = {
  movs: 1, stos: 1, lods: 3, cmps: 4, scas: 4, ins: costOf("io"), outs: costOf("io"),
} as const;

type Op = keyof typeof ELEMENT_CYCLES;

// ---- one element of each operation: access memory/port, then advance the index registers ----

function step(c: CoreState, i: Insn, reg: number): void {
  const r = c.regs;
  const d = (c.eflags & DF) !== 0 ? -i.osize : i.osize;
  if (i.a16) r[reg] = (r[reg] & ~0xffff) | ((r[reg] + d) & 0xffff);
  else r[reg] = (r[reg] + d) | 0;
}

/** Linear address of the source element DS:[eSI] (segment overridable), checked for a read. */
function srcLin(c: CoreState, i: Insn): number {
  const si = i.a16 ? c.regs[ESI] & 0xffff : c.regs[ESI];
  if (c.segCheck[i.seg] !== 0) c.checkSegment(i.seg, si, i.osize, false);
  return (c.segBase[i.seg] + si) | 0;
}

/** Linear address of the destination element ES:[eDI], checked for a read or a write. */
function dstLin(c: CoreState, i: Insn, write: boolean): number {
  const di = i.a16 ? c.regs[EDI] & 0xffff : c.regs[EDI];
  if (c.segCheck[ES] !== 0) c.checkSegment(ES, di, i.osize, write);
  return (c.segBase[ES] + di) | 0;
}

/** CMP a, b at the operation size, as a lazy flag record (flags.ts; same fields alu.ts's CMP sets). */
function compare(c: CoreState, a: number, b: number, size: number): void {
  c.fop = FLAG_OP_SUB;
  c.fa = a;
  c.fb = b;
  c.fres = (a - b) | 0;
  c.fmask = SIZE_MASK[size] | 0;
  c.fsign = SIZE_SIGN[size];
}

function port(c: CoreState, i: Insn): number {
  const p = c.regs[EDX] & 0xffff;
  if (!ioPermitted(c, p, i.osize)) fault(Vector.GP, 0);
  if (c.nonRoot) ioExits(c, i, p, i.osize); // SDM Vol. 3C 25.1.3, after the I/O-permission #GP (25.1.1)
  return p;
}

const ELEMENT: Record<Op, ExecFn> = {
  movs(c, i) {
    const size = i.osize;
    c.writeN(dstLin(c, i, true), size, c.readN(srcLin(c, i), size));
    step(c, i, ESI);
    step(c, i, EDI);
  },
  cmps(c, i) {
    const size = i.osize;
    const a = c.readN(srcLin(c, i), size);
    const b = c.readN(dstLin(c, i, false), size);
    step(c, i, ESI);
    step(c, i, EDI);
    compare(c, a, b, size);
  },
  stos(c, i) {
    c.writeN(dstLin(c, i, true), i.osize, c.regs[EAX]);
    step(c, i, EDI);
  },
  lods(c, i) {
    const v = c.readN(srcLin(c, i), i.osize);
    step(c, i, ESI);
    c.setReg(EAX, i.osize, v);
  },
  scas(c, i) {
    const size = i.osize;
    const b = c.readN(dstLin(c, i, false), size);
    step(c, i, EDI);
    compare(c, c.getReg(EAX, size), b, size);
  },
  ins(c, i) {
    const size = i.osize;
    const v = c.bus.portIn(port(c, i), size as 1 | 2 | 4);
    c.writeN(dstLin(c, i, true), size, v);
    step(c, i, EDI);
  },
  outs(c, i) {
    const size = i.osize;
    const p = port(c, i);
    c.bus.portOut(p, size as 1 | 2 | 4, c.readN(srcLin(c, i), size));
    step(c, i, ESI);
  },
};

// ---- the REP loop ----

function count(c: CoreState, i: Insn): number {
  return i.a16 ? c.regs[ECX] & 0xffff : c.regs[ECX] >>> 0;
}

function setCount(c: CoreState, i: Insn, n: number): void {
  const r = c.regs;
  r[ECX] = i.a16 ? (r[ECX] & ~0xffff) | n : n;
}

const noBulk = (): number => 0;

/** Board requests that end the chunk early; a store into code (SMC) does not, the block ends anyway. */
const STOP_BITS = ~BRK_SMC;

function makeRep(op: Op, cond: number): ExecFn {
  const elem = ELEMENT[op];
  // MOVS and STOS elements cost what the CPU profile says (the fast-string rate); the others keep their table.
  const elemCost = op === "movs" || op === "stos" ? -1 : ELEMENT_CYCLES[op];
  const bulk = op === "movs" ? bulkMovs : op === "stos" ? bulkStos
    : op === "scas" ? (c: CoreState, i: Insn, max: number) => (i.osize === 1 ? bulkScasb(c, i, max, cond === 2) : 0)
    : op === "cmps" ? (c: CoreState, i: Insn, max: number) => (i.osize === 1 ? bulkCmpsb(c, i, max, cond === 2) : 0)
    : noBulk;
  const io = op === "ins" || op === "outs";
  return (c: CoreState, i: Insn) => {
    if (io) port(c, i); // I/O permission first, even for a zero count (as Bochs does)
    let n = count(c, i);
    if (n === 0) return;
    let done = 0;
    try {
      const fast = bulk !== noBulk && !i.a16 && (c.eflags & DF) === 0;
      for (;;) {
        if (fast) {
          const k = bulk(c, i, n < REP_CHUNK_ELEMENTS - done ? n : REP_CHUNK_ELEMENTS - done);
          done += k;
          n -= k;
          if (n === 0 || done >= REP_CHUNK_ELEMENTS) break;
          // A compare that ended the repetition inside the bulk scan ends the instruction too.
          if (k > 0 && cond !== 0 && ((c.fres & c.fmask) === 0) !== (cond === 1)) break;
        }
        elem(c, i);
        done++;
        setCount(c, i, --n);
        if (n === 0) break;
        // REPE ends on ZF = 0, REPNE on ZF = 1; the lazy record of compare() gives ZF directly.
        if (cond !== 0 && ((c.fres & c.fmask) === 0) !== (cond === 1)) break;
        if (done >= REP_CHUNK_ELEMENTS || (c.brk & STOP_BITS) !== 0) break;
      }
    } finally {
      if (done > 1) c.cycles += (done - 1) * (elemCost < 0 ? c.repPerElement : elemCost);
    }
    if (n !== 0 && (cond === 0 || ((c.fres & c.fmask) === 0) === (cond === 1))) c.eip = i.eip;
  };
}

// ---- the single (non-REP) memory forms, compiled per size and address size (codegen.ts) ----

/** Source of one element of MOVS/CMPS/STOS/LODS/SCAS: the same steps as ELEMENT, specialised. */
function elementSource(op: Op, size: number, a16: boolean): string {
  const off = (r: number) => (a16 ? `(c.regs[${r}] & 0xffff)` : `c.regs[${r}]`);
  // Segment checks (segment-checks.ts) first, as the element loop's srcLin/dstLin do.
  const chkSrc = `if (c.segCheck[i.seg] !== 0) c.checkSegment(i.seg, ${off(ESI)}, ${size}, false);`;
  const chkDst = (write: boolean) => `if (c.segCheck[${ES}] !== 0) c.checkSegment(${ES}, ${off(EDI)}, ${size}, ${write});`;
  const src = `((c.segBase[i.seg] + ${off(ESI)}) | 0)`;
  const dst = `((c.segBase[${ES}] + ${off(EDI)}) | 0)`;
  const adv = (r: number) =>
    a16 ? `c.regs[${r}] = (c.regs[${r}] & -65536) | ((c.regs[${r}] + d) & 0xffff);` : `c.regs[${r}] = (c.regs[${r}] + d) | 0;`;
  const d = `const d = (c.eflags & ${DF}) !== 0 ? ${-size} : ${size};`;
  const cmp = `c.fop = ${FLAG_OP_SUB}; c.fa = a; c.fb = b; c.fres = (a - b) | 0; ${flagSize(size)}`;
  switch (op) {
    case "movs": return `${d} ${chkSrc} ${chkDst(true)} const v = ${memRead(size, src)}; ${memWrite(size, "v", dst)} ${adv(ESI)} ${adv(EDI)}`;
    case "stos": return `${d} ${chkDst(true)} ${memWrite(size, regRead(size, String(EAX)), dst)} ${adv(EDI)}`;
    case "lods": return `${d} ${chkSrc} const v = ${memRead(size, src)}; ${adv(ESI)} ${regWrite(size, String(EAX), "v")}`;
    case "cmps": return `${d} ${chkSrc} ${chkDst(false)} const a = ${memRead(size, src)}; const b = ${memRead(size, dst)}; ${adv(ESI)} ${adv(EDI)} ${cmp}`;
    case "scas": return `${d} ${chkDst(false)} const b = ${memRead(size, dst)}; ${adv(EDI)} const a = ${regRead(size, String(EAX))}; ${cmp}`;
    default: throw new Error(`string: no compiled form for ${op}`);
  }
}

/** Handler factory for one string operation: REP/REPE/REPNE by the decoded prefix. */
function stringOp(op: Op, compares: boolean) {
  const io = op === "ins" || op === "outs";
  const rep = makeRep(op, 0);
  const repe = compares ? makeRep(op, 1) : rep;
  const repne = compares ? makeRep(op, 2) : rep;
  return (i: Insn): ExecFn => {
    if (i.rep === 1) return repe;
    if (i.rep === 2) return repne;
    if (io) return ELEMENT[op];
    return compile(`${op}${i.osize * 8}${i.a16 ? "_a16" : ""}`, elementSource(op, i.osize, i.a16));
  };
}

export const STRING_EXEC: ExecTable = {
  movs: stringOp("movs", false),
  cmps: stringOp("cmps", true),
  stos: stringOp("stos", false),
  lods: stringOp("lods", false),
  scas: stringOp("scas", true),
  ins: stringOp("ins", false),
  outs: stringOp("outs", false),
};
