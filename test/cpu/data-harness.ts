/**
 * Test harness for single-instruction behaviour: a 1 MiB machine with a small GDT and an IDT whose 32
 * exception vectors lead to `jmp $` stubs, so a fault shows as EIP parked on the vector's stub at any
 * CPL. The code under test is followed by its own `jmp $`. Helpers run a few bytes of code and read
 * back the exception frame. Real-address mode uses an IVT pointing at the same stubs.
 */
import { Core } from "../../src/cpu/core.ts";
import type { SystemBus } from "../../src/cpu/system-bus.ts";

export const CODE = 0x1000;
export const STACK_TOP = 0x8000;
/** Scratch data the tests address through EBX/ESI. */
export const DATA = 0x2000;
const GDT = 0x500;
const IDT = 0x600;
const STUBS = 0x900;
const TSS = 0xa000;
/** Ring-0 stack for faults at CPL > 0 (TSS ESP0). */
const RING0_STACK_TOP = 0x7000;

/** Flat descriptors (SDM Vol. 3A 3.4.5): code 0x08, data 0x10, data with base 12345000H at 0x18, not-present data at 0x20. */
export const SEL_CODE = 0x08;
export const SEL_DATA = 0x10;
export const SEL_BASED = 0x18;
export const BASED_BASE = 0x12345000;
export const SEL_ABSENT = 0x20;
const GDT_ENTRIES: readonly [number, number][] = [
  [0, 0],
  [0x0000ffff, 0x00cf9a00],
  [0x0000ffff, 0x00cf9200],
  [0x5000ffff, 0x12cf9234], // base 12345000H, limit FFFFFH pages, present read/write data
  [0x0000ffff, 0x00cf1200], // P = 0
];
export const GDT_LIMIT = GDT_ENTRIES.length * 8 - 1;

export interface Options {
  /** Called after reset and before the run: set registers, flags, memory, CPL ... */
  setup?: (c: Core) => void;
  /** Run in real-address mode (16-bit code at CS:IP = 0:CODE, 16-bit stack). */
  real?: boolean;
  /** Instruction budget (fault stubs spin, so a fault ends the run at the budget). */
  budget?: number;
  bus?: SystemBus;
  id?: number;
}

export function machine(code: readonly number[], opts: Options = {}): Core {
  const ram = new Uint8Array(1 << 20);
  ram.set(code, CODE);
  ram.set([0xeb, 0xfe], CODE + code.length); // jmp $: parks a run that did not fault, at any CPL
  const view = new DataView(ram.buffer);
  GDT_ENTRIES.forEach(([lo, hi], n) => {
    view.setUint32(GDT + n * 8, lo, true);
    view.setUint32(GDT + n * 8 + 4, hi, true);
  });
  for (let v = 0; v < 32; v++) {
    const stub = STUBS + v * 4;
    ram.set([0xeb, 0xfe], stub); // jmp $
    // 32-bit interrupt gate, DPL 3 so that faults at any CPL reach it (SDM Vol. 3A 6.11)
    view.setUint32(IDT + v * 8, (SEL_CODE << 16) | stub, true);
    view.setUint32(IDT + v * 8 + 4, 0xee00, true);
    // Real-mode IVT entry (offset, segment 0)
    view.setUint16(v * 4, stub, true);
    view.setUint16(v * 4 + 2, 0, true);
  }
  // A 32-bit TSS whose SS0:ESP0 receives the frame of a fault raised at CPL 1-3: the gates lead to
  // DPL-0 code, so delivery switches stacks (SDM Vol. 3A 6.12.1).
  view.setUint32(TSS + 4, RING0_STACK_TOP, true);
  view.setUint32(TSS + 8, SEL_DATA, true);
  const c = new Core({ ram, bus: opts.bus, id: opts.id });
  c.resetToFlat32(CODE);
  c.gdtBase = GDT;
  c.gdtLimit = GDT_LIMIT;
  c.idtBase = IDT;
  c.idtLimit = 32 * 8 - 1;
  c.trBase = TSS;
  c.trLimit = 0x67;
  c.regs[4] = STACK_TOP;
  if (opts.real) enterRealMode(c);
  return c;
}

