/**
 * Random instruction sequences for the differential test against the host CPU, written with the
 * project's assembler (src/guests/asm). A case is 1-4 items; an item is one instruction group's
 * snippet (an instruction, or a small balanced construct: branch over a block, call/ret, pusha..popa).
 * Operands are weighted to edge values (0, 1, -1, sign bits, 0x7F.., small counts 0..33).
 *
 * Registers have roles so that every memory access stays inside the data window (layout.ts): ESP is
 * the stack (inside the window), pointer registers hold window addresses, the index register a small
 * signed value, and in cases with string instructions ESI/EDI are pointers and ECX a small count.
 * Role registers are never a random destination. The generator also tracks, statically, which flags
 * may be undefined, and puts a CMP before an instruction that would read one (the runner checks the
 * exact condition dynamically and skips a case that still reads an undefined flag).
 * Reference: operand forms and flag sets of the Intel SDM Vol. 2, via the opcode table (src/cpu/isa).
 */
import {
  Asm, type MemOperand, type Operand, type RegOperand, REG16, REG32, REG8, byte, dword, word, qword, fword, ptr,
  ds, es, ss, fs, gs, bx, bp, si, di, SREG, cr0, cr2, cr3, cr4, dr0, dr7,
} from "../../../src/guests/asm/index.ts";
import { flagsRead, mayLeaveUndefined, surelyDefines } from "./flag-effects.ts";
import { CODE_ADDR, DATA_ADDR, type DiffCase, type InsnInfo, Mode } from "./layout.ts";

// ---------------------------------------------------------------- random numbers

/** Small, fast, seedable PRNG (mulberry32); each case has its own stream derived from (seed, id). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  int(n: number): number {
    return this.u32() % n;
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.u32() < p * 4294967296;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
}

export function caseSeed(seed: number, id: number): number {
  let h = (seed ^ Math.imul(id + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

const EDGES: Record<number, readonly number[]> = {
  8: [0, 1, 2, 0xff, 0xfe, 0x80, 0x7f, 0x81, 0x0f, 0x10, 0x99, 0x9a, 0xf0, 0x55, 0xaa],
  16: [0, 1, 2, 0xffff, 0xfffe, 0x8000, 0x7fff, 0x8001, 0x80, 0x7f, 0xff, 0x100, 0xff80, 0xff7f, 0x0f0f],
  32: [
    0, 1, 2, 0xffffffff, 0xfffffffe, 0x80000000, 0x7fffffff, 0x80000001, 0x80, 0x7f, 0xff, 0x100, 0x8000,
    0x7fff, 0xffff, 0x10000, 0xffff8000, 0xffffff80, 0xffffff7f, 0x00ff00ff,
  ],
};
const COUNTS = [0, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33];

// ---------------------------------------------------------------- pieces

export interface InsnPiece {
  kind: "insn";
  mnem: string;
  ops: Operand[];
  /** Prefix methods of Asm to call first. */
  pre?: ("rep" | "repe" | "repne" | "lock" | "o16" | "o32")[];
  /** Raw bytes to emit before the instruction (LOCK on a register form, for #UD). */
  raw?: number[];
  /** Whole instruction as raw bytes (encodings the assembler does not select: 82, SAL /6, TEST /1). */
  bytes?: number[];
  size: number;
  count?: number | "cl";
  /** Assembly text for `bytes` pieces (reports). */
  asText?: string;
}
export type Piece = InsnPiece | { kind: "label"; name: string };

export interface Item {
  group: string;
  pieces: Piece[];
}

export interface CaseSpec {
  id: number;
  mode: Mode;
  regs: number[];
  eflags: number;
  seed: number;
  items: Item[];
}

// ---------------------------------------------------------------- text

function opText(o: Operand): string {
  if (typeof o === "number") return o >= 0 && o < 10 ? String(o) : o < 0 ? String(o) : "0x" + o.toString(16);
  if (typeof o === "string") return o;
  if ("label" in o) return `${o.label}+${o.add}`;
  if (o.kind === "reg") return o.name;
  if (o.kind === "far") return `far ${o.sel}:${String(o.offset)}`;
  const parts: string[] = [];
  if (o.base) parts.push(o.base.name);
  if (o.index) parts.push(o.index.name + (o.scale !== 1 ? `*${o.scale}` : ""));
  const d = o.disp;
  if (typeof d === "number") {
    if (d !== 0 || parts.length === 0) parts.push(d < 0 ? `-0x${(-d).toString(16)}` : `0x${d.toString(16)}`);
  } else parts.push(opText(d));
  const sz = o.size ? { 1: "byte ", 2: "word ", 4: "dword ", 6: "fword ", 8: "qword ", 16: "oword " }[o.size] : "";
  return `${sz}[${o.seg ? o.seg.name + ":" : ""}${parts.join("+").replace("+-", "-")}]`;
}

export function pieceText(p: InsnPiece): string {
  if (p.bytes) return `db ${p.bytes.map((b) => "0x" + b.toString(16).padStart(2, "0")).join(",")}  ; ${p.asText ?? p.mnem}`;
  const pre = [...(p.raw ? ["db 0x" + p.raw.map((b) => b.toString(16)).join(",0x") + ";"] : []), ...(p.pre ?? [])];
  return `${pre.length ? pre.join(" ") + " " : ""}${p.mnem}${p.ops.length ? " " + p.ops.map(opText).join(", ") : ""}`;
}

// ---------------------------------------------------------------- assembling

export function assemble(spec: CaseSpec): DiffCase {
  // The assembler records an Error per item to name the source line of a faulty call; with no stack
  // frames to capture that is ~4x cheaper, and the case itself identifies a faulty call well enough.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return assembleCase(spec);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function assembleCase(spec: CaseSpec): DiffCase {
  const code16 = spec.mode === Mode.CODE16;
  const origin = code16 ? 0 : CODE_ADDR;
  const a = new Asm({ bits: code16 ? 16 : 32, origin });
  const placed: [string, InsnPiece][] = [];
  let n = 0;
  for (const item of spec.items) {
    for (const p of item.pieces) {
      if (p.kind === "label") {
        a.label(p.name);
        continue;
      }
      const l = `i${n++}`;
      a.label(l);
      placed.push([l, p]);
      if (p.bytes) {
        a.db(...p.bytes);
        continue;
      }
      if (p.raw) a.db(...p.raw);
      for (const pre of p.pre ?? []) a[pre]();
      a.insn(p.mnem, ...p.ops);
    }
  }
  const img = a.build();
  const insns: InsnInfo[] = placed.map(([l, p]) => ({
    off: img.symbols[l] - origin,
    mnem: (p.pre ?? []).filter((x) => x.startsWith("rep")).map((x) => x + " ").join("") + p.mnem,
    size: p.size,
    count: p.count,
    rep: (p.pre ?? []).some((x) => x.startsWith("rep")),
    text: pieceText(p),
  }));
  return {
    id: spec.id,
    mode: spec.mode,
    groups: spec.items.map((i) => i.group),
    regs: spec.regs.slice(),
    eflags: spec.eflags,
    seed: spec.seed,
    code: img.bytes,
    insns,
  };
}

// ---------------------------------------------------------------- generation context

const EAX = 0, ECX = 1, EDX = 2, EBX = 3, ESP = 4, EBP = 5, ESI = 6, EDI = 7;

