/**
 * Instruction selection: every opcode-table row that can encode a mnemonic with the given operands,
 * with its operand size, address size and prefixes. The caller (Asm) picks the shortest that is valid
 * once label values are known. Follows SDM Vol. 2 2.1.1 (prefixes) and the row format of
 * src/cpu/isa/types.ts; where several encodings exist it follows NASM (prefix order F0/F2/F3, segment,
 * 66, 67; XCHG reg,reg puts the first register in ModRM.reg; two-operand IMUL reg, imm).
 * Leaves out: rows marked noAsm, which are never selected.
 */
import { ISA, type IsaRow, type OperandSpec } from "../../cpu/isa/index.ts";
import { encodeMem, fitsBits, segPrefix, toSigned, type MemEncoding } from "./addressing.ts";
import {
  DEFAULT_SIZE_MEM, isFail, isFar, isMem, isReg, matchOperand, Stage, type Fail, type Fit,
} from "./operand-match.ts";
import type { MemOperand, Operand, RegOperand } from "./operands.ts";

/** One way to encode an instruction. `len` is exact: label values never change an encoding's size. */
export interface Form {
  row: IsaRow;
  os: 16 | 32;
  /** Operands in row order (after XCHG/TEST swaps and IMUL/AAM shorthands). */
  ops: readonly Operand[];
  mem?: MemEncoding;
  /** Effective address size (memory operand, moffs, JCXZ/JECXZ). */
  as: 16 | 32;
  /** Prefix bytes in emission order, mandatory prefix last. */
  prefix: number[];
  len: number;
}

export interface Prefixes {
  lock?: boolean;
  rep?: "rep" | "repe" | "repne";
  seg?: RegOperand;
  osize?: 16 | 32;
}

/** Rows by mnemonic and alias, noAsm rows excluded. */
const BY_MNEMONIC = new Map<string, IsaRow[]>();
for (const r of ISA) {
  if (r.noAsm) continue;
  for (const m of [r.mnemonic, ...(r.aliases ?? [])]) {
    const list = BY_MNEMONIC.get(m) ?? [];
    list.push(r);
    BY_MNEMONIC.set(m, list);
  }
}

export function knownMnemonic(m: string): boolean {
  return BY_MNEMONIC.has(m);
}

export const IMM_BITS: Partial<Record<OperandSpec, number>> = { Ib: 8, Iw: 16, Id: 32 };

interface Candidate {
  form: Omit<Form, "len" | "prefix" | "as">;
  memSize?: number | "any";
  unsized: boolean;
}

/** Operand lists to try, in preference order. */
function operandOrders(mnemonic: string, ops: readonly Operand[]): Operand[][] {
  if (mnemonic === "imul" && ops.length === 2 && isReg(ops[0]) && !isReg(ops[1]) && !isMem(ops[1])) {
    return [[ops[0], ops[0], ops[1]]];
  }
  if ((mnemonic === "aam" || mnemonic === "aad") && ops.length === 0) return [[10]];
  if (ops.length === 2 && mnemonic === "xchg") return [[ops[1], ops[0]], [...ops]];
  if (ops.length === 2 && mnemonic === "test") return [[...ops], [ops[1], ops[0]]];
  return [[...ops]];
}

function matchRow(row: IsaRow, ops: Operand[], bits: 16 | 32, pre: Prefixes, mem: MemEncoding | undefined): Candidate | Fail {
  if (row.operands.length !== ops.length) return { stage: Stage.TYPE, msg: "" };
  const fits: Fit[] = [];
  let pin: 16 | 32 | undefined;
  for (let k = 0; k < ops.length; k++) {
    const f = matchOperand(row.operands[k], ops[k], row, pre.osize);
    if (isFail(f)) return f;
    if (f.pin && pin && f.pin !== pin) return { stage: Stage.SIZE, msg: "" };
    pin ??= f.pin;
    fits.push(f);
  }
  for (const p of [row.osize, pre.osize]) {
    if (p && pin && p !== pin) return { stage: Stage.SIZE, msg: "" };
    pin ??= p;
  }
  const os = pin ?? bits;
  const mnemonic = row.mnemonic;
  let memSize: number | "any" | undefined;
  let unsized = false;
  for (let k = 0; k < ops.length; k++) {
    const op = ops[k];
    const spec = row.operands[k];
    const ms = fits[k].memSize;
    if (isMem(op) && ms !== undefined) {
      memSize = ms === "os" ? os / 8 : ms === "os+2" ? os / 8 + 2 : ms === "2os" ? os / 4 : ms;
      if (op.size === undefined && typeof ms === "string" && ms !== "any" && pin === undefined) {
        unsized = !DEFAULT_SIZE_MEM.has(mnemonic);
      }
    }
    const r = rangeCheck(spec, op, os, bits);
    if (r) return r;
  }
  return { form: { row, os, ops, mem: row.operands.some((s) => s === "Ob" || s === "Ov") ? undefined : mem }, memSize, unsized };
}

function range(v: number, n: number, what = "immediate"): Fail | undefined {
  return fitsBits(v, n) ? undefined : { stage: Stage.RANGE, msg: `${what} ${v} out of range for ${n} bits` };
}

