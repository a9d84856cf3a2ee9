/**
 * Harness for the protected-mode privilege tests: the machine of ../system-harness.ts (flat GDT with DPL-0
 * and DPL-3 code/data at 08H/10H/1BH/23H, a busy 32-bit TSS in TR whose SS0:ESP0 is 10H:7000H, an IDT
 * whose 32 exception vectors are DPL-3 interrupt gates to `jmp $` stubs at 900H + 4 * vector), with
 * code assembled by our assembler at CODE, extra GDT entries from FIRST_FREE_GDT_INDEX, an optional LDT,
 * and IDT entries replaced per test. Descriptors are built from the SDM Vol. 3A layouts (Figure 3-8
 * segment descriptors, Figure 5-8 call gates, Figure 6-2 IDT gates), not from the code under test.
 */
import { Asm } from "../../../src/guests/asm/index.ts";
import type { Core } from "../../../src/cpu/core.ts";
import {
  CODE, FIRST_FREE_GDT_INDEX, STACK_TOP, TSS, descriptor, machine, outcome, ring3, type Outcome,
} from "../system-harness.ts";

export { CODE, DATA, GDT, STACK_TOP, TSS, Sel, descriptor, ring3, outcome, setIopl } from "../system-harness.ts";
export type { Outcome } from "../system-harness.ts";

/** TSS ESP0 of the harness: where a switch to ring 0 puts the frame. */
export const RING0_STACK = STACK_TOP - 0x1000;
/** Where the LDT of `ldt` entries is placed. */
export const LDT_BASE = 0xc000;
/** Stubs of the harness IDT: vector v parks at STUBS + 4 * v. */
export const STUBS = 0x900;

export const GP = 13, NP = 11, SS = 12, TS = 10, UD = 6, DF = 8, BR = 5, OF = 4, BP = 3;

/** Selector of extra GDT entry n (RPL 0). */
export const sel = (n: number): number => (FIRST_FREE_GDT_INDEX + n) * 8;
/** Selector of LDT entry n (TI = 1, RPL 0). */
export const ldtSel = (n: number): number => n * 8 + 4;

/** Access bytes (SDM Vol. 3A Figure 3-8, Table 3-1): P | DPL << 5 | S | type. */
export const acc = {
  data: (dpl: number, present = true) => (present ? 0x80 : 0) | (dpl << 5) | 0x12, // read/write
  dataRO: (dpl: number) => 0x80 | (dpl << 5) | 0x10,
  dataDown: (dpl: number) => 0x80 | (dpl << 5) | 0x16, // read/write, expand-down
  code: (dpl: number, present = true) => (present ? 0x80 : 0) | (dpl << 5) | 0x1a, // execute/read
  codeXO: (dpl: number) => 0x80 | (dpl << 5) | 0x18, // execute-only
  conforming: (dpl: number, present = true) => (present ? 0x80 : 0) | (dpl << 5) | 0x1e, // conforming, readable
};

/** A flat 4 GiB code/data descriptor (G = 1, D/B = 1) with the given access byte. */
export const flat = (access: number): [number, number] => descriptor(0, 0xfffff, access, 0xc);

/** A gate descriptor (SDM Vol. 3A Figure 5-8 call gate, Figure 6-2 interrupt/trap/task gate). */
export function gate(type: number, selector: number, offset: number, dpl: number, opts: { params?: number; present?: boolean } = {}): [number, number] {
  const present = opts.present ?? true;
  const lo = ((selector & 0xffff) << 16) | (offset & 0xffff);
  const hi = (offset & 0xffff0000) | (present ? 0x8000 : 0) | (dpl << 13) | (type << 8) | ((opts.params ?? 0) & 0x1f);
  return [lo >>> 0, hi >>> 0];
}

/** Gate types (SDM Vol. 3A Table 3-2). */
export const G = { CALL16: 0x4, TASK: 0x5, INT16: 0x6, TRAP16: 0x7, CALL32: 0xc, INT32: 0xe, TRAP32: 0xf } as const;