interface Needs {
  str?: boolean;
  ebx?: boolean;
  ebp?: boolean;
  /** Writes EBP (ENTER): EBP must not be the index register. */
  writesEbp?: boolean;
  last?: boolean;
}

class Gen {
  readonly regs: number[] = new Array(8).fill(0);
  readonly ptrs: number[] = [];
  index = -1;
  ecxCount = false;
  /** The item being generated is the case's last (it may leave state later items could not use). */
  isLast = false;
  /** Registers a construct in progress depends on (a loop counter): not free for its body. */
  reserved: number[] = [];
  maybeUndef = 0;
  private labelN = 0;
  readonly out: Piece[] = [];
  /** Address of the data window in DS/ES/SS: linear when flat, 0 in the 16-bit data segment. */
  readonly base: number;
  readonly code16: boolean;

  constructor(readonly rng: Rng, readonly mode: Mode) {
    this.base = mode === Mode.FLAT32 ? DATA_ADDR : 0;
    this.code16 = mode === Mode.CODE16;
  }

  /** Operand-size prefix method for an unsized instruction (PUSH imm, ENTER ...) of `size` bytes. */
  os(size: number): { pre?: ("o16" | "o32")[] } {
    if (size === 2 && !this.code16) return { pre: ["o16"] };
    if (size === 4 && this.code16) return { pre: ["o32"] };
    return {};
  }

  /** 66 prefix byte for a raw encoding of `size` bytes. */
  p66(size: number): number[] {
    return (size === 2 && !this.code16) || (size === 4 && this.code16) ? [0x66] : [];
  }

  // ----- values
  val(bits: number): number {
    const r = this.rng.int(100);
    if (r < 55) return this.rng.pick(EDGES[bits]);
    if (r < 70) return this.rng.pick(COUNTS);
    return bits === 32 ? this.rng.u32() : this.rng.int(1 << bits);
  }

  regValue(): number {
    const r = this.rng;
    switch (r.int(5)) {
      case 0: return this.val(32);
      case 1: return ((r.u32() & ~0xff) | this.val(8)) >>> 0;
      case 2: return ((r.u32() & ~0xffff) | this.val(16)) >>> 0;
      case 3: return ((r.u32() & ~0xff00) | (this.val(8) << 8)) >>> 0;
      default: return r.u32();
    }
  }

  /** Immediate of `size` bytes, given as an unsigned value (the assembler picks imm8 forms). */
  imm(size: number): number {
    return this.val(size * 8) >>> 0;
  }

  count(): number {
    const r = this.rng.int(10);
    if (r < 7) return this.rng.pick(COUNTS);
    if (r < 9) return this.rng.range(0, 40);
    return this.rng.pick([0x3f, 0x40, 0x41, 0x7f, 0x80, 0xff]);
  }

  // ----- registers
  isFree(n: number): boolean {
    return n !== ESP && !this.ptrs.includes(n) && n !== this.index && !(n === ECX && this.ecxCount) &&
      !this.reserved.includes(n);
  }

  freeRegs(): number[] {
    return [0, 1, 2, 3, 4, 5, 6, 7].filter((n) => this.isFree(n));
  }

  /** A destination register of `size` bytes whose whole 32-bit register is free. */
  dst(size: number): RegOperand {
    if (size === 1) {
      const c = [0, 1, 2, 3, 4, 5, 6, 7].filter((n) => this.isFree(n & 3));
      return REG8[this.rng.pick(c)];
    }
    const n = this.rng.pick(this.freeRegs());
    return size === 2 ? REG16[n] : REG32[n];
  }

  /** Any register of `size` bytes as a source. */
  src(size: number): RegOperand {
    const n = this.rng.int(8);
    return size === 1 ? REG8[n] : size === 2 ? REG16[n] : REG32[n];
  }

  acc(size: number): RegOperand {
    return size === 1 ? REG8[0] : size === 2 ? REG16[0] : REG32[0];
  }

  label(): string {
    return `L${this.labelN++}`;
  }

  // ----- memory inside the window
  /** `far`: the access may reach up to ~200 bytes beyond the operand (BT with a register offset). */
  mem(size: number | undefined, far = false): MemOperand {
    const r = this.rng;
    const mk = size === 1 ? byte : size === 2 ? word : size === 4 ? dword : size === 8 ? qword : ptr;
    const P = REG32[r.pick(this.ptrs)];
    const X = this.index >= 0 ? REG32[this.index] : undefined;
    const seg = r.chance(0.05) ? r.pick([ds, es, ss]) : undefined;
    const w = r.int(100);
    const d8 = () => r.range(-128, 127);
    const d32 = () => (r.chance(0.5) ? 1 : -1) * r.range(128, 400);
    const scale = r.pick([1, 2, 4, 8] as const);
    if (w < 28) return mk({ base: P, disp: d8(), seg });
    if (w < 38) return mk({ base: P, seg });
    if (w < 48) return mk({ base: P, disp: d32(), seg });
    if (w < 68 && X) return mk({ base: P, index: X, scale, disp: r.chance(0.3) ? 0 : d8(), seg });
    if (this.mode !== Mode.FLAT32 && r.chance(0.45)) return this.mem16(mk, seg);
    if (w < 73 && X) return mk({ index: X, scale, disp: this.base + r.range(0x600, 0xa00), seg });
    if (w < 85) return mk({ disp: this.base + r.range(0x100, 0xef0), seg });
    if (w < 93 && !far) return mk({ base: REG32[ESP], disp: r.range(-64, 120), seg });
    return mk({ base: P, disp: d8(), seg });
  }

  /** 16-bit addressing (SDM Vol. 2 Table 2-1) inside the 16-bit data segment: BX/BP + SI/DI + disp. */
  private mem16(mk: typeof dword, seg: RegOperand | undefined): MemOperand {
    const r = this.rng;
    const r16 = (n: number) => REG16[n];
    const baseRegs = this.ptrs.filter((p) => p === EBX || p === EBP || p === ESI || p === EDI);
    const d8 = () => r.range(-128, 127);
    const pairs: [number, number][] = [];
    for (const p of baseRegs) {
      const q = this.index;
      if (q >= 0 && ((p === EBX || p === EBP) !== (q === EBX || q === EBP))) pairs.push([p, q]);
    }
    const w = r.int(10);
    if (w < 4 && pairs.length > 0) {
      const [p, q] = r.pick(pairs);
      return mk({ base: r16(p), index: r16(q), disp: r.chance(0.4) ? 0 : d8(), seg });
    }
    if (w < 8 && baseRegs.length > 0) return mk({ base: r16(r.pick(baseRegs)), disp: r.chance(0.3) ? 0 : d8(), seg });
    if (w < 9 && this.index >= 0 && [EBX, EBP, ESI, EDI].includes(this.index)) {
      return mk({ base: r16(this.index), disp: r.range(0x600, 0xa00), seg });
    }
    return mk({ disp: r.range(0x100, 0xef0), seg });
  }

  /** Same memory operand, `add` bytes further (CMPXCHG8B, BOUND setups). */
  memAt(m: MemOperand, add: number, size: number): MemOperand {
    const mk = size === 1 ? byte : size === 2 ? word : dword;
    return mk({ base: m.base, index: m.index, scale: m.scale, disp: (m.disp as number) + add, seg: m.seg });
  }

  /** Register (dest) or memory operand. */
  rm(size: number, pMem = 0.4): RegOperand | MemOperand {
    return this.rng.chance(pMem) ? this.mem(size) : this.dst(size);
  }