function rangeCheck(spec: OperandSpec, op: Operand, os: number, bits: number): Fail | undefined {
  if (typeof op === "number") {
    if (spec === "Ibs") {
      if (!fitsBits(op, os)) return range(op, os);
      const s = toSigned(op, os);
      return s >= -128 && s <= 127 ? undefined : { stage: Stage.RANGE, msg: "" };
    }
    if (spec === "Iv") return range(op, os);
    const n = IMM_BITS[spec];
    if (n) return range(op, n);
  }
  if (isFar(op)) {
    if (!fitsBits(op.sel, 16) || op.sel < 0) return range(op.sel, 16, "selector");
    if (typeof op.offset === "number" && !fitsBits(op.offset, os)) {
      return { stage: Stage.RANGE, msg: `far offset ${op.offset} out of range for ${os} bits (use o32())` };
    }
  }
  if (isMem(op) && (spec === "Ob" || spec === "Ov") && typeof op.disp === "number") {
    return range(op.disp, bits, "address");
  }
  return undefined;
}

export interface Selection {
  forms: Form[];
  /** Set when no form exists: the most specific reason. */
  error?: string;
}

/** All forms encoding `mnemonic ops` in a `bits`-bit section, shortest first (ties: table order). */
export function selectForms(mnemonic: string, ops: readonly Operand[], bits: 16 | 32, pre: Prefixes,
  encodeLen: (f: Form) => number): Selection {
  const rows = BY_MNEMONIC.get(mnemonic);
  if (!rows) return { forms: [], error: "unknown mnemonic" };
  const memOp = ops.find(isMem) as MemOperand | undefined;
  let mem: MemEncoding | undefined;
  if (memOp) {
    const m = encodeMem(memOp, bits);
    if (typeof m === "string") return { forms: [], error: m };
    mem = m;
  }
  const cands: Candidate[] = [];
  let best: Fail = { stage: Stage.TYPE, msg: "" };
  for (const order of operandOrders(mnemonic, ops)) {
    for (const row of rows) {
      const c = matchRow(row, order, bits, pre, mem);
      if ("stage" in c) {
        if (c.stage > best.stage || (c.stage === best.stage && !best.msg)) best = c;
      } else cands.push(c);
    }
  }
  if (cands.length === 0) return { forms: [], error: describe(best, ops, rows) };
  if (memOp?.size === undefined && memOp) {
    const sizes = new Set(cands.map((c) => c.memSize).filter((s) => s !== "any"));
    if (cands.some((c) => c.unsized) || sizes.size > 1) return { forms: [], error: "operation size not specified" };
  }
  const forms = cands.map((c) => finish(c.form, bits, pre, memOp));
  for (const f of forms) f.len = encodeLen(f);
  forms.sort(shortestFirst);
  return { forms };
}

/** Equal lengths (16-bit "add ax, 5": 05 iw vs 83 /0 ib): NASM takes the sign-extended imm8 form. */
function ibsRank(f: Form): number {
  return f.row.operands.includes("Ibs") ? 0 : 1;
}

function shortestFirst(a: Form, b: Form): number {
  return a.len - b.len || ibsRank(a) - ibsRank(b);
}

function finish(f: Omit<Form, "len" | "prefix" | "as">, bits: 16 | 32, pre: Prefixes, memOp: MemOperand | undefined): Form {
  const prefix: number[] = [];
  if (pre.lock) prefix.push(0xf0);
  if (pre.rep) prefix.push(pre.rep === "repne" ? 0xf2 : 0xf3);
  const seg = memOp?.seg ?? pre.seg;
  if (seg) prefix.push(segPrefix(seg));
  if (f.os !== bits) prefix.push(0x66);
  const as = f.mem?.as ?? f.row.asize ?? bits;
  if (as !== bits) prefix.push(0x67);
  if (f.row.mandatoryPrefix !== undefined) prefix.push(f.row.mandatoryPrefix);
  return { row: f.row, os: f.os, ops: f.ops, mem: f.mem, as, prefix, len: 0 };
}

function describe(best: Fail, ops: readonly Operand[], rows: IsaRow[]): string {
  const list = `(${ops.map(operandText).join(", ")})`;
  if (best.stage === Stage.RANGE) return best.msg || `immediate out of range ${list}`;
  if (best.stage === Stage.SIZE) return `operand size mismatch ${list}`;
  if (!rows.some((r) => r.operands.length === ops.length)) {
    const counts = [...new Set(rows.map((r) => r.operands.length))].sort().join(" or ");
    return `takes ${counts} operand(s), got ${ops.length}`;
  }
  return `invalid operands ${list}`;
}

const SIZE_NAME: Record<number, string> = { 1: "byte", 2: "word", 4: "dword", 6: "fword", 8: "qword" };

export function operandText(o: Operand): string {
  if (typeof o === "number") return o < 0 || o < 10 ? String(o) : "0x" + o.toString(16);
  if (typeof o === "string") return o;
  if ("label" in o) return `${o.label}${o.add >= 0 ? "+" : ""}${o.add}`;
  if (o.kind === "reg") return o.name;
  if (o.kind === "far") return `${operandText(o.sel)}:${operandText(o.offset)}`;
  const parts: string[] = [];
  if (o.base) parts.push(o.base.name);
  if (o.index) parts.push(o.index.name + (o.scale !== 1 ? `*${o.scale}` : ""));
  if (o.disp !== 0 || parts.length === 0) parts.push(operandText(o.disp));
  const size = o.size ? SIZE_NAME[o.size] + " " : "";
  return `${size}[${o.seg ? o.seg.name + ":" : ""}${parts.join("+")}]`;
}