/** Real-address mode as after a far jump to 16-bit code: bases 0, 64 KiB limits, D/B clear. */
function enterRealMode(c: Core): void {
  c.cr0 &= ~1;
  for (let s = 0; s < 6; s++) {
    c.segSel[s] = 0;
    c.segBase[s] = 0;
    c.segLimit[s] = 0xffff;
    c.segAttr[s] = s === 1 ? 0x9b : 0x93;
  }
  c.cs32 = false;
  c.ss32 = false;
  c.cpl = 0;
  c.idtBase = 0;
  c.idtLimit = 0x3ff;
}

/** Build a machine, run the code (followed by `jmp $`) and return the core. */
export function run(code: readonly number[], opts: Options = {}): Core {
  const c = machine(code, opts);
  opts.setup?.(c);
  c.run(opts.budget ?? 200);
  return c;
}

export interface FaultFrame {
  vector: number;
  /** Error code, or -1 for vectors without one. */
  errorCode: number;
  /** Saved EIP: for a fault, the faulting instruction. */
  eip: number;
}

const HAS_ERROR_CODE = new Set([8, 10, 11, 12, 13, 14, 17]);

/** The exception the run ended in, or null if EIP is not parked on a fault stub. */
export function faultOf(c: Core): FaultFrame | null {
  const off = c.eip - STUBS;
  if (off < 0 || off >= 32 * 4 || off % 4 !== 0) return null;
  const vector = off / 4;
  const sp = c.regs[4] & (c.ss32 ? -1 : 0xffff);
  const lin = c.segBase[2] + sp;
  if (!c.protectedMode) return { vector, errorCode: -1, eip: c.read16(lin) };
  const code = HAS_ERROR_CODE.has(vector);
  return { vector, errorCode: code ? c.read32(lin) : -1, eip: c.read32(lin + (code ? 4 : 0)) >>> 0 };
}

/** True if the run ended on the `jmp $` placed after the code (no fault, no stray jump). */
export function endedNormally(c: Core, code: readonly number[]): boolean {
  return c.eip === CODE + code.length;
}

export const u32 = (v: number) => v >>> 0;

/** A bus that records physical accesses outside RAM and serves reads from a small map (FFH if unset). */
export class RecordingBus implements SystemBus {
  readonly reads: [number, number][] = [];
  readonly writes: [number, number, number][] = [];
  readonly mem = new Map<number, number>();
  readPhys(pa: number, size: 1 | 2 | 4): number {
    this.reads.push([pa, size]);
    let v = 0;
    for (let k = 0; k < size; k++) v |= (this.mem.get(pa + k) ?? 0xff) << (8 * k);
    return v;
  }
  writePhys(pa: number, size: 1 | 2 | 4, value: number): void {
    this.writes.push([pa, size, value >>> 0]);
    for (let k = 0; k < size; k++) this.mem.set(pa + k, (value >>> (8 * k)) & 0xff);
  }
  portIn(): number {
    return -1;
  }
  portOut(): void {}
  setDword(pa: number, v: number): void {
    for (let k = 0; k < 4; k++) this.mem.set(pa + k, (v >>> (8 * k)) & 0xff);
  }
}

export const REG_NAMES = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"] as const;
export type RegName = (typeof REG_NAMES)[number];
export const SEG_NAMES = ["es", "cs", "ss", "ds", "fs", "gs"];
export type Regs = Partial<Record<RegName, number>>;