  // ----- emission with static flag tracking
  emit(mnem: string, ops: Operand[], size: number, extra: Partial<InsnPiece> = {}): void {
    const reads = flagsRead(mnem);
    if ((reads & this.maybeUndef) !== 0) {
      const a = this.src(4), b = this.src(4);
      this.out.push({ kind: "insn", mnem: "cmp", ops: [a, b], size: 4 });
      this.maybeUndef = 0;
    }
    this.out.push({ kind: "insn", mnem, ops, size, ...extra });
    const rep = (extra.pre ?? []).some((p) => p.startsWith("rep"));
    const defines = rep ? 0 : surelyDefines(mnem, extra.count);
    this.maybeUndef = (this.maybeUndef & ~defines) | mayLeaveUndefined(mnem, extra.count, size);
  }

  place(name: string): void {
    this.out.push({ kind: "label", name });
  }
}

// ---------------------------------------------------------------- groups

const ALU = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"];
const SHIFT = ["rol", "ror", "rcl", "rcr", "shl", "shr", "sar", "sal"];
const CC = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g", "c", "nc", "z", "nz", "nae", "nb", "na", "nbe", "pe", "po", "nge", "nl", "ng", "nle"];
const SIZES = [1, 2, 4];
/** Selectors whose descriptors the host's GDT and the runner's mirror agree on (not 0x78: CPU number). */
const DESCRIPTOR_QUERY_SELECTORS = [0, 8, 0x10, 0x18, 0x20, 0x28, 0x30, 0x38, 0x40, 0x48, 0x50, 0x60, 0x68, 0x80, 0xfff8, 4, 0x0c, 0x14, 0x2c];
/** Writable data selectors for the window, valid at CPL 3 (any RPL: DPL 3 >= max(CPL, RPL)), by mode. */
const FLAT_SELECTORS = [0x2b, 0x2b, 0x28, 0x29, 0x2a];
const DATA16_SELECTORS = [0x07, 0x07, 0x04, 0x05, 0x06];
/**
 * Valid at CPL 3 for DS/ES/FS/GS: also readable code, the TLS and CPU-number segments, the null
 * selector. (Not null selectors with RPL 1-3: on this AMD host the kernel's context switch can turn
 * a GS of 1 into 0, about once in a million cases.)
 */
const VALID_SELECTORS = [...FLAT_SELECTORS, ...DATA16_SELECTORS, 0x23, 0x20, 0x33, 0x63, 0x7b, 0x0f, 0x0c, 0];
/**
 * Selectors whose load into any data segment register faults at CPL 3: DPL 0 (0x08 0x10 0x18), an
 * unused slot (0x38 0x48), the TSS (0x40), beyond the GDT (0x80 0xFFF8) or the LDT (0x14 0x1C).
 */
const FAULTING_SELECTORS = [0x08, 0x10, 0x18, 0x3b, 0x43, 0x4b, 0x83, 0xfffb, 0x17, 0x1f];
/** Valid for DS but not for SS: null, RPL != CPL, code, read-only data. */
const SS_FAULTING = [0, 3, 0x28, 0x29, 0x23, 0x33, 0x7b, 0x0f, 0x04, 0x05];

function lock(g: Gen, o: Operand): { pre?: ("lock")[] } {
  return typeof o === "object" && (o as MemOperand).kind === "mem" && g.rng.chance(0.15) ? { pre: ["lock"] } : {};
}

function alu(g: Gen, simple = false): void {
  const r = g.rng;
  const op = r.pick(ALU);
  const s = r.pick(SIZES);
  const f = r.int(simple ? 2 : 6);
  if (f === 0) g.emit(op, [g.dst(s), g.src(s)], s);
  else if (f === 1) g.emit(op, [g.dst(s), g.imm(s)], s);
  else if (f === 2) g.emit(op, [g.dst(s), g.mem(s)], s);
  else if (f === 3) {
    const m = g.mem(s);
    g.emit(op, [m, g.src(s)], s, op === "cmp" ? {} : lock(g, m));
  } else if (f === 4) {
    const m = g.mem(s);
    g.emit(op, [m, g.imm(s)], s, op === "cmp" ? {} : lock(g, m));
  } else g.emit(op, [g.acc(s), g.imm(s)], s);
}

function simpleFiller(g: Gen): void {
  const r = g.rng.int(4);
  if (r === 0) alu(g, true);
  else if (r === 1) g.emit(g.rng.pick(["inc", "dec", "not", "neg"]), [g.dst(4)], 4);
  else if (r === 2) g.emit("mov", [g.dst(4), g.imm(4)], 4);
  else g.emit("lea", [g.dst(4), ptr({ base: g.src(4), disp: g.rng.range(-8, 8) })], 4);
}

interface Group {
  name: string;
  weight: number;
  /**
   * Only with GenOptions.system: behaviour the core leaves to the system-architecture layer, and
   * undocumented instructions the opcode table does not have.
   */
  optIn?: boolean;
  needs?: Needs;
  gen: (g: Gen) => void;
}