export interface SysOptions {
  gdt?: readonly [number, number][];
  ldt?: readonly [number, number][];
  /** IDT entries to replace: vector -> gate (offsets may name labels of the program, see `label`). */
  idt?: Readonly<Record<number, [number, number] | ((sym: Record<string, number>) => [number, number])>>;
  /** Start at CPL 3 with flat DPL-3 segments. */
  cpl3?: boolean;
  /** Real-address mode: 16-bit code at 0:CODE (assembled with bits 16), IVT at 0. */
  real?: boolean;
  setup?: (c: Core, sym: Record<string, number>) => void;
}

export interface Sys {
  c: Core;
  sym: Record<string, number>;
}

/** Assemble `build` at CODE (32-bit) and build the machine around it. */
export function sys(build: (a: Asm) => void, opts: SysOptions = {}): Sys {
  const a = new Asm({ bits: opts.real ? 16 : 32, origin: CODE });
  build(a);
  const img = a.build();
  const sym = img.symbols;
  const c = machine(Array.from(img.bytes), {
    gdt: opts.gdt,
    real: opts.real,
    setup: (core) => {
      const v = new DataView(core.ram.buffer);
      if (opts.ldt) {
        opts.ldt.forEach(([lo, hi], n) => {
          v.setUint32(LDT_BASE + n * 8, lo, true);
          v.setUint32(LDT_BASE + n * 8 + 4, hi, true);
        });
        core.ldtrSel = 0;
        core.ldtrBase = LDT_BASE;
        core.ldtrLimit = opts.ldt.length * 8 - 1;
      } else {
        // LDTR as LLDT with a null selector leaves it: every LDT selector faults.
        core.ldtrSel = 0;
        core.ldtrBase = 0;
        core.ldtrLimit = 0;
      }
      for (const [vec, g] of Object.entries(opts.idt ?? {})) {
        const [lo, hi] = typeof g === "function" ? g(sym) : g;
        v.setUint32(core.idtBase + Number(vec) * 8, lo, true);
        v.setUint32(core.idtBase + Number(vec) * 8 + 4, hi, true);
      }
      if (opts.cpl3) {
        ring3(core);
        core.regs[4] = STACK_TOP;
      }
      opts.setup?.(core, sym);
    },
  });
  return { c, sym };
}

/** Run up to `budget` instructions and report how it ended (vector, error code, saved EIP). */
export function go(s: Sys, budget = 1000): Outcome {
  s.c.run(budget);
  return outcome(s.c);
}

/** Dwords on the current stack, from ESP upwards. */
export function stackDwords(c: Core, n: number): number[] {
  const out: number[] = [];
  const base = c.segBase[2] + c.regs[4];
  for (let k = 0; k < n; k++) out.push(c.read32(base + 4 * k) >>> 0);
  return out;
}

/** Words on the current stack, from ESP upwards. */
export function stackWords(c: Core, n: number): number[] {
  const out: number[] = [];
  const base = c.segBase[2] + (c.ss32 ? c.regs[4] : c.regs[4] & 0xffff);
  for (let k = 0; k < n; k++) out.push(c.read16(base + 2 * k));
  return out;
}

/** Write descriptor `d` at GDT index FIRST_FREE_GDT_INDEX + n (after the machine is built). */
export function putGdt(c: Core, n: number, d: [number, number]): void {
  const a = c.gdtBase + sel(n);
  c.write32(a, d[0]);
  c.write32(a + 4, d[1]);
}

/** The access byte of GDT entry n as it is in memory (accessed and busy bits). */
export const gdtAccess = (c: Core, n: number): number => c.read8(c.gdtBase + sel(n) + 5);

/** Flat TSS fields (SDM Vol. 3A Figure 7-2). */
export const TSS_ESP0 = TSS + 4, TSS_SS0 = TSS + 8, TSS_ESP1 = TSS + 12, TSS_SS1 = TSS + 16;