/** One table row: code, initial state, and the state the SDM says results. */
export interface Case {
  name: string;
  code: readonly number[];
  real?: boolean;
  regs?: Regs;
  /** Initial EFLAGS (bit 1 is added). */
  eflags?: number;
  /** Initial memory: dwords at addresses. */
  mem?: Readonly<Record<number, number>>;
  cpl?: number;
  bus?: SystemBus;
  setup?: (c: Core) => void;
  expect: {
    regs?: Regs;
    eflags?: number;
    /** Dwords, words and bytes expected in memory. */
    mem?: Readonly<Record<number, number>>;
    mem16?: Readonly<Record<number, number>>;
    mem8?: Readonly<Record<number, number>>;
    /** Segment registers by name ("ds"): [selector, base]. */
    seg?: Readonly<Record<string, readonly [number, number]>>;
    /** The run ends in this exception: [vector, error code or -1, saved EIP (default: CODE)]. */
    fault?: readonly [number, number, number?];
    check?: (c: Core) => void;
  };
}

export function runCase(t: Case): Core {
  return run(t.code, {
    real: t.real,
    bus: t.bus,
    setup: (c) => {
      if (t.regs) for (const [n, v] of Object.entries(t.regs)) c.regs[REG_NAMES.indexOf(n as RegName)] = v;
      if (t.eflags !== undefined) {
        c.eflags = t.eflags | 2;
        c.fop = 0;
      }
      if (t.mem) for (const [a, v] of Object.entries(t.mem)) c.write32(Number(a), v);
      if (t.cpl !== undefined) {
        c.cpl = t.cpl;
        c.segSel[1] = (c.segSel[1] & ~3) | t.cpl;
      }
      t.setup?.(c);
    },
  });
}

/** What a case's run produced, in the shape of its `expect` (so one toEqual shows every difference). */
export function observe(c: Core, t: Case): Case["expect"] {
  const e = t.expect;
  const got: Case["expect"] = {};
  const f = faultOf(c);
  if (e.fault) got.fault = f ? [f.vector, f.errorCode, f.eip] : undefined;
  else if (!endedNormally(c, t.code)) got.fault = f ? [f.vector, f.errorCode, f.eip] : [-1, -1, c.eip];
  if (e.regs) {
    got.regs = {};
    for (const n of Object.keys(e.regs)) got.regs[n as RegName] = c.regs[REG_NAMES.indexOf(n as RegName)] >>> 0;
  }
  if (e.eflags !== undefined) got.eflags = c.getEflags() >>> 0;
  if (e.mem) got.mem = Object.fromEntries(Object.keys(e.mem).map((a) => [a, c.read32(Number(a)) >>> 0]));
  if (e.mem16) got.mem16 = Object.fromEntries(Object.keys(e.mem16).map((a) => [a, c.read16(Number(a))]));
  if (e.mem8) got.mem8 = Object.fromEntries(Object.keys(e.mem8).map((a) => [a, c.read8(Number(a))]));
  if (e.seg) {
    got.seg = Object.fromEntries(Object.keys(e.seg).map((n) => {
      const s = SEG_NAMES.indexOf(n);
      return [n, [c.segSel[s], c.segBase[s] >>> 0]];
    }));
  }
  return got;
}

/** The expectation with dword values made unsigned, for comparison with observe(). */
export function expected(t: Case): Case["expect"] {
  const e = t.expect;
  const out: Case["expect"] = {};
  if (e.fault) out.fault = [e.fault[0], e.fault[1], e.fault[2] ?? CODE];
  if (e.regs) out.regs = Object.fromEntries(Object.entries(e.regs).map(([n, v]) => [n, v >>> 0]));
  if (e.eflags !== undefined) out.eflags = e.eflags >>> 0;
  if (e.mem) out.mem = Object.fromEntries(Object.entries(e.mem).map(([a, v]) => [a, v >>> 0]));
  if (e.mem16) out.mem16 = e.mem16;
  if (e.mem8) out.mem8 = e.mem8;
  if (e.seg) out.seg = Object.fromEntries(Object.entries(e.seg).map(([n, [sel, base]]) => [n, [sel, base >>> 0]]));
  return out;
}