export const GROUPS: Group[] = [
  { name: "alu", weight: 10, gen: (g) => alu(g) },
  {
    name: "test", weight: 3, gen: (g) => {
      const s = g.rng.pick(SIZES);
      const f = g.rng.int(5);
      if (f === 0) g.emit("test", [g.src(s), g.src(s)], s);
      else if (f === 1) g.emit("test", [g.mem(s), g.src(s)], s);
      else if (f === 2) g.emit("test", [g.src(s), g.imm(s)], s);
      else if (f === 3) g.emit("test", [g.mem(s), g.imm(s)], s);
      else g.emit("test", [g.acc(s), g.imm(s)], s);
    },
  },
  {
    name: "inc-dec-neg-not", weight: 5, gen: (g) => {
      const m = g.rng.pick(["inc", "dec", "neg", "not"]);
      const s = g.rng.pick(SIZES);
      const o = g.rm(s);
      g.emit(m, [o], s, lock(g, o));
    },
  },
  {
    name: "mul", weight: 4, gen: (g) => {
      const s = g.rng.pick(SIZES);
      g.emit(g.rng.pick(["mul", "imul"]), [g.rng.chance(0.35) ? g.mem(s) : g.src(s)], s);
    },
  },
  {
    name: "imul-2-3", weight: 3, gen: (g) => {
      const s = g.rng.pick([2, 4]);
      const src = g.rng.chance(0.35) ? g.mem(s) : g.src(s);
      if (g.rng.chance(0.5)) g.emit("imul", [g.dst(s), src], s);
      else g.emit("imul", [g.dst(s), src, g.imm(s)], s);
    },
  },
  {
    name: "div", weight: 5, gen: (g) => {
      const r = g.rng;
      const s = r.pick(SIZES);
      if (r.chance(0.5)) {
        if (s === 4) r.chance(0.5) ? g.emit("cdq", [], 4) : g.emit("xor", [REG32[EDX], REG32[EDX]], 4);
        else if (s === 2) r.chance(0.5) ? g.emit("cwd", [], 2) : g.emit("mov", [REG16[EDX], r.int(4)], 2);
        else r.chance(0.5) ? g.emit("cbw", [], 2) : g.emit("mov", [REG8[4], r.int(4)], 1);
      }
      g.emit(r.pick(["div", "idiv"]), [r.chance(0.35) ? g.mem(s) : g.src(s)], s);
    },
  },
  {
    name: "shift-rotate", weight: 8, gen: (g) => {
      const r = g.rng;
      const m = r.pick(SHIFT);
      const s = r.pick(SIZES);
      const o = g.rm(s, 0.3);
      const k = r.int(3);
      if (k === 0) g.emit(m, [o, 1], s, { count: 1 });
      else if (k === 1) {
        if (r.chance(0.3) && g.isFree(ECX)) g.emit("mov", [REG8[ECX], g.count()], 1);
        g.emit(m, [o, REG8[ECX]], s, { count: "cl" });
      } else {
        const c = g.count();
        g.emit(m, [o, c], s, { count: c });
      }
    },
  },
  {
    name: "shld-shrd", weight: 4, gen: (g) => {
      const r = g.rng;
      const m = r.pick(["shld", "shrd"]);
      const s = r.pick([2, 4]);
      const o = g.rm(s, 0.3);
      const valid = () => (s === 4 ? g.count() : r.pick([0, 1, 2, 7, 8, 9, 15, 16, 32, 33, 47, 48]));
      if (r.chance(0.5)) {
        if (g.isFree(ECX) && (s === 2 || r.chance(0.3))) g.emit("mov", [REG8[ECX], valid()], 1);
        g.emit(m, [o, g.src(s), REG8[ECX]], s, { count: "cl" });
      } else {
        const c = valid();
        g.emit(m, [o, g.src(s), c], s, { count: c });
      }
    },
  },
  {
    name: "bt", weight: 5, gen: (g) => {
      const r = g.rng;
      const m = r.pick(["bt", "bts", "btr", "btc"]);
      const s = r.pick([2, 4]);
      const k = r.int(4);
      if (k === 0) g.emit(m, [m === "bt" ? g.src(s) : g.dst(s), g.src(s)], s);
      else if (k === 1) g.emit(m, [m === "bt" ? g.src(s) : g.dst(s), g.count()], s);
      else if (k === 2) {
        const o = g.mem(s);
        g.emit(m, [o, g.count()], s, m === "bt" ? {} : lock(g, o));
      } else {
        // Memory with a register bit offset: the offset may address far beyond the operand.
        const off = g.dst(s);
        g.emit("mov", [off, (r.range(-1600, 1600) & (s === 2 ? 0xffff : 0xffffffff)) >>> 0], s);
        const o = g.mem(s, true);
        g.emit(m, [o, off], s, m === "bt" ? {} : lock(g, o));
      }
    },
  },
  {
    name: "bsf-bsr", weight: 3, gen: (g) => {
      const r = g.rng;
      const s = r.pick([2, 4]);
      let src: Operand;
      if (r.chance(0.3)) {
        const t = g.dst(s);
        g.emit("mov", [t, r.pick([0, 0, 1, 0x8000, s === 4 ? 0x80000000 : 0x4000, 0x10])], s);
        src = t;
      } else src = r.chance(0.35) ? g.mem(s) : g.src(s);
      g.emit(r.pick(["bsf", "bsr"]), [g.dst(s), src], s);
    },
  },
  {
    name: "setcc", weight: 3, gen: (g) => {
      g.emit("set" + g.rng.pick(CC), [g.rm(1, 0.3)], 1);
    },
  },
  {
    name: "cmovcc", weight: 3, gen: (g) => {
      const s = g.rng.pick([2, 4]);
      g.emit("cmov" + g.rng.pick(CC), [g.dst(s), g.rng.chance(0.35) ? g.mem(s) : g.src(s)], s);
    },
  },
  {
    name: "movzx-movsx", weight: 3, gen: (g) => {
      const r = g.rng;
      const m = r.pick(["movzx", "movsx"]);
      const [d, s] = r.pick([[2, 1], [4, 1], [4, 2], [2, 2]] as const);
      g.emit(m, [g.dst(d), r.chance(0.4) ? g.mem(s) : g.src(s)], d);
    },
  },
  {
    name: "mov", weight: 5, gen: (g) => {
      const r = g.rng;
      const s = r.pick(SIZES);
      const k = r.int(6);
      if (k === 0) g.emit("mov", [g.dst(s), g.src(s)], s);
      else if (k === 1) g.emit("mov", [g.dst(s), g.mem(s)], s);
      else if (k === 2) g.emit("mov", [g.mem(s), g.src(s)], s);
      else if (k === 3) g.emit("mov", [g.dst(s), g.imm(s)], s);
      else if (k === 4) g.emit("mov", [g.mem(s), g.imm(s)], s);
      else {
        const mk = s === 1 ? byte : s === 2 ? word : dword;
        const m = mk(g.base + r.range(0x100, 0xef0));
        if (r.chance(0.5)) g.emit("mov", [g.acc(s), m], s);
        else g.emit("mov", [m, g.acc(s)], s);
      }
    },
  },
  {
    name: "xchg", weight: 3, gen: (g) => {
      const r = g.rng;
      const s = r.pick(SIZES);
      if (r.chance(0.5)) g.emit("xchg", [g.dst(s), g.dst(s)], s);
      else if (r.chance(0.5)) g.emit("xchg", [g.mem(s), g.dst(s)], s);
      else g.emit("xchg", [g.dst(s), g.mem(s)], s);
    },
  },
  { name: "bswap", weight: 1, gen: (g) => g.emit("bswap", [g.dst(4)], 4) },
  {
    name: "xadd", weight: 2, gen: (g) => {
      const s = g.rng.pick(SIZES);
      const d = g.rm(s);
      g.emit("xadd", [d, g.dst(s)], s, lock(g, d));
    },
  },
  {
    name: "cmpxchg", weight: 3, gen: (g) => {
      const r = g.rng;
      const s = r.pick(SIZES);
      const d = g.rm(s);
      if (r.chance(0.4)) g.emit("mov", [g.acc(s), d], s);
      g.emit("cmpxchg", [d, g.src(s)], s, lock(g, d));
    },
  },
  {
    name: "cmpxchg8b", weight: 2, gen: (g) => {
      const r = g.rng;
      const m = g.mem(8);
      if (r.chance(0.5) && typeof m.disp === "number") {
        g.emit("mov", [g.memAt(m, 0, 4), REG32[EAX]], 4);
        g.emit("mov", [g.memAt(m, 4, 4), REG32[EDX]], 4);
      }
      g.emit("cmpxchg8b", [m], 8, r.chance(0.3) ? { pre: ["lock"] } : {});
    },
  },
  {
    name: "lea", weight: 4, gen: (g) => {
      const r = g.rng;
      const s = r.chance(0.25) ? 2 : 4;
      const disp = () => r.pick([0, 1, -1, r.range(-128, 127), 0x7fffffff, -0x80000000, r.u32() | 0, 0x200000]);
      const base = r.chance(0.85) ? REG32[r.int(8)] : undefined;
      const index = r.chance(0.6) ? REG32[r.pick([0, 1, 2, 3, 5, 6, 7])] : undefined;
      const scale = r.pick([1, 2, 4, 8] as const);
      const abs = g.code16 ? r.range(0, 0xffff) : r.u32() | 0; // no register: the section's address size
      g.emit("lea", [g.dst(s), ptr({ base, index, scale: index ? scale : 1, disp: base || index ? disp() : abs })], s);
    },
  },
  {
    name: "lea-16bit-addressing", weight: 2, gen: (g) => {
      const r = g.rng;
      const s = r.chance(0.5) ? 2 : 4;
      const [base, index] = r.pick([[bx, si], [bx, di], [bp, si], [bp, di], [si, undefined], [di, undefined], [bp, undefined], [bx, undefined]] as const);
      const disp = r.pick([0, 1, -1, r.range(-128, 127), r.range(0, 0xffff), 0x7fff, 0x8000, 0xffff]);
      g.emit("lea", [g.dst(s), ptr({ base, index, disp })], s);
    },
  },
  { name: "cbw-cwd", weight: 2, gen: (g) => g.emit(g.rng.pick(["cbw", "cwde", "cwd", "cdq"]), [], 4) },
  {
    name: "lahf-sahf", weight: 2, gen: (g) => {
      g.emit(g.rng.pick(["lahf", "sahf"]), [], 1);
    },
  },
  {
    name: "bcd", weight: 4, gen: (g) => {
      const r = g.rng;
      const m = r.pick(["daa", "das", "aaa", "aas", "aam", "aad"]);
      const k = r.int(3);
      if (k === 0) g.emit("mov", [REG8[EAX], r.pick([0, 0x09, 0x0a, 0x0f, 0x10, 0x19, 0x1a, 0x90, 0x99, 0x9a, 0x9f, 0xa0, 0xf9, 0xfa, 0xff, r.int(256)])], 1);
      else if (k === 1) g.emit(r.pick(["add", "sub", "adc", "sbb"]), [REG8[EAX], g.imm(1)], 1);
      if (r.chance(0.3)) g.emit(r.pick(["stc", "clc"]), [], 1);
      if (m === "aam" || m === "aad") g.emit(m, [r.pick([10, 10, 0, 1, 16, 0xff, r.int(256)])], 1);
      else g.emit(m, [], 1);
    },
  },
  { name: "flag-ops", weight: 2, gen: (g) => g.emit(g.rng.pick(["clc", "stc", "cmc", "cld", "std"]), [], 1) },
  {
    name: "string", weight: 6, needs: { str: true }, gen: (g) => {
      const r = g.rng;
      const base = r.pick(["movs", "cmps", "stos", "lods", "scas"]);
      const s = r.pick(SIZES);
      const m = base + { 1: "b", 2: "w", 4: "d" }[s];
      if (r.chance(0.3)) g.emit("mov", [REG32[ECX], r.range(0, 10)], 4);
      if ((base === "cmps" || base === "movs") && r.chance(0.25)) g.emit("mov", [REG32[EDI], REG32[ESI]], 4);
      if (r.chance(0.2)) g.emit(r.pick(["std", "cld"]), [], 1);
      const rep = base === "cmps" || base === "scas" ? r.pick([undefined, "repe", "repne"] as const) : r.pick([undefined, "rep"] as const);
      // A segment override applies to the DS:ESI operand only (MOVS, CMPS, LODS).
      const over = base !== "stos" && base !== "scas" && r.chance(0.1) ? [r.pick([0x26, 0x36, 0x3e])] : undefined;
      g.emit(m, [], s, { ...(rep ? { pre: [rep] } : {}), ...(over ? { raw: over } : {}) });
    },
  },
  {
    name: "push-pop", weight: 5, gen: (g) => {
      const r = g.rng;
      const k = r.int(8);
      const s = r.chance(0.25) ? 2 : 4;
      if (k === 0) g.emit("push", [g.src(s)], s);
      else if (k === 1) g.emit("push", [g.imm(s)], s, g.os(s));
      else if (k === 2) g.emit("push", [g.mem(s)], s);
      else if (k === 3) g.emit("push", [g.mem(s)], s);
      else if (k === 4) g.emit("push", [s === 4 ? dword({ base: REG32[ESP], disp: r.pick([0, 4, 8, -4]) }) : word({ base: REG32[ESP], disp: r.pick([0, 2, 4]) })], s);
      else if (k === 5) {
        g.emit("push", [REG32[ESP]], 4);
        g.emit("pop", [REG32[ESP]], 4);
        return;
      } else if (k === 6) g.emit("push", [g.src(s)], s);
      else g.emit("push", [g.imm(4)], 4, g.os(4));
      const p = r.int(4);
      if (p === 0 || p === 1) g.emit("pop", [g.dst(s)], s);
      else if (p === 2) g.emit("pop", [g.mem(s)], s);
      else g.emit("pop", [s === 4 ? dword({ base: REG32[ESP], disp: r.pick([0, 4, -4, 8]) }) : word({ base: REG32[ESP], disp: r.pick([0, 2, -2]) })], s);
    },
  },
  {
    name: "pusha-popa", weight: 2, gen: (g) => {
      const r = g.rng;
      const w = r.chance(0.3);
      g.emit(w ? "pusha" : "pushad", [], w ? 2 : 4);
      for (let n = r.int(3); n > 0; n--) simpleFiller(g);
      g.emit(w ? "popa" : "popad", [], w ? 2 : 4);
    },
  },
  {
    name: "popad-last", weight: 1, needs: { last: true }, gen: (g) => {
      const w = g.rng.chance(0.3);
      g.emit(w ? "popa" : "popad", [], w ? 2 : 4);
    },
  },
  {
    name: "pushf-popf", weight: 3, gen: (g) => {
      const r = g.rng;
      const k = r.int(4);
      const w = r.chance(0.3);
      if (k === 0) {
        g.emit(w ? "pushf" : "pushfd", [], w ? 2 : 4);
        g.emit("pop", [g.dst(w ? 2 : 4)], w ? 2 : 4);
      } else if (k === 1) {
        // Arithmetic flags, DF, sometimes ID; reserved bits as noise; IF stays 1 (user mode).
        let v = (r.u32() & 0x0cd5) | 0x200 | (r.u32() & 0xffc08028);
        if (r.chance(0.1)) v |= 0x200000;
        if (w) {
          g.emit("push", [v & 0xffff], 2, g.os(2));
          g.emit("popf", [], 2);
        } else {
          g.emit("push", [v >>> 0], 4, g.os(4));
          g.emit("popfd", [], 4);
        }
      } else {
        g.emit(w ? "pushf" : "pushfd", [], w ? 2 : 4);
        for (let n = r.range(1, 2); n > 0; n--) simpleFiller(g);
        g.emit(w ? "popf" : "popfd", [], w ? 2 : 4);
      }
    },
  },
  {
    name: "enter-leave", weight: 2, needs: { writesEbp: true }, gen: (g) => {
      const r = g.rng;
      const w = r.chance(0.25);
      // A 16-bit ENTER (or any ENTER on a 16-bit stack) sets only BP: the upper half of EBP must match.
      if ((w || g.mode !== Mode.FLAT32) && !g.ptrs.includes(EBP)) g.emit("mov", [REG32[EBP], g.base + r.range(0x500, 0xb00)], 4);
      g.emit("enter", [r.pick([0, 4, 8, 2, 16, r.range(0, 64)]), 0], w ? 2 : 4, g.os(w ? 2 : 4));
      // Locals below the frame pointer, or above the saved EBP (overwriting it would break LEAVE).
      if (r.chance(0.5)) g.emit("mov", [dword({ base: REG32[EBP], disp: r.pick([-4, -8, 4]) }), g.src(4)], 4);
      g.emit("leave", [], w ? 2 : 4, g.os(w ? 2 : 4));
    },
  },
  {
    name: "enter-nested-leave", weight: 2, needs: { ebp: true }, gen: (g) => {
      const r = g.rng;
      const w = r.chance(0.25);
      const enter = r.chance(0.7);
      if (!g.ptrs.includes(EBP)) {
        // An earlier LEAVE without ENTER left a random EBP: make it a pointer again.
        g.emit("mov", [REG32[EBP], g.base + r.range(0x500, 0xb00)], 4);
        g.ptrs.push(EBP);
      }
      if (enter) {
        g.emit("enter", [r.pick([0, 4, 8, 3, r.range(0, 32)]), r.pick([1, 2, 3, 5, 8, 31, 32, 33, r.int(256)])], w ? 2 : 4, g.os(w ? 2 : 4));
      }
      g.emit("leave", [], w ? 2 : 4, g.os(w ? 2 : 4));
      // LEAVE without ENTER pops a random EBP: it is no pointer any more.
      if (!enter) g.ptrs.splice(g.ptrs.indexOf(EBP), 1);
    },
  },
  {
    name: "jcc", weight: 5, gen: (g) => {
      const r = g.rng;
      const l = g.label();
      g.emit("j" + r.pick(CC), [l], 4);
      const before = g.maybeUndef;
      const long = r.chance(0.1);
      for (let n = long ? 27 : r.range(1, 3); n > 0; n--) long ? g.emit("mov", [g.dst(4), g.imm(4) | 0x100], 4) : simpleFiller(g);
      g.place(l);
      g.maybeUndef |= before;
    },
  },
  {
    name: "loop-jcxz", weight: 4, gen: (g) => {
      const r = g.rng;
      const k = r.int(3);
      if (k === 0) {
        const l = g.label();
        const m = r.pick(["loop", "loope", "loopne", "jecxz", "jcxz"]);
        if (m.startsWith("loop") && !g.isFree(ECX)) return void g.emit("nop", [], 1);
        // 67 LOOP: the counter is CX.
        g.emit(m, [l], 4, m.startsWith("loop") && r.chance(0.25) ? { raw: [0x67] } : {});
        const before = g.maybeUndef;
        for (let n = r.range(1, 2); n > 0; n--) simpleFiller(g);
        g.place(l);
        g.maybeUndef |= before;
      } else if (k === 1 && (g.isFree(ECX) || g.ecxCount)) {
        const l = g.label();
        g.emit("mov", [REG32[ECX], r.range(1, 6)], 4);
        g.place(l);
        g.reserved = [ECX];
        for (let n = r.range(1, 2); n > 0; n--) simpleFiller(g);
        g.reserved = [];
        g.emit(r.pick(["loop", "loope", "loopne"]), [l], 4);
      } else {
        const l = g.label();
        const c = g.dst(4);
        g.emit("mov", [c, r.range(1, 5)], 4);
        g.place(l);
        g.reserved = [c.num];
        g.emit(r.pick(["add", "xor", "sub", "adc"]), [g.dst(4), g.src(4)], 4);
        g.reserved = [];
        g.emit("dec", [c], 4);
        g.emit("jnz", [l], 4);
      }
    },
  },
  {
    name: "jmp", weight: 2, gen: (g) => {
      const r = g.rng;
      const l = g.label();
      const k = r.int(3);
      if (k === 0) g.emit("jmp", [l], 4);
      else if (k === 1) {
        const t = g.dst(4);
        g.emit("mov", [t, l], 4);
        g.emit("jmp", [t], 4);
      } else {
        const m = g.mem(4);
        g.emit("mov", [m, l], 4);
        g.emit("jmp", [m], 4);
      }
      const long = r.chance(0.15);
      for (let n = long ? 27 : r.range(1, 2); n > 0; n--) long ? g.emit("mov", [g.dst(4), g.imm(4) | 0x100], 4) : simpleFiller(g);
      g.place(l);
    },
  },
  {
    name: "call-ret", weight: 3, gen: (g) => {
      const r = g.rng;
      const f = g.label(), over = g.label();
      const k = r.int(3);
      if (k === 0) g.emit("call", [f], 4);
      else if (k === 1) {
        const t = g.dst(4);
        g.emit("mov", [t, f], 4);
        g.emit("call", [t], 4);
      } else {
        const m = g.mem(4);
        g.emit("mov", [m, f], 4);
        g.emit("call", [m], 4);
      }
      g.emit("jmp", [over], 4);
      g.place(f);
      for (let n = r.int(3); n > 0; n--) simpleFiller(g);
      if (r.chance(0.5)) g.emit("mov", [g.dst(4), dword({ base: REG32[ESP] })], 4);
      const imm = r.pick([0, 0, 0, 4, 8, 2]);
      g.emit("ret", imm ? [imm] : [], 4);
      g.place(over);
    },
  },
  {
    name: "xlat", weight: 1, needs: { ebx: true }, gen: (g) => {
      if (g.rng.chance(0.3)) g.emit("mov", [REG8[EAX], g.imm(1)], 1);
      g.emit("xlatb", [], 1);
    },
  },
  {
    name: "bound", weight: 2, gen: (g) => {
      const r = g.rng;
      const s = r.pick([2, 4]);
      const m = g.mem(s * 2);
      const v = g.dst(s);
      if (r.chance(0.6) && typeof m.disp === "number") {
        const val = g.imm(s);
        const lo = r.chance(0.5) ? val : g.imm(s), hi = r.chance(0.5) ? val : g.imm(s);
        g.emit("mov", [v, val], s);
        g.emit("mov", [g.memAt(m, 0, s), lo], s);
        g.emit("mov", [g.memAt(m, s, s), hi], s);
      }
      g.emit("bound", [v, m], s);
    },
  },
  {
    name: "int3-into", weight: 1, gen: (g) => {
      const r = g.rng;
      if (r.chance(0.5)) {
        g.emit("add", [g.dst(1), g.imm(1)], 1);
        g.emit("into", [], 4);
      } else g.emit(r.pick(["int3", "into"]), [], 4);
    },
  },
  {
    name: "nop-pause", weight: 1, gen: (g) => {
      const r = g.rng;
      const k = r.int(4);
      if (k === 0) g.emit("nop", [], 4);
      else if (k === 1) g.emit("pause", [], 4);
      else if (k === 2) g.emit("fwait", [], 4);
      else g.emit("nop", [r.chance(0.5) ? g.mem(r.pick([2, 4])) : g.src(r.pick([2, 4]))], 4);
    },
  },
  {
    name: "ud", weight: 1, gen: (g) => {
      const r = g.rng;
      const k = r.int(3);
      if (k === 0) g.emit("ud2", [], 4);
      else if (k === 1) g.emit("add", [g.dst(4), g.src(4)], 4, { raw: [0xf0] });
      else g.emit("mov", [g.mem(4), g.src(4)], 4, { raw: [0xf0] });
    },
  },
  {
    name: "alias-encodings", weight: 2, gen: (g) => {
      // Rows the assembler never selects (noAsm): 82 /op ib, SAL as /6, TEST as F6/F7 /1.
      const r = g.rng;
      const k = r.int(3);
      const s = r.pick(SIZES);
      const d = g.dst(s);
      const p66 = g.p66(s);
      const modrm = (ext: number) => 0xc0 | (ext << 3) | d.num;
      const immBytes = (v: number, n: number) => Array.from({ length: n }, (_, i) => (v >>> (8 * i)) & 0xff);
      if (k === 0) {
        const op = r.int(8);
        g.emit(ALU[op], [], 1, { bytes: [0x82, 0xc0 | (op << 3) | g.dst(1).num, g.imm(1)] });
      } else if (k === 1) {
        const c = g.count();
        const form = r.int(3);
        const bytes = form === 0 ? [...p66, s === 1 ? 0xd0 : 0xd1, modrm(6)]
          : form === 1 ? [...p66, s === 1 ? 0xd2 : 0xd3, modrm(6)]
          : [...p66, s === 1 ? 0xc0 : 0xc1, modrm(6), c];
        g.emit("sal", [], s, { bytes, count: form === 0 ? 1 : form === 1 ? "cl" : c });
      } else {
        g.emit("test", [], s, { bytes: [...p66, s === 1 ? 0xf6 : 0xf7, modrm(1), ...immBytes(g.imm(s), s)] });
      }
    },
  },
  {
    name: "undefined-opcodes", weight: 1, gen: (g) => {
      // Encodings that raise #UD on the host, and the hint NOPs (0F 19-1D /r). (INT1/ICEBP, F1, is left
      // out: Linux reports its #DB with the EIP of the instruction, not of the next one.)
      const r = g.rng;
      const reg = r.int(8);
      const k = r.int(7);
      if (k === 0) g.emit("lea", [], 4, { bytes: [0x8d, 0xc0 | (reg << 3) | r.int(8)], asText: "lea r32, r32 (#UD)" });
      else if (k === 1) g.emit("inc", [], 1, { bytes: [0xfe, 0xc0 | (r.range(2, 7) << 3) | r.int(8)], asText: "FE /2-7 (#UD)" });
      else if (k === 2) g.emit("inc", [], 4, { bytes: [0xff, 0xf8 | r.int(8)], asText: "FF /7 (#UD)" });
      else if (k === 3) g.emit("ud2", [], 4, { bytes: [0x0f, 0xb9, 0xc0 | (reg << 3) | r.int(8)], asText: "ud1" });
      else if (k === 4) g.emit("ud2", [], 4, { bytes: [0x0f, 0xff, 0xc0 | (reg << 3) | r.int(8)], asText: "ud0" });
      else g.emit("nop", [], 4, { bytes: [0x0f, r.range(0x19, 0x1d), 0xc0 | (reg << 3) | r.int(8)], asText: "hint nop" });
    },
  },
  {
    name: "salc", weight: 1, optIn: true, gen: (g) => {
      // SALC (D6, undocumented; every IA-32 processor executes it): AL = CF ? FF : 00, flags unchanged.
      if (g.rng.chance(0.5)) g.emit(g.rng.pick(["stc", "clc", "cmc"]), [], 1);
      g.emit("nop", [], 4, { bytes: [0xd6], asText: "salc" });
    },
  },
  {
    name: "privileged", weight: 2, gen: (g) => {
      // CPL 3, IOPL 0 (as the host runs the snippet): each of these raises #GP.
      const r = g.rng;
      const k = r.int(14);
      const s = r.pick(SIZES);
      if (k === 0) g.emit(r.pick(["cli", "sti", "hlt", "clts", "invd", "wbinvd", "rdmsr", "wrmsr", "sysexit"]), [], 4);
      else if (k === 1) g.emit("in", [g.acc(s), r.int(256)], s);
      else if (k === 2) g.emit("in", [g.acc(s), REG16[EDX]], s);
      else if (k === 3) g.emit("out", [r.int(256), g.acc(s)], s);
      else if (k === 4) g.emit("out", [REG16[EDX], g.acc(s)], s);
      else if (k === 5) g.emit(r.pick(["insb", "insw", "insd", "outsb", "outsw", "outsd"]), [], s, r.chance(0.3) ? { pre: ["rep"] } : {});
      else if (k === 6) {
        let v = r.int(256);
        if (v === 0x80) v = 0x81;
        g.emit("int", [v], 4);
      } else if (k === 7) g.emit("int", [r.pick([3, 4])], 4);
      else if (k === 8) g.emit(r.pick(["lgdt", "lidt"]), [g.mem(6)], 4);
      else if (k === 9) g.emit(r.pick(["lldt", "ltr", "lmsw"]), [r.chance(0.5) ? g.src(2) : g.mem(2)], 2);
      else if (k === 10) g.emit("invlpg", [g.mem(undefined)], 4);
      else if (k === 11) g.emit("mov", r.chance(0.5) ? [g.dst(4), r.pick([cr0, cr2, cr3, cr4])] : [r.pick([cr0, cr3, cr4]), g.src(4)], 4);
      else if (k === 12) g.emit("mov", r.chance(0.5) ? [g.dst(4), r.pick([dr0, dr7])] : [r.pick([dr0, dr7]), g.src(4)], 4);
      else g.emit("nop", [], 4);
    },
  },
  {
    name: "lar-lsl-verr-verw-arpl", weight: 2, gen: (g) => {
      const r = g.rng;
      const m = r.pick(["lar", "lsl", "verr", "verw", "arpl"]);
      const sel = r.pick(DESCRIPTOR_QUERY_SELECTORS) | (r.chance(0.3) ? r.int(4) : 0);
      if (m === "arpl") {
        const d = g.rm(2);
        g.emit("mov", [d, g.rng.chance(0.5) ? sel : g.imm(2)], 2);
        g.emit("arpl", [d, g.src(2)], 2);
        return;
      }
      let src: Operand;
      if (r.chance(0.3)) {
        src = g.mem(2);
        g.emit("mov", [src, sel], 2);
      } else {
        const t = g.dst(4);
        g.emit("mov", [t, (r.u32() & 0xffff0000 | sel) >>> 0], 4);
        src = REG16[t.num];
      }
      if (m === "verr" || m === "verw") g.emit(m, [src], 2);
      else {
        const s = r.pick([2, 4]);
        g.emit(m, [s === 2 ? g.dst(2) : g.dst(4), src], s);
      }
    },
  },
  {
    name: "segment-registers", weight: 3, gen: (g) => {
      const r = g.rng;
      const k = r.int(7);
      const s = r.chance(0.3) ? 2 : 4;
      if (k === 0) g.emit("mov", [r.chance(0.5) ? g.dst(2) : g.dst(4), r.pick(SREG)], 2);
      else if (k === 1) g.emit("mov", [g.mem(2), r.pick(SREG)], 2);
      else if (k === 2) {
        g.emit("push", [r.pick(SREG)], s, g.os(s));
        // A 32-bit PUSH Sreg zero-extends (AMD, older Intel) or stores 16 bits (recent Intel): the SDM
        // allows both, so the upper word of the slot is overwritten before anything can read it.
        if (s === 4) g.emit("mov", [word({ base: REG32[ESP], disp: 2 }), 0x5a5a], 2);
      }
      else {
        // Loads of selectors that are valid at CPL 3. DS/ES keep a flat writable selector unless this
        // is the last item; SS only takes 0x2B (RPL = DPL = CPL); FS/GS anything valid.
        const seg = r.pick([ds, es, fs, gs, ss, fs, gs, ds]);
        const flat = g.mode === Mode.FLAT32;
        const sel = seg === ss ? (flat ? 0x2b : 0x07)
          : (seg === ds || seg === es) && !g.isLast ? r.pick(flat ? FLAT_SELECTORS : DATA16_SELECTORS)
          : r.pick(VALID_SELECTORS);
        segmentLoad(g, k, seg, sel, s);
      }
    },
  },
  {
    name: "segment-protection", weight: 2, gen: (g) => {
      // Selector loads that must fault (SDM Vol. 3A 5.5-5.8: type, DPL/RPL/CPL, presence, limit).
      const r = g.rng;
      const seg = r.pick([ds, es, fs, gs, ss]);
      const sel = r.pick(seg === ss ? [...FAULTING_SELECTORS, ...SS_FAULTING] : FAULTING_SELECTORS);
      segmentLoad(g, r.range(3, 6), seg, sel, r.chance(0.3) ? 2 : 4);
    },
  },
  {
    name: "redundant-prefixes", weight: 2, gen: (g) => {
      const r = g.rng;
      const k = r.int(5);
      const s = r.pick(SIZES);
      if (k === 0) {
        // Repeated/irrelevant segment overrides before a memory operand: the last one counts.
        const pre = Array.from({ length: r.range(1, 3) }, () => r.pick([0x3e, 0x26, 0x36]));
        g.emit(r.pick(ALU), [g.dst(s), g.mem(s)], s, { raw: pre });
      } else if (k === 1) {
        g.emit(r.pick(ALU), [g.dst(2), g.src(2)], 2, { raw: [0x66] }); // 66 66: still 16-bit
      } else if (k === 2) {
        // Longer than 15 bytes with prefixes: #GP(0).
        g.emit("add", [dword({ base: REG32[g.ptrs[0]], disp: 0x100 }), 0x12345678], 4, { raw: new Array(r.range(6, 9)).fill(0x3e) });
      } else if (k === 3) {
        g.emit(r.pick(ALU), [g.dst(s), g.src(s)], s, { raw: [0x67] }); // address size without memory operand
      } else {
        g.emit(r.pick(["add", "xor", "sub", "and"]), [g.dst(s), g.src(s)], s, { raw: [r.pick([0xf2, 0xf3])] });
      }
    },
  },
];

