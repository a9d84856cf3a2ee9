/**
 * Test harness for the arithmetic executors: runs hand-encoded instruction bytes on a flat 32-bit core
 * with given registers, flags and memory, and (for exception tests) a GDT and an IDT whose 32 exception
 * gates each lead to a HLT, so that a raised vector can be read back from where the core halted
 * (SDM Vol. 3A 6.10-6.12: 32-bit interrupt gate, same-privilege frame EIP, CS, EFLAGS).
 */
import { expect, it } from "vitest";
import { Core } from "../../src/cpu/core.ts";
import type { StopReason } from "../../src/cpu/core.ts";

export const CODE = 0x1000;
export const DATA = 0x8000;
const GDT = 0x500;
const IDT = 0x600;
const HANDLERS = 0x3000;
const STACK = 0x9f00;

export const REG = { eax: 0, ecx: 1, edx: 2, ebx: 3, esp: 4, ebp: 5, esi: 6, edi: 7 } as const;
export type RegName = keyof typeof REG;
export type Regs = Partial<Record<RegName, number>>;

/** EFLAGS bits (SDM Vol. 1 Figure 3-8). */
export const F = { CF: 0x1, PF: 0x4, AF: 0x10, ZF: 0x40, SF: 0x80, OF: 0x800 } as const;
export const ARITH = 0x8d5;

export interface Setup {
  regs?: Regs;
  /** Initial CF PF AF ZF SF OF (other bits are left as after reset). */
  flags?: number;
  /** Bytes to place in RAM, by address. */
  mem?: Record<number, number[]>;
}

export interface Outcome {
  c: Core;
  stop: StopReason;
  /** Raised exception vector, or -1. */
  vector: number;
  /** EIP saved in the exception frame (the faulting instruction for a fault). */
  frameEip: number;
}

export function reg(c: Core, r: RegName): number {
  return c.regs[REG[r]] >>> 0;
}

function descriptor(ram: Uint8Array, at: number, lo: number, hi: number): void {
  new DataView(ram.buffer).setUint32(at, lo >>> 0, true);
  new DataView(ram.buffer).setUint32(at + 4, hi >>> 0, true);
}

/** Run `code` (one or more instructions, `count` of them) from CODE with the given state. */
export function run(code: number[], s: Setup = {}, count = 1): Outcome {
  const ram = new Uint8Array(1 << 20);
  ram.set([...code, 0xf4], CODE);
  for (const [addr, bytes] of Object.entries(s.mem ?? {})) ram.set(bytes, Number(addr));
  // GDT: null, flat 32-bit code (0x08), flat data (0x10).
  descriptor(ram, GDT + 8, 0x0000ffff, 0x00cf9a00);
  descriptor(ram, GDT + 16, 0x0000ffff, 0x00cf9200);
  // IDT: vector v -> 32-bit interrupt gate to HANDLERS + 4v, which holds HLT.
  for (let v = 0; v < 32; v++) {
    const h = HANDLERS + 4 * v;
    descriptor(ram, IDT + 8 * v, (0x08 << 16) | (h & 0xffff), (h & 0xffff0000) | 0x8e00);
    ram[h] = 0xf4;
  }
  const c = new Core({ ram });
  c.resetToFlat32(CODE);
  c.gdtBase = GDT;
  c.gdtLimit = 23;
  c.idtBase = IDT;
  c.idtLimit = 32 * 8 - 1;
  c.regs[REG.esp] = STACK;
  for (const [r, v] of Object.entries(s.regs ?? {})) c.regs[REG[r as RegName]] = v;
  c.setEflags(s.flags ?? 0, ARITH);
  const stop = c.run(count);
  let vector = -1;
  let frameEip = -1;
  const off = c.eip - HANDLERS - 1;
  if (c.halted && off >= 0 && off < 128 && off % 4 === 0) {
    vector = off / 4;
    frameEip = c.read32(c.regs[REG.esp]) >>> 0;
  }
  return { c, stop, vector, frameEip };
}

export const hex = (v: number): string => "0x" + (v >>> 0).toString(16);

/** One table row of the arithmetic tests: bytes, initial state, expected registers, memory and flags. */
export interface ArithRow {
  name: string;
  code: number[];
  regs?: Regs;
  flags?: number;
  mem?: Record<number, number[]>;
  want?: Regs;
  wantMem?: Record<number, number[]>;
  /** Expected EFLAGS, compared under `mask` (the flags the SDM defines for the case). */
  wantFlags?: number;
  mask?: number;
  /** Instructions to execute (default 1). */
  count?: number;
}

/** One `it` per row: runs it without an exception and compares registers, memory and masked flags. */
export function checkRows(rows: ArithRow[], defaultMask = ARITH): void {
  for (const r of rows) {
    it(r.name, () => {
      const o = run(r.code, { regs: r.regs, flags: r.flags, mem: r.mem }, r.count ?? 1);
      expect(o.vector, "no exception").toBe(-1);
      expect(o.c.eip).toBe(CODE + r.code.length);
      for (const [name, v] of Object.entries(r.want ?? {})) expect(hex(reg(o.c, name as RegName)), name).toBe(hex(v));
      for (const [addr, bytes] of Object.entries(r.wantMem ?? {})) {
        expect(Array.from(o.c.ram.subarray(Number(addr), Number(addr) + bytes.length)), hex(Number(addr))).toEqual(bytes);
      }
      if (r.wantFlags !== undefined) {
        const mask = r.mask ?? defaultMask;
        expect(hex(o.c.getEflags() & mask), "flags").toBe(hex(r.wantFlags & mask));
      }
    });
  }
}