/** Load `sel` into `seg` by POP (k 3), MOV from a register (4), MOV from memory (5) or LxS (6). */
function segmentLoad(g: Gen, k: number, seg: RegOperand, sel: number, s: number): void {
  const r = g.rng;
  if (k === 3) {
    g.emit("push", [sel], s, g.os(s));
    g.emit("pop", [seg], s, g.os(s));
  } else if (k === 4) {
    const t = g.dst(4);
    g.emit("mov", [t, (r.u32() & 0xffff0000 | sel) >>> 0], 4);
    g.emit("mov", [seg, r.chance(0.5) ? REG16[t.num] : t], 2);
  } else if (k === 5) {
    const m = g.mem(2);
    g.emit("mov", [m, sel], 2);
    g.emit("mov", [seg, m], 2);
  } else {
    // LDS/LES/LFS/LGS/LSS: far pointer offset:selector in memory.
    const m = g.mem(s + 2);
    const d = g.dst(s);
    g.emit("mov", [g.memAt(m, 0, s), g.imm(s)], s);
    g.emit("mov", [g.memAt(m, s, 2), sel], 2);
    const mk = s === 2 ? dword : fword;
    g.emit("l" + seg.name, [d, mk({ base: m.base, index: m.index, scale: m.scale, disp: m.disp, seg: m.seg })], s);
  }
}

function pickGroup(r: Rng, pool: readonly Group[], total: number): Group {
  let x = r.int(total);
  for (const g of pool) {
    if (x < g.weight) return g;
    x -= g.weight;
  }
  return pool[0];
}

export interface GenOptions {
  /** Restrict to these groups. */
  only?: readonly string[];
  /** Only this execution mode (default: 65% flat 32-bit, 15% 16-bit data/stack, 20% 16-bit code). */
  mode?: Mode;
  /** Include the opt-in groups (segment protection checks). */
  system?: boolean;
}

/** Groups a run with these options draws from. */
export function groupsFor(o: GenOptions = {}): Group[] {
  return GROUPS.filter((x) => (o.only ? o.only.includes(x.name) : !x.optIn || o.system));
}

/** Generate case `id` of the run with global seed `seed`. */
export function generate(seed: number, id: number, o: GenOptions = {}): CaseSpec {
  const r = new Rng(caseSeed(seed, id));
  const pool = groupsFor(o);
  const total = pool.reduce((sum, x) => sum + x.weight, 0);
  const n = r.pick([1, 1, 2, 2, 3, 4]);
  const groups: Group[] = [];
  for (let k = 0; k < n; k++) {
    let grp = pickGroup(r, pool, total);
    if (grp.needs?.last && k !== n - 1) grp = GROUPS[0];
    groups.push(grp);
  }
  const need = (f: keyof Needs) => groups.some((x) => x.needs?.[f]);
  const m = r.int(100);
  const mode = o.mode ?? (m < 65 ? Mode.FLAT32 : m < 80 ? Mode.SEG16 : Mode.CODE16);
  const g = new Gen(r, mode);

  // Roles: pointers, index, count; then initial values.
  if (need("str")) g.ptrs.push(ESI, EDI);
  if (need("ebx") && !g.ptrs.includes(EBX)) g.ptrs.push(EBX);
  if (need("ebp")) g.ptrs.push(EBP);
  const cands = [EBX, ESI, EDI, EBP].filter((x) => !g.ptrs.includes(x) && !(x === EBP && need("writesEbp")));
  const c = cands.filter((x) => x !== EBP || !need("writesEbp"));
  if (c.length > 0 && (g.ptrs.length === 0 || (g.ptrs.length === 1 && g.ptrs[0] === EBP) || r.chance(0.25))) {
    const p = r.pick(c);
    g.ptrs.push(p);
    cands.splice(cands.indexOf(p), 1);
  }
  if (cands.length > 0 && r.chance(0.75)) g.index = r.pick(cands);
  g.ecxCount = need("str");

  for (let k = 0; k < 8; k++) g.regs[k] = g.regValue();
  for (const p of g.ptrs) g.regs[p] = g.base + r.range(0x500, 0xb00);
  g.regs[ESP] = g.base + 0xd00 + (r.range(0, 0x80) << 2) + (r.chance(0.05) ? 2 : 0);
  if (g.index >= 0) g.regs[g.index] = r.pick([0, 1, -1, 2, -2, 4, -4, 7, -8, 63, -64, r.range(-64, 63)]) >>> 0;
  if (g.ecxCount) g.regs[ECX] = r.pick([0, 1, 2, 3, 4, 7, 8, r.range(0, 12)]);
  else if (r.chance(0.5)) g.regs[ECX] = ((g.regs[ECX] & ~0xff) | g.count()) >>> 0;

  // EFLAGS: random arithmetic flags, DF sometimes; IF as in user mode.
  const eflags = (r.u32() & 0x8d5) | (r.chance(0.2) ? 0x400 : 0) | 0x202;

  const items: Item[] = [];
  groups.forEach((grp, k) => {
    const start = g.out.length;
    g.isLast = k === groups.length - 1;
    grp.gen(g);
    items.push({ group: grp.name, pieces: g.out.slice(start) });
  });
  return { id, mode, regs: g.regs.map((v) => v | 0), eflags, seed: r.u32(), items };
}
